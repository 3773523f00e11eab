package istio

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// Args is what ParseArgs makes of an istio-iptables command line.
type Args struct {
	Options Options
	// CaptureAllDNS is --capture-all-dns: with DNS capture on, every
	// destination on port 53 is captured, not only the pod's nameservers.
	// Without it Istio reads the nameservers from the pod's resolv.conf,
	// which a command line does not show: the caller must supply them.
	CaptureAllDNS bool
	// Ignored lists the flags given that do not change which rules a
	// connection's first packet meets, each with the reason.
	Ignored []string
}

// A value flag of istio-iptables: how it sets Options. The list flags share
// the annotations' parsers (the injector passes an annotation's value to the
// flag unchanged).
type argFlag struct {
	long, short string
	set         func(o *Options, v string) error
}

// fixedPort refuses a port other than Istio's default: the behaviours are
// stated for 15001, 15006 and 15008.
func fixedPort(name string, want int) func(*Options, string) error {
	return func(_ *Options, v string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n != want {
			return fmt.Errorf("%s %q: meshcheck's behaviours are stated for Istio's %d only", name, v, want)
		}
		return nil
	}
}

func fixedValue(name, want string) func(*Options, string) error {
	return func(_ *Options, v string) error {
		if strings.TrimSpace(v) != want {
			return fmt.Errorf("%s %q: meshcheck's behaviours are stated for Istio's default %s only", name, v, want)
		}
		return nil
	}
}

func ids(v string) ([]uint32, error) {
	var out []uint32
	for _, f := range parseNames(v) {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad ID %q", f)
		}
		out = append(out, uint32(n))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ID in %q", v)
	}
	return out, nil
}

var argFlags = []argFlag{
	{"envoy-port", "p", fixedPort("envoy port", OutboundPort)},
	{"inbound-capture-port", "z", fixedPort("inbound capture port", InboundPort)},
	{"inbound-tunnel-port", "e", fixedPort("inbound tunnel port", HBONEPort)},
	{"proxy-uid", "u", func(o *Options, v string) error {
		l, err := ids(v)
		if err == nil {
			o.ProxyUID, o.MoreProxyUIDs = l[0], l[1:]
		}
		return err
	}},
	{"proxy-gid", "g", func(o *Options, v string) error {
		l, err := ids(v)
		if err == nil {
			o.ProxyGID, o.MoreProxyGIDs = l[0], l[1:]
		}
		return err
	}},
	{"istio-inbound-interception-mode", "m", annotationSetters[AnnotationInterceptionMode]},
	{"istio-inbound-ports", "b", annotationSetters[AnnotationIncludeInboundPorts]},
	{"istio-local-exclude-ports", "d", annotationSetters[AnnotationExcludeInboundPorts]},
	{"istio-exclude-interfaces", "c", annotationSetters[AnnotationExcludeInterfaces]},
	{"istio-service-cidr", "i", annotationSetters[AnnotationIncludeOutboundIPRanges]},
	{"istio-service-exclude-cidr", "x", annotationSetters[AnnotationExcludeOutboundIPRanges]},
	{"istio-outbound-ports", "q", annotationSetters[AnnotationIncludeOutboundPorts]},
	{"istio-local-outbound-ports-exclude", "o", annotationSetters[AnnotationExcludeOutboundPorts]},
	{"kube-virt-interfaces", "k", annotationSetters[AnnotationRerouteInterfaces]},
	{"istio-inbound-tproxy-mark", "t", fixedValue("TPROXY mark", "1337")},
	{"istio-inbound-tproxy-route-table", "r", fixedValue("TPROXY route table", "133")},
}

// Flags that do not change what a connection's first packet meets.
var ignoredArgFlags = map[string]string{
	"dry-run":                "prints instead of applying",
	"iptables-probe-port":    "the validation probe",
	"probe-timeout":          "the validation probe",
	"skip-rule-apply":        "applies nothing; the rules given are checked",
	"run-validation":         "the validation probe",
	"network-namespace":      "where the rules are applied",
	"cni-mode":               "where the rules are applied",
	"reconcile":              "how existing rules are replaced",
	"force-apply":            "how existing rules are replaced",
	"force-iptables-binary":  "which binary applies the rules",
	"iptables-trace-logging": "adds logging rules only",
	"drop-invalid":           "drops packets of conntrack state INVALID, never a connection's first packet",
}

// The ignored flags that take a value; the others are switches.
var valuedArgFlags = map[string]bool{"iptables-probe-port": true, "probe-timeout": true, "network-namespace": true, "force-iptables-binary": true}

// ParseArgs reads istio-iptables' command line (the istio-init container's
// args, or `pilot-agent istio-iptables ...`; leading words that are not
// flags are skipped) into Options for version v. Flags are Istio's, long and
// short. Every port and ID list is parsed as the injector passes it. A
// value meshcheck's behaviours are not stated for (another envoy port, TPROXY
// mark or route table), --cleanup-only and an unknown flag are errors that
// name the flag.
func ParseArgs(v Version, args []string) (Args, error) {
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = args[1:]
	}
	out := Args{Options: Options{Version: v, Mode: ModeRedirect, ProxyUID: ProxyID, ProxyGID: ProxyID}}
	fs := pflag.NewFlagSet("istio-iptables", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	vals := map[string]*string{}
	for _, f := range argFlags {
		vals[f.long] = fs.StringP(f.long, f.short, "", "")
	}
	dns := fs.Bool("redirect-dns", false, "")
	all := fs.Bool("capture-all-dns", false, "")
	dual := fs.Bool("dual-stack", false, "")
	nft := fs.Bool("native-nftables", false, "")
	cleanup := fs.Bool("cleanup-only", false, "")
	fs.BoolP("dry-run", "n", false, "")
	for name := range ignoredArgFlags {
		if fs.Lookup(name) != nil {
			continue
		}
		fs.String(name, "", "")
		if !valuedArgFlags[name] {
			fs.Lookup(name).NoOptDefVal = "true" // a switch: --reconcile
		}
	}
	if err := fs.Parse(args); err != nil {
		return out, fmt.Errorf("istio-iptables arguments: %w", err)
	}
	if fs.NArg() > 0 {
		return out, fmt.Errorf("istio-iptables arguments: unexpected %q", fs.Args())
	}
	if *cleanup {
		return out, fmt.Errorf("istio-iptables arguments: --cleanup-only removes the rules, it writes none to check")
	}
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		if why, ok := ignoredArgFlags[f.Name]; ok {
			out.Ignored = append(out.Ignored, fmt.Sprintf("--%s: %s", f.Name, why))
			return
		}
		for _, af := range argFlags {
			if af.long == f.Name {
				if e := af.set(&out.Options, *vals[f.Name]); e != nil {
					err = fmt.Errorf("istio-iptables arguments: -%s (--%s) %q: %w", af.short, af.long, *vals[f.Name], e)
				}
			}
		}
	})
	if err != nil {
		return out, err
	}
	out.Options.DNSCapture, out.CaptureAllDNS = *dns, *all && *dns
	out.Options.IPv6, out.Options.NativeNftables = *dual, *nft
	slices.Sort(out.Ignored)
	return out, out.Options.Validate()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
