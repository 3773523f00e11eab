package kernel

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Addresses inside a lab, which is dual-stack. The peer treats 10.96.0.0/12
// and fd00:10:96::/48 as local (AnyIP), so untouched outbound traffic to
// "ClusterIPs" lands on its listeners.
var (
	PodIP    = netip.MustParseAddr("10.244.0.10")
	PeerIP   = netip.MustParseAddr("10.244.0.20")
	PodIP6   = netip.MustParseAddr("fd00:10:244::a")
	PeerIP6  = netip.MustParseAddr("fd00:10:244::14")
	PodIface = "eth0"
)

// Side says where a listener or a probe lives.
type Side string

// The two namespaces of a lab.
const (
	SidePod  Side = "pod"
	SidePeer Side = "peer"
)

// Observation is what a listener saw for one probe.
type Observation struct {
	Side Side
	// ListenerPort is the port of the listener that got it (differs from
	// Local's port under TPROXY).
	ListenerPort uint16
	// Local is the connection's (or datagram's) local address.
	Local netip.AddrPort
	// OrigDst is the original destination: SO_ORIGINAL_DST for TCP, the
	// echo's source seen by the client for UDP.
	OrigDst netip.AddrPort
}

func (o Observation) String() string {
	return fmt.Sprintf("landed in %s on listener %d as %s, original destination %s", o.Side, o.ListenerPort, o.Local, o.OrigDst)
}

// Lab is a pod and a peer namespace joined by a veth pair.
type Lab struct {
	Pod, Peer string
	ports     []uint16
	mu        sync.Mutex
	seen      map[string]Observation
	closers   []func()
	wg        sync.WaitGroup
	closed    bool
	// proxyUID and proxyGID own the DNS proxy listeners.
	proxyUID, proxyGID uint32
}

var labSeq atomic.Int64

