package istio

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Each change of istio-iptables' configuration the mutation catalog uses
// loses one behaviour of the options the pod should have had, and the
// behaviour check names it; unchanged, every behaviour holds.
func TestChangesLoseTheirBehaviour(t *testing.T) {
	dns := DefaultOptions(GeneratorVersion)
	dns.DNSCapture = true
	cases := []struct {
		name    string
		o       Options
		changes []Change
		lost    string // the behaviour that must fail; "" none
	}{
		{"unchanged", DefaultOptions(GeneratorVersion), nil, ""},
		{"unchanged with DNS capture", dns, nil, ""},
		{"outbound redirect missing", DefaultOptions(GeneratorVersion), []Change{{"OUTBOUND_IPRANGES_INCLUDE", ""}}, "outbound-tcp-app"},
		{"DNS capture missing", dns, []Change{{"REDIRECT_DNS", "false"}}, "dns-udp-10.96.0.10"},
		{"15021 not excluded", DefaultOptions(GeneratorVersion), []Change{{"INBOUND_PORTS_EXCLUDE", "15090,15020"}}, "inbound-tcp-15021-excluded"},
		{"proxy UID not bypassed", DefaultOptions(GeneratorVersion), []Change{{"PROXY_UID", "1338"}}, "outbound-tcp-proxy-uid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, err := IPTablesSaveChanged(c.o, c.changes)
			if err != nil {
				t.Fatal(err)
			}
			rs := parseRules(t, c.name, text, false)
			var failed []string
			for _, o := range Check(rs, Behaviours(c.o, DefaultEnv())) {
				if !o.Pass() {
					failed = append(failed, o.Behaviour.Name)
				}
			}
			if c.lost == "" && len(failed) > 0 {
				t.Fatalf("behaviours lost without a change: %v", failed)
			}
			if c.lost != "" && !slices.Contains(failed, c.lost) {
				t.Fatalf("want %s among the lost behaviours, lost %v", c.lost, failed)
			}
		})
	}
}

func TestParseChange(t *testing.T) {
	cases := []struct {
		in   string
		want Change
		err  string
	}{
		{"PROXY_UID=1338", Change{"PROXY_UID", "1338"}, ""},
		{"OUTBOUND_IPRANGES_INCLUDE=", Change{"OUTBOUND_IPRANGES_INCLUDE", ""}, ""},
		{"REDIRECT_DNS=false", Change{"REDIRECT_DNS", "false"}, ""},
		{"IPTABLES_PROBE_PORT=15002", Change{"IPTABLES_PROBE_PORT", "15002"}, ""},
		{"REDIRECT_DNS=maybe", Change{}, `REDIRECT_DNS="maybe"`},
		{"PROXY_USER=1", Change{}, `no field "PROXY_USER"`},
		{"DNS_SERVERS_V4=1.1.1.1", Change{}, "only string, boolean and integer fields"},
		{"PROXY_UID", Change{}, "want FIELD=VALUE"},
	}
	for _, c := range cases {
		got, err := ParseChange(c.in)
		if c.err != "" {
			if err == nil || !errors.Is(err, ErrChange) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseChange(%q) = %v, want an ErrChange holding %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseChange(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestPodOptions(t *testing.T) {
	cases := []struct {
		name string
		ann  map[string]string
		dns  bool
		err  string
	}{
		{"none", nil, false, ""},
		{"other annotations ignored", map[string]string{"prometheus.io/scrape": "true"}, false, ""},
		{"DNS capture", map[string]string{AnnotationProxyConfig: `{"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"}}`}, true, ""},
		{"DNS capture in YAML", map[string]string{AnnotationProxyConfig: "proxyMetadata:\n  ISTIO_META_DNS_CAPTURE: \"false\"\n"}, false, ""},
		{"bad metadata", map[string]string{AnnotationProxyConfig: `{"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "yes please"}}`}, false, "ISTIO_META_DNS_CAPTURE"},
		{"bad annotation", map[string]string{AnnotationInterceptionMode: "NONE"}, false, "want REDIRECT or TPROXY"},
	}
	for _, c := range cases {
		o, err := PodOptions(GeneratorVersion, c.ann)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want one holding %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || o.DNSCapture != c.dns {
			t.Errorf("%s: DNSCapture %v, err %v; want %v", c.name, o.DNSCapture, err, c.dns)
		}
	}
}
