package strictyaml

import (
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type inner struct {
	N    int `yaml:"n"`
	line int
}

func (i *inner) SetLine(l int) error {
	i.line = l
	if i.N < 0 {
		return errors.New("n must not be negative")
	}
	return nil
}

type outer struct {
	Name  string  `yaml:"name"`
	One   *inner  `yaml:"one"`
	Many  []inner `yaml:"many"`
	inner `yaml:",inline"`
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, doc, err string
		line           int
	}{
		{"ok", "name: a\nn: 1\none: {n: 2}\nmany:\n  - n: 3\n", "", 0},
		{"unknown field", "name: a\nnme: b\n", `unknown field "nme" in doc (allowed: many, n, name, one)`, 2},
		{"unknown nested field", "many:\n  - n: 1\n  - m: 2\n", `unknown field "m" in doc.many[1] (allowed: n)`, 3},
		{"wrong shape", "many: 3\n", "doc.many must be a list, found \"3\"", 1},
		{"wrong scalar", "one:\n  n: x\n", "doc.one.n: line 2: cannot unmarshal !!str `x` into int", 2},
		{"refused by SetLine", "many:\n  - n: -1\n", "doc.many[0]: n must not be negative", 2},
		{"alias", "name: &a x\none: *a\n", "doc.one: YAML aliases are not supported", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(tc.doc), &root); err != nil {
				t.Fatal(err)
			}
			var o outer
			err := Decode(Root(&root), &o, "doc")
			if tc.err == "" {
				if err != nil || o.Name != "a" || o.N != 1 || o.One.N != 2 || o.One.line != 3 || o.Many[0].N != 3 || o.Many[0].line != 5 {
					t.Fatalf("%+v, %v", o, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || LineOf(err) != tc.line {
				t.Fatalf("error %v at line %d, want %q at line %d", err, LineOf(err), tc.err, tc.line)
			}
		})
	}
}
