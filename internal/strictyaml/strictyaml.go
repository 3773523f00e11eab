// Package strictyaml decodes a YAML document into a Go struct strictly: a
// key the struct does not have, a value of the wrong shape, or one a field's
// own check refuses is an error naming the source, the line and the field's
// path (spec.flows[2].request). Structs map keys with their yaml tags
// (",inline" flattens); a struct that implements Checker checks itself once
// decoded, knowing its line.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a decoding error with where it is.
type Error struct {
	Source string
	Line   int
	Err    error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Checker is a struct that checks itself after decoding; line is where its
// mapping starts.
type Checker interface {
	CheckYAML(line int) error
}

// ErrEmpty is wrapped for a document with nothing in it.
var ErrEmpty = errors.New("empty document")

// emptyError says which document is empty ("the spec is empty").
type emptyError struct{ what string }

func (e emptyError) Error() string        { return "the " + e.what + " is empty" }
func (e emptyError) Is(target error) bool { return target == ErrEmpty }

// Decode reads the first YAML document of data into out (a pointer to a
// struct); what names the top level in errors ("spec").
func Decode(data []byte, source, what string, out any) error {
	var root yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &Error{Source: source, Err: emptyError{what}}
		}
		return &Error{Source: source, Line: yamlErrLine(err), Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if err := DecodeNode(doc, out, what); err != nil {
		return &Error{Source: source, Line: lineOf(err), Err: err}
	}
	return nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// lineError carries a line up through DecodeNode.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

func lineOf(err error) int {
	var le *lineError
	if errors.As(err, &le) {
		return le.line
	}
	return yamlErrLine(err)
}

// DecodeNode decodes a mapping node into a struct, rejecting keys the
// struct does not have and recursing into nested structs and lists of
// structs to keep their lines.
func DecodeNode(n *yaml.Node, out any, what string) error {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return &lineError{n.Line, fmt.Errorf("%s must be a mapping, found %s", what, KindName(n))}
	}
	rv := reflect.ValueOf(out).Elem()
	fields := yamlFields(rv.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			sort.Strings(names)
			return &lineError{k.Line, fmt.Errorf("unknown field %q in %s (allowed: %s)", k.Value, what, strings.Join(names, ", "))}
		}
		if err := decodeValue(v, rv.FieldByIndex(f), what+"."+k.Value); err != nil {
			return err
		}
	}
	if c, ok := rv.Addr().Interface().(Checker); ok {
		if err := c.CheckYAML(n.Line); err != nil {
			return &lineError{n.Line, fmt.Errorf("%s: %w", what, err)}
		}
	}
	return nil
}

func decodeValue(v *yaml.Node, fv reflect.Value, what string) error {
	switch {
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
		if v.Kind != yaml.SequenceNode {
			return &lineError{v.Line, fmt.Errorf("%s must be a list, found %s", what, KindName(v))}
		}
		s := reflect.MakeSlice(fv.Type(), len(v.Content), len(v.Content))
		for i, e := range v.Content {
			if err := DecodeNode(e, s.Index(i).Addr().Interface(), fmt.Sprintf("%s[%d]", what, i)); err != nil {
				return err
			}
		}
		fv.Set(s)
		return nil
	case fv.Kind() == reflect.Struct:
		return DecodeNode(v, fv.Addr().Interface(), what)
	}
	if err := v.Decode(fv.Addr().Interface()); err != nil {
		return &lineError{v.Line, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))}
	}
	return nil
}

// KindName says what a node is, for an error.
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

// yamlFields maps yaml keys to field indexes, flattening inline structs.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, idx := range yamlFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		out[name] = []int{i}
	}
	return out
}
