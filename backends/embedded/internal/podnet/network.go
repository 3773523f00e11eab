package podnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// RunError is a command that failed, with its output: the evidence.
type RunError struct {
	Command string
	Output  string
	Err     error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.Command, e.Err, strings.TrimSpace(e.Output))
}

func (e *RunError) Unwrap() error { return e.Err }

// run runs a command and returns its combined output.
func run(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), &RunError{Command: name + " " + strings.Join(args, " "), Output: out.String(), Err: err}
	}
	return out.String(), nil
}

// Network is a bridge on the host with one network namespace per pod (or
// VM), each joined by a veth pair and given an address on the bridge's
// subnet. Names carry the run's id, so concurrent runs and leftovers of
// killed runs are told apart.
type Network struct {
	RunID  string
	Bridge string
	// Prefix is the pods' subnet; the bridge holds its first address.
	Prefix  netip.Prefix
	Gateway netip.Addr

	mu     sync.Mutex
	next   netip.Addr
	spaces []*NetNS
}

// NetNS is one pod's network namespace.
type NetNS struct {
	Name string
	IP   netip.Addr
	veth string
}

// NewNetwork creates the bridge with the first address of prefix.
func NewNetwork(ctx context.Context, runID string, prefix netip.Prefix) (*Network, error) {
	if !prefix.Addr().Is4() || prefix.Bits() > 24 {
		return nil, fmt.Errorf("pod network %s: want an IPv4 prefix of /24 or larger", prefix)
	}
	n := &Network{RunID: runID, Bridge: "mcb" + runID, Prefix: prefix.Masked()}
	n.Gateway = n.Prefix.Addr().Next()
	n.next = n.Gateway.Next()
	cmds := [][]string{
		{"link", "add", n.Bridge, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("%s/%d", n.Gateway, prefix.Bits()), "dev", n.Bridge},
		{"link", "set", n.Bridge, "up"},
	}
	for _, c := range cmds {
		if _, err := run(ctx, "", "ip", c...); err != nil {
			_ = n.Close(context.Background())
			return nil, fmt.Errorf("create bridge %s: %w", n.Bridge, err)
		}
	}
	// With br_netfilter loaded (a running Docker daemon loads it, sets
	// bridge-nf-call-iptables=1 and the FORWARD policy to DROP), traffic
	// between two ports of this bridge crosses the host's FORWARD chain.
	if _, err := run(ctx, "", "iptables", append([]string{"-w", "-I", "FORWARD", "1"}, n.forwardRule()...)...); err != nil {
		_ = n.Close(context.Background())
		return nil, fmt.Errorf("accept traffic within bridge %s in the host's FORWARD chain: %w", n.Bridge, err)
	}
	return n, nil
}

// forwardRule is the host FORWARD rule that lets pods on the bridge reach
// each other whatever the chain's policy; its comment names the run.
func (n *Network) forwardRule() []string {
	return []string{"-i", n.Bridge, "-o", n.Bridge, "-m", "comment", "--comment", forwardComment(n.RunID), "-j", "ACCEPT"}
}

func forwardComment(runID string) string { return "meshcheck run " + runID }

