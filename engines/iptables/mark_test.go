package iptables

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// Each MARK form changes the packet's mark as the kernel's xt_MARK does
// (new = old&^mask ^ value): the nat rule that follows sees the result.
func TestMarkTargetForms(t *testing.T) {
	cases := []struct {
		form     string
		old      uint32
		wantMark uint32
	}{
		{"--set-mark 0x5", 0x3, 0x5},
		{"--set-xmark 0x4/0x6", 0x3, 0x5},
		{"--or-mark 0x4", 0x1, 0x5},
		{"--and-mark 0x5", 0x7, 0x5},
		{"--xor-mark 0x6", 0x3, 0x5},
	}
	for _, tc := range cases {
		t.Run(tc.form, func(t *testing.T) {
			rs, err := ParseSave([]byte(fmt.Sprintf(`*mangle
:OUTPUT ACCEPT [0:0]
-A OUTPUT -j MARK %s
COMMIT
*nat
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p tcp -m mark --mark 0x%x -j REDIRECT --to-ports 15001
COMMIT
`, tc.form, tc.wantMark)))
			if err != nil {
				t.Fatal(err)
			}
			p := Probe{Hook: HookOutput, Proto: "tcp", Src: netip.MustParseAddrPort("10.0.0.1:40000"),
				Dst: netip.MustParseAddrPort("10.96.0.1:80"), OutIface: "eth0", Mark: tc.old}
			res, err := Simulate(rs, p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != VerdictRedirect {
				t.Errorf("mark 0x%x after %s: want 0x%x, so a REDIRECT; got %s\n%v", tc.old, tc.form, tc.wantMark, res.Verdict, res.Trail)
			}
		})
	}
}

// A jump or goto without a chain is a parse error that says so.
func TestNftJumpNeedsAChain(t *testing.T) {
	for _, verb := range []string{"jump", "goto"} {
		_, err := ParseNft([]byte("table inet t {\n\tchain c {\n\t\ttype filter hook output priority 0;\n\t\tmeta l4proto tcp " + verb + "\n\t}\n}\n"))
		if err == nil || !strings.Contains(err.Error(), verb+" needs a chain") {
			t.Errorf("%s without a chain: error %v, want one that says %q", verb, err, verb+" needs a chain")
		}
	}
}
