package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a problem at a line of the document.
type Error struct {
	Line int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Liner is a struct that learns its line when decoded; a non-nil error
// refuses the struct's values (reported at that line under its path).
type Liner interface {
	SetLine(line int) error
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// LineOf is the line an error names: an *Error's, or the "line N" of a
// yaml.v3 message; 0 when there is none.
func LineOf(err error) int {
	var le *Error
	if errors.As(err, &le) {
		return le.Line
	}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// Root returns the top node of a parsed document.
func Root(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

// Decode decodes a mapping node into the struct out points to, rejecting
// keys it does not have and recursing into nested structs and lists of
// structs so that each keeps its line. what names the node in messages
// ("spec", "steps[0].splits[1]").
func Decode(n *yaml.Node, out any, what string) error {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return &Error{n.Line, fmt.Errorf("%s must be a mapping, found %s", what, KindName(n))}
	}
	rv := reflect.ValueOf(out).Elem()
	fields := Fields(rv.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			sort.Strings(names)
			return &Error{k.Line, fmt.Errorf("unknown field %q in %s (allowed: %s)", k.Value, what, strings.Join(names, ", "))}
		}
		if err := decodeValue(v, rv.FieldByIndex(f), what+"."+k.Value); err != nil {
			return err
		}
	}
	if it, ok := rv.Addr().Interface().(Liner); ok {
		if err := it.SetLine(n.Line); err != nil {
			return &Error{n.Line, fmt.Errorf("%s: %w", what, err)}
		}
	}
	return nil
}

func decodeValue(v *yaml.Node, fv reflect.Value, what string) error {
	if v.Kind == yaml.AliasNode {
		return &Error{v.Line, fmt.Errorf("%s: YAML aliases are not supported", what)}
	}
	switch {
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
		if v.Kind != yaml.SequenceNode {
			return &Error{v.Line, fmt.Errorf("%s must be a list, found %s", what, KindName(v))}
		}
		s := reflect.MakeSlice(fv.Type(), len(v.Content), len(v.Content))
		for i, e := range v.Content {
			if err := Decode(e, s.Index(i).Addr().Interface(), fmt.Sprintf("%s[%d]", what, i)); err != nil {
				return err
			}
		}
		fv.Set(s)
		return nil
	case fv.Kind() == reflect.Struct:
		return Decode(v, fv.Addr().Interface(), what)
	case fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Struct:
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nil
		}
		p := reflect.New(fv.Type().Elem())
		if err := Decode(v, p.Interface(), what); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	}
	if err := v.Decode(fv.Addr().Interface()); err != nil {
		return &Error{v.Line, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))}
	}
	return nil
}

// KindName says what a node is, for messages.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// Fields maps yaml keys to field indexes, flattening inline structs.
func Fields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, idx := range Fields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		out[name] = []int{i}
	}
	return out
}

// ErrEmpty is returned by DecodeDocument for a document with nothing in it.
var ErrEmpty = errors.New("the document is empty")

// DecodeDocument parses the first YAML document of data and decodes it
// into out with Decode; an error names its line (LineOf).
func DecodeDocument(data []byte, out any, what string) error {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return &Error{Line: LineOf(err), Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	return Decode(Root(&root), out, what)
}
