package iptables

import (
	"net/netip"
	"testing"
)

// fuzzProbes are simulated on whatever parses: the simulator must not panic
// or loop on any ruleset a parser accepts.
var fuzzProbes = []Probe{
	{Hook: HookOutput, Proto: "tcp", Src: netip.MustParseAddrPort("10.1.1.1:40000"), Dst: netip.MustParseAddrPort("10.96.0.1:80"), OutIface: "eth0", UID: ID(1000), GID: ID(1000)},
	{Hook: HookOutput, Proto: "udp", Src: netip.MustParseAddrPort("10.1.1.1:40000"), Dst: netip.MustParseAddrPort("10.96.0.10:53"), OutIface: "eth0", UID: ID(1337), GID: ID(1337)},
	{Hook: HookPrerouting, Proto: "tcp", Src: netip.MustParseAddrPort("10.1.1.2:40000"), Dst: netip.MustParseAddrPort("10.1.1.1:9080"), InIface: "eth0"},
	{Hook: HookOutput, Proto: "tcp", Src: netip.MustParseAddrPort("[fd00::1]:40000"), Dst: netip.MustParseAddrPort("[fd00::2]:80"), OutIface: "lo", UID: ID(1), GID: ID(1)},
}

func fuzzSimulate(t *testing.T, rs *Ruleset) {
	for _, p := range fuzzProbes {
		if _, err := Simulate(rs, p); err != nil {
			t.Fatalf("simulate %s: %v", p, err)
		}
	}
	_ = rs.Unsupported()
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(readTestdata(f, n))
	}
}

func FuzzParseSave(f *testing.F) {
	addSeeds(f, "istio-1.25-dns-tproxy.legacy.save-c.txt", "seed004-istio-1.10-dns.save-excerpt.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseSave(data)
		if err != nil {
			return
		}
		fuzzSimulate(t, rs)
	})
}

func FuzzParseListing(f *testing.F) {
	addSeeds(f, "seed002-istio-1.3.nat.vnL.txt", "istio-1.25-dns-tproxy.legacy.vnL.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseListing(data)
		if err != nil {
			return
		}
		fuzzSimulate(t, rs)
	})
}

func FuzzParseNft(f *testing.F) {
	addSeeds(f, "istio-1.28-dns.nft.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseNft(data)
		if err != nil {
			return
		}
		fuzzSimulate(t, rs)
	})
}

func FuzzParseNftJSON(f *testing.F) {
	addSeeds(f, "istio-1.28-dns.nft.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseNftJSON(data)
		if err != nil {
			return
		}
		fuzzSimulate(t, rs)
	})
}
