package istio

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/meshcheck/meshcheck/harness/iptables"
)

// Env is the pod a behaviour's probes are addressed in: its IP and
// interface, a peer that sends inbound traffic, a ClusterIP outside the pod,
// and the app's UID/GID and port.
type Env struct {
	PodIP     netip.Addr
	PeerIP    netip.Addr
	Iface     string
	ClusterIP netip.Addr
	AppPort   uint16
	AppUID    uint32
	AppGID    uint32
}

// DefaultEnv is a typical Kubernetes pod.
func DefaultEnv() Env {
	return Env{
		PodIP:     netip.MustParseAddr("10.244.0.10"),
		PeerIP:    netip.MustParseAddr("10.244.0.20"),
		Iface:     "eth0",
		ClusterIP: netip.MustParseAddr("10.96.0.100"),
		AppPort:   9080,
		AppUID:    1000,
		AppGID:    1000,
	}
}

// Expect is the verdict a behaviour wants.
type Expect struct {
	Verdict iptables.Verdict
	ToPort  uint16
}

func (e Expect) String() string {
	switch e.Verdict {
	case iptables.VerdictAccept:
		return "untouched"
	case iptables.VerdictRedirect:
		return fmt.Sprintf("redirected to %d", e.ToPort)
	case iptables.VerdictTPROXY:
		return fmt.Sprintf("sent by TPROXY to %d", e.ToPort)
	}
	return string(e.Verdict)
}

// Matches reports whether a simulated or observed result is the expected one.
func (e Expect) Matches(verdict iptables.Verdict, toPort uint16) bool {
	if verdict != e.Verdict {
		return false
	}
	return e.ToPort == 0 || e.ToPort == toPort
}

// Behaviour is one statement about interception: a probe and its expected
// fate.
type Behaviour struct {
	// Name is short and stable, for test names and JSON.
	Name string
	// Says is the behaviour in words, without the verdict.
	Says  string
	Probe iptables.Probe
	Want  Expect
}

// String says what is expected in words.
func (b Behaviour) String() string { return b.Says + " is " + b.Want.String() }

// Check simulates the probe through rs; the error carries the expectation,
// the result and its trail.
func (b Behaviour) Check(rs *iptables.Ruleset) (iptables.Result, error) {
	res, err := iptables.Simulate(rs, b.Probe)
	if err != nil {
		return res, fmt.Errorf("%s: %w", b.Name, err)
	}
	if !b.Want.Matches(res.Verdict, res.ToPort) {
		return res, &MismatchError{Behaviour: b, Got: res}
	}
	return res, nil
}

// MismatchError is a behaviour the rules do not have.
type MismatchError struct {
	Behaviour Behaviour
	Got       iptables.Result
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s: expected %s to be %s, got %s (probe %s)", e.Behaviour.Name, e.Behaviour.Says, e.Behaviour.Want, e.Got, e.Behaviour.Probe)
}

