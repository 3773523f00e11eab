package iptables

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// bigSave is an Istio-like nat table padded to n rules: ISTIO_OUTPUT holds
// n-20 exclusion rules before the final redirect, the worst case for a probe.
func bigSave(n int) string {
	var b strings.Builder
	b.WriteString("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:ISTIO_OUTPUT - [0:0]\n:ISTIO_REDIRECT - [0:0]\n")
	b.WriteString("-A OUTPUT -j ISTIO_OUTPUT\n-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001\n")
	for i := 0; i < n-3; i++ {
		fmt.Fprintf(&b, "-A ISTIO_OUTPUT -d 172.%d.%d.0/24 -p tcp -m tcp --dport %d -m owner ! --uid-owner 1337 -m comment --comment \"rule %d\" -j RETURN\n", 16+i/256, i%256, 1000+i, i)
	}
	b.WriteString("-A ISTIO_OUTPUT -j ISTIO_REDIRECT\nCOMMIT\n")
	return b.String()
}

func BenchmarkParseSave1000Rules(b *testing.B) {
	data := []byte(bigSave(1000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rs, err := ParseSave(data)
		if err != nil || rs.RuleCount() != 1000 {
			b.Fatal(err, rs.RuleCount())
		}
	}
}

func BenchmarkSimulate1000Rules(b *testing.B) {
	rs, err := ParseSave([]byte(bigSave(1000)))
	if err != nil {
		b.Fatal(err)
	}
	p := Probe{Hook: HookOutput, Proto: "tcp", Src: netip.MustParseAddrPort("10.1.1.1:40000"), Dst: netip.MustParseAddrPort("10.96.0.1:80"), OutIface: "eth0", UID: ID(1000), GID: ID(1000)}
	for b.Loop() {
		res, err := Simulate(rs, p)
		if err != nil || res.Verdict != VerdictRedirect {
			b.Fatal(err, res.Verdict)
		}
	}
}

func BenchmarkSimulateIstio(b *testing.B) {
	rs := mustParse(b, "istio-1.25-dns-tproxy.legacy.save-c.txt")
	p := Probe{Hook: HookOutput, Proto: "tcp", Src: netip.MustParseAddrPort("10.1.1.1:40000"), Dst: netip.MustParseAddrPort("10.96.0.1:80"), OutIface: "eth0", UID: ID(1000), GID: ID(1000)}
	for b.Loop() {
		if _, err := Simulate(rs, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseNftJSON(b *testing.B) {
	data := readTestdata(b, "istio-1.28-dns.nft.json")
	for b.Loop() {
		if _, err := ParseNftJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
