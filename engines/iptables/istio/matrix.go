package istio

import (
	"fmt"
	"net/netip"
)

// GeneratorVersion is the Istio minor version whose istio-iptables and
// istio-nftables generate the rules: the istio.io/istio module in go.mod.
var GeneratorVersion = Version{1, 31}

// Variant is one named configuration of the layout matrix.
type Variant struct {
	Name    string
	Options Options
}

// Rules returns the variant's IPv4 rules as Istio's generator writes them
// (iptables-restore input, or the nft script, which holds the IPv6 rules
// too), and whether they are nft.
func (v Variant) Rules() (text string, nft bool, err error) {
	if v.Options.NativeNftables {
		s, err := NftRuleset(v.Options)
		return s, true, err
	}
	s, err := IPTablesSave(v.Options)
	return s, false, err
}

// Rules6 returns the variant's IPv6 rules (ip6tables-restore input, or the
// same nft script); ok is false when the variant has no IPv6.
func (v Variant) Rules6() (text string, nft, ok bool, err error) {
	if !v.Options.IPv6 {
		return "", false, false, nil
	}
	if v.Options.NativeNftables {
		s, err := NftRuleset(v.Options)
		return s, true, true, err
	}
	s, err := IP6TablesSave(v.Options)
	return s, false, true, err
}

// Matrix lists the configurations the tests cover, each once with
// iptables and once with native nftables: REDIRECT and TPROXY, DNS capture
// (to named nameservers and to every destination), included and excluded
// inbound ports, outbound ports and ranges (also none, and a loopback
// range), excluded and virtual interfaces, several proxy UIDs and GIDs,
// owner groups, and IPv6.
func Matrix() []Variant {
	var vs []Variant
	for _, c := range matrixCases {
		for _, nft := range []bool{false, true} {
			o := DefaultOptions(GeneratorVersion)
			c.set(&o)
			o.NativeNftables = nft
			name := "istio-" + c.name
			if nft {
				name += "-nft"
			}
			vs = append(vs, Variant{Name: name, Options: o})
		}
	}
	return vs
}

var (
	ns4    = netip.MustParseAddr("10.96.0.10")
	ns6    = netip.MustParseAddr("fd00:10:96::a")
	tproxy = func(o *Options) { o.Mode = ModeTPROXY }
	dns    = func(o *Options) { o.DNSCapture, o.Nameservers = true, []netip.Addr{ns4} }
	ipv6   = func(o *Options) { o.IPv6 = true }
)

// pfxs parses prefixes written in the code.
func pfxs(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// both applies several setters.
func both(fs ...func(*Options)) func(*Options) {
	return func(o *Options) {
		for _, f := range fs {
			f(o)
		}
	}
}

var matrixCases = []struct {
	name string
	set  func(*Options)
}{
	{"redirect", func(*Options) {}},
	{"redirect-dns", dns},
	{"redirect-dns-all", func(o *Options) { o.DNSCapture = true }},
	{"tproxy", tproxy},
	{"tproxy-dns", both(tproxy, dns)},
	{"redirect-ipv6-dns", both(ipv6, func(o *Options) { o.DNSCapture, o.Nameservers = true, []netip.Addr{ns4, ns6} })},
	{"tproxy-ipv6", both(tproxy, ipv6)},
	{"tproxy-ipv6-dns-all", both(tproxy, ipv6, func(o *Options) { o.DNSCapture = true })},
	{"exclude", func(o *Options) {
		o.ExcludeOutboundPorts = []uint16{3306, 6379}
		o.ExcludeOutboundIPRanges = pfxs("10.96.5.0/24", "fd00:10:96:5::/64")
		o.ExcludeInboundPorts = []uint16{8081}
	}},
	{"exclude-ipv6-tproxy", both(ipv6, tproxy, func(o *Options) {
		o.ExcludeOutboundPorts = []uint16{9080}
		o.ExcludeOutboundIPRanges = pfxs("fd00:10:96:5::/64")
		o.ExcludeInboundPorts = []uint16{8081}
	})},
	{"include", func(o *Options) {
		o.IncludeOutboundIPRanges = pfxs("10.96.0.0/16")
		o.IncludeInboundPorts = []uint16{9080, 8080}
	}},
	{"include-tproxy-hbone", both(tproxy, func(o *Options) {
		o.IncludeOutboundIPRanges = pfxs("10.97.0.0/16")
		o.IncludeInboundPorts = []uint16{9080, HBONEPort, 15090}
	})},
	{"include-ports-dns", both(dns, func(o *Options) {
		o.IncludeOutboundIPRanges = pfxs("10.97.0.0/16")
		o.IncludeOutboundPorts = []uint16{80, 3306}
		o.IncludeInboundPorts = []uint16{8080}
	})},
	{"include-none", func(o *Options) {
		o.IncludeOutboundIPRanges = []netip.Prefix{}
		o.IncludeInboundPorts = []uint16{}
	}},
	{"include-loopback-dns", both(dns, func(o *Options) { o.IncludeOutboundIPRanges = pfxs("127.1.2.3/32", "10.96.0.0/16") })},
	{"interfaces", func(o *Options) {
		o.ExcludeInterfaces, o.RerouteInterfaces = []string{"eth1"}, []string{"eth2", "eth3"}
	}},
	{"interfaces-include", func(o *Options) {
		o.RerouteInterfaces = []string{"eth2"}
		o.IncludeOutboundIPRanges = pfxs("10.96.0.0/16")
	}},
	{"interfaces-tproxy", both(tproxy, func(o *Options) { o.ExcludeInterfaces, o.RerouteInterfaces = []string{"eth1"}, []string{"eth2"} })},
	{"uids-gids-dns", both(dns, func(o *Options) {
		o.ProxyGID = 1338
		o.MoreProxyUIDs, o.MoreProxyGIDs = []uint32{3, 4}, []uint32{1, 2}
	})},
	{"owner-groups-include", func(o *Options) { o.OwnerGroupsInclude = []uint32{2000, 202} }},
	{"owner-groups-exclude-dns", both(dns, func(o *Options) { o.OwnerGroupsExclude = []uint32{888, 1000} })},
	// Three configurations of Istio's own golden tests (ip-range,
	// loopback-outbound-iprange, tproxy), with the injector's ports and
	// ranges the kernel lab's peer owns.
	{"ip-range-loopback-dns", func(o *Options) {
		o.ExcludeOutboundIPRanges, o.IncludeOutboundIPRanges = pfxs("10.97.0.0/16"), pfxs("10.98.0.0/16")
		o.DNSCapture, o.Nameservers = true, []netip.Addr{netip.MustParseAddr("127.0.0.53")}
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
	}},
	{"loopback-range-uids-dns", func(o *Options) {
		o.IncludeOutboundIPRanges = pfxs("127.1.2.3/32")
		o.DNSCapture, o.Nameservers = true, []netip.Addr{netip.MustParseAddr("127.0.0.53")}
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
	}},
	{"tproxy-ranges-dns-ipv6-nic", both(tproxy, ipv6, func(o *Options) {
		o.ExcludeOutboundIPRanges, o.IncludeOutboundIPRanges = pfxs("10.97.0.0/16"), pfxs("10.98.0.0/16")
		o.DNSCapture, o.Nameservers = true, []netip.Addr{netip.MustParseAddr("127.0.0.53")}
		o.ExcludeInterfaces = []string{"eth1"}
	})},
}

// String names the variant and its options.
func (v Variant) String() string { return fmt.Sprintf("%s %+v", v.Name, v.Options) }
