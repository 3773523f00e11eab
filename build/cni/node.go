package cni

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// ErrNoPodCIDR means a node has no pod CIDR yet (the controller manager
// allocates it shortly after the node registers).
var ErrNoPodCIDR = errors.New("no pod CIDR allocated yet")

// Node is what the CNI needs from one Node object.
type Node struct {
	Name     string
	PodCIDRs []netip.Prefix // at most one per family
	// InternalIPs are status.addresses of type InternalIP, at most one per
	// family (the first wins).
	InternalIPs []netip.Addr
}

// FromNode validates a Node object. A node without pod CIDR gives an error
// wrapping ErrNoPodCIDR; every error names the node and the field.
func FromNode(n *corev1.Node) (Node, error) {
	if n == nil {
		return Node{}, errors.New("nil node")
	}
	out := Node{Name: n.Name}
	field, cidrs := "spec.podCIDRs", n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		field, cidrs = "spec.podCIDR", []string{n.Spec.PodCIDR}
	}
	if len(cidrs) == 0 {
		return out, fmt.Errorf("node %q: spec.podCIDR is empty: %w", n.Name, ErrNoPodCIDR)
	}
	for i, s := range cidrs {
		f := field
		if field == "spec.podCIDRs" {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return out, fmt.Errorf("node %q: %s %q is not a CIDR: %w", n.Name, f, s, err)
		}
		if p.Masked() != p {
			return out, fmt.Errorf("node %q: %s %q has host bits set (want %s)", n.Name, f, s, p.Masked())
		}
		if slices.ContainsFunc(out.PodCIDRs, func(q netip.Prefix) bool { return q.Addr().Is4() == p.Addr().Is4() }) {
			return out, fmt.Errorf("node %q: %s %q: a second pod CIDR of the same family", n.Name, f, s)
		}
		out.PodCIDRs = append(out.PodCIDRs, p)
	}
	for i, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		ip, err := netip.ParseAddr(a.Address)
		if err != nil {
			return out, fmt.Errorf("node %q: status.addresses[%d] (InternalIP) %q is not an IP address: %w", n.Name, i, a.Address, err)
		}
		ip = ip.Unmap()
		if !slices.ContainsFunc(out.InternalIPs, func(q netip.Addr) bool { return q.Is4() == ip.Is4() }) {
			out.InternalIPs = append(out.InternalIPs, ip)
		}
	}
	return out, nil
}

// internalIP returns the node's InternalIP of p's family.
func (n Node) internalIP(p netip.Prefix) (netip.Addr, bool) {
	for _, ip := range n.InternalIPs {
		if ip.Is4() == p.Addr().Is4() {
			return ip, true
		}
	}
	return netip.Addr{}, false
}
