package istio

import (
	"net/netip"
	"strings"
)

// Variant is one named configuration of the layout matrix.
type Variant struct {
	Name    string
	Options Options
}

// Rules returns the variant's generated rules and whether they are nft.
func (v Variant) Rules() (text string, nft bool, err error) {
	if v.Options.NativeNftables {
		s, err := NftRuleset(v.Options)
		return s, true, err
	}
	s, err := IPTablesSave(v.Options)
	return s, false, err
}

// Matrix lists the layouts the differential test and the unit tests cover:
// each supported version layout, with and without DNS capture, REDIRECT and
// TPROXY, native nftables, and each annotation.
func Matrix() []Variant {
	ns := []netip.Addr{netip.MustParseAddr("10.96.0.10")}
	var vs []Variant
	add := func(name string, ver Version, f func(*Options)) {
		o := DefaultOptions(ver)
		if f != nil {
			f(&o)
		}
		vs = append(vs, Variant{Name: name, Options: o})
	}
	for _, ver := range []Version{{1, 24}, {1, 25}} {
		n := "istio-" + strings.ReplaceAll(ver.String(), ".", "_")
		add(n, ver, nil)
		add(n+"-dns", ver, func(o *Options) { o.DNSCapture, o.Nameservers = true, ns })
		add(n+"-tproxy", ver, func(o *Options) { o.Mode = ModeTPROXY })
		add(n+"-tproxy-dns", ver, func(o *Options) { o.Mode = ModeTPROXY; o.DNSCapture, o.Nameservers = true, ns })
	}
	v := Version{1, 28}
	add("istio-1_28-nft", v, func(o *Options) { o.NativeNftables = true })
	add("istio-1_28-nft-dns", v, func(o *Options) { o.NativeNftables = true; o.DNSCapture, o.Nameservers = true, ns })
	add("istio-1_28-nft-annotations", v, func(o *Options) {
		o.NativeNftables = true
		o.ExcludeOutboundPorts = []uint16{3306}
		o.ExcludeOutboundIPRanges = []netip.Prefix{netip.MustParsePrefix("10.96.5.0/24")}
		o.ExcludeInboundPorts = []uint16{8081}
	})
	add("istio-1_25-annotations-exclude", Version{1, 25}, func(o *Options) {
		o.ExcludeOutboundPorts = []uint16{3306, 6379}
		o.ExcludeOutboundIPRanges = []netip.Prefix{netip.MustParsePrefix("10.96.5.0/24")}
		o.ExcludeInboundPorts = []uint16{8081}
	})
	add("istio-1_25-annotations-include", Version{1, 25}, func(o *Options) {
		o.IncludeOutboundIPRanges = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/16")}
		o.IncludeInboundPorts = []uint16{9080, 8080}
	})
	add("istio-1_24-annotations-include-dns", Version{1, 24}, func(o *Options) {
		o.IncludeOutboundIPRanges = []netip.Prefix{netip.MustParsePrefix("10.97.0.0/16")}
		o.IncludeInboundPorts = []uint16{8080}
		o.DNSCapture, o.Nameservers = true, ns
	})
	return vs
}