// run executes a command and returns its error with its output.
func run(ctx context.Context, stdin string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// NewLab creates the namespaces, addresses, routes and listeners on ports
// (TCP and UDP, both sides). tproxy adds Istio's policy routing for TPROXY
// (fwmark 1337 to a local route table). Close removes everything.
func NewLab(ctx context.Context, ports []uint16, tproxy bool) (*Lab, error) {
	return NewLabConfig(ctx, LabConfig{Ports: ports, TPROXY: tproxy})
}

// LabConfig is what a lab has beyond NewLab's defaults.
type LabConfig struct {
	Ports  []uint16
	TPROXY bool
	// ExtraIfaces adds veth pairs eth1 to ethN on both sides (see
	// ExtraAddr), for behaviours on excluded and virtual interfaces.
	ExtraIfaces int
	// ProxyUID and ProxyGID own the pod's DNS proxy listeners (0: ProxyID).
	ProxyUID, ProxyGID uint32
}

// NewLabConfig is NewLab with a LabConfig.
func NewLabConfig(ctx context.Context, cfg LabConfig) (_ *Lab, err error) {
	ports, tproxy, n := cfg.Ports, cfg.TPROXY, cfg.ExtraIfaces
	id := fmt.Sprintf("%d-%d", os.Getpid(), labSeq.Add(1))
	l := &Lab{Pod: "mck-pod-" + id, Peer: "mck-peer-" + id, seen: map[string]Observation{}, ports: ports, proxyUID: ProxyID, proxyGID: ProxyID}
	if cfg.ProxyUID != 0 {
		l.proxyUID = cfg.ProxyUID
	}
	if cfg.ProxyGID != 0 {
		l.proxyGID = cfg.ProxyGID
	}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	for _, ns := range []string{l.Pod, l.Peer} {
		if err := run(ctx, "", "ip", "netns", "add", ns); err != nil {
			return nil, err
		}
		ns := ns
		l.closers = append(l.closers, func() { _ = run(context.Background(), "", "ip", "netns", "del", ns) })
	}
	a, b := "mcka"+id, "mckb"+id
	if len(a) > 15 {
		a, b = a[:15], b[:15]
	}
	steps := [][]string{
		{"link", "add", a, "netns", l.Pod, "type", "veth", "peer", "name", b, "netns", l.Peer},
		{"-n", l.Pod, "link", "set", a, "name", PodIface},
		{"-n", l.Peer, "link", "set", b, "name", PodIface},
		{"-n", l.Pod, "link", "set", "lo", "up"},
		{"-n", l.Peer, "link", "set", "lo", "up"},
		{"-n", l.Pod, "addr", "add", PodIP.String() + "/24", "dev", PodIface},
		{"-n", l.Peer, "addr", "add", PeerIP.String() + "/24", "dev", PodIface},
		{"-n", l.Pod, "addr", "add", PodIP6.String() + "/64", "dev", PodIface, "nodad"},
		{"-n", l.Peer, "addr", "add", PeerIP6.String() + "/64", "dev", PodIface, "nodad"},
		{"-n", l.Pod, "link", "set", PodIface, "up"},
		{"-n", l.Peer, "link", "set", PodIface, "up"},
		{"-n", l.Pod, "route", "add", "default", "via", PeerIP.String()},
		{"-n", l.Peer, "route", "add", "local", "10.96.0.0/12", "dev", "lo"},
		{"-n", l.Pod, "-6", "route", "add", "default", "via", PeerIP6.String()},
		// Envoy's IPv6 inbound passthrough source: 127.0.0.6 is in 127/8,
		// ::6 must be given to lo for a probe to bind it.
		{"-n", l.Pod, "addr", "add", "::6/128", "dev", "lo", "nodad"},
		{"-n", l.Peer, "-6", "route", "add", "local", "fd00:10:96::/48", "dev", "lo"},
	}
	if tproxy {
		steps = append(steps,
			[]string{"-n", l.Pod, "rule", "add", "fwmark", "1337", "lookup", "133"},
			[]string{"-n", l.Pod, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "133"},
			[]string{"-n", l.Pod, "-6", "rule", "add", "fwmark", "1337", "lookup", "133"},
			[]string{"-n", l.Pod, "-6", "route", "add", "local", "::/0", "dev", "lo", "table", "133"})
	}
	for i := 1; i <= n; i++ {
		steps = append(steps, extraIfaceSteps(l, id, i)...)
	}
	for _, s := range steps {
		if err := run(ctx, "", "ip", s...); err != nil {
			return nil, err
		}
	}
	for _, side := range []Side{SidePod, SidePeer} {
		ns := l.Pod
		if side == SidePeer {
			ns = l.Peer
		}
		if err := InNetns(ns, func() error { return l.listen(side, ports) }); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// ExtraAddr is the address of the pod's (or the peer's) end of extra
// interface ethN: 10.245.N.1 (10.245.N.2). Policy routing sends what the pod
// sends from it out ethN, and what the peer sends from its own end to the
// pod IP or a ClusterIP into the pod's ethN.
func ExtraAddr(n int, side Side) netip.Addr {
	host := byte(1)
	if side == SidePeer {
		host = 2
	}
	return netip.AddrFrom4([4]byte{10, 245, byte(n), host})
}

// ExtraIface returns n for "ethN" (N >= 1), 0 otherwise.
func ExtraIface(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "eth"))
	if err != nil || !strings.HasPrefix(name, "eth") || n < 1 {
		return 0
	}
	return n
}

func extraIfaceSteps(l *Lab, id string, i int) [][]string {
	a, b := fmt.Sprintf("mc%da%s", i, id), fmt.Sprintf("mc%db%s", i, id)
	if len(a) > 15 {
		a, b = a[:15], b[:15]
	}
	ifc, pod, peer, table := fmt.Sprintf("eth%d", i), ExtraAddr(i, SidePod), ExtraAddr(i, SidePeer), strconv.Itoa(100+i)
	steps := [][]string{
		{"link", "add", a, "netns", l.Pod, "type", "veth", "peer", "name", b, "netns", l.Peer},
		{"-n", l.Pod, "link", "set", a, "name", ifc},
		{"-n", l.Peer, "link", "set", b, "name", ifc},
		{"-n", l.Pod, "addr", "add", pod.String() + "/24", "dev", ifc},
		{"-n", l.Peer, "addr", "add", peer.String() + "/24", "dev", ifc},
		{"-n", l.Pod, "link", "set", ifc, "up"},
		{"-n", l.Peer, "link", "set", ifc, "up"},
		{"-n", l.Pod, "rule", "add", "pref", "10", "from", pod.String(), "lookup", table},
		{"-n", l.Pod, "route", "add", "default", "via", peer.String(), "dev", ifc, "table", table},
		{"-n", l.Peer, "rule", "add", "pref", "10", "from", peer.String(), "lookup", table},
		{"-n", l.Peer, "route", "add", PodIP.String() + "/32", "via", pod.String(), "dev", ifc, "table", table},
		{"-n", l.Peer, "route", "add", "10.96.0.0/12", "via", pod.String(), "dev", ifc, "table", table},
	}
	if i == 1 {
		// The peer's own ClusterIPs are in its local table, consulted first
		// (pref 0): move it after the source rules.
		steps = append([][]string{
			{"-n", l.Peer, "rule", "add", "pref", "100", "lookup", "local"},
			{"-n", l.Peer, "rule", "del", "pref", "0"},
		}, steps...)
	}
	return steps
}

// InNetns runs f on an OS thread that has joined the named network
// namespace; sockets f creates stay in it. The thread is thrown away after.
func InNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		fd, err := unix.Open("/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open netns %s: %w", name, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

func transparent(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		level, opt, info := unix.SOL_IP, unix.IP_TRANSPARENT, unix.IP_PKTINFO
		if strings.HasSuffix(network, "6") {
			level, opt, info = unix.SOL_IPV6, unix.IPV6_TRANSPARENT, unix.IPV6_RECVPKTINFO
		}
		serr = unix.SetsockoptInt(int(fd), level, opt, 1)
		if serr == nil && strings.HasPrefix(network, "udp") {
			serr = unix.SetsockoptInt(int(fd), level, info, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

func (l *Lab) listen(side Side, ports []uint16) error {
	lc := net.ListenConfig{Control: transparent}
	for _, p := range ports {
		if side == SidePod && p == DNSProxyPort {
			continue // created below, owned by the proxy's UID
		}
		if err := l.listenPort(lc, side, p); err != nil {
			return err
		}
	}
	if side == SidePod && slices.Contains(ports, DNSProxyPort) {
		return l.listenAsProxy(lc)
	}
	return nil
}

// listenPort opens TCP and UDP listeners on port p, IPv4 and IPv6 (v6-only
// sockets, so each family has its own).
func (l *Lab) listenPort(lc net.ListenConfig, side Side, p uint16) error {
	for _, f := range []struct{ suffix, addr string }{{"4", "0.0.0.0"}, {"6", "[::]"}} {
		ln, err := lc.Listen(context.Background(), "tcp"+f.suffix, fmt.Sprintf("%s:%d", f.addr, p))
		if err != nil {
			return fmt.Errorf("%s: listen tcp%s %d: %w", side, f.suffix, p, err)
		}
		l.closers = append(l.closers, func() { ln.Close() })
		l.wg.Add(1)
		go l.serveTCP(side, p, ln)
		pc, err := lc.ListenPacket(context.Background(), "udp"+f.suffix, fmt.Sprintf("%s:%d", f.addr, p))
		if err != nil {
			return fmt.Errorf("%s: listen udp%s %d: %w", side, f.suffix, p, err)
		}
		l.closers = append(l.closers, func() { pc.Close() })
		l.wg.Add(1)
		go l.serveUDP(side, p, pc.(*net.UDPConn), f.suffix == "6")
	}
	return nil
}

// DNSProxyPort is pilot-agent's DNS port, ProxyID its default UID and GID.
const (
	DNSProxyPort = 15053
	ProxyID      = 1337
)

// listenAsProxy opens the pod's 15053 listeners with file credentials of the
// proxy's UID/GID, as pilot-agent's: Istio's raw-table rules put the proxy's
// DNS answers (UDP source port 15053, owner the proxy) in conntrack zone 2, the
// zone of the application's query, so the answer is matched to the query and
// its source translated back. The caller runs on a throwaway thread, so the
// per-thread setfsuid/setfsgid do not leak.
func (l *Lab) listenAsProxy(lc net.ListenConfig) error {
	unix.Setfsgid(int(l.proxyGID))
	unix.Setfsuid(int(l.proxyUID))
	defer func() {
		unix.Setfsuid(0)
		unix.Setfsgid(0)
	}()
	return l.listenPort(lc, SidePod, DNSProxyPort)
}

func (l *Lab) record(token string, o Observation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.seen[token]; ok && prev != o {
		o.Side = Side(fmt.Sprintf("%s and %s", prev.Side, o.Side)) // landed twice: make it visible
	}
	l.seen[token] = o
}

func (l *Lab) serveTCP(side Side, port uint16, ln net.Listener) {
	defer l.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				return
			}
			token := strings.TrimSpace(line)
			local, _ := netip.ParseAddrPort(c.LocalAddr().String())
			orig, err := origDst(c.(*net.TCPConn))
			if errors.Is(err, unix.ENOENT) {
				// No conntrack entry (the peer namespace has no netfilter
				// rules, so conntrack never started there): nothing was
				// translated, the original destination is the local address.
				orig = unmapAP(local)
			}
			l.record(token, Observation{Side: side, ListenerPort: port, Local: unmapAP(local), OrigDst: orig})
			_, _ = c.Write([]byte("ok\n"))
		}()
	}
}

func unmapAP(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// ip6tSOOriginalDst is IP6T_SO_ORIGINAL_DST (linux/netfilter_ipv6/ip6_tables.h).
const ip6tSOOriginalDst = 80

// origDst reads SO_ORIGINAL_DST (IP6T_SO_ORIGINAL_DST for IPv6): conntrack's
// original destination.
func origDst(c *net.TCPConn) (netip.AddrPort, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	local, _ := netip.ParseAddrPort(c.LocalAddr().String())
	var out netip.AddrPort
	var serr error
	err = rc.Control(func(fd uintptr) {
		if !local.Addr().Unmap().Is4() {
			// sockaddr_in6 comes back in the first 28 bytes of an IPv6MTUInfo.
			m, e := unix.GetsockoptIPv6MTUInfo(int(fd), unix.SOL_IPV6, ip6tSOOriginalDst)
			if e != nil {
				serr = e
				return
			}
			port := binary.BigEndian.Uint16(binary.NativeEndian.AppendUint16(nil, m.Addr.Port))
			out = netip.AddrPortFrom(netip.AddrFrom16(m.Addr.Addr), port)
			return
		}
		// sockaddr_in comes back in the 16 bytes of an IPv6Mreq.
		m, e := unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, unix.SO_ORIGINAL_DST)
		if e != nil {
			serr = e
			return
		}
		b := m.Multiaddr
		out = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4]))
	})
	if err != nil {
		return out, err
	}
	return out, serr
}

