package golden

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Op is what happened to a resource or field.
type Op string

// Diff operations.
const (
	Added   Op = "added"
	Removed Op = "removed"
	Changed Op = "changed"
)

// Change is one difference between two documents.
type Change struct {
	Op Op `json:"op"`
	// Kind and Name identify the resource; Field is the path inside it
	// (empty when the whole resource was added or removed).
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Field string `json:"field,omitempty"`
	// Old and New are JSON values (absent for added and removed fields).
	Old json.RawMessage `json:"old,omitempty"`
	New json.RawMessage `json:"new,omitempty"`
	// Default is, for a field added or removed, the value Envoy documents
	// for it unset (see the defaults table): what the unset side means.
	Default json.RawMessage `json:"default,omitempty"`
}

func (c Change) String() string {
	res := strings.TrimSuffix(c.Kind, "s") + " " + c.Name
	switch {
	case c.Field == "" && c.Op == Added:
		return "+ " + res
	case c.Field == "" && c.Op == Removed:
		return "- " + res
	case c.Op == Added && c.Default != nil:
		return fmt.Sprintf("~ %s: %s: unset (Envoy's default %s) -> %s", res, c.Field, short(c.Default), short(c.New))
	case c.Op == Removed && c.Default != nil:
		return fmt.Sprintf("~ %s: %s: %s -> unset (Envoy's default %s)", res, c.Field, short(c.Old), short(c.Default))
	case c.Op == Added:
		return fmt.Sprintf("~ %s: %s: added %s", res, c.Field, short(c.New))
	case c.Op == Removed:
		return fmt.Sprintf("~ %s: %s: removed %s", res, c.Field, short(c.Old))
	}
	return fmt.Sprintf("~ %s: %s: %s -> %s", res, c.Field, short(c.Old), short(c.New))
}

func short(b json.RawMessage) string {
	s := string(b)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// Diff compares a and b (a is the expected or older one).
func Diff(a, b Doc) []Change {
	var out []Change
	for _, kind := range Kinds {
		am, bm := a[kind], b[kind]
		for _, n := range unionKeys(am, bm) {
			av, aok := am[n]
			bv, bok := bm[n]
			switch {
			case !aok:
				out = append(out, Change{Op: Added, Kind: kind, Name: n, New: raw(bv)})
			case !bok:
				out = append(out, Change{Op: Removed, Kind: kind, Name: n, Old: raw(av)})
			default:
				walk(kind, n, "", resourceSchema(kind), av, bv, &out)
			}
		}
	}
	return out
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// walk compares a and b at path, values of the proto type sc describes;
// field is the key the value sits under. Lists whose order Envoy ignores are
// matched by element name; ordered ones (routes, HTTP filters) by index, so a
// reordering shows.
func walk(kind, name, path string, sc schema, a, b any, out *[]Change) {
	field := path
	if i := strings.LastIndexAny(path, ".]"); i >= 0 {
		field = path[i+1:]
	}
	switch at := a.(type) {
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok {
			break
		}
		walkMessage(kind, name, path, sc.of(at), at, bt, out)
		return
	case []any:
		bt, ok := b.([]any)
		if !ok {
			break
		}
		if (unordered[field] || field == "clusters") && keyed(at) && keyed(bt) {
			walkKeyed(kind, name, path, sc, at, bt, out)
			return
		}
		n := max(len(at), len(bt))
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(at):
				*out = append(*out, Change{Op: Added, Kind: kind, Name: name, Field: p, New: raw(bt[i])})
			case i >= len(bt):
				*out = append(*out, Change{Op: Removed, Kind: kind, Name: name, Field: p, Old: raw(at[i])})
			default:
				walk(kind, name, p, sc, at[i], bt[i], out)
			}
		}
		return
	}
	if string(raw(a)) != string(raw(b)) {
		*out = append(*out, Change{Op: Changed, Kind: kind, Name: name, Field: path, Old: raw(a), New: raw(b)})
	}
}

// walkMessage compares two JSON objects key by key. A key on one side only
// is no change when its value is the one Envoy documents for it unset.
func walkMessage(kind, name, path string, sc schema, a, b map[string]any, out *[]Change) {
	for _, k := range unionKeys(a, b) {
		av, aok := a[k]
		bv, bok := b[k]
		p := join(path, k)
		def := sc.unsetValue(k)
		switch {
		case aok && bok:
			walk(kind, name, p, sc.child(k), av, bv, out)
		case def != nil && string(raw(av)) == string(def), def != nil && string(raw(bv)) == string(def):
		case !aok:
			*out = append(*out, Change{Op: Added, Kind: kind, Name: name, Field: p, New: raw(bv), Default: def})
		default:
			*out = append(*out, Change{Op: Removed, Kind: kind, Name: name, Field: p, Old: raw(av), Default: def})
		}
	}
}

// keyed reports whether every element has a distinct name.
func keyed(l []any) bool {
	if len(l) == 0 {
		return false
	}
	seen := map[string]bool{}
	for _, v := range l {
		k, ok := listKey(v)
		if !ok || seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

func walkKeyed(kind, name, path string, sc schema, a, b []any, out *[]Change) {
	bi := map[string]any{}
	for _, v := range b {
		k, _ := listKey(v)
		bi[k] = v
	}
	ai := map[string]bool{}
	for _, v := range a {
		k, _ := listKey(v)
		ai[k] = true
		p := fmt.Sprintf("%s[%s]", path, k)
		if bv, ok := bi[k]; ok {
			walk(kind, name, p, sc, v, bv, out)
			continue
		}
		*out = append(*out, Change{Op: Removed, Kind: kind, Name: name, Field: p, Old: raw(v)})
	}
	for _, v := range b {
		k, _ := listKey(v)
		if !ai[k] {
			*out = append(*out, Change{Op: Added, Kind: kind, Name: name, Field: fmt.Sprintf("%s[%s]", path, k), New: raw(v)})
		}
	}
}

// Format renders changes one per line.
func Format(cs []Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// unionKeys returns the keys of a and b, sorted, each once.
func unionKeys(a, b map[string]any) []string {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
