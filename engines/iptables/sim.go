package iptables

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Probe describes the first packet of a connection at a hook.
type Probe struct {
	Hook  Hook
	Proto string // "tcp" or "udp"
	// Src may have port 0 when the source port is not known; a rule that
	// tests it then makes the result Unsupported.
	Src netip.AddrPort
	Dst netip.AddrPort
	// InIface is the input interface at prerouting, OutIface the output
	// interface at output ("lo" for local destinations). Empty means unknown
	// at the hook where it exists.
	InIface, OutIface string
	// UID and GID of the sending socket (output hook only); nil means unknown.
	UID, GID *uint32
	// Mark is the packet mark before the first table (normally 0).
	Mark uint32
	// IfaceAddr is the address of the interface a locally sent packet
	// leaves through (the pod IP). When Src is not given at output,
	// Simulate picks the source as the kernel would: 127.0.0.1 (::1) toward
	// a loopback destination, the destination itself toward a local address
	// (out lo, or IfaceAddr), and IfaceAddr otherwise; without IfaceAddr a
	// rule that tests the source of a remote destination is UNSUPPORTED.
	IfaceAddr netip.Addr
}

func (p Probe) String() string {
	var b strings.Builder
	src := "?"
	if p.Src.IsValid() {
		src = p.Src.String()
		if p.Src.Port() == 0 {
			src = p.Src.Addr().String() + ":?"
		}
	}
	fmt.Fprintf(&b, "%s %s %s -> %s", p.Hook, p.Proto, src, p.Dst)
	if p.InIface != "" {
		fmt.Fprintf(&b, " in %s", p.InIface)
	}
	if p.OutIface != "" {
		fmt.Fprintf(&b, " out %s", p.OutIface)
	}
	if p.UID != nil {
		fmt.Fprintf(&b, " uid %d", *p.UID)
	}
	if p.GID != nil {
		fmt.Fprintf(&b, " gid %d", *p.GID)
	}
	return b.String()
}

// ID returns a pointer to v, for Probe.UID and Probe.GID.
func ID(v uint32) *uint32 { return &v }

// Verdict is the fate of the packet.
type Verdict string

// The verdicts. ACCEPT means the packet leaves the hook with its destination
// unchanged.
const (
	VerdictAccept      Verdict = "ACCEPT"
	VerdictDrop        Verdict = "DROP"
	VerdictReject      Verdict = "REJECT"
	VerdictRedirect    Verdict = "REDIRECT"
	VerdictDNAT        Verdict = "DNAT"
	VerdictTPROXY      Verdict = "TPROXY"
	VerdictUnsupported Verdict = "UNSUPPORTED"
)

// Step is one rule of the trail: a rule that matched, or a policy that decided.
type Step struct {
	Family Family `json:"family,omitempty"`
	Table  string `json:"table"`
	Chain  string `json:"chain"`
	// Rule is the 1-based rule number in the chain, 0 for the chain policy.
	Rule int    `json:"rule"`
	Text string `json:"text"`
	Line int    `json:"line,omitempty"`
}

func (s Step) String() string {
	if s.Rule == 0 {
		return fmt.Sprintf("%s/%s %s", s.Table, s.Chain, s.Text)
	}
	return fmt.Sprintf("%s/%s #%d %s", s.Table, s.Chain, s.Rule, s.Text)
}

// Result is what the simulator predicts for a probe.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// ToPort is the new destination port (REDIRECT, DNAT, TPROXY).
	ToPort uint16 `json:"toPort,omitempty"`
	// ToAddr is the new destination address: DNAT's address, 127.0.0.1 or ::1
	// for REDIRECT at output; empty when it is the input interface's primary
	// address (REDIRECT at prerouting, TPROXY without --on-ip).
	ToAddr string `json:"toAddr,omitempty"`
	// Mark and CTZone are the packet mark and conntrack zone after the hook.
	Mark   uint32 `json:"mark,omitempty"`
	CTZone uint16 `json:"ctZone,omitempty"`
	// Unsupported names the match or target the simulator cannot evaluate
	// (Verdict is then UNSUPPORTED).
	Unsupported string `json:"unsupported,omitempty"`
	Trail       []Step `json:"trail"`
}

func (r Result) String() string {
	var b strings.Builder
	b.WriteString(string(r.Verdict))
	if r.ToAddr != "" || r.ToPort != 0 {
		b.WriteString(" to ")
		if r.ToAddr != "" {
			b.WriteString(r.ToAddr)
		}
		if r.ToPort != 0 {
			fmt.Fprintf(&b, ":%d", r.ToPort)
		}
	}
	if r.Unsupported != "" {
		fmt.Fprintf(&b, " (%s)", r.Unsupported)
	}
	if len(r.Trail) > 0 {
		b.WriteString(" via ")
		for i, s := range r.Trail {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.String())
		}
	}
	return b.String()
}

