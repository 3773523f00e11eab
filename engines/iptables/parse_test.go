package iptables

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, name string) *Ruleset {
	t.Helper()
	rs, err := Parse(readTestdata(t, name))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return rs
}

func out(proto, src, dst, iface string, uid, gid uint32) Probe {
	p := Probe{Hook: HookOutput, Proto: proto, Dst: netip.MustParseAddrPort(dst), OutIface: iface, UID: ID(uid), GID: ID(gid)}
	if src != "" {
		p.Src = netip.MustParseAddrPort(src)
	}
	return p
}

func in(proto, src, dst, iface string) Probe {
	return Probe{Hook: HookPrerouting, Proto: proto, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), InIface: iface}
}

type simCase struct {
	name    string
	probe   Probe
	verdict Verdict
	toPort  uint16
}

func runSimCases(t *testing.T, rs *Ruleset, cases []simCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Simulate(rs, c.probe)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != c.verdict || res.ToPort != c.toPort {
				t.Errorf("probe %s: expected %s to %d, got %s", c.probe, c.verdict, c.toPort, res)
			}
		})
	}
}

// The nat table of an Istio 1.3 sidecar, as printed in seed 002.
func TestSeed002Listing(t *testing.T) {
	rs := mustParse(t, "seed002-istio-1.3.nat.vnL.txt")
	if rs.Format != FormatListing || len(rs.Tables) != 1 || rs.Tables[0].Name != "nat" {
		t.Fatalf("want one nat table from a listing, got %+v", rs.Tables)
	}
	if n := rs.RuleCount(); n != 13 {
		t.Errorf("want 13 rules, got %d", n)
	}
	if u := rs.Unsupported(); len(u) != 0 {
		t.Errorf("want every match understood, got %v", u)
	}
	pre := rs.Tables[0].Chain("PREROUTING")
	if pre.Counters == nil || pre.Counters.Packets != 43439 || pre.Counters.Bytes != 2606000 {
		t.Errorf("PREROUTING policy counters: got %+v", pre.Counters)
	}
	runSimCases(t, rs, []simCase{
		{"outbound app to reviews", out("tcp", "10.0.15.34:40000", "10.0.15.30:9080", "eth0", 1000, 1000), VerdictRedirect, 15001},
		{"outbound from envoy uid", out("tcp", "10.0.15.34:40000", "10.0.15.30:9080", "eth0", 1337, 1000), VerdictAccept, 0},
		{"outbound from envoy gid", out("tcp", "10.0.15.34:40000", "10.0.15.30:9080", "eth0", 1000, 1337), VerdictAccept, 0},
		{"inbound app port", in("tcp", "10.0.15.1:5000", "10.0.15.34:9080", "eth0"), VerdictRedirect, 15006},
		{"inbound ssh excluded", in("tcp", "10.0.15.1:5000", "10.0.15.34:22", "eth0"), VerdictAccept, 0},
		{"inbound status port", in("tcp", "10.0.15.1:5000", "10.0.15.34:15020", "eth0"), VerdictAccept, 0},
		{"udp untouched", out("udp", "10.0.15.34:40000", "10.96.0.10:53", "eth0", 1000, 1000), VerdictAccept, 0},
		{"127.0.0.6 on lo returns", out("tcp", "127.0.0.6:40000", "10.0.15.34:9080", "lo", 1337, 1337), VerdictAccept, 0},
		{"envoy to pod ip over lo", out("tcp", "10.0.15.34:40000", "10.0.15.34:9080", "lo", 1337, 1337), VerdictRedirect, 15006},
	})
	res, _ := Simulate(rs, out("tcp", "10.0.15.34:40000", "10.0.15.30:9080", "eth0", 1000, 1000))
	var chains []string
	for _, s := range res.Trail {
		chains = append(chains, s.Chain)
	}
	if got := strings.Join(chains, ">"); got != "OUTPUT>ISTIO_OUTPUT>ISTIO_REDIRECT" {
		t.Errorf("trail: want OUTPUT>ISTIO_OUTPUT>ISTIO_REDIRECT, got %s (%s)", got, res)
	}
}

