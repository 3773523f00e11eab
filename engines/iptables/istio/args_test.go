package istio

import (
	"strings"
	"testing"

	"istio.io/istio/tools/common/config"
)

// argsOf writes c as the istio-iptables command line the injector would.
func argsOf(c *config.Config) []string {
	a := []string{"istio-iptables", "-p", c.ProxyPort, "-z", c.InboundCapturePort, "-e", c.InboundTunnelPort,
		"-u", c.ProxyUID, "-g", c.ProxyGID, "-m", c.InboundInterceptionMode,
		"-i", c.OutboundIPRangesInclude, "-x", c.OutboundIPRangesExclude, "-b", c.InboundPortsInclude,
		"-d", c.InboundPortsExclude, "-q", c.OutboundPortsInclude, "-o", c.OutboundPortsExclude,
		"-k", c.RerouteVirtualInterfaces, "-c", c.ExcludeInterfaces}
	for flag, on := range map[string]bool{"--redirect-dns": c.RedirectDNS, "--capture-all-dns": c.CaptureAllDNS,
		"--dual-stack": c.EnableIPv6, "--native-nftables": c.NativeNftables} {
		if on {
			a = append(a, flag)
		}
	}
	return a
}

func rulesOf(t *testing.T, o Options) string {
	t.Helper()
	var s string
	var err error
	if o.NativeNftables {
		s, err = NftRuleset(o)
	} else {
		s, err = IPTablesSave(o)
		if err == nil && o.IPv6 {
			var s6 string
			s6, err = IP6TablesSave(o)
			s += s6
		}
	}
	if err != nil {
		t.Fatalf("%+v: %v", o, err)
	}
	return s
}

// Every configuration of the matrix, written as istio-iptables' command line
// and read back, gives Istio's generator the same rules.
func TestParseArgsRoundTrip(t *testing.T) {
	checked := 0
	for _, v := range Matrix() {
		if v.Options.OwnerGroupsInclude != nil || len(v.Options.OwnerGroupsExclude) > 0 {
			continue // owner groups are environment variables, not flags
		}
		c, err := Config(v.Options)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		args := argsOf(c)
		got, err := ParseArgs(v.Options.Version, args)
		if err != nil {
			t.Errorf("%s: %q: %v", v.Name, args, err)
			continue
		}
		if got.CaptureAllDNS != (v.Options.DNSCapture && len(v.Options.Nameservers) == 0) {
			t.Errorf("%s: CaptureAllDNS = %v", v.Name, got.CaptureAllDNS)
		}
		got.Options.Nameservers = v.Options.Nameservers // resolv.conf, not a flag
		if want, have := rulesOf(t, v.Options), rulesOf(t, got.Options); want != have {
			t.Errorf("%s: %q read back as %+v gives other rules:\nwant\n%s\nhave\n%s", v.Name, args, got.Options, want, have)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d configurations checked", checked)
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name string
		args string
		err  string
		want func(t *testing.T, a Args)
	}{
		{name: "the injector's REDIRECT defaults", args: "istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x '' -b * -d 15090,15021,15020",
			want: func(t *testing.T, a Args) {
				o := a.Options
				if o.Mode != ModeRedirect || o.IncludeInboundPorts != nil || len(o.ExcludeInboundPorts) != 3 || o.IncludeOutboundIPRanges != nil || o.ProxyUID != 1337 {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "TPROXY, DNS capture of all, dual stack, nft", args: "pilot-agent istio-iptables -m TPROXY --redirect-dns --capture-all-dns --dual-stack --native-nftables --reconcile --probe-timeout 5s",
			want: func(t *testing.T, a Args) {
				o := a.Options
				if o.Mode != ModeTPROXY || !o.DNSCapture || !a.CaptureAllDNS || !o.IPv6 || !o.NativeNftables || len(a.Ignored) != 2 {
					t.Errorf("args %+v", a)
				}
			}},
		{name: "UID and GID lists", args: "-u 1337,1338 -g 1337,0",
			want: func(t *testing.T, a Args) {
				o := a.Options
				if o.ProxyUID != 1337 || len(o.MoreProxyUIDs) != 1 || o.MoreProxyGIDs[0] != 0 {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "empty lists capture nothing", args: "-i '' -b ''",
			want: func(t *testing.T, a Args) {
				if a.Options.IncludeOutboundIPRanges == nil || len(a.Options.IncludeOutboundIPRanges) != 0 || a.Options.IncludeInboundPorts == nil {
					t.Errorf("options %+v", a.Options)
				}
			}},
		{name: "another envoy port", args: "-p 15002", err: "-p (--envoy-port) \"15002\": envoy port \"15002\": meshcheck's behaviours are stated for Istio's 15001 only"},
		{name: "bad mode", args: "-m DIVERT", err: "-m (--istio-inbound-interception-mode) \"DIVERT\": want REDIRECT or TPROXY"},
		{name: "bad port", args: "-d 15090,x", err: "bad port \"x\""},
		{name: "unknown flag", args: "--no-such-flag", err: "unknown flag: --no-such-flag"},
		{name: "cleanup", args: "--cleanup-only", err: "--cleanup-only removes the rules"},
		{name: "stray word", args: "-p 15001 extra", err: "unexpected [\"extra\"]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := strings.Split(tc.args, " ")
			for i, a := range args {
				if a == "''" { // an empty argument, as a shell would pass it
					args[i] = ""
				}
			}
			got, err := ParseArgs(Version{Major: 1, Minor: 31}, args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want(t, got)
		})
	}
}
