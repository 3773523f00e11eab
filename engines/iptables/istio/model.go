package istio

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

// Behaviours lists what Istio's interception does for options o in env: the
// fate of the first packet of a connection, stated from the order of the
// rules istio-iptables writes (nat ISTIO_OUTPUT: excluded outbound ports,
// 127.0.0.6, the proxy's UIDs then GIDs, owner groups, DNS, 127.0.0.1,
// excluded ranges, included ports, included ranges; inbound: nat
// ISTIO_INBOUND in REDIRECT mode, mangle ISTIO_INBOUND in TPROXY mode). The
// probes are of the family of env's pod IP; what env leaves out comes from
// DefaultEnv or DefaultEnv6.
func Behaviours(o Options, env Env) []Behaviour {
	m := &model{o: o, env: env.complete(), seen: map[string]bool{}}
	m.inbound()
	m.interfaces()
	m.outbound()
	m.loopback()
	m.identities()
	m.dns()
	return m.bs
}

var (
	untouched  = Expect{Verdict: iptables.VerdictAccept}
	toOutbound = Expect{Verdict: iptables.VerdictRedirect, ToPort: OutboundPort}
	toDNS      = Expect{Verdict: iptables.VerdictRedirect, ToPort: DNSPort}
	// toInboundOverLo is the proxy's own traffic to the pod IP: nat
	// ISTIO_IN_REDIRECT in both modes.
	toInboundOverLo = Expect{Verdict: iptables.VerdictRedirect, ToPort: InboundPort}
)

type model struct {
	o    Options
	env  Env
	bs   []Behaviour
	seen map[string]bool
}

func (m *model) add(name, says string, p iptables.Probe, want Expect) {
	if m.seen[name] {
		return
	}
	m.seen[name] = true
	m.bs = append(m.bs, Behaviour{Name: name, Says: says, Probe: p, Want: want})
}

// in is new TCP from the peer arriving on iface.
func (m *model) in(name, says, iface string, dst netip.AddrPort, want Expect) {
	m.add(name, says, iptables.Probe{Hook: iptables.HookPrerouting, Proto: "tcp",
		Src: netip.AddrPortFrom(m.env.PeerIP, 40000), Dst: dst, InIface: iface}, want)
}

// out is a new connection from a local socket leaving through iface.
func (m *model) out(name, says, proto string, src, dst netip.AddrPort, iface string, uid, gid uint32, want Expect) {
	m.add(name, says, iptables.Probe{Hook: iptables.HookOutput, Proto: proto, Src: src, Dst: dst,
		OutIface: iface, UID: iptables.ID(uid), GID: iptables.ID(gid)}, want)
}

// app is a connection of the app's UID and GID leaving through the pod's
// interface.
// Loopback destinations leave through lo.
func (m *model) app(name, says, proto string, dst netip.AddrPort) {
	if dst.Addr().IsLoopback() {
		m.out(name, says, proto, netip.AddrPortFrom(m.env.loopback(), 40000), dst, "lo", m.env.AppUID, m.env.AppGID, m.loWant(proto, dst))
		return
	}
	m.out(name, says, proto, m.appSrc(), dst, m.env.Iface, m.env.AppUID, m.env.AppGID, m.outWant(proto, dst, m.env.AppGID))
}

func (m *model) appSrc() netip.AddrPort { return netip.AddrPortFrom(m.env.PodIP, 40000) }

func (m *model) toInbound() Expect {
	if m.o.Mode == ModeTPROXY {
		return Expect{Verdict: iptables.VerdictTPROXY, ToPort: InboundPort}
	}
	return Expect{Verdict: iptables.VerdictRedirect, ToPort: InboundPort}
}

// inboundCaptured: REDIRECT mode returns 15008 first in nat ISTIO_INBOUND;
// TPROXY mode's mangle ISTIO_INBOUND has no such rule, so 15008 is captured
// like any other port. The injector's -d list applies only to "*".
func (m *model) inboundCaptured(port uint16) bool {
	if m.o.Mode == ModeRedirect && port == HBONEPort {
		return false
	}
	if m.o.IncludeInboundPorts != nil {
		return slices.Contains(m.o.IncludeInboundPorts, port)
	}
	return !slices.Contains(m.o.injectorExcludedInbound(), port)
}

func (m *model) inboundWant(port uint16) Expect {
	if m.inboundCaptured(port) {
		return m.toInbound()
	}
	return untouched
}

