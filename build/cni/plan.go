package cni

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// RouteProtocol marks the routes the daemon installs (the rtm_protocol
// field, "proto 77" in `ip route`), so it only ever removes its own.
const RouteProtocol = 77

// Route sends a pod CIDR of another node to that node's InternalIP.
type Route struct {
	Dst  netip.Prefix
	Via  netip.Addr
	Node string // for logs; not part of the route's identity
}

func (r Route) String() string {
	if r.Node != "" {
		return fmt.Sprintf("%s via %s (%s)", r.Dst, r.Via, r.Node)
	}
	return fmt.Sprintf("%s via %s", r.Dst, r.Via)
}

// Plan is what one node should have, derived from every Node object.
type Plan struct {
	Self Node
	// Routes go to every other node's pod CIDRs, sorted by destination.
	Routes []Route
	// PodCIDRs are every valid node's pod CIDRs (own included), sorted:
	// traffic to them is not masqueraded.
	PodCIDRs []netip.Prefix
	// Problems are the other nodes (or their CIDRs) that were skipped, each
	// naming the node and field.
	Problems []error
}

// NewPlan computes the plan of node self. Its error means self itself is
// unusable: missing from nodes, invalid, or without pod CIDR yet (wrapping
// ErrNoPodCIDR).
func NewPlan(self string, nodes []*corev1.Node) (Plan, error) {
	var p Plan
	var found bool
	var others []Node
	for _, n := range nodes {
		if n == nil {
			continue
		}
		info, err := FromNode(n)
		if n.Name == self {
			if err != nil {
				return p, err
			}
			p.Self, found = info, true
			continue
		}
		if err != nil {
			p.Problems = append(p.Problems, err)
			continue
		}
		others = append(others, info)
	}
	if !found {
		return p, fmt.Errorf("node %q not found among %d nodes", self, len(nodes))
	}
	p.PodCIDRs = append(p.PodCIDRs, p.Self.PodCIDRs...)
	for _, o := range others {
		for i, c := range o.PodCIDRs {
			if q, ok := overlaps(c, p.PodCIDRs); ok {
				p.Problems = append(p.Problems, fmt.Errorf("node %q: pod CIDR #%d %s overlaps %s already in use; skipped", o.Name, i, c, q))
				continue
			}
			via, ok := o.internalIP(c)
			if !ok {
				p.Problems = append(p.Problems, fmt.Errorf("node %q: status.addresses has no InternalIP of the family of pod CIDR %s; no route", o.Name, c))
				continue
			}
			p.PodCIDRs = append(p.PodCIDRs, c)
			p.Routes = append(p.Routes, Route{Dst: c, Via: via, Node: o.Name})
		}
	}
	slices.SortFunc(p.Routes, func(a, b Route) int { return comparePrefix(a.Dst, b.Dst) })
	slices.SortFunc(p.PodCIDRs, comparePrefix)
	return p, nil
}

func overlaps(c netip.Prefix, in []netip.Prefix) (netip.Prefix, bool) {
	for _, q := range in {
		if c.Overlaps(q) {
			return q, true
		}
	}
	return netip.Prefix{}, false
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// Diff compares the wanted routes with the ones installed (routes carrying
// RouteProtocol). add holds the wanted routes not installed exactly (same
// destination and next hop); del the installed routes that are not wanted,
// or duplicates. Apply add first (replacing by destination), then del
// (ignoring routes already gone). Both are sorted.
func Diff(want, have []Route) (add, del []Route) {
	type key struct {
		dst netip.Prefix
		via netip.Addr
	}
	wanted := make(map[key]bool, len(want))
	for _, r := range want {
		wanted[key{r.Dst, r.Via}] = true
	}
	installed := map[key]bool{}
	for _, h := range have {
		k := key{h.Dst, h.Via}
		if !wanted[k] || installed[k] {
			del = append(del, h)
			continue
		}
		installed[k] = true
	}
	for _, w := range want {
		k := key{w.Dst, w.Via}
		if !installed[k] {
			add = append(add, w)
			installed[k] = true
		}
	}
	byDst := func(a, b Route) int {
		if c := comparePrefix(a.Dst, b.Dst); c != 0 {
			return c
		}
		return a.Via.Compare(b.Via)
	}
	slices.SortFunc(add, byDst)
	slices.SortFunc(del, byDst)
	return add, del
}
