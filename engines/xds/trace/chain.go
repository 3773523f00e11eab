package trace

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
)

// level is one criterion of Envoy's filter-chain match, in Envoy's order.
type level struct {
	name string
	// specified reports whether a chain's match sets this criterion.
	specified func(m *listenerv3.FilterChainMatch) bool
	// rank returns how specifically a chain's criterion matches the
	// connection (higher wins), or -1 when it does not match.
	rank func(m *listenerv3.FilterChainMatch) int
	// unknown is set when the request lacks what this criterion needs.
	unknown string
}

func (t *tracer) levels() []level {
	dst, _ := netip.ParseAddr(t.dstIP())
	var src netip.Addr
	if t.req.SourceAddress != "" {
		src, _ = netip.ParseAddr(t.req.SourceAddress)
	}
	return append(t.destinationLevels(dst), t.sourceLevels(src, dst)...)
}

// destinationLevels are the criteria on the destination and the protocols.
func (t *tracer) destinationLevels(dst netip.Addr) []level {
	dstUnknown := ""
	if t.req.Address == "" {
		dstUnknown = "the destination address (give --address)"
	}
	alpn := t.req.alpn()
	return []level{
		{
			name:      "destination port",
			specified: func(m *listenerv3.FilterChainMatch) bool { return m.GetDestinationPort() != nil },
			rank: func(m *listenerv3.FilterChainMatch) int {
				if m.GetDestinationPort().GetValue() == t.req.Port {
					return 0
				}
				return -1
			},
		},
		{
			name:      "destination prefix ranges",
			specified: func(m *listenerv3.FilterChainMatch) bool { return len(m.GetPrefixRanges()) > 0 },
			rank:      func(m *listenerv3.FilterChainMatch) int { return cidrRank(m.GetPrefixRanges(), dst) },
			unknown:   dstUnknown,
		},
		{
			name:      "server names",
			specified: func(m *listenerv3.FilterChainMatch) bool { return len(m.GetServerNames()) > 0 },
			rank:      func(m *listenerv3.FilterChainMatch) int { return serverNameRank(m.GetServerNames(), t.req.ServerName) },
		},
		{
			name:      "transport protocol",
			specified: func(m *listenerv3.FilterChainMatch) bool { return m.GetTransportProtocol() != "" },
			rank: func(m *listenerv3.FilterChainMatch) int {
				if m.GetTransportProtocol() == t.req.transport() {
					return 0
				}
				return -1
			},
		},
		{
			name:      "application protocols",
			specified: func(m *listenerv3.FilterChainMatch) bool { return len(m.GetApplicationProtocols()) > 0 },
			rank: func(m *listenerv3.FilterChainMatch) int {
				// Envoy walks the connection's ALPN list in order: the
				// earliest protocol some chain lists wins.
				for i, p := range alpn {
					if slices.Contains(m.GetApplicationProtocols(), p) {
						return len(alpn) - i
					}
				}
				return -1
			},
		},
	}
}

// sourceLevels are the criteria on the source.
func (t *tracer) sourceLevels(src, dst netip.Addr) []level {
	srcUnknown := ""
	if !src.IsValid() {
		srcUnknown = "the source address (give --source)"
	}
	return []level{
		{
			name:      "direct source prefix ranges",
			specified: func(m *listenerv3.FilterChainMatch) bool { return len(m.GetDirectSourcePrefixRanges()) > 0 },
			rank:      func(m *listenerv3.FilterChainMatch) int { return cidrRank(m.GetDirectSourcePrefixRanges(), src) },
			unknown:   srcUnknown,
		},
		{
			name: "source type",
			specified: func(m *listenerv3.FilterChainMatch) bool {
				return m.GetSourceType() != listenerv3.FilterChainMatch_ANY
			},
			rank: func(m *listenerv3.FilterChainMatch) int {
				local := src.IsLoopback() || src == dst
				if (m.GetSourceType() == listenerv3.FilterChainMatch_SAME_IP_OR_LOOPBACK) == local {
					return 0
				}
				return -1
			},
			unknown: srcUnknown,
		},
		{
			name:      "source prefix ranges",
			specified: func(m *listenerv3.FilterChainMatch) bool { return len(m.GetSourcePrefixRanges()) > 0 },
			rank:      func(m *listenerv3.FilterChainMatch) int { return cidrRank(m.GetSourcePrefixRanges(), src) },
			unknown:   srcUnknown,
		},
		{
			name:      "source ports",
			specified: func(m *listenerv3.FilterChainMatch) bool { return len(m.GetSourcePorts()) > 0 },
			rank: func(m *listenerv3.FilterChainMatch) int {
				if slices.Contains(m.GetSourcePorts(), t.req.SourcePort) {
					return 0
				}
				return -1
			},
			unknown: func() string {
				if t.req.SourcePort == 0 {
					return "the source port (give --source IP:PORT)"
				}
				return ""
			}(),
		},
	}
}

