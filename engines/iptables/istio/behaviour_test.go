package istio

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

func parseRules(t *testing.T, name, text string, nft bool) *iptables.Ruleset {
	t.Helper()
	var rs *iptables.Ruleset
	var err error
	if nft {
		rs, err = iptables.ParseNft([]byte(text))
	} else {
		rs, err = iptables.ParseSave([]byte(text))
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, text)
	}
	return rs
}

// Istio's own generator's rules have every behaviour of their options, for
// each family: the behaviour model is checked against the real rules.
func TestIstioRulesHaveTheirBehaviours(t *testing.T) {
	for _, v := range Matrix() {
		t.Run(v.Name, func(t *testing.T) {
			text, nft, err := v.Rules()
			if err != nil {
				t.Fatal(err)
			}
			families := []struct {
				env  Env
				text string
				nft  bool
			}{{DefaultEnv(), text, nft}}
			if text6, nft6, ok, err := v.Rules6(); err != nil {
				t.Fatal(err)
			} else if ok {
				families = append(families, struct {
					env  Env
					text string
					nft  bool
				}{DefaultEnv6(), text6, nft6})
			}
			for _, f := range families {
				rs := parseRules(t, v.Name, f.text, f.nft)
				if u := rs.Unsupported(); len(u) != 0 {
					t.Errorf("Istio's rules use matches the simulator does not know: %v", u)
				}
				for _, o := range Check(rs, Behaviours(v.Options, f.env)) {
					if !o.Pass() {
						t.Errorf("%v\nrules:\n%s", o.Err, f.text)
					}
				}
			}
		})
	}
}

// A check must be able to fail: rules without the proxy-UID RETURN send the
// proxy's own traffic back to itself, and the check says so in words.
func TestCheckFailsOnBrokenRules(t *testing.T) {
	o := DefaultOptions(Version{1, 25})
	text, err := IPTablesSave(o)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(text, "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN\n", "", 1)
	if broken == text {
		t.Fatal("rule to remove not found")
	}
	rs, err := iptables.ParseSave([]byte(broken))
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	var checked iptables.Checked
	for _, out := range Check(rs, Behaviours(o, DefaultEnv())) {
		if !out.Pass() {
			failed = append(failed, out.Err.Error())
			checked = out.Checked()
		}
	}
	// As a report shows it: the expectation, the fate and the trail.
	if checked.Pass || checked.Name != "outbound-tcp-proxy-uid" || !strings.HasPrefix(checked.Got, "REDIRECT to 127.0.0.1:15001") ||
		len(checked.Trail) == 0 || checked.Trail[0] != "nat/OUTPUT #1 -A OUTPUT -j ISTIO_OUTPUT" {
		t.Errorf("Checked() = %+v: want outbound-tcp-proxy-uid failed, REDIRECT to 127.0.0.1:15001, trail from nat/OUTPUT #1", checked)
	}
	if len(failed) != 1 {
		t.Fatalf("want exactly one failure, got %d: %v", len(failed), failed)
	}
	want := "outbound-tcp-proxy-uid: expected outbound TCP from the proxy's UID 1337 to 10.96.0.100:80 to be untouched, got REDIRECT to 127.0.0.1:15001 via nat/OUTPUT #1 -A OUTPUT -j ISTIO_OUTPUT"
	if !strings.HasPrefix(failed[0], want) {
		t.Errorf("failure text:\n got: %s\nwant: %s...", failed[0], want)
	}
}

func TestAnnotations(t *testing.T) {
	cases := []struct {
		name    string
		ann     map[string]string
		wantErr string
		check   func(Options) bool
	}{
		{"exclude ports", map[string]string{AnnotationExcludeOutboundPorts: "3306, 6379"}, "", func(o Options) bool { return len(o.ExcludeOutboundPorts) == 2 }},
		{"include all", map[string]string{AnnotationIncludeOutboundIPRanges: "*"}, "", func(o Options) bool { return o.captureAllOutbound() }},
		{"include none", map[string]string{AnnotationIncludeOutboundIPRanges: ""}, "", func(o Options) bool { return !o.captureAllOutbound() }},
		{"inbound none", map[string]string{AnnotationIncludeInboundPorts: ""}, "", func(o Options) bool { return o.IncludeInboundPorts != nil && len(o.IncludeInboundPorts) == 0 }},
		{"bad cidr", map[string]string{AnnotationExcludeOutboundIPRanges: "10.0.0.0/33"}, "excludeOutboundIPRanges", nil},
		{"bad port", map[string]string{AnnotationExcludeInboundPorts: "http"}, `bad port "http"`, nil},
		{"typo", map[string]string{"traffic.sidecar.istio.io/excludeOutboundPort": "1"}, "not one that changes interception", nil},
		{"include outbound ports", map[string]string{AnnotationIncludeOutboundPorts: "3306,5432"}, "", func(o Options) bool { return len(o.IncludeOutboundPorts) == 2 }},
		{"exclude interfaces", map[string]string{AnnotationExcludeInterfaces: "eth1, eth2"}, "", func(o Options) bool { return slices.Equal(o.ExcludeInterfaces, []string{"eth1", "eth2"}) }},
		{"kubevirt interfaces", map[string]string{AnnotationKubevirtInterfaces: "net1"}, "", func(o Options) bool { return slices.Equal(o.RerouteInterfaces, []string{"net1"}) }},
		{"both reroute annotations", map[string]string{AnnotationKubevirtInterfaces: "a", AnnotationRerouteInterfaces: "b"}, "give one", nil},
		{"bad mode", map[string]string{AnnotationInterceptionMode: "NONE"}, "want REDIRECT or TPROXY", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions(Version{1, 25})
			err := o.ApplyAnnotations(c.ann)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("want error containing %q, got %v", c.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(o) {
				t.Errorf("options not set: %+v", o)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{"1.25": {1, 25}, "1.24.3": {1, 24}, "v1.31.0-beta.1": {1, 31}} {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1", "one.two", "1.x"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q): want an error", bad)
		}
	}
}

// An env that gives only an IPv6 pod IP gets IPv6 probes throughout, and
// they hold on Istio's ip6tables rules.
func TestBehavioursOfAnIPv6PodIP(t *testing.T) {
	o := DefaultOptions(GeneratorVersion)
	o.IPv6, o.DNSCapture = true, true
	env := DefaultEnv()
	env.PodIP = netip.MustParseAddr("fd00:10:244::7")
	text, err := IP6TablesSave(o)
	if err != nil {
		t.Fatal(err)
	}
	rs := parseRules(t, "ip6tables", text, false)
	bs := Behaviours(o, env)
	for _, b := range bs {
		if b.Probe.Dst.Addr().Is4() || (b.Probe.Src.IsValid() && b.Probe.Src.Addr().Is4()) {
			t.Errorf("%s: IPv4 address in an IPv6 probe: %s", b.Name, b.Probe)
		}
	}
	for _, out := range Check(rs, bs) {
		if !out.Pass() {
			t.Errorf("%v", out.Err)
		}
	}
}
