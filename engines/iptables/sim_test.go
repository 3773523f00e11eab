package iptables

import (
	"net/netip"
	"strings"
	"testing"
)

// A locally sent packet without a source gets the one the kernel would
// pick, and the trail says so; without the interface's address a rule that
// tests the source stays undecided, naming why.
func TestSourceChosenAsTheKernelWould(t *testing.T) {
	rs, err := ParseSave([]byte(`*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT -o lo -s 127.0.0.6/32 -j RETURN
-A OUTPUT -s 10.244.0.10/32 -p tcp -j REDIRECT --to-ports 15001
-A OUTPUT -s 127.0.0.1/32 -p tcp --dport 7000 -j REDIRECT --to-ports 15006
COMMIT
`))
	if err != nil {
		t.Fatal(err)
	}
	pod := netip.MustParseAddr("10.244.0.10")
	cases := []struct {
		name      string
		p         Probe
		verdict   Verdict
		note      string // first trail step; "" for none
		unsupport string
	}{
		{"loopback", Probe{Dst: netip.MustParseAddrPort("127.0.0.1:7000"), OutIface: "lo"}, VerdictRedirect,
			"source 127.0.0.1 chosen as the kernel would: destination is loopback", ""},
		{"other loopback address", Probe{Dst: netip.MustParseAddrPort("127.0.0.6:9080"), OutIface: "lo", IfaceAddr: pod}, VerdictAccept,
			"source 127.0.0.1 chosen as the kernel would: destination is loopback", ""},
		{"IPv6 loopback", Probe{Dst: netip.MustParseAddrPort("[::1]:9080"), OutIface: "lo"}, VerdictAccept,
			"source ::1 chosen as the kernel would: destination is loopback", ""},
		{"own address over lo", Probe{Dst: netip.AddrPortFrom(pod, 9080), OutIface: "lo"}, VerdictRedirect,
			"source 10.244.0.10 chosen as the kernel would: destination is a local address (routed over lo)", ""},
		{"interface address", Probe{Dst: netip.MustParseAddrPort("10.96.0.1:80"), OutIface: "eth0", IfaceAddr: pod}, VerdictRedirect,
			"source 10.244.0.10 chosen as the kernel would: the address of the output interface eth0", ""},
		{"unknown interface address", Probe{Dst: netip.MustParseAddrPort("10.96.0.1:80"), OutIface: "eth0"}, VerdictUnsupported,
			"", "the kernel would pick the output interface's address, which the probe does not name"},
		{"given source is kept", Probe{Src: netip.MustParseAddrPort("127.0.0.6:4000"), Dst: netip.AddrPortFrom(pod, 9080), OutIface: "lo", IfaceAddr: pod}, VerdictAccept,
			"", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.p.Hook, c.p.Proto = HookOutput, "tcp"
			res, err := Simulate(rs, c.p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s: %s", res.Verdict, c.verdict, res)
			}
			got := ""
			if len(res.Trail) > 0 && res.Trail[0].Table == "kernel" {
				got = res.Trail[0].Text
			}
			if got != c.note {
				t.Errorf("source note %q, want %q (trail %v)", got, c.note, res.Trail)
			}
			if !strings.Contains(res.Unsupported, c.unsupport) {
				t.Errorf("unsupported %q, want it to contain %q", res.Unsupported, c.unsupport)
			}
		})
	}
}

// TPROXY then nat at the same hook: the connection goes to TPROXY's socket
// with nat's destination (the kernel differential test shows it); one
// verdict cannot say both, so the simulator says UNSUPPORTED.
func TestNATAfterTPROXYIsUnsupported(t *testing.T) {
	rs, err := ParseSave([]byte(`*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -j TPROXY --on-port 15006 --tproxy-mark 0x539/0xffffffff
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -i eth1 -p tcp -j REDIRECT --to-ports 15001
COMMIT
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		iface   string
		verdict Verdict
	}{{"eth1", VerdictUnsupported}, {"eth0", VerdictTPROXY}} {
		res, err := Simulate(rs, Probe{Hook: HookPrerouting, Proto: "tcp", Src: netip.MustParseAddrPort("10.0.0.2:4000"),
			Dst: netip.MustParseAddrPort("10.0.0.1:9080"), InIface: c.iface})
		if err != nil || res.Verdict != c.verdict {
			t.Errorf("in %s: got %s (%v), want %s", c.iface, res, err, c.verdict)
		}
	}
}