// onIface is the fate of inbound TCP to dst arriving on iface when the
// interface decides it: excluded interfaces are returned first, virtual
// ones (REDIRECT mode) go to the outbound listener for the included ranges
// and are returned otherwise. stated is false for a virtual interface in
// TPROXY mode (not modelled) or one that is also excluded.
func (m *model) onIface(iface string, dst netip.AddrPort) (want Expect, decided, stated bool) {
	excluded, virt := slices.Contains(m.o.ExcludeInterfaces, iface), slices.Contains(m.o.RerouteInterfaces, iface)
	switch {
	case virt && (excluded || m.o.Mode != ModeRedirect):
		return Expect{}, true, false
	case excluded:
		return untouched, true, true
	case virt && m.rangeCaptured(dst.Addr()):
		return toOutbound, true, true
	case virt:
		return untouched, true, true
	}
	return Expect{}, false, true
}

// pod is inbound TCP to the pod's port on the pod's interface.
func (m *model) pod(name, says string, port uint16) {
	dst := netip.AddrPortFrom(m.env.PodIP, port)
	want, decided, stated := m.onIface(m.env.Iface, dst)
	if !stated {
		return
	}
	if !decided {
		want = m.inboundWant(port)
	}
	m.in(name, says, m.env.Iface, dst, want)
}

func (m *model) inbound() {
	ports := append([]uint16{m.env.AppPort}, m.o.IncludeInboundPorts...)
	for _, p := range ports {
		m.pod(fmt.Sprintf("inbound-tcp-%d", p), fmt.Sprintf("inbound TCP to app port %d", p), p)
	}
	hbone := "inbound TCP to HBONE port 15008"
	if m.o.Mode == ModeTPROXY {
		hbone += " (in TPROXY mode only the unused nat chain returns it)"
	}
	m.pod("inbound-tcp-15008", hbone, HBONEPort)
	for _, p := range m.o.injectorExcludedInbound() {
		m.pod(fmt.Sprintf("inbound-tcp-%d-excluded", p), fmt.Sprintf("inbound TCP to excluded port %d", p), p)
	}
}

// interfaces: excluded interfaces are returned first in nat (and mangle)
// PREROUTING and OUTPUT. A virtual interface's inbound TCP goes to the
// outbound listener when its destination is in the included ranges; this is
// stated for REDIRECT mode only (in TPROXY mode mangle's TPROXY sees it
// first, and what the kernel then does with both is not modelled).
func (m *model) interfaces() {
	app := netip.AddrPortFrom(m.env.PodIP, m.env.AppPort)
	cip := netip.AddrPortFrom(m.env.ClusterIP, 80)
	for _, ifc := range m.o.ExcludeInterfaces {
		m.out("outbound-tcp-excluded-iface-"+ifc, fmt.Sprintf("outbound TCP from UID %d via excluded interface %s to %s", m.env.AppUID, ifc, cip),
			"tcp", m.appSrc(), cip, ifc, m.env.AppUID, m.env.AppGID, untouched)
	}
	for _, ifc := range append(append([]string{}, m.o.ExcludeInterfaces...), m.o.RerouteInterfaces...) {
		for _, d := range []netip.AddrPort{cip, app} {
			if want, _, stated := m.onIface(ifc, d); stated && ifc != m.env.Iface {
				m.in(fmt.Sprintf("iface-%s-tcp-%s", ifc, d), fmt.Sprintf("TCP arriving on %s for %s", m.ifaceKind(ifc), d), ifc, d, want)
			}
		}
	}
}

func (m *model) ifaceKind(ifc string) string {
	if slices.Contains(m.o.ExcludeInterfaces, ifc) {
		return "excluded interface " + ifc
	}
	return "virtual interface " + ifc + " (treated as outbound)"
}

// outWant is the fate of a new connection of a UID that is not the proxy's
// leaving through the pod's interface, in the order of nat ISTIO_OUTPUT.
func (m *model) outWant(proto string, dst netip.AddrPort, gid uint32) Expect {
	port := dst.Port()
	switch {
	case slices.Contains(m.o.ExcludeInterfaces, m.env.Iface):
		return untouched
	case slices.Contains(m.o.ExcludeOutboundPorts, port), !m.groupCaptured(gid):
		return untouched
	case port == 53 && m.dnsCaptured(dst.Addr()):
		return toDNS
	case proto != "tcp", dst.Addr() == m.env.loopback(), m.rangeExcluded(dst.Addr()):
		return untouched
	case slices.Contains(m.o.IncludeOutboundPorts, port), m.rangeCaptured(dst.Addr()):
		return toOutbound
	}
	return untouched
}

