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

// Addresses inside a lab. The peer treats 10.96.0.0/12 as local (AnyIP), so
// untouched outbound traffic to "ClusterIPs" lands on its listeners.
var (
	PodIP    = netip.MustParseAddr("10.244.0.10")
	PeerIP   = netip.MustParseAddr("10.244.0.20")
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
func NewLab(ctx context.Context, ports []uint16, tproxy bool) (_ *Lab, err error) {
	id := fmt.Sprintf("%d-%d", os.Getpid(), labSeq.Add(1))
	l := &Lab{Pod: "mck-pod-" + id, Peer: "mck-peer-" + id, seen: map[string]Observation{}, ports: ports}
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
		{"-n", l.Pod, "link", "set", PodIface, "up"},
		{"-n", l.Peer, "link", "set", PodIface, "up"},
		{"-n", l.Pod, "route", "add", "default", "via", PeerIP.String()},
		{"-n", l.Peer, "route", "add", "local", "10.96.0.0/12", "dev", "lo"},
	}
	if tproxy {
		steps = append(steps,
			[]string{"-n", l.Pod, "rule", "add", "fwmark", "1337", "lookup", "133"},
			[]string{"-n", l.Pod, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "133"})
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
		serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_TRANSPARENT, 1)
		if serr == nil && strings.HasPrefix(network, "udp") {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_PKTINFO, 1)
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
		ln, err := lc.Listen(context.Background(), "tcp4", fmt.Sprintf("0.0.0.0:%d", p))
		if err != nil {
			return fmt.Errorf("%s: listen tcp %d: %w", side, p, err)
		}
		l.closers = append(l.closers, func() { ln.Close() })
		l.wg.Add(1)
		go l.serveTCP(side, p, ln)
		pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", p))
		if err != nil {
			return fmt.Errorf("%s: listen udp %d: %w", side, p, err)
		}
		l.closers = append(l.closers, func() { pc.Close() })
		l.wg.Add(1)
		go l.serveUDP(side, p, pc.(*net.UDPConn))
	}
	if side == SidePod && slices.Contains(ports, DNSProxyPort) {
		return l.listenAsProxy(lc)
	}
	return nil
}

// DNSProxyPort is pilot-agent's DNS port, ProxyID its UID and GID.
const (
	DNSProxyPort = 15053
	ProxyID      = 1337
)

// listenAsProxy opens the pod's 15053 listeners with file credentials of
// UID/GID 1337, as pilot-agent's: Istio's raw-table rules put the proxy's
// DNS answers (UDP source port 15053, owner 1337) in conntrack zone 2, the
// zone of the application's query, so the answer is matched to the query and
// its source translated back. The caller runs on a throwaway thread, so the
// per-thread setfsuid/setfsgid do not leak.
func (l *Lab) listenAsProxy(lc net.ListenConfig) error {
	unix.Setfsgid(ProxyID)
	unix.Setfsuid(ProxyID)
	defer func() {
		unix.Setfsuid(0)
		unix.Setfsgid(0)
	}()
	ln, err := lc.Listen(context.Background(), "tcp4", fmt.Sprintf("0.0.0.0:%d", DNSProxyPort))
	if err != nil {
		return fmt.Errorf("pod: listen tcp %d: %w", DNSProxyPort, err)
	}
	l.closers = append(l.closers, func() { ln.Close() })
	l.wg.Add(1)
	go l.serveTCP(SidePod, DNSProxyPort, ln)
	pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", DNSProxyPort))
	if err != nil {
		return fmt.Errorf("pod: listen udp %d: %w", DNSProxyPort, err)
	}
	l.closers = append(l.closers, func() { pc.Close() })
	l.wg.Add(1)
	go l.serveUDP(SidePod, DNSProxyPort, pc.(*net.UDPConn))
	return nil
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

// origDst reads SO_ORIGINAL_DST (conntrack's original destination).
func origDst(c *net.TCPConn) (netip.AddrPort, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var out netip.AddrPort
	var serr error
	err = rc.Control(func(fd uintptr) {
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

func (l *Lab) serveUDP(side Side, port uint16, pc *net.UDPConn) {
	defer l.wg.Done()
	buf := make([]byte, 512)
	oob := make([]byte, 256)
	for {
		n, oobn, _, from, err := pc.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return
		}
		token := strings.TrimSpace(string(buf[:n]))
		local := netip.AddrPortFrom(netip.IPv4Unspecified(), port)
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= 12 {
					local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m.Data[8:12])), port)
				}
			}
		}
		// The original destination is filled in from the client's view of the
		// echo, which must leave from the address it arrived at so conntrack
		// matches it to the flow and reverses the translation.
		l.record(token, Observation{Side: side, ListenerPort: port, Local: local})
		var reply []byte
		if local.Addr().IsValid() && !local.Addr().IsUnspecified() {
			reply = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: local.Addr().As4()})
		}
		_, _, _ = pc.WriteMsgUDPAddrPort(buf[:n], reply, from)
	}
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

// LoadNft loads an nft ruleset with nft -f.
func (l *Lab) LoadNft(ctx context.Context, rules string) error {
	return run(ctx, rules, "ip", "netns", "exec", l.Pod, "nft", "-f", "-")
}

// Save returns the pod's rules as the backend sees them (iptables-legacy-save,
// iptables-nft-save, or nft list ruleset for "nftables").
func (l *Lab) Save(ctx context.Context, backend string) (string, error) {
	args := []string{"netns", "exec", l.Pod, "iptables-" + backend + "-save"}
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
