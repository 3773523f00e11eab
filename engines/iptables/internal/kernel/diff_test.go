package kernel

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
)

// probe is one comparison: what is sent, who sends it, and, for Istio
// layouts, the behaviour it states.
type probe struct {
	p     iptables.Probe
	token string
	b     *istio.Behaviour
}

var srcPort atomic.Uint32

// nextSrcPort gives every probe its own source port, so each is the first
// packet of a new connection.
func nextSrcPort() uint16 {
	return uint16(20000 + srcPort.Add(1)%30000)
}

func lab(t *testing.T, ports []uint16, tproxy bool) *Lab {
	t.Helper()
	return labConfig(t, LabConfig{Ports: ports, TPROXY: tproxy})
}

func labConfig(t *testing.T, cfg LabConfig) *Lab {
	t.Helper()
	l, err := NewLabConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

func basePorts() []uint16 {
	return []uint16{53, 80, 3306, 8080, 8081, 9080, 9999, 15001, 15006, 15008, 15020, 15021, 15053, 15090}
}

// runProbes sends every probe through the lab and returns the kernel's
// landings by token.
func runProbes(t *testing.T, l *Lab, ps []probe) map[string]Landing {
	t.Helper()
	type key struct {
		side     Side
		uid, gid uint32
	}
	batches := map[key]*Batch{}
	var order []key
	for _, pr := range ps {
		k := key{side: SidePeer}
		if pr.p.Hook == iptables.HookOutput {
			k = key{side: SidePod, uid: *pr.p.UID, gid: *pr.p.GID}
		}
		b, ok := batches[k]
		if !ok {
			b = &Batch{Drop: k.side == SidePod, UID: k.uid, GID: k.gid, Timeout: 400 * time.Millisecond}
			batches[k] = b
			order = append(order, k)
		}
		b.Sends = append(b.Sends, Send{Token: pr.token, Proto: pr.p.Proto, Src: pr.p.Src, Dst: pr.p.Dst})
	}
	// Batches run concurrently: each waits up to its timeout for drops.
	results := make([][]Outcome, len(order))
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = l.Run(context.Background(), k.side, *batches[k])
		}()
	}
	wg.Wait()
	outcomes := map[string]Outcome{}
	for i := range order {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, o := range results[i] {
			outcomes[o.Token] = o
		}
	}
	land := map[string]Landing{}
	for _, pr := range ps {
		obs, seen := l.Observed(pr.token)
		land[pr.token] = Observe(pr.p.Proto, obs, seen, outcomes[pr.token])
		if seen && outcomes[pr.token].Err != "" && pr.p.Proto == "tcp" {
			t.Errorf("probe %s: a listener saw it but the client got %q", pr.p, outcomes[pr.token].Err)
		}
	}
	return land
}

// compare checks each probe: simulator on the loaded text, simulator on the
// rules saved back from the kernel, and the kernel itself must agree.
func compare(t *testing.T, name, rules string, rs, saved *iptables.Ruleset, ps []probe, land map[string]Landing, replay string) int {
	t.Helper()
	n := 0
	for _, pr := range ps {
		n++
		res, err := iptables.Simulate(rs, pr.p)
		if err != nil {
			t.Fatalf("simulate %s: %v", pr.p, err)
		}
		want, ok := Predict(pr.p, res)
		got := land[pr.token]
		kv, kp := KernelVerdict(pr.p, got)
		if !ok || want != got {
			t.Errorf("%s: kernel and simulator disagree\n probe:     %s\n simulator: %s\n  implies:  %s\n kernel:    %s %d: %s\n%s ruleset:\n%s", name, pr.p, res, want, kv, kp, got, replay, rules)
			continue
		}
		if saved != nil {
			res2, err := iptables.Simulate(saved, pr.p)
			if err != nil || res2.Verdict != res.Verdict || res2.ToPort != res.ToPort {
				t.Errorf("%s: probe %s: simulated on the loaded text %s, on the rules saved back from the kernel %s (%v)", name, pr.p, res, res2, err)
			}
		}
		if pr.b != nil && !pr.b.Want.Matches(kv, kp) {
			t.Errorf("%s: the kernel breaks the behaviour: expected %s, kernel did %s %d (%s)", name, pr.b, kv, kp, got)
		}
	}
	return n
}