// Behaviours lists what Istio's interception must do for options o in env.
func Behaviours(o Options, env Env) []Behaviour {
	var bs []Behaviour
	appSrc := netip.AddrPortFrom(env.PodIP, 40000)
	outbound := func(name, says string, proto string, src netip.AddrPort, dst netip.AddrPort, iface string, uid, gid uint32, want Expect) {
		bs = append(bs, Behaviour{Name: name, Says: says, Want: want, Probe: iptables.Probe{
			Hook: iptables.HookOutput, Proto: proto, Src: src, Dst: dst, OutIface: iface, UID: iptables.ID(uid), GID: iptables.ID(gid)}})
	}
	inbound := func(name, says string, port uint16, want Expect) {
		bs = append(bs, Behaviour{Name: name, Says: says, Want: want, Probe: iptables.Probe{
			Hook: iptables.HookPrerouting, Proto: "tcp", Src: netip.AddrPortFrom(env.PeerIP, 40000), Dst: netip.AddrPortFrom(env.PodIP, port), InIface: env.Iface}})
	}
	untouched := Expect{Verdict: iptables.VerdictAccept}
	toOutbound := Expect{Verdict: iptables.VerdictRedirect, ToPort: OutboundPort}
	toInbound := Expect{Verdict: iptables.VerdictRedirect, ToPort: InboundPort}
	if o.Mode == ModeTPROXY {
		toInbound = Expect{Verdict: iptables.VerdictTPROXY, ToPort: InboundPort}
	}

	// Inbound.
	captured := func(p uint16) bool {
		if o.IncludeInboundPorts != nil {
			return slices.Contains(o.IncludeInboundPorts, p) && p != HBONEPort
		}
		return !slices.Contains(o.excludedInbound(), p)
	}
	appPorts := []uint16{env.AppPort}
	if o.IncludeInboundPorts != nil {
		appPorts = append([]uint16{}, o.IncludeInboundPorts...)
		if !slices.Contains(appPorts, env.AppPort) {
			appPorts = append(appPorts, env.AppPort)
		}
	}
	for _, p := range appPorts {
		w := untouched
		if captured(p) {
			w = toInbound
		}
		inbound(fmt.Sprintf("inbound-tcp-%d", p), fmt.Sprintf("inbound TCP to app port %d", p), p, w)
	}
	for _, p := range o.excludedInbound() {
		inbound(fmt.Sprintf("inbound-tcp-%d-excluded", p), fmt.Sprintf("inbound TCP to excluded port %d", p), p, untouched)
	}

	// Outbound.
	capturedOut := func(dst netip.Addr, port uint16) bool {
		if slices.Contains(o.ExcludeOutboundPorts, port) {
			return false
		}
		for _, p := range o.ExcludeOutboundIPRanges {
			if p.Contains(dst) {
				return false
			}
		}
		if o.captureAllOutbound() {
			return true
		}
		for _, p := range o.IncludeOutboundIPRanges {
			if p.Contains(dst) {
				return true
			}
		}
		return false
	}
	want := func(dst netip.Addr, port uint16) Expect {
		if capturedOut(dst, port) {
			return toOutbound
		}
		return untouched
	}
	cip := netip.AddrPortFrom(env.ClusterIP, 80)
	outbound("outbound-tcp-app", fmt.Sprintf("outbound TCP from UID %d to ClusterIP %s", env.AppUID, cip), "tcp", appSrc, cip, env.Iface, env.AppUID, env.AppGID, want(cip.Addr(), 80))
	outbound("outbound-tcp-proxy-uid", fmt.Sprintf("outbound TCP from the proxy's UID %d to %s", o.ProxyUID, cip), "tcp", appSrc, cip, env.Iface, o.ProxyUID, env.AppGID, untouched)
	outbound("outbound-tcp-proxy-gid", fmt.Sprintf("outbound TCP from the proxy's GID %d (UID %d) to %s", o.ProxyGID, env.AppUID, cip), "tcp", appSrc, cip, env.Iface, env.AppUID, o.ProxyGID, untouched)
	outbound("inbound-passthrough-127.0.0.6", fmt.Sprintf("TCP from 127.0.0.6 over lo to the pod's %s (Envoy's inbound passthrough)", netip.AddrPortFrom(env.PodIP, env.AppPort)), "tcp",
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.6"), 40000), netip.AddrPortFrom(env.PodIP, env.AppPort), "lo", o.ProxyUID, o.ProxyGID, untouched)
	outbound("proxy-to-own-pod-ip", fmt.Sprintf("TCP from the proxy over lo to its own pod IP %s", netip.AddrPortFrom(env.PodIP, env.AppPort)), "tcp",
		appSrc, netip.AddrPortFrom(env.PodIP, env.AppPort), "lo", o.ProxyUID, o.ProxyGID, Expect{Verdict: iptables.VerdictRedirect, ToPort: InboundPort})
	outbound("app-to-localhost", fmt.Sprintf("TCP from UID %d to 127.0.0.1:%d", env.AppUID, env.AppPort), "tcp",
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 40000), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), env.AppPort), "lo", env.AppUID, env.AppGID, untouched)
	outbound("app-to-own-pod-ip", fmt.Sprintf("TCP from UID %d over lo to its own pod IP", env.AppUID), "tcp",
		appSrc, netip.AddrPortFrom(env.PodIP, env.AppPort), "lo", env.AppUID, env.AppGID, untouched)
	outbound("outbound-udp-app", fmt.Sprintf("outbound UDP from UID %d to %s:9999", env.AppUID, env.ClusterIP), "udp", appSrc, netip.AddrPortFrom(env.ClusterIP, 9999), env.Iface, env.AppUID, env.AppGID, untouched)
	for _, p := range o.ExcludeOutboundPorts {
		d := netip.AddrPortFrom(env.ClusterIP, p)
		outbound(fmt.Sprintf("outbound-tcp-port-%d-excluded", p), fmt.Sprintf("outbound TCP to excluded port %s", d), "tcp", appSrc, d, env.Iface, env.AppUID, env.AppGID, untouched)
	}
	for _, pf := range o.ExcludeOutboundIPRanges {
		d := netip.AddrPortFrom(pf.Addr(), 80)
		outbound("outbound-tcp-excluded-"+pf.String(), fmt.Sprintf("outbound TCP to %s in excluded range %s", d, pf), "tcp", appSrc, d, env.Iface, env.AppUID, env.AppGID, want(d.Addr(), 80))
	}
	for _, pf := range o.IncludeOutboundIPRanges {
		d := netip.AddrPortFrom(pf.Addr(), 80)
		outbound("outbound-tcp-included-"+pf.String(), fmt.Sprintf("outbound TCP to %s in included range %s", d, pf), "tcp", appSrc, d, env.Iface, env.AppUID, env.AppGID, want(d.Addr(), 80))
	}
	// DNS.
	nss := o.Nameservers
	if len(nss) == 0 {
		nss = []netip.Addr{netip.MustParseAddr("10.96.0.10")}
	}
	for _, ns := range nss {
		d := netip.AddrPortFrom(ns, 53)
		if o.DNSCapture {
			dns := Expect{Verdict: iptables.VerdictRedirect, ToPort: DNSPort}
			outbound("dns-udp-"+ns.String(), fmt.Sprintf("DNS over UDP from UID %d to nameserver %s", env.AppUID, d), "udp", appSrc, d, env.Iface, env.AppUID, env.AppGID, dns)
			outbound("dns-tcp-"+ns.String(), fmt.Sprintf("DNS over TCP from UID %d to nameserver %s", env.AppUID, d), "tcp", appSrc, d, env.Iface, env.AppUID, env.AppGID, dns)
			outbound("dns-udp-proxy-"+ns.String(), fmt.Sprintf("DNS over UDP from the proxy's UID %d to nameserver %s", o.ProxyUID, d), "udp", appSrc, d, env.Iface, o.ProxyUID, o.ProxyGID, untouched)
		} else {
			outbound("dns-udp-"+ns.String(), fmt.Sprintf("DNS over UDP from UID %d to nameserver %s (capture off)", env.AppUID, d), "udp", appSrc, d, env.Iface, env.AppUID, env.AppGID, untouched)
			outbound("dns-tcp-"+ns.String(), fmt.Sprintf("DNS over TCP from UID %d to nameserver %s (capture off)", env.AppUID, d), "tcp", appSrc, d, env.Iface, env.AppUID, env.AppGID, want(ns, 53))
		}
	}
	return bs
}

// Outcome is the check of one behaviour.
type Outcome struct {
	Behaviour Behaviour
	Result    iptables.Result
	Err       error
}

// Pass reports whether the behaviour held.
func (o Outcome) Pass() bool { return o.Err == nil }

// Check checks every behaviour against rs.
func Check(rs *iptables.Ruleset, bs []Behaviour) []Outcome {
	out := make([]Outcome, len(bs))
	for i, b := range bs {
		res, err := b.Check(rs)
		out[i] = Outcome{Behaviour: b, Result: res, Err: err}
	}
	return out
}