// loWant is the fate of the app's connection over lo: the rule that returns
// the non-proxy UIDs' lo traffic is left out when an included range is a
// loopback range, and spares all but TCP to ports other than 53 when DNS is
// captured.
func (m *model) loWant(proto string, dst netip.AddrPort) Expect {
	if slices.Contains(m.o.ExcludeOutboundPorts, dst.Port()) {
		return untouched
	}
	if !m.loopbackIncluded() && (!m.o.DNSCapture || (proto == "tcp" && dst.Port() != 53)) {
		return untouched
	}
	if !m.groupCaptured(m.env.AppGID) {
		return untouched
	}
	if dst.Port() == 53 && m.dnsCaptured(dst.Addr()) {
		return toDNS
	}
	if proto != "tcp" || dst.Addr() == m.env.loopback() || m.rangeExcluded(dst.Addr()) {
		return untouched
	}
	if slices.Contains(m.o.IncludeOutboundPorts, dst.Port()) || m.rangeCaptured(dst.Addr()) {
		return toOutbound
	}
	return untouched
}

func (m *model) outbound() {
	cip := netip.AddrPortFrom(m.env.ClusterIP, 80)
	m.app("outbound-tcp-app", fmt.Sprintf("outbound TCP from UID %d to ClusterIP %s", m.env.AppUID, cip), "tcp", cip)
	udp := netip.AddrPortFrom(m.env.ClusterIP, 9999)
	m.app("outbound-udp-app", fmt.Sprintf("outbound UDP from UID %d to %s", m.env.AppUID, udp), "udp", udp)
	for _, p := range m.o.ExcludeOutboundPorts {
		d := netip.AddrPortFrom(m.env.ClusterIP, p)
		m.app(fmt.Sprintf("outbound-tcp-port-%d-excluded", p), fmt.Sprintf("outbound TCP to excluded port %s", d), "tcp", d)
	}
	for _, p := range m.o.IncludeOutboundPorts {
		d := netip.AddrPortFrom(m.env.ClusterIP, p)
		m.app(fmt.Sprintf("outbound-tcp-port-%d-included", p), fmt.Sprintf("outbound TCP to included port %s", d), "tcp", d)
	}
	for _, pf := range m.o.ExcludeOutboundIPRanges {
		if d := netip.AddrPortFrom(pf.Addr(), 80); m.sameFamily(pf.Addr()) {
			m.app("outbound-tcp-excluded-"+pf.String(), fmt.Sprintf("outbound TCP to %s in excluded range %s", d, pf), "tcp", d)
		}
	}
	for _, pf := range m.o.IncludeOutboundIPRanges {
		if d := netip.AddrPortFrom(pf.Addr(), 80); m.sameFamily(pf.Addr()) && !pf.Addr().IsLoopback() {
			m.app("outbound-tcp-included-"+pf.String(), fmt.Sprintf("outbound TCP to %s in included range %s", d, pf), "tcp", d)
		}
	}
}

func (m *model) loopback() {
	e := m.env
	own := netip.AddrPortFrom(e.PodIP, e.AppPort)
	m.out("inbound-passthrough-"+e.passthrough().String(), fmt.Sprintf("TCP from %s over lo to the pod's %s (Envoy's inbound passthrough)", e.passthrough(), own), "tcp",
		netip.AddrPortFrom(e.passthrough(), 40000), own, "lo", m.o.ProxyUID, m.o.ProxyGID, untouched)
	// An excluded outbound port leaves nat alone; in TPROXY mode mangle
	// OUTPUT has marked the proxy's packet 1338, so when it comes back in on
	// lo mangle ISTIO_INBOUND sends it to 15006 by TPROXY all the same.
	proxyWant := toInboundOverLo
	if slices.Contains(m.o.ExcludeOutboundPorts, e.AppPort) {
		proxyWant = untouched
		if m.o.Mode == ModeTPROXY {
			proxyWant = m.inboundWant(e.AppPort)
		}
	}
	m.out("proxy-to-own-pod-ip", fmt.Sprintf("TCP from the proxy over lo to its own pod IP %s", own), "tcp",
		m.appSrc(), own, "lo", m.o.ProxyUID, m.o.ProxyGID, proxyWant)
	local := netip.AddrPortFrom(e.loopback(), e.AppPort)
	m.out("app-to-localhost", fmt.Sprintf("TCP from UID %d to %s", e.AppUID, local), "tcp",
		netip.AddrPortFrom(e.loopback(), 40000), local, "lo", e.AppUID, e.AppGID, m.loWant("tcp", local))
	m.out("app-to-own-pod-ip", fmt.Sprintf("TCP from UID %d over lo to its own pod IP", e.AppUID), "tcp",
		m.appSrc(), own, "lo", e.AppUID, e.AppGID, m.loWant("tcp", own))
	for _, pf := range m.o.IncludeOutboundIPRanges {
		if d := netip.AddrPortFrom(pf.Addr(), e.AppPort); m.sameFamily(pf.Addr()) && pf.Addr().IsLoopback() && d.Addr() != e.loopback() {
			m.out("app-to-included-loopback-"+pf.String(), fmt.Sprintf("TCP from UID %d over lo to %s in included range %s", e.AppUID, d, pf), "tcp",
				netip.AddrPortFrom(e.loopback(), 40000), d, "lo", e.AppUID, e.AppGID, m.loWant("tcp", d))
		}
	}
}