// tokenFor names a probe uniquely within a lab.
func tokenFor(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// behaviourProbes turns Istio behaviours in env into probes with fresh
// source ports. A behaviour on another interface than eth0 and lo (excluded
// and virtual ones) is sent over the lab's extra interface of that name, from
// its address (ExtraAddr); one the lab cannot judge is returned as skipped,
// by name: an IPv6 one there, or one the simulator says is forwarded (the
// pod does not forward).
func behaviourProbes(o istio.Options, env istio.Env) (ps []probe, skipped []string, ifaces int) {
	for i, b := range istio.Behaviours(o, env) {
		ifc := b.Probe.InIface + b.Probe.OutIface
		port := nextSrcPort()
		b.Probe.Src = netip.AddrPortFrom(b.Probe.Src.Addr(), port)
		if n := ExtraIface(ifc); n > 0 {
			side := SidePod
			if b.Probe.Hook == iptables.HookPrerouting {
				side = SidePeer
			}
			b.Probe.Src = netip.AddrPortFrom(ExtraAddr(n, side), port)
			if !env.PodIP.Is4() || forwarded(o, env, b.Probe) {
				skipped = append(skipped, b.Name)
				continue
			}
			ifaces = max(ifaces, n)
		} else if ifc != PodIface && ifc != "lo" {
			skipped = append(skipped, b.Name)
			continue
		}
		ps = append(ps, probe{p: b.Probe, token: tokenFor(b.Name+"-"+env.PodIP.String(), i), b: &b})
	}
	return ps, skipped, ifaces
}

// forwarded reports whether Istio's rules leave an arriving packet for an
// address that is not the pod's untouched: the kernel would forward it.
func forwarded(o istio.Options, env istio.Env, p iptables.Probe) bool {
	if p.Hook != iptables.HookPrerouting || p.Dst.Addr() == env.PodIP {
		return false
	}
	text, nft, err := istio.Variant{Options: o}.Rules()
	if err != nil {
		return true
	}
	var rs *iptables.Ruleset
	if nft {
		rs, err = iptables.ParseNft([]byte(text))
	} else {
		rs, err = iptables.ParseSave([]byte(text))
	}
	if err != nil {
		return true
	}
	res, err := iptables.Simulate(rs, p)
	return err != nil || res.Verdict == iptables.VerdictAccept
}

func portsOf(ps []probe) []uint16 {
	ports := basePorts()
	for _, pr := range ps {
		if !slices.Contains(ports, pr.p.Dst.Port()) {
			ports = append(ports, pr.p.Dst.Port())
		}
	}
	return ports
}

// familyRules are a variant's rules of one family, as loaded and as parsed,
// and the env its behaviours are addressed in.
type familyRules struct {
	name string // "IPv4" or "IPv6"
	text string
	nft  bool
	rs   *iptables.Ruleset
	env  istio.Env
}

// variantRules returns the IPv4 rules and, with IPv6 on, the IPv6 rules of v.
func variantRules(t *testing.T, v istio.Variant) []familyRules {
	t.Helper()
	env4, env6 := istio.DefaultEnv(), istio.DefaultEnv6()
	env4.PodIP, env4.PeerIP, env4.Iface = PodIP, PeerIP, PodIface
	env6.PodIP, env6.PeerIP, env6.Iface = PodIP6, PeerIP6, PodIface
	text, nft, err := v.Rules()
	if err != nil {
		t.Fatal(err)
	}
	out := []familyRules{{name: "IPv4", text: text, nft: nft, env: env4}}
	if text6, nft6, ok, err := v.Rules6(); err != nil {
		t.Fatal(err)
	} else if ok {
		out = append(out, familyRules{name: "IPv6", text: text6, nft: nft6, env: env6})
	}
	for i := range out {
		if out[i].nft {
			out[i].rs, err = iptables.ParseNft([]byte(out[i].text))
		} else {
			out[i].rs, err = iptables.ParseSave([]byte(out[i].text))
		}
		if err != nil {
			t.Fatalf("%s %s: %v", v.Name, out[i].name, err)
		}
	}
	return out
}

// loadFamily loads one family's rules (the nft script once, for both) and
// parses what the kernel gives back.
func loadFamily(t *testing.T, l *Lab, be string, f familyRules, first bool) *iptables.Ruleset {
	t.Helper()
	ctx := context.Background()
	var err error
	switch {
	case be == "nftables" && first:
		err = l.LoadNft(ctx, f.text)
	case be == "nftables":
	case f.name == "IPv6":
		err = l.LoadIP6Tables(ctx, be, f.text)
	default:
		err = l.LoadIPTables(ctx, be, f.text)
	}
	if err != nil {
		t.Fatalf("load %s: %v\n%s", f.name, err, f.text)
	}
	save := l.Save
	if f.name == "IPv6" {
		save = l.Save6
	}
	savedText, err := save(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := iptables.Parse([]byte(savedText))
	if err != nil {
		t.Fatalf("parse the rules saved back: %v\n%s", err, savedText)
	}
	return saved
}

// TestDifferentialIstioLayouts loads Istio's rules for every configuration
// of the matrix through iptables-legacy and iptables-nft (ip6tables too for
// IPv6), or nft -f for native nftables, sends every behaviour's probe of each
// family, and compares the kernel with the simulator and with the behaviour.
func TestDifferentialIstioLayouts(t *testing.T) {
	requireKernel(t)
	start := time.Now()
	total, loads := 0, 0
	for _, v := range istio.Matrix() {
		fams := variantRules(t, v)
		backends := []string{"legacy", "nft"}
		if fams[0].nft {
			backends = []string{"nftables"}
		}
		for _, be := range backends {
			t.Run(v.Name+"/"+be, func(t *testing.T) {
				probes := make([][]probe, len(fams))
				var all []probe
				ifaces := 0
				for i, f := range fams {
					ps, skipped, n := behaviourProbes(v.Options, f.env)
					ifaces = max(ifaces, n)
					if len(skipped) > 0 {
						t.Logf("%s: not judged by the kernel (left untouched for an address not the pod's, so forwarded, which the pod does not do): %s", f.name, strings.Join(skipped, ", "))
					}
					probes[i], all = ps, append(all, ps...)
				}
				l := labConfig(t, LabConfig{Ports: portsOf(all), TPROXY: v.Options.Mode == istio.ModeTPROXY, ExtraIfaces: ifaces,
					ProxyUID: v.Options.ProxyUID, ProxyGID: v.Options.ProxyGID})
				saved := make([]*iptables.Ruleset, len(fams))
				for i, f := range fams {
					saved[i] = loadFamily(t, l, be, f, i == 0)
					loads++
				}
				land := runProbes(t, l, all)
				for i, f := range fams {
					total += compare(t, v.Name+"/"+be+" "+f.name, f.text, f.rs, saved[i], probes[i], land, "")
				}
			})
		}
	}
	t.Logf("%d probes over %d rulesets loaded into the kernel in %s", total, loads, time.Since(start).Round(time.Millisecond))
}

// TestDifferentialRandom generates rulesets over the supported matches and
// targets, loads each through both iptables backends and compares every
// probe. MESHCHECK_DIFF_SEED=N replays one seed; MESHCHECK_DIFF_COUNT sets
// how many seeds run (default 24, from seed 1).
func TestDifferentialRandom(t *testing.T) {
	requireKernel(t)
	seeds := []int64{}
	if s := os.Getenv("MESHCHECK_DIFF_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("MESHCHECK_DIFF_SEED=%q: %v", s, err)
		}
		seeds = append(seeds, n)
	} else {
		count := 24
		if s := os.Getenv("MESHCHECK_DIFF_COUNT"); s != "" {
			c, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("MESHCHECK_DIFF_COUNT=%q: %v", s, err)
			}
			count = c
		}
		for i := 1; i <= count; i++ {
			seeds = append(seeds, int64(i))
		}
	}
	start := time.Now()
	total, loads := 0, 0
	for _, seed := range seeds {
		g := NewRandomRuleset(seed)
		rs, err := iptables.ParseSave([]byte(g.Rules))
		if err != nil {
			t.Fatalf("seed %d: generated rules do not parse: %v\n%s", seed, err, g.Rules)
		}
		for _, be := range []string{"legacy", "nft"} {
			t.Run(fmt.Sprintf("seed-%d/%s", seed, be), func(t *testing.T) {
				var ps []probe
				for i, p := range g.Probes {
					p.Src = netip.AddrPortFrom(p.Src.Addr(), nextSrcPort())
					ps = append(ps, probe{p: p, token: tokenFor("r", i)})
				}
				l := lab(t, portsOf(ps), false)
				if err := l.LoadIPTables(context.Background(), be, g.Rules); err != nil {
					t.Fatalf("seed %d: load: %v\n%s", seed, err, g.Rules)
				}
				loads++
				land := runProbes(t, l, ps)
				replay := fmt.Sprintf(" replay: MESHCHECK_DIFF_SEED=%d go test -run 'TestDifferentialRandom' ./engines/iptables/internal/kernel\n", seed)
				total += compare(t, fmt.Sprintf("seed %d %s", seed, be), g.Rules, rs, nil, ps, land, replay)
			})
		}
	}
	t.Logf("%d probes over %d random rulesets loaded into the kernel in %s", total, loads, time.Since(start).Round(time.Millisecond))
}