// ErrBadProbe is returned by Simulate for a probe that cannot be evaluated.
var ErrBadProbe = errors.New("bad probe")

// maxDepth bounds jumps; the kernel refuses loops, fuzzed input may have them.
const maxDepth = 64

type baseChain struct {
	t     *Table
	c     *Chain
	order int
}

// Simulate predicts what the kernel does with the first packet of a
// connection described by p at p.Hook.
func Simulate(rs *Ruleset, p Probe) (Result, error) {
	if p.Hook != HookPrerouting && p.Hook != HookOutput {
		return Result{}, fmt.Errorf("%w: hook %q: only prerouting and output are simulated", ErrBadProbe, p.Hook)
	}
	if !p.Dst.IsValid() {
		return Result{}, fmt.Errorf("%w: no destination", ErrBadProbe)
	}
	p.Proto = normProto(p.Proto)
	if p.Proto != "tcp" && p.Proto != "udp" {
		return Result{}, fmt.Errorf("%w: protocol %q: want tcp or udp", ErrBadProbe, p.Proto)
	}
	if p.Src.IsValid() && p.Src.Addr().Is4() != p.Dst.Addr().Is4() {
		return Result{}, fmt.Errorf("%w: source %s and destination %s are of different families", ErrBadProbe, p.Src, p.Dst)
	}
	fam := FamilyIPv4
	if !p.Dst.Addr().Unmap().Is4() {
		fam = FamilyIPv6
	}
	s := &simState{rs: rs, p: p, fam: fam, mark: p.Mark, nft: rs.Format == FormatNft || rs.Format == FormatNftJSON}
	if note := chooseSource(&s.p); note != "" {
		s.trail = append(s.trail, Step{Table: "kernel", Chain: "source address", Text: note})
	}
	res := Result{Trail: []Step{}}
	if r, done := s.runHook(); done {
		return r, nil
	}
	if r, done := s.loopbackPass(); done {
		return r, nil
	}
	res.Trail, res.Mark, res.CTZone = s.trail, s.mark, s.zone
	switch {
	case s.tproxy:
		res.Verdict, res.ToPort = VerdictTPROXY, s.toPort
		if s.toAddr.IsValid() && !s.toAddr.IsUnspecified() {
			res.ToAddr = s.toAddr.String()
		}
	case s.natKind == ActionRedirect:
		res.Verdict, res.ToPort = VerdictRedirect, s.toPort
		if p.Hook == HookOutput {
			res.ToAddr = "127.0.0.1"
			if fam == FamilyIPv6 {
				res.ToAddr = "::1"
			}
		}
	case s.natKind == ActionDNAT:
		res.Verdict, res.ToPort = VerdictDNAT, s.toPort
		if s.toAddr.IsValid() {
			res.ToAddr = s.toAddr.String()
		} else {
			res.ToAddr = p.Dst.Addr().String()
		}
	default:
		res.Verdict = VerdictAccept
	}
	return res, nil
}

// chooseSource fills in the missing source address of a locally sent
// packet the way the kernel's source address selection does, and says so;
// it leaves the source empty when the probe does not know the outgoing
// interface's address. The source port stays unknown (0).
func chooseSource(p *Probe) string {
	if p.Hook != HookOutput || p.Src.IsValid() {
		return ""
	}
	d := p.Dst.Addr().Unmap()
	var src netip.Addr
	var why string
	switch {
	case d.IsLoopback() && d.Is4():
		src, why = netip.MustParseAddr("127.0.0.1"), "destination is loopback"
	case d.IsLoopback():
		src, why = netip.IPv6Loopback(), "destination is loopback"
	case p.OutIface == "lo" || p.IfaceAddr.Unmap() == d:
		// Only local addresses are routed over lo: the local route's
		// preferred source is the address itself.
		src, why = d, "destination is a local address (routed over lo)"
	case !p.IfaceAddr.IsValid() || p.IfaceAddr.Unmap().Is4() != d.Is4():
		return ""
	default:
		src, why = p.IfaceAddr.Unmap(), "the address of the output interface"
		if p.OutIface != "" {
			why += " " + p.OutIface
		}
	}
	p.Src = netip.AddrPortFrom(src, 0)
	return fmt.Sprintf("source %s chosen as the kernel would: %s", src, why)
}

