package istio

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Ports and identities istio-iptables uses by default.
const (
	OutboundPort = 15001 // Envoy's virtualOutbound listener
	InboundPort  = 15006 // Envoy's virtualInbound listener
	DNSPort      = 15053 // pilot-agent's DNS proxy
	HBONEPort    = 15008 // always excluded from inbound capture
	ProxyID      = 1337  // istio-proxy's UID and GID
)

// DefaultExcludedInboundPorts are excluded by the injector (-d): Envoy's
// Prometheus port, the health port and pilot-agent's status port (which the
// template puts after the annotation's ports).
var DefaultExcludedInboundPorts = []uint16{15090, 15021, 15020}

// Mode is the inbound interception mode.
type Mode string

// The interception modes.
const (
	ModeRedirect Mode = "REDIRECT"
	ModeTPROXY   Mode = "TPROXY"
)

// Version is an Istio minor version.
type Version struct{ Major, Minor int }

// ParseVersion reads "1.25", "1.25.3" or "1.25.0-beta.1".
func ParseVersion(s string) (Version, error) {
	parts := strings.SplitN(strings.TrimPrefix(s, "v"), ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("istio version %q: want X.Y or X.Y.Z", s)
	}
	maj, err1 := strconv.Atoi(parts[0])
	minor := parts[1]
	if i := strings.IndexAny(minor, "-+"); i >= 0 {
		minor = minor[:i]
	}
	mnr, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || maj < 1 {
		return Version{}, fmt.Errorf("istio version %q: want X.Y or X.Y.Z", s)
	}
	return Version{maj, mnr}, nil
}

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v >= major.minor.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// Options are the settings that change the interception rules.
type Options struct {
	Version  Version
	Mode     Mode
	ProxyUID uint32
	ProxyGID uint32
	// DNSCapture is ISTIO_META_DNS_CAPTURE=true; Nameservers are the pod's
	// resolv.conf servers (empty: every destination on port 53 is captured).
	DNSCapture  bool
	Nameservers []netip.Addr
	// NativeNftables is values.global.nativeNftables (1.27 and later).
	NativeNftables bool
	// IncludeOutboundIPRanges: nil or containing 0.0.0.0/0 means "*".
	IncludeOutboundIPRanges []netip.Prefix
	ExcludeOutboundIPRanges []netip.Prefix
	ExcludeOutboundPorts    []uint16
	// IncludeInboundPorts: nil means "*"; an empty non-nil slice means none.
	IncludeInboundPorts []uint16
	// ExcludeInboundPorts are the annotation's; the injector adds
	// InjectorExcludedInboundPorts (DefaultOptions: DefaultExcludedInboundPorts,
	// nil for istio-iptables run without the injector).
	ExcludeInboundPorts          []uint16
	InjectorExcludedInboundPorts []uint16
	// IncludeOutboundPorts are captured whatever their destination
	// (traffic.sidecar.istio.io/includeOutboundPorts, istio-iptables -q).
	IncludeOutboundPorts []uint16
	// ExcludeInterfaces are neither captured inbound nor outbound
	// (traffic.sidecar.istio.io/excludeInterfaces, -c).
	ExcludeInterfaces []string
	// RerouteInterfaces are virtual interfaces whose inbound traffic is
	// treated as outbound (traffic.sidecar.istio.io/kubevirtInterfaces, -k).
	RerouteInterfaces []string
	// MoreProxyUIDs and MoreProxyGIDs are further IDs treated as the
	// proxy's (istio-iptables -u and -g take lists).
	MoreProxyUIDs []uint32
	MoreProxyGIDs []uint32
	// OwnerGroupsInclude: nil means every group's outbound traffic is
	// captured (ISTIO_OUTBOUND_OWNER_GROUPS "*"); otherwise only these GIDs'.
	// OwnerGroupsExclude are GIDs whose outbound traffic is not captured
	// (ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE). Istio takes one or the other.
	OwnerGroupsInclude []uint32
	OwnerGroupsExclude []uint32
	// IPv6 is a pod with an IPv6 address: istio-iptables then writes
	// ip6tables rules too (and ip6 rules in the nft tables).
	IPv6 bool
}

// DefaultOptions returns the defaults of an injected pod for version v.
func DefaultOptions(v Version) Options {
	return Options{Version: v, Mode: ModeRedirect, ProxyUID: ProxyID, ProxyGID: ProxyID,
		InjectorExcludedInboundPorts: slices.Clone(DefaultExcludedInboundPorts)}
}

// The pod annotations that change the rules.
const (
	AnnotationIncludeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges"
	AnnotationExcludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
	AnnotationIncludeOutboundPorts    = "traffic.sidecar.istio.io/includeOutboundPorts"
	AnnotationExcludeOutboundPorts    = "traffic.sidecar.istio.io/excludeOutboundPorts"
	AnnotationIncludeInboundPorts     = "traffic.sidecar.istio.io/includeInboundPorts"
	AnnotationExcludeInboundPorts     = "traffic.sidecar.istio.io/excludeInboundPorts"
	AnnotationExcludeInterfaces       = "traffic.sidecar.istio.io/excludeInterfaces"
	AnnotationKubevirtInterfaces      = "traffic.sidecar.istio.io/kubevirtInterfaces"
	AnnotationRerouteInterfaces       = "istio.io/reroute-virtual-interfaces"
	AnnotationInterceptionMode        = "sidecar.istio.io/interceptionMode"
)