func TestLabCleansUp(t *testing.T) {
	requireKernel(t)
	l, err := NewLab(context.Background(), []uint16{9080}, false)
	if err != nil {
		t.Fatal(err)
	}
	pod, peer := l.Pod, l.Peer
	l.Close()
	l.Close()
	for _, ns := range []string{pod, peer} {
		if _, err := os.Stat("/run/netns/" + ns); !os.IsNotExist(err) {
			t.Errorf("namespace %s still exists after Close (%v)", ns, err)
		}
	}
	if strings.Contains(pod, "/") {
		t.Errorf("bad name %q", pod)
	}
}

// The kernel picks the source of a probe sent without one; the simulator's
// choice (Probe.IfaceAddr, 127.0.0.1 toward loopback) must select the same
// rules. Each rule below matches one source only.
func TestDifferentialSourceSelection(t *testing.T) {
	requireKernel(t)
	rules := `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -s 127.0.0.1/32 -p tcp --dport 8080 -j REDIRECT --to-ports 15006
-A OUTPUT -s 10.244.0.10/32 -p tcp --dport 8080 -j REDIRECT --to-ports 15001
-A OUTPUT -s 127.0.0.1/32 -p udp --dport 53 -j REDIRECT --to-ports 15053
COMMIT
`
	rs, err := iptables.ParseSave([]byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	dsts := []struct {
		proto string
		dst   string
		iface string
	}{
		{"tcp", "127.0.0.1:8080", "lo"}, {"tcp", "127.0.0.6:8080", "lo"}, {"tcp", "10.244.0.10:8080", "lo"},
		{"tcp", "10.96.0.100:8080", PodIface}, {"udp", "127.0.0.1:53", "lo"}, {"udp", "10.96.0.100:53", PodIface},
	}
	var ps []probe
	for i, d := range dsts {
		p := iptables.Probe{Hook: iptables.HookOutput, Proto: d.proto, Dst: netip.MustParseAddrPort(d.dst), OutIface: d.iface,
			UID: iptables.ID(1000), GID: iptables.ID(1000)}
		if d.iface != "lo" {
			p.IfaceAddr = PodIP // over lo the simulator needs no interface address
		}
		res, err := iptables.Simulate(rs, p)
		if err != nil || len(res.Trail) == 0 || !strings.HasPrefix(res.Trail[0].Text, "source ") {
			t.Fatalf("%s: no source chosen: %v %v", p, res, err)
		}
		ps = append(ps, probe{p: p, token: tokenFor("src", i)})
	}
	l := lab(t, portsOf(ps), false)
	if err := l.LoadIPTables(context.Background(), "legacy", rules); err != nil {
		t.Fatal(err)
	}
	compare(t, "source selection", rules, rs, nil, ps, runProbes(t, l, ps), "")
}

// Istio's TPROXY rules with a virtual interface (kubevirtInterfaces): mangle
// TPROXY takes the connection, then nat REDIRECTs it to 15001. The kernel
// gives it to TPROXY's listener (15006) with the destination nat rewrote;
// the simulator cannot say both in one verdict and says UNSUPPORTED.
func TestDifferentialNATAfterTPROXY(t *testing.T) {
	requireKernel(t)
	o := istio.DefaultOptions(istio.GeneratorVersion)
	o.Mode, o.RerouteInterfaces = istio.ModeTPROXY, []string{"eth1"}
	text, err := istio.IPTablesSave(o)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := iptables.ParseSave([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p := iptables.Probe{Hook: iptables.HookPrerouting, Proto: "tcp", Src: netip.AddrPortFrom(ExtraAddr(1, SidePeer), nextSrcPort()),
		Dst: netip.AddrPortFrom(PodIP, 9080), InIface: "eth1"}
	res, err := iptables.Simulate(rs, p)
	if err != nil || res.Verdict != iptables.VerdictUnsupported || !strings.Contains(res.Unsupported, "after TPROXY") {
		t.Errorf("simulator: want UNSUPPORTED naming REDIRECT after TPROXY, got %s (%v)", res, err)
	}
	ps := []probe{{p: p, token: "nat-after-tproxy"}}
	l := labConfig(t, LabConfig{Ports: portsOf(ps), TPROXY: true, ExtraIfaces: 1})
	if err := l.LoadIPTables(context.Background(), "legacy", text); err != nil {
		t.Fatal(err)
	}
	got := runProbes(t, l, ps)["nat-after-tproxy"]
	want := Landing{Delivered: true, Side: SidePod, ListenerPort: 15006, Local: netip.AddrPortFrom(ExtraAddr(1, SidePod), 15001), OrigDst: p.Dst}
	if got != want {
		t.Errorf("kernel: want %s, got %s", want, got)
	}
}
