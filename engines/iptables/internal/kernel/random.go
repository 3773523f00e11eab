package kernel

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

// RandomRuleset is a generated ruleset over the matches and targets the
// simulator supports, with probes that exercise it. The same seed always
// gives the same ruleset and probes.
type RandomRuleset struct {
	Seed   int64
	Rules  string
	Probes []iptables.Probe
}

var (
	randPrefixes = []string{"10.96.0.0/12", "10.96.0.100/32", "10.96.5.0/24", "127.0.0.1/32", "127.0.0.0/8", "10.244.0.10/32", "10.244.0.0/24", "0.0.0.0/1", "10.97.0.0/16"}
	randPorts    = []uint16{80, 53, 9080, 15008, 3306, 8080}
	randToPorts  = []uint16{15001, 15006, 15053, 9080, 8081}
	randUIDs     = []uint32{1000, 1337, 2000}
	randGIDs     = []uint32{1000, 1337, 3000}
	randDsts     = []string{"10.96.0.100", "10.96.5.1", "10.97.1.1", "127.0.0.1", "10.244.0.10"}
)

type randGen struct {
	r *rand.Rand
}

func (g *randGen) chance(p float64) bool { return g.r.Float64() < p }
func pick[T any](g *randGen, xs []T) T   { return xs[g.r.IntN(len(xs))] }
func (g *randGen) not(p float64) string {
	if g.chance(p) {
		return "! "
	}
	return ""
}

// rule builds one nat rule for a chain reachable from output (out) or
// prerouting; later are the chains it may jump to.
func (g *randGen) rule(out bool, later []string) string {
	var m []string
	proto := ""
	if g.chance(0.6) {
		proto = pick(g, []string{"tcp", "udp"})
		if g.chance(0.15) {
			m = append(m, "! -p "+proto)
			proto = ""
		} else {
			m = append(m, "-p "+proto)
		}
	}
	if proto != "" && g.chance(0.5) {
		switch g.r.IntN(4) {
		case 0:
			m = append(m, fmt.Sprintf("-m %s %s--dport %d", proto, g.not(0.3), pick(g, randPorts)))
		case 1:
			lo := pick(g, randPorts)
			m = append(m, fmt.Sprintf("-m %s %s--dport %d:%d", proto, g.not(0.3), lo, int(lo)+g.r.IntN(10000)))
		case 2:
			a, b := pick(g, randPorts), pick(g, randPorts)
			m = append(m, fmt.Sprintf("-m multiport %s--dports %d,%d", g.not(0.3), a, b))
		case 3:
			lo := 20000 + g.r.IntN(25000)
			m = append(m, fmt.Sprintf("-m %s %s--sport %d:%d", proto, g.not(0.3), lo, lo+g.r.IntN(15000)))
		}
	}
	if g.chance(0.4) {
		m = append(m, g.not(0.3)+"-d "+pick(g, randPrefixes))
	}
	if g.chance(0.2) {
		m = append(m, g.not(0.3)+"-s "+pick(g, randPrefixes))
	}
	if out {
		if g.chance(0.3) {
			m = append(m, g.not(0.3)+"-o "+pick(g, []string{"lo", "eth0", "eth+"}))
		}
		if g.chance(0.3) {
			id := fmt.Sprint(pick(g, randUIDs))
			if g.chance(0.2) {
				id = "1000-1500"
			}
			m = append(m, "-m owner "+g.not(0.3)+"--uid-owner "+id)
		}
		if g.chance(0.25) {
			m = append(m, "-m owner "+g.not(0.3)+"--gid-owner "+fmt.Sprint(pick(g, randGIDs)))
		}
	} else if g.chance(0.2) {
		m = append(m, g.not(0.3)+"-i "+pick(g, []string{"eth0", "lo"}))
	}
	if g.chance(0.15) {
		m = append(m, "-m mark "+g.not(0.3)+"--mark "+pick(g, []string{"0x1/0xff", "0x2/0xff", "0x0/0xff"}))
	}
	if g.chance(0.05) {
		m = append(m, `-m comment --comment "random rule"`)
	}
	negProto := proto == "" && len(m) > 0 && strings.HasPrefix(m[0], "! -p")
	needProto := func() {
		if proto == "" {
			proto = pick(g, []string{"tcp", "udp"})
			m = append([]string{"-p " + proto}, m...)
		}
	}
	var target string
	w := g.r.IntN(100)
	switch {
	case w < 20:
		target = "-j RETURN"
	case w < 30:
		target = "-j ACCEPT"
	case w < 55 && len(later) > 0:
		target = "-j " + pick(g, later)
	case w < 85 && negProto:
		target = "-j RETURN" // REDIRECT and DNAT with ports need a positive -p
	case w < 75:
		needProto()
		target = fmt.Sprintf("-j REDIRECT --to-ports %d", pick(g, randToPorts))
	case w < 85:
		needProto()
		to := "127.0.0.1"
		if !out {
			to = PodIP.String()
		}
		target = fmt.Sprintf("-j DNAT --to-destination %s:%d", to, pick(g, randToPorts))
	default:
		target = "" // counts only
	}
	return strings.TrimSpace(strings.Join(append(m, target), " "))
}

