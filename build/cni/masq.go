package cni

import (
	"fmt"
	"net/netip"
	"strings"
)

// MasqChain is the nat chain the daemon owns.
const MasqChain = "MESHCHECK-CNI-MASQ"

// MasqJump is the rule (for iptables -t nat -C/-A) that sends every packet
// leaving the node through MasqChain.
var MasqJump = []string{"POSTROUTING", "-m", "comment", "--comment", "meshcheck-cni: masquerade pod traffic leaving the cluster", "-j", MasqChain}

// MasqRules is the iptables-restore input (use --noflush: only MasqChain is
// replaced) for one family (v6 false: IPv4). Packets from the node's own pod
// CIDR of that family to anything but a pod CIDR (of any node, or the
// cluster's) or multicast are masqueraded. It returns "" when the node has
// no pod CIDR of that family.
func MasqRules(v6 bool, own, noMasq []netip.Prefix) string {
	var src netip.Prefix
	for _, p := range own {
		if p.Addr().Is6() == v6 {
			src = p
			break
		}
	}
	if !src.IsValid() {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*nat\n:%s - [0:0]\n", MasqChain)
	fmt.Fprintf(&b, "-A %s ! -s %s -j RETURN\n", MasqChain, src)
	seen := map[netip.Prefix]bool{}
	for _, p := range noMasq {
		if !p.IsValid() || p.Addr().Is6() != v6 || seen[p] {
			continue
		}
		seen[p] = true
		fmt.Fprintf(&b, "-A %s -d %s -j RETURN\n", MasqChain, p.Masked())
	}
	multicast := "224.0.0.0/4"
	if v6 {
		multicast = "ff00::/8"
	}
	fmt.Fprintf(&b, "-A %s -d %s -j RETURN\n", MasqChain, multicast)
	fmt.Fprintf(&b, "-A %s -j MASQUERADE\nCOMMIT\n", MasqChain)
	return b.String()
}

// ParseCIDRList parses a comma-separated CIDR list such as kind's pod
// subnet ("10.244.0.0/16" or "10.244.0.0/16,fd00:10:244::/56"); field names
// the source in errors.
func ParseCIDRList(field, s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%s: item %d %q is not a CIDR: %w", field, i, part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