// runHook evaluates the base chains of s.p.Hook in priority order (nat
// chains only while no NAT binding exists); done is true when the packet
// ended there (dropped, rejected, or undecidable), with its result.
func (s *simState) runHook() (Result, bool) {
	var bases []baseChain
	for _, t := range s.rs.Tables {
		if t.Family != s.fam && t.Family != FamilyInet {
			continue
		}
		for _, c := range t.Chains {
			if c.Hook == s.p.Hook {
				bases = append(bases, baseChain{t, c, len(bases)})
			}
		}
	}
	slices.SortStableFunc(bases, func(a, b baseChain) int { return a.c.Priority - b.c.Priority })
	for _, b := range bases {
		if b.c.Type == "nat" && s.natDone {
			continue
		}
		switch s.evalChain(b.t, b.c, b.c, 0) {
		case outUnsupported:
			return Result{Verdict: VerdictUnsupported, Unsupported: s.unsupported, Trail: s.trail}, true
		case outDrop:
			return Result{Verdict: VerdictDrop, Trail: s.trail, Mark: s.mark, CTZone: s.zone}, true
		case outReject:
			return Result{Verdict: VerdictReject, Trail: s.trail, Mark: s.mark, CTZone: s.zone}, true
		}
	}
	return Result{}, false
}

// loopbackPass follows a locally sent packet whose route is lo back in:
// the kernel runs prerouting for it on lo, with the mark and conntrack entry
// it left with and without nat (the connection's NAT was bound at output).
// Istio's TPROXY rules depend on this (the proxy's mark 1338). The steps of
// this pass follow a note in the trail.
func (s *simState) loopbackPass() (Result, bool) {
	if s.p.Hook != HookOutput || s.p.OutIface != "lo" {
		return Result{}, false
	}
	before := len(s.trail)
	s.p.Hook, s.p.InIface, s.p.OutIface, s.p.UID, s.p.GID = HookPrerouting, "lo", "", nil, nil
	s.natDone, s.looped = true, true
	r, done := s.runHook()
	if len(s.trail) > before {
		note := Step{Table: "kernel", Chain: "loopback", Text: "the packet comes back in on lo: prerouting, without nat (bound at output)"}
		s.trail = slices.Insert(s.trail, before, note)
		if done {
			r.Trail = s.trail
		}
	}
	return r, done
}

type outcome int

const (
	outReturn outcome = iota // fell off a user chain or RETURN
	outAccept
	outDrop
	outReject
	outUnsupported
)

type simState struct {
	rs          *Ruleset
	p           Probe
	fam         Family
	nft         bool
	mark        uint32
	ctmark      uint32
	zone        uint16
	untracked   bool
	looped      bool // in the loopback pass (see loopbackPass)
	natDone     bool
	natKind     ActionKind
	tproxy      bool
	toPort      uint16
	toAddr      netip.Addr
	dstUnknown  bool // after REDIRECT at prerouting: the interface's primary address
	trail       []Step
	unsupported string
	stack       []*Chain
	steps       int
}

// maxSteps bounds the rules evaluated for one probe (a DAG of jumps can be
// exponential in paths; real rulesets are far below this).
const maxSteps = 1 << 20

func (s *simState) step(t *Table, c *Chain, i int, r *Rule) {
	s.trail = append(s.trail, Step{Family: t.Family, Table: t.Name, Chain: c.Name, Rule: i + 1, Text: r.Text, Line: r.Line})
}

// evalChain runs chain c of table t; base is the hook's base chain.
func (s *simState) evalChain(t *Table, c, base *Chain, depth int) outcome {
	if depth > maxDepth {
		s.unsupported = fmt.Sprintf("jumps nested deeper than %d (at chain %s)", maxDepth, c.Name)
		return outUnsupported
	}
	for _, on := range s.stack {
		if on == c {
			s.unsupported = fmt.Sprintf("jump loop through chain %s (the kernel refuses such rulesets)", c.Name)
			return outUnsupported
		}
	}
	s.stack = append(s.stack, c)
	defer func() { s.stack = s.stack[:len(s.stack)-1] }()
	for i, r := range c.Rules {
		s.steps++
		if s.steps > maxSteps {
			s.unsupported = fmt.Sprintf("more than %d rule evaluations", maxSteps)
			return outUnsupported
		}
		ok, why := s.matchRule(r)
		if why != "" {
			s.step(t, c, i, r)
			s.unsupported = why
			return outUnsupported
		}
		if !ok {
			continue
		}
		s.step(t, c, i, r)
		out, next := s.runActions(t, c, base, r, depth)
		if next {
			continue
		}
		if out == outReturn && c == base {
			break // RETURN in a base chain: the policy decides
		}
		return out
	}
	if c.Hook == "" {
		return outReturn
	}
	if c.Policy == "DROP" {
		s.trail = append(s.trail, Step{Family: t.Family, Table: t.Name, Chain: c.Name, Text: "policy DROP", Line: c.Line})
		return outDrop
	}
	return outAccept
}