func (g *randGen) markRule(out bool) string {
	var m []string
	if g.chance(0.5) {
		p := pick(g, []string{"tcp", "udp"})
		m = append(m, "-p "+p)
		if g.chance(0.5) {
			m = append(m, fmt.Sprintf("-m %s --dport %d", p, pick(g, randPorts)))
		}
	}
	if out && g.chance(0.4) {
		m = append(m, "-m owner "+g.not(0.3)+"--uid-owner "+fmt.Sprint(pick(g, randUIDs)))
	}
	if !out && g.chance(0.3) {
		m = append(m, "-s "+pick(g, randPrefixes))
	}
	m = append(m, "-j MARK --set-xmark "+pick(g, []string{"0x1/0xff", "0x2/0xff", "0x3/0x1"}))
	return strings.Join(m, " ")
}

// NewRandomRuleset generates the ruleset and probes of a seed.
func NewRandomRuleset(seed int64) RandomRuleset {
	g := &randGen{r: rand.New(rand.NewPCG(uint64(seed), 0x6d657368))}
	var b strings.Builder
	b.WriteString("*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	for range g.r.IntN(3) {
		b.WriteString("-A OUTPUT " + g.markRule(true) + "\n")
	}
	for range g.r.IntN(3) {
		b.WriteString("-A PREROUTING " + g.markRule(false) + "\n")
	}
	b.WriteString("COMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	outChains := []string{"OUT_A", "OUT_B", "OUT_C"}
	inChains := []string{"IN_A", "IN_B"}
	for _, c := range append(append([]string{}, outChains...), inChains...) {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	emit := func(chain string, out bool, later []string, n int) {
		for range n {
			b.WriteString("-A " + chain + " " + g.rule(out, later) + "\n")
		}
	}
	emit("OUTPUT", true, outChains, 2+g.r.IntN(4))
	for i, c := range outChains {
		emit(c, true, outChains[i+1:], 1+g.r.IntN(5))
	}
	emit("PREROUTING", false, inChains, 2+g.r.IntN(3))
	for i, c := range inChains {
		emit(c, false, inChains[i+1:], 1+g.r.IntN(4))
	}
	b.WriteString("COMMIT\n")
	// The nat table refuses DROP: drops live in filter OUTPUT.
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	for range g.r.IntN(3) {
		p := pick(g, []string{"tcp", "udp"})
		b.WriteString(fmt.Sprintf("-A OUTPUT -p %s -m %s --dport %d %s-j DROP\n", p, p, pick(g, randPorts),
			map[bool]string{true: "-m owner --uid-owner " + fmt.Sprint(pick(g, randUIDs)) + " ", false: ""}[g.chance(0.5)]))
	}
	b.WriteString("COMMIT\n")

	rr := RandomRuleset{Seed: seed, Rules: b.String()}
	for range 16 {
		proto := pick(g, []string{"tcp", "udp"})
		port := pick(g, randPorts)
		if g.chance(0.7) {
			dst := netip.MustParseAddr(pick(g, randDsts))
			src, iface := PodIP, PodIface
			if localToPod(dst) {
				iface = "lo"
				if dst.IsLoopback() {
					src = dst
				}
				if g.chance(0.3) {
					src = netip.MustParseAddr("127.0.0.6")
				}
			}
			rr.Probes = append(rr.Probes, iptables.Probe{Hook: iptables.HookOutput, Proto: proto,
				Src: netip.AddrPortFrom(src, 1), Dst: netip.AddrPortFrom(dst, port), OutIface: iface,
				UID: iptables.ID(pick(g, randUIDs)), GID: iptables.ID(pick(g, randGIDs))})
			continue
		}
		rr.Probes = append(rr.Probes, iptables.Probe{Hook: iptables.HookPrerouting, Proto: proto,
			Src: netip.AddrPortFrom(PeerIP, 1), Dst: netip.AddrPortFrom(PodIP, port), InIface: PodIface})
	}
	return rr
}
