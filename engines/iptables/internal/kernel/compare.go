package kernel

import (
	"fmt"
	"net/netip"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

// Landing is where a probe ends up: the simulator's prediction and the
// kernel's observation are both expressed as one, then compared.
type Landing struct {
	Delivered    bool
	Side         Side
	ListenerPort uint16
	Local        netip.AddrPort
	OrigDst      netip.AddrPort
}

func (l Landing) String() string {
	if !l.Delivered {
		return "not delivered"
	}
	return fmt.Sprintf("delivered in %s to listener %d as %s (original destination %s)", l.Side, l.ListenerPort, l.Local, l.OrigDst)
}

// localToPod reports whether the pod owns a (its IPs or loopback).
func localToPod(a netip.Addr) bool {
	return a == PodIP || a == PodIP6 || a.IsLoopback()
}

// loopback and podIP are the pod's addresses of a's family.
func loopback(a netip.Addr) netip.Addr {
	if a.Unmap().Is4() {
		return netip.MustParseAddr("127.0.0.1")
	}
	return netip.IPv6Loopback()
}

// inAddr is the primary address of the pod's input interface of p, where
// REDIRECT at prerouting sends it: the pod IP on eth0, ExtraAddr on ethN.
func inAddr(p iptables.Probe) netip.Addr {
	if n := ExtraIface(p.InIface); n > 0 {
		return ExtraAddr(n, SidePod)
	}
	if p.Dst.Addr().Unmap().Is4() {
		return PodIP
	}
	return PodIP6
}

func sideOf(a netip.Addr) Side {
	if localToPod(a) {
		return SidePod
	}
	return SidePeer
}

// Predict turns a simulator result into the landing it implies in a lab.
// ok is false for results that cannot be compared (UNSUPPORTED).
func Predict(p iptables.Probe, r iptables.Result) (Landing, bool) {
	dst := p.Dst
	switch r.Verdict {
	case iptables.VerdictDrop, iptables.VerdictReject:
		return Landing{}, true
	case iptables.VerdictAccept:
		return Landing{Delivered: true, Side: sideOf(dst.Addr()), ListenerPort: dst.Port(), Local: dst, OrigDst: dst}, true
	case iptables.VerdictRedirect:
		to := netip.AddrPortFrom(loopback(dst.Addr()), r.ToPort)
		if p.Hook == iptables.HookPrerouting {
			to = netip.AddrPortFrom(inAddr(p), r.ToPort)
		}
		return Landing{Delivered: true, Side: SidePod, ListenerPort: r.ToPort, Local: to, OrigDst: dst}, true
	case iptables.VerdictDNAT:
		a, err := netip.ParseAddr(r.ToAddr)
		if err != nil {
			return Landing{}, false
		}
		return Landing{Delivered: true, Side: sideOf(a), ListenerPort: r.ToPort, Local: netip.AddrPortFrom(a, r.ToPort), OrigDst: dst}, true
	case iptables.VerdictTPROXY:
		return Landing{Delivered: true, Side: SidePod, ListenerPort: r.ToPort, Local: dst, OrigDst: dst}, true
	}
	return Landing{}, false
}

// Observe builds the kernel's landing from the listener's record and the
// client's outcome.
func Observe(proto string, obs Observation, seen bool, out Outcome) Landing {
	if !seen {
		return Landing{}
	}
	l := Landing{Delivered: true, Side: obs.Side, ListenerPort: obs.ListenerPort, Local: obs.Local, OrigDst: obs.OrigDst}
	if proto == "udp" {
		l.OrigDst = out.ReplyFrom
	}
	return l
}

// KernelVerdict names what the kernel did, for messages and for checking
// behaviours against the kernel directly.
func KernelVerdict(p iptables.Probe, l Landing) (iptables.Verdict, uint16) {
	switch {
	case !l.Delivered:
		return iptables.VerdictDrop, 0
	case l.ListenerPort != l.Local.Port():
		return iptables.VerdictTPROXY, l.ListenerPort
	case l.Local == p.Dst:
		return iptables.VerdictAccept, 0
	case l.Local.Addr() == loopback(p.Dst.Addr()) && p.Hook == iptables.HookOutput,
		l.Local.Addr() == inAddr(p) && p.Hook == iptables.HookPrerouting:
		return iptables.VerdictRedirect, l.Local.Port()
	}
	return iptables.VerdictDNAT, l.Local.Port()
}