// AddNetNS creates a network namespace with an address, loopback up and a
// default route through the bridge; hosts lines go to /etc/netns/<name>/hosts
// (what `ip netns exec` shows the processes as /etc/hosts).
func (n *Network) AddNetNS(ctx context.Context, short string, hosts string) (*NetNS, error) {
	n.mu.Lock()
	ip := n.next
	n.next = n.next.Next()
	idx := len(n.spaces)
	ns := &NetNS{Name: fmt.Sprintf("mc-%s-%s", n.RunID, short), IP: ip, veth: fmt.Sprintf("mcv%s%d", n.RunID, idx)}
	n.spaces = append(n.spaces, ns)
	n.mu.Unlock()
	if !n.Prefix.Contains(ip) {
		return nil, fmt.Errorf("pod network %s is full", n.Prefix)
	}
	peer := ns.veth + "p"
	cmds := [][]string{
		{"netns", "add", ns.Name},
		{"link", "add", ns.veth, "type", "veth", "peer", "name", peer},
		{"link", "set", ns.veth, "master", n.Bridge},
		{"link", "set", ns.veth, "up"},
		{"link", "set", peer, "netns", ns.Name},
		{"-n", ns.Name, "link", "set", peer, "name", "eth0"},
		{"-n", ns.Name, "addr", "add", fmt.Sprintf("%s/%d", ip, n.Prefix.Bits()), "dev", "eth0"},
		{"-n", ns.Name, "link", "set", "eth0", "up"},
		{"-n", ns.Name, "link", "set", "lo", "up"},
		{"-n", ns.Name, "route", "add", "default", "via", n.Gateway.String()},
	}
	for _, c := range cmds {
		if _, err := run(ctx, "", "ip", c...); err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns.Name, err)
		}
	}
	dir := filepath.Join("/etc/netns", ns.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := ns.WriteHosts(short, hosts); err != nil {
		return nil, err
	}
	return ns, nil
}

// WriteHosts sets the namespace's /etc/hosts (as `ip netns exec` shows it):
// localhost, its own name, then lines.
func (ns *NetNS) WriteHosts(self, lines string) error {
	base := "127.0.0.1 localhost\n" + ns.IP.String() + " " + self + "\n"
	return os.WriteFile(filepath.Join("/etc/netns", ns.Name, "hosts"), []byte(base+lines), 0o644)
}

// Exec returns a command that runs inside the namespace.
func (ns *NetNS) Exec(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Run runs a command in the namespace and returns its output.
func (ns *NetNS) Run(ctx context.Context, stdin, name string, args ...string) (string, error) {
	return run(ctx, stdin, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Close deletes every namespace, veth and the bridge, and the hosts files.
// It goes on past errors and returns them all.
func (n *Network) Close(ctx context.Context) error {
	n.mu.Lock()
	spaces := n.spaces
	n.spaces = nil
	n.mu.Unlock()
	var errs []error
	for _, ns := range spaces {
		if _, err := run(ctx, "", "ip", "netns", "del", ns.Name); err != nil && !strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err)
		}
		_, _ = run(ctx, "", "ip", "link", "del", ns.veth) // gone with the namespace, usually
		_ = os.RemoveAll(filepath.Join("/etc/netns", ns.Name))
	}
	if _, err := run(ctx, "", "ip", "link", "del", n.Bridge); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		errs = append(errs, err)
	}
	for {
		// Deleted until none is left (a rule inserted twice leaves one).
		if _, err := run(ctx, "", "iptables", append([]string{"-w", "-D", "FORWARD"}, n.forwardRule()...)...); err != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// Leftovers lists namespaces and links a run with this id left behind.
func Leftovers(ctx context.Context, runID string) ([]string, error) {
	var out []string
	ns, err := run(ctx, "", "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(ns, "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "mc-"+runID+"-") {
			out = append(out, "netns "+f[0])
		}
	}
	if rules, err := run(ctx, "", "iptables", "-w", "-S", "FORWARD"); err == nil {
		for _, l := range strings.Split(rules, "\n") {
			if strings.Contains(l, `"`+forwardComment(runID)+`"`) {
				out = append(out, "iptables "+l)
			}
		}
	}
	links, err := run(ctx, "", "ip", "-o", "link", "show")
	if err != nil {
		return nil, err
	}
	for _, l := range strings.Split(links, "\n") {
		f := strings.Fields(l)
		if len(f) > 1 {
			name := strings.TrimSuffix(strings.SplitN(f[1], "@", 2)[0], ":")
			if name == "mcb"+runID || strings.HasPrefix(name, "mcv"+runID) {
				out = append(out, "link "+name)
			}
		}
	}
	return out, nil
}