func (l *Lab) serveUDP(side Side, port uint16, pc *net.UDPConn, v6 bool) {
	defer l.wg.Done()
	buf := make([]byte, 512)
	oob := make([]byte, 256)
	for {
		n, oobn, _, from, err := pc.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return
		}
		token := strings.TrimSpace(string(buf[:n]))
		local := pktinfoLocal(oob[:oobn], port, v6)
		// The original destination is filled in from the client's view of the
		// echo, which must leave from the address it arrived at so conntrack
		// matches it to the flow and reverses the translation.
		l.record(token, Observation{Side: side, ListenerPort: port, Local: local})
		var reply []byte
		switch {
		case !local.Addr().IsValid() || local.Addr().IsUnspecified():
		case v6:
			reply = unix.PktInfo6(&unix.Inet6Pktinfo{Addr: local.Addr().As16()})
		default:
			reply = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: local.Addr().As4()})
		}
		_, _, _ = pc.WriteMsgUDPAddrPort(buf[:n], reply, from)
	}
}

// pktinfoLocal reads the address a datagram arrived at from IP_PKTINFO or
// IPV6_PKTINFO.
func pktinfoLocal(oob []byte, port uint16, v6 bool) netip.AddrPort {
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), port)
	if v6 {
		local = netip.AddrPortFrom(netip.IPv6Unspecified(), port)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return local
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= 12:
			local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m.Data[8:12])), port)
		case m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= 16:
			local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(m.Data[:16])), port)
		}
	}
	return local
}