// runActions applies a matched rule's actions; next is true when evaluation
// continues with the following rule.
func (s *simState) runActions(t *Table, c, base *Chain, r *Rule, depth int) (out outcome, next bool) {
	for ai, a := range r.Actions {
		switch a.Kind {
		case ActionMark:
			s.mark = (s.mark &^ a.Mask) ^ a.Value
		case ActionConnMark:
			switch a.ConnMarkOp {
			case ConnMarkSave:
				s.ctmark = (s.ctmark &^ a.CtMask) ^ (s.mark & a.NfMask)
			case ConnMarkRestore:
				s.mark = (s.mark &^ a.NfMask) ^ (s.ctmark & a.CtMask)
			default:
				s.ctmark = (s.ctmark &^ a.Mask) ^ a.Value
			}
		case ActionCT:
			if s.looped {
				continue // the packet already has its conntrack entry: CT does nothing
			}
			if a.NoTrack {
				s.untracked = true
			} else {
				s.zone = a.Zone
			}
		case ActionLog:
		case ActionAccept:
			return outAccept, false
		case ActionDrop:
			return outDrop, false
		case ActionReject:
			return outReject, false
		case ActionReturn:
			return outReturn, false
		case ActionJump, ActionGoto:
			target := t.Chain(a.Chain)
			if target == nil {
				s.unsupported = fmt.Sprintf("jump to chain %q which does not exist in table %s", a.Chain, t.Name)
				return outUnsupported, false
			}
			o := s.evalChain(t, target, base, depth+1)
			if o == outReturn && a.Kind == ActionJump {
				return 0, true
			}
			return o, false
		case ActionRedirect, ActionDNAT:
			if base.Type != "nat" {
				s.unsupported = fmt.Sprintf("%s outside a nat chain (%s)", a.Kind, a.Raw)
				return outUnsupported, false
			}
			if s.tproxy {
				s.unsupported = fmt.Sprintf("%s after TPROXY (%s): the kernel gives the connection to TPROXY's socket with the destination nat rewrote, which a verdict cannot say", a.Kind, a.Raw)
				return outUnsupported, false
			}
			s.natDone, s.natKind = true, a.Kind
			s.toPort = s.p.Dst.Port()
			if a.Ports.Lo != 0 {
				s.toPort = a.Ports.Lo
			}
			s.toAddr = a.Addr
			s.translate()
			return outAccept, false
		case ActionTPROXY:
			if s.p.Hook != HookPrerouting {
				s.unsupported = fmt.Sprintf("TPROXY at %s (only prerouting)", s.p.Hook)
				return outUnsupported, false
			}
			if s.natKind != 0 {
				s.unsupported = fmt.Sprintf("TPROXY of a packet nat translated (%s): not modelled", a.Raw)
				return outUnsupported, false
			}
			s.tproxy = true
			s.toPort = s.p.Dst.Port()
			if a.Ports.Lo != 0 {
				s.toPort = a.Ports.Lo
			}
			s.toAddr = a.Addr
			if a.HasMark {
				s.mark = (s.mark &^ a.Mask) ^ a.Value
			}
			if ai == len(r.Actions)-1 {
				return outAccept, false
			}
		default:
			s.unsupported = fmt.Sprintf("target %q", a.Raw)
			return outUnsupported, false
		}
	}
	return 0, true
}

// translate applies the NAT binding to the packet: tables after nat at this
// hook (filter at priority 0, later nft chains) see the new destination, and
// at output the route (so the output interface) is looked up again.
func (s *simState) translate() {
	addr := s.p.Dst.Addr()
	switch {
	case s.natKind == ActionDNAT && s.toAddr.IsValid():
		addr = s.toAddr
	case s.natKind == ActionRedirect && s.p.Hook == HookOutput:
		addr = netip.MustParseAddr("127.0.0.1")
		if s.fam == FamilyIPv6 {
			addr = netip.IPv6Loopback()
		}
	case s.natKind == ActionRedirect:
		s.dstUnknown = true
	}
	s.p.Dst = netip.AddrPortFrom(addr, s.toPort)
	if s.p.Hook == HookOutput {
		if addr.IsLoopback() {
			s.p.OutIface = "lo"
		} else if s.natKind == ActionDNAT && s.toAddr.IsValid() {
			s.p.OutIface = "" // rerouted: unknown unless loopback
		}
	}
}