// annotationSetters set o from one annotation's trimmed value, as the
// injection template passes it to istio-iptables.
var annotationSetters = map[string]func(o *Options, v string) error{
	AnnotationIncludeOutboundIPRanges: func(o *Options, v string) (err error) {
		if v == "*" {
			o.IncludeOutboundIPRanges = nil
			return nil
		}
		if o.IncludeOutboundIPRanges, err = parsePrefixes(v); err == nil && o.IncludeOutboundIPRanges == nil {
			o.IncludeOutboundIPRanges = []netip.Prefix{}
		}
		return err
	},
	AnnotationExcludeOutboundIPRanges: func(o *Options, v string) (err error) {
		o.ExcludeOutboundIPRanges, err = parsePrefixes(v)
		return err
	},
	AnnotationIncludeOutboundPorts: func(o *Options, v string) (err error) {
		o.IncludeOutboundPorts, err = parsePorts(v)
		return err
	},
	AnnotationExcludeOutboundPorts: func(o *Options, v string) (err error) {
		o.ExcludeOutboundPorts, err = parsePorts(v)
		return err
	},
	AnnotationIncludeInboundPorts: func(o *Options, v string) (err error) {
		if v == "*" {
			o.IncludeInboundPorts = nil
			return nil
		}
		if o.IncludeInboundPorts, err = parsePorts(v); err == nil && o.IncludeInboundPorts == nil {
			o.IncludeInboundPorts = []uint16{}
		}
		return err
	},
	AnnotationExcludeInboundPorts: func(o *Options, v string) (err error) {
		o.ExcludeInboundPorts, err = parsePorts(v)
		return err
	},
	AnnotationExcludeInterfaces: func(o *Options, v string) error { o.ExcludeInterfaces = parseNames(v); return nil },
	// The two names of the same setting: ApplyAnnotations refuses both at
	// once rather than pick one.
	AnnotationKubevirtInterfaces: func(o *Options, v string) error { o.RerouteInterfaces = parseNames(v); return nil },
	AnnotationRerouteInterfaces:  func(o *Options, v string) error { o.RerouteInterfaces = parseNames(v); return nil },
	AnnotationInterceptionMode: func(o *Options, v string) error {
		if Mode(v) != ModeRedirect && Mode(v) != ModeTPROXY {
			return fmt.Errorf("want REDIRECT or TPROXY")
		}
		o.Mode = Mode(v)
		return nil
	},
}

// ApplyAnnotations sets o's fields from pod annotations; unknown keys are an
// error so a typo does not silently check the defaults.
func (o *Options) ApplyAnnotations(ann map[string]string) error {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if _, a := ann[AnnotationKubevirtInterfaces]; a {
		if _, b := ann[AnnotationRerouteInterfaces]; b {
			return fmt.Errorf("annotations %s and %s: give one (the injector takes the second)", AnnotationKubevirtInterfaces, AnnotationRerouteInterfaces)
		}
	}
	for _, k := range keys {
		set, ok := annotationSetters[k]
		if !ok {
			known := make([]string, 0, len(annotationSetters))
			for n := range annotationSetters {
				known = append(known, n)
			}
			slices.Sort(known)
			return fmt.Errorf("annotation %q: not one that changes interception (known: %s)", k, strings.Join(known, ", "))
		}
		v := strings.TrimSpace(ann[k])
		if err := set(o, v); err != nil {
			return fmt.Errorf("annotation %s=%q: %w", k, v, err)
		}
	}
	return nil
}

func parseNames(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Validate reports options the generator cannot express.
func (o Options) Validate() error {
	if o.Mode != ModeRedirect && o.Mode != ModeTPROXY {
		return fmt.Errorf("mode %q: want REDIRECT or TPROXY", o.Mode)
	}
	if o.NativeNftables && !o.Version.AtLeast(1, 27) {
		return fmt.Errorf("native nftables needs Istio 1.27 or later, have %s", o.Version)
	}
	if o.OwnerGroupsInclude != nil && len(o.OwnerGroupsExclude) > 0 {
		return fmt.Errorf("owner groups: include %v and exclude %v are exclusive", o.OwnerGroupsInclude, o.OwnerGroupsExclude)
	}
	return nil
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "*" {
			out = append(out, netip.MustParsePrefix("0.0.0.0/0"))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, err2 := netip.ParseAddr(f)
			if err2 != nil {
				return nil, err
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func parsePorts(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 16)
		if err != nil || n == 0 {
			return nil, errors.New("bad port " + strconv.Quote(f))
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

// captureAllOutbound reports whether includeOutboundIPRanges is "*".
func (o Options) captureAllOutbound() bool {
	if o.IncludeOutboundIPRanges == nil {
		return true
	}
	for _, p := range o.IncludeOutboundIPRanges {
		if p.Bits() == 0 {
			return true
		}
	}
	return false
}

// injectorExcludedInbound is the injector's -d list: its own ports but the
// last, the annotation's ports, then its last (the status port), without
// duplicates.
func (o Options) injectorExcludedInbound() []uint16 {
	own := o.InjectorExcludedInboundPorts
	var all []uint16
	if n := len(own); n > 0 {
		all = append(append(append(all, own[:n-1]...), o.ExcludeInboundPorts...), own[n-1])
	} else {
		all = o.ExcludeInboundPorts
	}
	var out []uint16
	for _, p := range all {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
