package istio

import (
	"fmt"
	"net/netip"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

// Env is the pod a behaviour's probes are addressed in: its IP and
// interface, a peer that sends inbound traffic, a ClusterIP outside the pod,
// the nameserver used when the options name none, and the app's UID/GID and
// port. The addresses are all IPv4 or all IPv6.
type Env struct {
	PodIP      netip.Addr
	PeerIP     netip.Addr
	Iface      string
	ClusterIP  netip.Addr
	Nameserver netip.Addr
	AppPort    uint16
	AppUID     uint32
	AppGID     uint32
}

// DefaultEnv is a typical Kubernetes pod.
func DefaultEnv() Env {
	return Env{
		PodIP:      netip.MustParseAddr("10.244.0.10"),
		PeerIP:     netip.MustParseAddr("10.244.0.20"),
		Iface:      "eth0",
		ClusterIP:  netip.MustParseAddr("10.96.0.100"),
		Nameserver: netip.MustParseAddr("10.96.0.10"),
		AppPort:    9080,
		AppUID:     1000,
		AppGID:     1000,
	}
}

// DefaultEnv6 is the IPv6 twin of DefaultEnv.
func DefaultEnv6() Env {
	e := DefaultEnv()
	e.PodIP = netip.MustParseAddr("fd00:10:244::a")
	e.PeerIP = netip.MustParseAddr("fd00:10:244::14")
	e.ClusterIP = netip.MustParseAddr("fd00:10:96::64")
	e.Nameserver = netip.MustParseAddr("fd00:10:96::a")
	return e
}

// Is6 reports whether the env is IPv6.
func (e Env) Is6() bool { return !e.PodIP.Unmap().Is4() }

// complete fills what e leaves out, or gives in the other family than its
// pod IP, from DefaultEnv or DefaultEnv6: a caller that knows only the pod IP
// (an IPv6 one, say) gets probes of one family.
func (e Env) complete() Env {
	d := DefaultEnv()
	if e.Is6() {
		d = DefaultEnv6()
	}
	for _, f := range []struct{ a, def *netip.Addr }{{&e.PeerIP, &d.PeerIP}, {&e.ClusterIP, &d.ClusterIP}, {&e.Nameserver, &d.Nameserver}} {
		if !f.a.IsValid() || f.a.Unmap().Is4() != f.def.Is4() {
			*f.a = *f.def
		}
	}
	if e.Iface == "" {
		e.Iface = d.Iface
	}
	if e.AppPort == 0 {
		e.AppPort = d.AppPort
	}
	return e
}

// loopback is 127.0.0.1 or ::1; passthrough is Envoy's inbound passthrough
// source, 127.0.0.6 or ::6.
func (e Env) loopback() netip.Addr {
	if e.Is6() {
		return netip.IPv6Loopback()
	}
	return netip.MustParseAddr("127.0.0.1")
}

func (e Env) passthrough() netip.Addr {
	if e.Is6() {
		return netip.MustParseAddr("::6")
	}
	return netip.MustParseAddr("127.0.0.6")
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

// Checked is the outcome as a report shows it.
func (o Outcome) Checked() iptables.Checked {
	return iptables.Checked{Name: o.Behaviour.Name, Says: o.Behaviour.Says, Probe: o.Behaviour.Probe.String(),
		Want: o.Behaviour.Want.String(), Got: o.Result.String(), Pass: o.Pass(), Trail: o.Result.Steps()}
}
