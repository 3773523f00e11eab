package xds

import (
	"fmt"
	"strings"
)

// Type is a kind of resource a dump can hold. A dump holds a type when it has
// that section, even an empty one: Envoy's /config_dump has every section but
// the endpoints (only with include_eds), while istioctl's per-type output
// (proxy-config listeners|routes|clusters|endpoints|secret|bootstrap -o json)
// has one. What a dump lacks cannot be judged: a reference into a type the
// dump lacks is neither dangling nor resolved.
type Type string

// The resource types, in the order Types reports them.
const (
	TypeBootstrap    Type = "bootstrap"
	TypeListeners    Type = "listeners"
	TypeRoutes       Type = "routes"
	TypeScopedRoutes Type = "scoped-routes"
	TypeClusters     Type = "clusters"
	TypeEndpoints    Type = "endpoints"
	TypeSecrets      Type = "secrets"
)

// AllTypes lists every Type in report order.
var AllTypes = []Type{TypeBootstrap, TypeListeners, TypeRoutes, TypeScopedRoutes, TypeClusters, TypeEndpoints, TypeSecrets}

// xdsNames are the discovery services that deliver each type.
var xdsNames = map[Type]string{
	TypeBootstrap: "bootstrap", TypeListeners: "LDS", TypeRoutes: "RDS", TypeScopedRoutes: "SRDS",
	TypeClusters: "CDS", TypeEndpoints: "EDS", TypeSecrets: "SDS",
}

// XDS names the discovery service that delivers the type ("CDS"), or
// "bootstrap".
func (t Type) XDS() string { return xdsNames[t] }

// Has reports whether the dump holds resources of type t (a section of that
// type, possibly empty).
func (d *Dump) Has(t Type) bool { return d.types[t] }

// Types returns the types the dump holds, in AllTypes order.
func (d *Dump) Types() []Type { return d.filterTypes(true) }

// Lacks returns the types the dump does not hold, in AllTypes order.
func (d *Dump) Lacks() []Type { return d.filterTypes(false) }

func (d *Dump) filterTypes(held bool) []Type {
	out := []Type{}
	for _, t := range AllTypes {
		if d.types[t] == held {
			out = append(out, t)
		}
	}
	return out
}

// holds records that the dump has a section of type t.
func (d *Dump) holds(t Type) {
	if d.types == nil {
		d.types = map[Type]bool{}
	}
	d.types[t] = true
	if t == TypeEndpoints {
		d.HasEndpoints = true
	}
}

// Lacking returns "" when the dump holds type t, else a sentence saying so
// and what it holds instead, for messages of what was not judged: "the dump
// lacks CDS (it holds LDS, RDS)".
func (d *Dump) Lacking(t Type) string {
	if d.Has(t) {
		return ""
	}
	held := d.Types()
	names := make([]string, len(held))
	for i, h := range held {
		names[i] = h.XDS()
	}
	if len(names) == 0 {
		names = []string{"nothing"}
	}
	return fmt.Sprintf("the dump lacks %s (it holds %s)", t.XDS(), strings.Join(names, ", "))
}