// Observed returns what was recorded for a token.
func (l *Lab) Observed(token string) (Observation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.seen[token]
	return o, ok
}

// LoadIPTables loads an iptables-save text with the backend's restore
// ("legacy" or "nft").
func (l *Lab) LoadIPTables(ctx context.Context, backend, rules string) error {
	return run(ctx, rules, "ip", "netns", "exec", l.Pod, "iptables-"+backend+"-restore")
}

// LoadIP6Tables loads an ip6tables-save text with the backend's restore.
func (l *Lab) LoadIP6Tables(ctx context.Context, backend, rules string) error {
	return run(ctx, rules, "ip", "netns", "exec", l.Pod, "ip6tables-"+backend+"-restore")
}

// LoadNft loads an nft ruleset with nft -f.
func (l *Lab) LoadNft(ctx context.Context, rules string) error {
	return run(ctx, rules, "ip", "netns", "exec", l.Pod, "nft", "-f", "-")
}

// Save returns the pod's rules as the backend sees them (iptables-legacy-save,
// iptables-nft-save, or nft list ruleset for "nftables").
func (l *Lab) Save(ctx context.Context, backend string) (string, error) {
	return l.save(ctx, "iptables-", backend)
}

// Save6 is Save for ip6tables (the same nft ruleset for "nftables").
func (l *Lab) Save6(ctx context.Context, backend string) (string, error) {
	return l.save(ctx, "ip6tables-", backend)
}

func (l *Lab) save(ctx context.Context, prefix, backend string) (string, error) {
	args := []string{"netns", "exec", l.Pod, prefix + backend + "-save"}
	if backend == "nftables" {
		args = []string{"netns", "exec", l.Pod, "nft", "list", "ruleset"}
	}
	out, err := exec.CommandContext(ctx, "ip", args...).Output()
	if err != nil {
		return "", fmt.Errorf("ip %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// Close stops the listeners, removes the namespaces (and with them the veth
// pair) and waits for every goroutine. It is safe to call twice.
func (l *Lab) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	for i := len(l.closers) - 1; i >= 0; i-- {
		l.closers[i]()
	}
	l.wg.Wait()
}

// Leftovers lists namespaces of this process's labs that still exist.
func Leftovers() ([]string, error) {
	ents, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	prefix := "-" + strconv.Itoa(os.Getpid()) + "-"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "mck-") && strings.Contains(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