// selectChain narrows the chains level by level the way Envoy's filter
// chain manager does: at each level the chains that match the criterion most
// specifically, else the chains that leave it unset; no backtracking.
func (t *tracer) selectChain(chains []*listenerv3.FilterChain) (fc *listenerv3.FilterChain, why, undecided string) {
	cands := chains
	var reasons []string
	for _, lv := range t.levels() {
		var specific []*listenerv3.FilterChain
		best := -1
		anySpecified := false
		for _, c := range cands {
			m := c.GetFilterChainMatch()
			if !lv.specified(m) {
				continue
			}
			anySpecified = true
			if lv.unknown != "" {
				continue
			}
			r := lv.rank(m)
			switch {
			case r > best:
				best, specific = r, []*listenerv3.FilterChain{c}
			case r == best && r >= 0:
				specific = append(specific, c)
			}
		}
		if anySpecified && lv.unknown != "" {
			return nil, "", fmt.Sprintf("filter chains match on %s, and the request does not say %s", lv.name, lv.unknown)
		}
		if best >= 0 {
			cands = specific
			reasons = append(reasons, lv.name+" matches")
			continue
		}
		var unset []*listenerv3.FilterChain
		for _, c := range cands {
			if !lv.specified(c.GetFilterChainMatch()) {
				unset = append(unset, c)
			}
		}
		if len(unset) == 0 {
			return nil, fmt.Sprintf("no chain matches on %s", lv.name), ""
		}
		cands = unset
	}
	if len(cands) == 0 {
		return nil, "the listener has no filter chains", ""
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "the only chain, matching any connection")
		if len(cands) > 1 {
			reasons[0] = "matches any connection"
		}
	}
	why = strings.Join(reasons, ", ")
	if len(cands) > 1 {
		why += fmt.Sprintf(" (%d chains share this match: Envoy rejects such a listener; the first is shown)", len(cands))
	}
	return cands[0], why, ""
}

// cidrRank returns the longest prefix length among ranges containing ip, or
// -1 when none does.
func cidrRank(ranges []*corev3.CidrRange, ip netip.Addr) int {
	best := -1
	for _, r := range ranges {
		a, err := netip.ParseAddr(r.GetAddressPrefix())
		if err != nil {
			continue
		}
		bits := int(r.GetPrefixLen().GetValue())
		if r.GetPrefixLen() == nil {
			bits = a.BitLen()
		}
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		if ip.Is4In6() {
			ip = ip.Unmap()
		}
		if p.Contains(ip) && bits > best {
			best = bits
		}
	}
	return best
}

// serverNameRank: an exact name beats the longest wildcard "*.suffix".
func serverNameRank(names []string, sni string) int {
	if sni == "" {
		return -1
	}
	sni = strings.ToLower(sni)
	best := -1
	for _, n := range names {
		n = strings.ToLower(n)
		switch {
		case n == sni:
			return 1 << 20
		case strings.HasPrefix(n, "*.") && strings.HasSuffix(sni, n[1:]) && len(sni) > len(n)-1:
			best = max(best, len(n))
		}
	}
	return best
}
