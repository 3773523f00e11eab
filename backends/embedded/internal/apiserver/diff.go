package apiserver

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/equality"
)

// Ref names one object.
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}

// RefOf names an object by its kind (from TypeMeta, or its Go type), namespace
// and name.
func RefOf(o Object) Ref {
	kind := o.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = fmt.Sprintf("%T", o)
	}
	return Ref{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
}

// Changes is what turns one State into another. Created and Updated hold the
// new objects, Deleted the old ones; each in creation order (namespaces first),
// Deleted in reverse (namespaces last).
type Changes struct {
	Created []Object
	Updated []Object
	Deleted []Object
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool { return len(c.Created)+len(c.Updated)+len(c.Deleted) == 0 }

// String lists the changes, one per line.
func (c Changes) String() string {
	var s string
	for _, set := range []struct {
		sign string
		objs []Object
	}{{"+", c.Created}, {"~", c.Updated}, {"-", c.Deleted}} {
		for _, o := range set.objs {
			s += set.sign + " " + RefOf(o).String() + "\n"
		}
	}
	return s
}

// Diff compares two States (nil is empty) by kind, namespace and name, and by
// semantic equality of the objects.
func Diff(old, next *State) Changes {
	if old == nil {
		old = &State{}
	}
	if next == nil {
		next = &State{}
	}
	before := map[Ref]Object{}
	for _, o := range old.All() {
		before[RefOf(o)] = o
	}
	var ch Changes
	seen := map[Ref]bool{}
	for _, o := range next.All() {
		r := RefOf(o)
		seen[r] = true
		prev, ok := before[r]
		switch {
		case !ok:
			ch.Created = append(ch.Created, o)
		case !equality.Semantic.DeepEqual(prev, o):
			ch.Updated = append(ch.Updated, o)
		}
	}
	objs := old.All()
	for i := len(objs) - 1; i >= 0; i-- {
		if !seen[RefOf(objs[i])] {
			ch.Deleted = append(ch.Deleted, objs[i])
		}
	}
	return ch
}

// Refs lists the names of objects, sorted.
func Refs(objs []Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = RefOf(o).String()
	}
	sort.Strings(out)
	return out
}
