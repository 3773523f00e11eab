package istio

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// istioDir is the pinned istio.io/istio module in the module cache.
var istioDir = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
	return strings.TrimSpace(string(out)), err
})

// goldenOptions are the configurations of Istio's own golden tests
// (tools/istio-iptables/pkg/capture/run_test.go and its istio-nftables twin)
// as Options: their base configuration captures nothing inbound or outbound
// and has no injector ports. Goldens left out use what Options cannot say:
// owner groups by name, DROP_INVALID, another loopback CIDR.
var goldenOptions = map[string]func(*Options){
	"empty": func(*Options) {},
	"ip-range": func(o *Options) {
		o.ExcludeOutboundIPRanges, o.IncludeOutboundIPRanges = pfxs("1.1.0.0/16"), pfxs("9.9.0.0/16")
		o.DNSCapture, o.Nameservers = true, []netip.Addr{netip.MustParseAddr("127.0.0.53")}
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
	},
	"tproxy": func(o *Options) {
		o.Mode, o.IncludeInboundPorts = ModeTPROXY, nil
		o.ExcludeOutboundIPRanges, o.IncludeOutboundIPRanges = pfxs("1.1.0.0/16"), pfxs("9.9.0.0/16")
		o.DNSCapture, o.Nameservers = true, []netip.Addr{netip.MustParseAddr("127.0.0.53")}
		o.ExcludeInterfaces, o.IPv6 = []string{"not-istio-nic"}, true
	},
	"ipv6-inbound-ports": func(o *Options) { o.IncludeInboundPorts, o.IPv6 = []uint16{4000, 5000}, true },
	"ipv6-virt-interfaces": func(o *Options) {
		o.IncludeInboundPorts, o.RerouteInterfaces, o.IPv6 = []uint16{4000, 5000}, []string{"eth0", "eth1"}, true
	},
	"ipv6-ipnets": func(o *Options) {
		o.IncludeInboundPorts, o.ExcludeInboundPorts = []uint16{4000, 5000}, []uint16{6000, 7000}
		o.RerouteInterfaces, o.IPv6 = []string{"eth0", "eth1"}, true
		o.ExcludeOutboundIPRanges, o.IncludeOutboundIPRanges = pfxs("2001:db8::/32"), pfxs("2001:db8::/32")
	},
	"ipv6-uid-gid": func(o *Options) {
		o.IncludeInboundPorts, o.ExcludeInboundPorts = []uint16{4000, 5000}, []uint16{6000, 7000}
		o.RerouteInterfaces, o.IPv6 = []string{"eth0", "eth1"}, true
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
		o.ExcludeOutboundIPRanges, o.IncludeOutboundIPRanges = pfxs("2001:db8::/32"), pfxs("2001:db8::/32")
	},
	"ipv6-empty-inbound-ports": func(o *Options) { o.IPv6 = true },
	"kube-virt-interfaces": func(o *Options) {
		o.RerouteInterfaces, o.IncludeOutboundIPRanges = []string{"eth1", "eth2"}, nil
	},
	"ipnets": func(o *Options) { o.IncludeOutboundIPRanges = pfxs("10.0.0.0/8") },
	"ipnets-with-kube-virt-interfaces": func(o *Options) {
		o.RerouteInterfaces, o.IncludeOutboundIPRanges = []string{"eth1", "eth2"}, pfxs("10.0.0.0/8")
	},
	"inbound-ports-include":  func(o *Options) { o.IncludeInboundPorts = []uint16{32000, 31000} },
	"inbound-ports-wildcard": func(o *Options) { o.IncludeInboundPorts = nil },
	"inbound-ports-tproxy": func(o *Options) {
		o.IncludeInboundPorts, o.Mode = []uint16{32000, 31000}, ModeTPROXY
	},
	"inbound-ports-wildcard-tproxy": func(o *Options) { o.IncludeInboundPorts, o.Mode = nil, ModeTPROXY },
	"dns-uid-gid": func(o *Options) {
		o.DNSCapture, o.IPv6 = true, true
		o.Nameservers = []netip.Addr{netip.MustParseAddr("127.0.0.53"), netip.MustParseAddr("::127.0.0.53")}
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
	},
	// REDIRECT_DNS without nameservers and without CAPTURE_ALL_DNS: Istio
	// turns DNS capture off (an empty Nameservers means "all" in Options).
	"ipv6-dns-uid-gid": func(o *Options) {
		o.IPv6 = true
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
	},
	"outbound-ports-include": func(o *Options) { o.IncludeOutboundPorts = []uint16{32000, 31000} },
	"loopback-outbound-iprange": func(o *Options) {
		o.IncludeOutboundIPRanges = pfxs("127.1.2.3/32")
		o.DNSCapture, o.Nameservers = true, []netip.Addr{netip.MustParseAddr("127.0.0.53")}
		o.ProxyUID, o.MoreProxyUIDs, o.ProxyGID, o.MoreProxyGIDs = 3, []uint32{4}, 1, []uint32{2}
	},
	"basic-exclude-nic": func(o *Options) { o.ExcludeInterfaces = []string{"not-istio-nic"} },
}

