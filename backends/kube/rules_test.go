package kube

import (
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

func TestInitLogRules(t *testing.T) {
	restore := "* nat\n-N ISTIO_INBOUND\n-N ISTIO_REDIRECT\n-N ISTIO_OUTPUT\n" +
		"-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001\n-A OUTPUT -j ISTIO_OUTPUT\n" +
		"-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN\n-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n"
	log := "2026-12-06T09:00:00.100000Z\tinfo\tIstio iptables environment:\n" +
		"ENVOY_PORT=\n" +
		"2026-12-06T09:00:00.200000Z\tinfo\tRunning iptables restore with: iptables-restore --noflush and the following input:\n" +
		restore +
		"2026-12-06T09:00:00.300000Z\tinfo\tRunning ip6tables restore with: ip6tables-restore --noflush and the following input:\n" +
		"* nat\n-N ISTIO_INBOUND6\nCOMMIT\n"
	tests := []struct {
		name, log, want string
		ok              bool
	}{
		{"the IPv4 restore", log, restore, true},
		{"the last block of a log", strings.SplitN(log, "Running ip6tables", 2)[0] + "x and the following input:\n" + restore, restore, true},
		{"no restore printed", "2026-12-06T09:00:00Z\tinfo\tnothing\n", "", false},
		{"a restore without Istio's chains", "x the following input:\n*nat\nCOMMIT\n", "*nat\nCOMMIT\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := initLogRules([]byte(tt.log))
			if ok != tt.ok || (tt.ok && string(got) != tt.want) {
				t.Fatalf("ok %v, rules:\n%s\nwant ok %v, rules:\n%s", ok, got, tt.ok, tt.want)
			}
			if !ok {
				return
			}
			rs, err := iptables.Parse(got)
			if err != nil {
				t.Fatalf("the rules do not parse: %v", err)
			}
			if rs == nil {
				t.Fatal("no ruleset")
			}
		})
	}
}
