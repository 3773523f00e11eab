package strictyaml

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type inner struct {
	Name  string `yaml:"name"`
	Count int    `yaml:"count"`
	line  int
}

func (i *inner) CheckYAML(line int) error {
	i.line = line
	if i.Count < 0 {
		return fmt.Errorf("count %d is negative", i.Count)
	}
	return nil
}

type base struct {
	Kind string `yaml:"kind"`
}

type doc struct {
	base  `yaml:",inline"`
	Items []inner           `yaml:"items"`
	One   inner             `yaml:"one"`
	Tags  []string          `yaml:"tags"`
	Vars  map[string]string `yaml:"vars"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"ok", "kind: K\nitems:\n- name: a\n  count: 2\ntags: [x]\n", ""},
		{"empty", "", "f.yaml: the doc is empty"},
		{"bad yaml", "items: [\n", "f.yaml:1: invalid YAML"},
		{"unknown top", "kind: K\nitem: []\n", `f.yaml:2: unknown field "item" in doc (allowed: items, kind, one, tags, vars)`},
		{"unknown nested", "items:\n- name: a\n  colour: red\n", `f.yaml:3: unknown field "colour" in doc.items[0]`},
		{"wrong type", "items:\n- count: many\n", "f.yaml:2: doc.items[0].count: line 2: cannot unmarshal !!str `many` into int"},
		{"not a list", "items: 3\n", `f.yaml:1: doc.items must be a list, found "3"`},
		{"scalar doc", "hello\n", `f.yaml:1: doc must be a mapping, found "hello"`},
		{"check refuses", "one:\n  count: -1\n", "f.yaml:2: doc.one: count -1 is negative"},
	} {
		var d doc
		err := Decode([]byte(tc.in), "f.yaml", "doc", &d)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			if d.Kind != "K" || len(d.Items) != 1 || d.Items[0].line != 3 {
				t.Errorf("%s: decoded %+v", tc.name, d)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
		var se *Error
		if !errors.As(err, &se) || se.Source != "f.yaml" {
			t.Errorf("%s: %v is not an *Error for f.yaml", tc.name, err)
		}
	}
	if err := Decode(nil, "f", "doc", &doc{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v is not ErrEmpty", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"kind: K\nitems:\n- name: a\n  count: 2\n", "one: {count: -1}", "items: [1, 2]", "vars: {a: b}", "- x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var d doc
		err := Decode([]byte(in), "fuzz", "doc", &d)
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz") {
			t.Errorf("error without its source: %v", err)
		}
	})
}