func goldenBase() Options {
	o := DefaultOptions(GeneratorVersion)
	o.IncludeInboundPorts, o.IncludeOutboundIPRanges, o.InjectorExcludedInboundPorts = []uint16{}, []netip.Prefix{}, nil
	return o
}

// splitGolden returns the IPv4 and IPv6 iptables-restore inputs of an
// istio-iptables golden: the stub's record of every command, where the
// iptables-save calls stand between the two restores' tables.
func splitGolden(text string) (v4, v6 string) {
	var blocks []string
	var cur strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if line == "iptables-save" || line == "ip6tables-save" || line == "" {
			continue
		}
		if strings.HasPrefix(line, "* ") && seen[line] {
			blocks, seen = append(blocks, cur.String()), map[string]bool{}
			cur.Reset()
		}
		seen[line] = true
		cur.WriteString(line + "\n")
	}
	blocks = append(blocks, cur.String())
	if len(blocks) > 1 {
		return blocks[0], blocks[1]
	}
	return blocks[0], ""
}

// Istio's own goldens, read from the module cache: the behaviours of their
// configuration hold on them, and meshcheck's Options produce exactly them
// (so the options mean what Istio's flags mean).
func TestIstioGoldens(t *testing.T) {
	dir, err := istioDir()
	if err != nil || dir == "" {
		t.Fatalf("go list -m istio.io/istio: %v", err)
	}
	for name, set := range goldenOptions {
		o := goldenBase()
		set(&o)
		t.Run(name+"/iptables", func(t *testing.T) {
			golden := canonical(readGolden(t, filepath.Join(dir, "tools/istio-iptables/pkg/capture/testdata", name+".golden")))
			v4, v6 := splitGolden(golden)
			checkGolden(t, o, DefaultEnv(), v4, false)
			mine, err := IPTablesSave(o)
			if err != nil || mine != v4 {
				t.Errorf("IPTablesSave(%+v) (%v) differs from the golden's IPv4 rules:\n%s\ngolden:\n%s", o, err, mine, v4)
			}
			if o.IPv6 {
				checkGolden(t, o, DefaultEnv6(), v6, false)
				mine6, err := IP6TablesSave(o)
				if err != nil || mine6 != v6 {
					t.Errorf("IP6TablesSave differs from the golden's IPv6 rules (%v):\n%s\ngolden:\n%s", err, mine6, v6)
				}
			}
		})
		t.Run(name+"/nftables", func(t *testing.T) {
			golden := canonical(readGolden(t, filepath.Join(dir, "tools/istio-nftables/pkg/capture/testdata", name+".golden")))
			checkGolden(t, o, DefaultEnv(), golden, true)
			if o.IPv6 {
				checkGolden(t, o, DefaultEnv6(), golden, true)
			}
			o.NativeNftables = true
			mine, err := NftRuleset(o)
			if err != nil || strings.TrimSpace(mine) != strings.TrimSpace(golden) {
				t.Errorf("NftRuleset differs from the golden (%v):\n%s\ngolden:\n%s", err, mine, golden)
			}
		})
	}
}

// canonical writes the one address Istio's test spells unusually
// (::127.0.0.53) as netip does, so that the texts compare.
func canonical(s string) string {
	return strings.ReplaceAll(s, "::127.0.0.53/", netip.MustParseAddr("::127.0.0.53").String()+"/")
}

func readGolden(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkGolden(t *testing.T, o Options, env Env, text string, nft bool) {
	t.Helper()
	rs := parseRules(t, "golden", text, nft)
	n := 0
	for _, out := range Check(rs, Behaviours(o, env)) {
		n++
		if !out.Pass() {
			t.Errorf("%v", out.Err)
		}
	}
	if n == 0 {
		t.Error("no behaviour checked")
	}
}