// The DNS rules of an Istio 1.10 pod, grepped from iptables-save in seed 004.
func TestSeed004SaveExcerpt(t *testing.T) {
	lines := readTestdata(t, "seed004-istio-1.10-dns.save-excerpt.txt")
	// The excerpt is a grep: declare the chains it uses around it.
	doc := "*nat\n:OUTPUT ACCEPT [0:0]\n:ISTIO_OUTPUT - [0:0]\n:ISTIO_IN_REDIRECT - [0:0]\n-A OUTPUT -p tcp -j ISTIO_OUTPUT\n" + string(lines) + "COMMIT\n"
	rs, err := ParseSave([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	runSimCases(t, rs, []simCase{
		{"udp dns from app", out("udp", "10.1.1.1:40000", "10.96.0.10:53", "eth0", 1000, 1000), VerdictRedirect, 15053},
		{"udp dns from envoy", out("udp", "10.1.1.1:40000", "10.96.0.10:53", "eth0", 1337, 1337), VerdictAccept, 0},
		{"tcp dns from app", out("tcp", "10.1.1.1:40000", "10.96.0.10:53", "eth0", 1000, 1000), VerdictRedirect, 15053},
		{"udp dns elsewhere", out("udp", "10.1.1.1:40000", "8.8.8.8:53", "eth0", 1000, 1000), VerdictAccept, 0},
	})
}

// Rules loaded into a network namespace with iptables-legacy-restore and
// saved back with iptables-legacy-save -c, listed with -vnL, and Istio's
// native nftables rules listed with nft list ruleset and nft -j: every form
// must predict the same.
func TestFormatsAgree(t *testing.T) {
	save := mustParse(t, "istio-1.25-dns-tproxy.legacy.save-c.txt")
	list := mustParse(t, "istio-1.25-dns-tproxy.legacy.vnL.txt")
	if save.Format != FormatSave || list.Format != FormatListing {
		t.Fatalf("formats: %s %s", save.Format, list.Format)
	}
	for _, rs := range []*Ruleset{save, list} {
		if u := rs.Unsupported(); len(u) != 0 {
			t.Errorf("%s: unexpected unsupported %v", rs.Format, u)
		}
	}
	if save.RuleCount() != list.RuleCount() {
		t.Errorf("save has %d rules, listing %d", save.RuleCount(), list.RuleCount())
	}
	nftText := mustParse(t, "istio-1.28-dns.nft.txt")
	nftJSON := mustParse(t, "istio-1.28-dns.nft.json")
	if u := append(nftText.Unsupported(), nftJSON.Unsupported()...); len(u) != 0 {
		t.Errorf("nft: unexpected unsupported %v", u)
	}
	probes := []Probe{
		out("tcp", "10.1.1.1:40000", "10.96.0.1:80", "eth0", 1000, 1000),
		out("tcp", "10.1.1.1:40000", "10.96.0.1:80", "eth0", 1337, 1000),
		out("tcp", "10.1.1.1:40000", "10.96.0.1:80", "eth0", 1000, 1337),
		out("udp", "10.1.1.1:40000", "10.96.0.10:53", "eth0", 1000, 1000),
		out("tcp", "10.1.1.1:40000", "10.96.0.10:53", "eth0", 1000, 1000),
		out("udp", "10.1.1.1:40000", "10.96.0.10:53", "eth0", 1337, 1337),
		out("tcp", "127.0.0.6:40000", "10.1.1.1:9080", "lo", 1337, 1337),
		out("tcp", "10.1.1.1:40000", "10.1.1.1:9080", "lo", 1337, 1337),
		out("tcp", "127.0.0.1:40000", "127.0.0.1:9080", "lo", 1000, 1000),
		in("tcp", "10.1.1.2:40000", "10.1.1.1:9080", "eth0"),
		in("tcp", "10.1.1.2:40000", "10.1.1.1:15021", "eth0"),
		in("udp", "10.96.0.10:53", "10.1.1.1:40000", "eth0"),
	}
	for _, p := range probes {
		a, err1 := Simulate(save, p)
		b, err2 := Simulate(list, p)
		c, err3 := Simulate(nftText, p)
		d, err4 := Simulate(nftJSON, p)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatal(err1, err2, err3, err4)
		}
		if a.Verdict != b.Verdict || a.ToPort != b.ToPort || a.Mark != b.Mark || a.CTZone != b.CTZone {
			t.Errorf("probe %s: save says %s, listing says %s", p, a, b)
		}
		if c.Verdict != d.Verdict || c.ToPort != d.ToPort || c.CTZone != d.CTZone || len(c.Trail) != len(d.Trail) {
			t.Errorf("probe %s: nft text says %s, nft json says %s", p, c, d)
		}
		// TPROXY captures inbound in the iptables file; the nft file is REDIRECT mode.
		if p.Hook == HookOutput && (a.Verdict != c.Verdict || a.ToPort != c.ToPort || a.CTZone != c.CTZone) {
			t.Errorf("probe %s: iptables says %s, nftables says %s", p, a, c)
		}
	}
	// The counters of iptables-save -c are kept.
	r := save.Table(FamilyIPv4, "nat").Chain("OUTPUT").Rules[0]
	if r.Counters == nil {
		t.Error("counters of [0:0] -A OUTPUT not kept")
	}
}

func TestUnknownMatchesAreKeptAndReported(t *testing.T) {
	doc := `*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p tcp -m tcp --dport 80 -m limit --limit 3/hour -j REDIRECT --to-ports 15001
-A OUTPUT -p tcp -m tcp --dport 81 -j MASQUERADE --random
-A OUTPUT -p tcp -m comment --comment "istio \"says\" hi" -m tcp --dport 82 -j REDIRECT --to-ports 15001
COMMIT
`
	rs, err := ParseSave([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := rs.Unsupported()
	if len(u) != 2 || u[0].Text != "-m limit --limit 3/hour" || u[0].Line != 3 || u[1].Text != "-j MASQUERADE --random" {
		t.Fatalf("want the limit match and the MASQUERADE target reported with lines, got %v", u)
	}
	runSimCases(t, rs, []simCase{
		// A known match that fails decides: the unknown one does not matter.
		{"port 443 skips both", out("tcp", "", "10.0.0.1:443", "eth0", 1, 1), VerdictAccept, 0},
		{"port 82 passes the comment", out("tcp", "", "10.0.0.1:82", "eth0", 1, 1), VerdictRedirect, 15001},
	})
	res, _ := Simulate(rs, out("tcp", "", "10.0.0.1:80", "eth0", 1, 1))
	if res.Verdict != VerdictUnsupported || !strings.Contains(res.Unsupported, "-m limit --limit 3/hour") {
		t.Errorf("want UNSUPPORTED naming the limit match, got %s", res)
	}
	res, _ = Simulate(rs, out("tcp", "", "10.0.0.1:81", "eth0", 1, 1))
	if res.Verdict != VerdictUnsupported || !strings.Contains(res.Unsupported, "MASQUERADE") {
		t.Errorf("want UNSUPPORTED naming MASQUERADE, got %s", res)
	}
	if c := rs.Tables[0].Chain("OUTPUT").Rules[2].Matches; c[1].Kind != MatchComment {
		t.Errorf("comment not understood: %+v", c)
	}
}

func TestParseErrorsCarryLines(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"save: no table", "-A OUTPUT -j ACCEPT\n", "line 1"},
		{"save: unknown chain", "*nat\n:OUTPUT ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n", "line 3"},
		{"save: jump to undeclared", "*nat\n:OUTPUT ACCEPT [0:0]\n\n-A OUTPUT -j ISTIO_X\nCOMMIT\n", "line 4"},
		{"save: bad port", "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n", "line 3"},
		{"save: no commit", "*nat\n:OUTPUT ACCEPT [0:0]\n", "no COMMIT"},
		{"save: dport without proto", "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT --dport 53 -j ACCEPT\nCOMMIT\n", "line 3"},
		{"save: bad address", "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 10.0.0.300 -j ACCEPT\nCOMMIT\n", "line 3"},
		{"listing: row before header", "Chain OUTPUT (policy ACCEPT)\nRETURN all -- 0.0.0.0/0 0.0.0.0/0\n", "line 2"},
		{"listing: bad address", "Chain OUTPUT (policy ACCEPT)\ntarget prot opt source destination\nRETURN all -- 0.0.0.0/0 1.2.3.400\n", "line 3"},
		{"nft: unclosed", "table inet x {\n chain y {\n", "unclosed"},
		{"nft: bad priority", "table inet x {\n chain y {\n  type nat hook output priority banana;\n }\n}\n", "line 3"},
		{"nft: missing chain", "table inet x {\n chain y {\n  jump nowhere\n }\n}\n", "line 3"},
		{"nft json: bad", "{\"nftables\": [\n{\"table\": {\"family\": \"inet\", \"name\": \"x\"}},\n{\"rule\": {\"family\": \"inet\", \"table\": \"x\", \"chain\": \"nope\", \"expr\": []}}\n]}", "line 3"},
		{"unknown format", "hello\n", "unknown rules format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.in))
			if err == nil {
				t.Fatalf("want an error containing %q, got none", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestJumpLoopIsUnsupportedNotAHang(t *testing.T) {
	doc := "*nat\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n-A OUTPUT -j A\n-A A -j A\n-A A -j A\nCOMMIT\n"
	rs, err := ParseSave([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Simulate(rs, out("tcp", "", "10.0.0.1:80", "eth0", 1, 1))
	if err != nil || res.Verdict != VerdictUnsupported || !strings.Contains(res.Unsupported, "jump loop through chain A") {
		t.Fatalf("want UNSUPPORTED for the loop, got %s %v", res, err)
	}
}