// identities: every proxy UID and GID is returned whatever the destination;
// owner groups decide for the others.
func (m *model) identities() {
	cip := netip.AddrPortFrom(m.env.ClusterIP, 80)
	for _, uid := range append([]uint32{m.o.ProxyUID}, m.o.MoreProxyUIDs...) {
		name := "outbound-tcp-proxy-uid"
		if uid != m.o.ProxyUID {
			name = fmt.Sprintf("outbound-tcp-proxy-uid-%d", uid)
		}
		m.out(name, fmt.Sprintf("outbound TCP from the proxy's UID %d to %s", uid, cip), "tcp", m.appSrc(), cip, m.env.Iface, uid, m.env.AppGID, untouched)
	}
	for _, gid := range append([]uint32{m.o.ProxyGID}, m.o.MoreProxyGIDs...) {
		name := "outbound-tcp-proxy-gid"
		if gid != m.o.ProxyGID {
			name = fmt.Sprintf("outbound-tcp-proxy-gid-%d", gid)
		}
		m.out(name, fmt.Sprintf("outbound TCP from the proxy's GID %d (UID %d) to %s", gid, m.env.AppUID, cip), "tcp", m.appSrc(), cip, m.env.Iface, m.env.AppUID, gid, untouched)
	}
	groups := append(append([]uint32{}, m.o.OwnerGroupsInclude...), m.o.OwnerGroupsExclude...)
	for _, g := range groups {
		m.out(fmt.Sprintf("outbound-tcp-owner-group-%d", g), fmt.Sprintf("outbound TCP from UID %d GID %d (owner groups include %v, exclude %v) to %s", m.env.AppUID, g, m.o.OwnerGroupsInclude, m.o.OwnerGroupsExclude, cip),
			"tcp", m.appSrc(), cip, m.env.Iface, m.env.AppUID, g, m.outWant("tcp", cip, g))
	}
}

func (m *model) dns() {
	var nss []netip.Addr
	for _, n := range m.o.Nameservers {
		if m.sameFamily(n) {
			nss = append(nss, n)
		}
	}
	if len(nss) == 0 {
		nss = []netip.Addr{m.env.Nameserver}
	}
	off := ""
	if !m.o.DNSCapture {
		off = " (capture off)"
	}
	for _, ns := range nss {
		d := netip.AddrPortFrom(ns, 53)
		m.app("dns-udp-"+ns.String(), fmt.Sprintf("DNS over UDP from UID %d to nameserver %s%s", m.env.AppUID, d, off), "udp", d)
		m.app("dns-tcp-"+ns.String(), fmt.Sprintf("DNS over TCP from UID %d to nameserver %s%s", m.env.AppUID, d, off), "tcp", d)
		if m.o.DNSCapture {
			src, ifc := m.appSrc(), m.env.Iface
			if ns.IsLoopback() {
				src, ifc = netip.AddrPortFrom(m.env.loopback(), 40000), "lo"
			}
			m.out("dns-udp-proxy-"+ns.String(), fmt.Sprintf("DNS over UDP from the proxy's UID %d to nameserver %s", m.o.ProxyUID, d), "udp",
				src, d, ifc, m.o.ProxyUID, m.o.ProxyGID, untouched)
		}
	}
}

func (m *model) sameFamily(a netip.Addr) bool { return a.Unmap().Is4() != m.env.Is6() }

func (m *model) groupCaptured(gid uint32) bool {
	if m.o.OwnerGroupsInclude != nil {
		return slices.Contains(m.o.OwnerGroupsInclude, gid)
	}
	return !slices.Contains(m.o.OwnerGroupsExclude, gid)
}

func (m *model) dnsCaptured(a netip.Addr) bool {
	return m.o.DNSCapture && (len(m.o.Nameservers) == 0 || slices.Contains(m.o.Nameservers, a))
}

func (m *model) rangeExcluded(a netip.Addr) bool {
	return slices.ContainsFunc(m.o.ExcludeOutboundIPRanges, func(p netip.Prefix) bool { return p.Contains(a) })
}

func (m *model) rangeCaptured(a netip.Addr) bool {
	return m.o.captureAllOutbound() || slices.ContainsFunc(m.o.IncludeOutboundIPRanges, func(p netip.Prefix) bool { return p.Contains(a) })
}

func (m *model) loopbackIncluded() bool {
	return !m.o.captureAllOutbound() && slices.ContainsFunc(m.o.IncludeOutboundIPRanges, func(p netip.Prefix) bool { return p.Addr().IsLoopback() })
}