// matchRule evaluates every match; a known match that fails decides "no"
// even when an unknown match is present (the kernel ANDs them).
func (s *simState) matchRule(r *Rule) (ok bool, unsupported string) {
	for i := range r.Matches {
		m := &r.Matches[i]
		res, why := s.match(m)
		if why != "" {
			if unsupported == "" {
				unsupported = why
			}
			continue
		}
		if !res {
			return false, ""
		}
	}
	if unsupported != "" {
		return false, unsupported
	}
	return true, ""
}

func (s *simState) match(m *Match) (bool, string) {
	p := &s.p
	switch m.Kind {
	case MatchComment:
		return true, ""
	case MatchFamily:
		return (m.Family == s.fam) != m.Negate, ""
	case MatchProto:
		if m.Proto == "all" {
			return !m.Negate, ""
		}
		return (m.Proto == p.Proto) != m.Negate, ""
	case MatchSrc, MatchDst:
		a := p.Dst.Addr()
		if m.Kind == MatchDst && s.dstUnknown {
			return false, fmt.Sprintf("match %q after REDIRECT at prerouting (the new destination is the input interface's primary address)", m.Raw)
		}
		if m.Kind == MatchSrc {
			if !p.Src.IsValid() && p.Hook == HookOutput {
				return false, fmt.Sprintf("match %q needs the source address (not given; the kernel would pick the output interface's address, which the probe does not name)", m.Raw)
			}
			if !p.Src.IsValid() {
				return false, fmt.Sprintf("match %q needs the source address", m.Raw)
			}
			a = p.Src.Addr()
		}
		if !m.Prefix.IsValid() {
			return false, fmt.Sprintf("match %q: bad address", m.Raw)
		}
		if m.Prefix.Addr().Is4() != a.Unmap().Is4() {
			return false, "" // the address-family dependency fails, also when negated
		}
		return m.Prefix.Contains(a.Unmap()) != m.Negate, ""
	case MatchInIface, MatchOutIface:
		name := p.InIface
		if m.Kind == MatchOutIface {
			name = p.OutIface
		}
		exists := (m.Kind == MatchInIface) == (p.Hook == HookPrerouting)
		if !exists {
			name = ""
		} else if name == "" {
			return false, fmt.Sprintf("match %q needs the %s interface", m.Raw, map[bool]string{true: "input", false: "output"}[m.Kind == MatchInIface])
		}
		return ifaceMatch(m.Iface, name) != m.Negate, ""
	case MatchSPort, MatchDPort:
		if m.Proto != "" && m.Proto != p.Proto {
			return false, ""
		}
		port := p.Dst.Port()
		if m.Kind == MatchSPort {
			if !p.Src.IsValid() || p.Src.Port() == 0 {
				return false, fmt.Sprintf("match %q needs the source port", m.Raw)
			}
			port = p.Src.Port()
		}
		in := false
		for _, r := range m.Ports {
			if r.Contains(port) {
				in = true
				break
			}
		}
		return in != m.Negate, ""
	case MatchUID, MatchGID:
		if p.Hook != HookOutput {
			// No socket: xt_owner matches only when negated; nft meta skuid breaks.
			return m.Negate && !s.nft, ""
		}
		id := p.UID
		if m.Kind == MatchGID {
			id = p.GID
		}
		if id == nil {
			return false, fmt.Sprintf("match %q needs the socket's %s", m.Raw, map[bool]string{true: "UID", false: "GID"}[m.Kind == MatchUID])
		}
		return (*id >= m.IDs.Lo && *id <= m.IDs.Hi) != m.Negate, ""
	case MatchMark:
		return (s.mark&m.Mask == m.Value) != m.Negate, ""
	case MatchConnMark:
		return (s.ctmark&m.Mask == m.Value) != m.Negate, ""
	case MatchCTState:
		state := "NEW"
		if s.untracked {
			state = "UNTRACKED"
		}
		in := false
		for _, st := range m.States {
			if strings.EqualFold(st, state) {
				in = true
			}
		}
		return in != m.Negate, ""
	}
	return false, fmt.Sprintf("match %q", m.Raw)
}

// ifaceMatch compares an interface pattern ("eth+" is a prefix) with a name.
func ifaceMatch(pattern, name string) bool {
	if strings.HasSuffix(pattern, "+") {
		return strings.HasPrefix(name, strings.TrimSuffix(pattern, "+"))
	}
	return pattern == name
}
