package iptables

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// listSection is one listed table and the target text of each of its rules
// (resolved once all its chains are known).
type listSection struct {
	t       *Table
	targets map[*Rule]listTarget
}

// listParser holds the state of ParseListing between lines.
type listParser struct {
	secs    []*listSection
	cur     *listSection
	chain   *Chain
	verbose int // -1 before the column line, 0 for -nL, 1 for -vnL
	lineNo  int
}

// ParseListing reads `iptables [-t TABLE] -vnL` or `-nL` output (legacy or
// nft backend, ip6tables too). A listing does not name its table: tables
// names the listed tables in order (a new table starts when a built-in chain
// repeats); without names each table is guessed from its built-in chains
// (PREROUTING and POSTROUTING: nat; with FORWARD too: mangle; PREROUTING and
// OUTPUT only: raw; INPUT, FORWARD, OUTPUT: filter).
//
// A listing without -v does not show interfaces, so each of its rules gets
// an unknown match saying so: simulating it reports UNSUPPORTED rather than
// ignoring an "-o lo" it cannot see.
func ParseListing(data []byte, tables ...string) (*Ruleset, error) {
	rs := &Ruleset{Format: FormatListing}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	p := &listParser{verbose: -1}
	for sc.Scan() {
		p.lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := p.parseLine(line); err != nil {
			return nil, &ParseError{Format: FormatListing, Line: p.lineNo, Text: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{Format: FormatListing, Line: p.lineNo + 1, Err: err}
	}
	if len(p.secs) == 0 {
		return nil, &ParseError{Format: FormatListing, Line: p.lineNo, Err: errors.New("no chain found (want lines like: Chain OUTPUT (policy ACCEPT))")}
	}
	if len(tables) > 0 && len(tables) != len(p.secs) {
		return nil, &ParseError{Format: FormatListing, Line: p.lineNo, Err: fmt.Errorf("%d tables named but %d listed", len(tables), len(p.secs))}
	}
	for i, s := range p.secs {
		name := guessTable(s.t)
		if len(tables) > 0 {
			name = tables[i]
		}
		if err := s.finish(name); err != nil {
			return nil, err
		}
		rs.Tables = append(rs.Tables, s.t)
	}
	return rs, nil
}

// parseLine reads one non-empty line: a chain header, a column line or a
// rule row.
func (p *listParser) parseLine(line string) error {
	f := strings.Fields(line)
	switch {
	case f[0] == "Chain":
		return p.chainHeader(f)
	case f[0] == "pkts" || f[0] == "target":
		p.verbose = 0
		if f[0] == "pkts" {
			p.verbose = 1
		}
		return nil
	}
	if p.chain == nil || p.verbose < 0 {
		return errors.New("rule before a chain header and column line")
	}
	r, tgt, err := parseListRow(f, p.verbose == 1)
	if err != nil {
		return err
	}
	r.Line = p.lineNo
	p.chain.Rules = append(p.chain.Rules, r)
	p.cur.targets[r] = tgt
	return nil
}

// chainHeader reads "Chain NAME (policy P [N packets, N bytes])" or
// "Chain NAME (N references)"; a built-in chain listed again starts a new
// table.
func (p *listParser) chainHeader(f []string) error {
	if len(f) < 3 {
		return errors.New("chain header needs a name")
	}
	name := f[1]
	_, isBuiltin := builtinHooks[name]
	if p.cur == nil || (isBuiltin && p.cur.t.Chain(name) != nil) {
		p.cur = &listSection{t: &Table{Family: "", Line: p.lineNo}, targets: map[*Rule]listTarget{}}
		p.secs = append(p.secs, p.cur)
	}
	if p.cur.t.Chain(name) != nil {
		return fmt.Errorf("chain %s listed twice", name)
	}
	p.chain = &Chain{Name: name, Line: p.lineNo}
	if err := listChainPolicy(p.chain, f); err != nil {
		return err
	}
	p.cur.t.Chains = append(p.cur.t.Chains, p.chain)
	return nil
}

// listChainPolicy reads a chain header's "(policy P ...)" and counters.
func listChainPolicy(c *Chain, f []string) error {
	rest := strings.Join(f[2:], " ")
	if !strings.HasPrefix(rest, "(policy ") {
		return nil
	}
	pol := strings.TrimRight(strings.Fields(rest)[1], ")")
	if pol != "ACCEPT" && pol != "DROP" {
		return fmt.Errorf("policy %q", pol)
	}
	c.Hook, c.Policy = builtinHooks[c.Name], pol
	if c.Hook == "" {
		return fmt.Errorf("chain %s has a policy but is not built in", c.Name)
	}
	if len(f) >= 8 {
		pk, err1 := parseSuffixed(f[4])
		by, err2 := parseSuffixed(f[6])
		if err1 == nil && err2 == nil {
			c.Counters = &Counters{Packets: pk, Bytes: by}
		}
	}
	return nil
}

// finish names the section's table, checks its built-in chains and
// resolves each rule's target now that all chains are known.
func (s *listSection) finish(name string) error {
	t := s.t
	t.Name = name
	if _, ok := builtinChains[t.Name]; !ok {
		return &ParseError{Format: FormatListing, Line: t.Line, Err: fmt.Errorf("unknown table %q", t.Name)}
	}
	t.Family = inferFamily(t)
	for _, c := range t.Chains {
		if err := s.finishChain(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *listSection) finishChain(c *Chain) error {
	t := s.t
	if c.Hook != "" {
		if !isBuiltin(t.Name, c.Name) {
			return &ParseError{Format: FormatListing, Line: c.Line, Err: fmt.Errorf("chain %s is not built into table %s", c.Name, t.Name)}
		}
		c.Type, c.Priority = t.Name, tablePriority(t.Name, c.Hook)
	}
	for _, r := range c.Rules {
		a, err := s.targets[r].action(t)
		if err != nil {
			return &ParseError{Format: FormatListing, Line: r.Line, Text: r.Text, Err: err}
		}
		if a != nil {
			r.Actions = append(r.Actions, *a)
		}
	}
	return nil
}

func guessTable(t *Table) string {
	has := func(n string) bool { return t.Chain(n) != nil }
	switch {
	case has("PREROUTING") && has("FORWARD"):
		return "mangle"
	case has("PREROUTING") && has("POSTROUTING"):
		return "nat"
	case has("PREROUTING"):
		return "raw"
	case has("FORWARD"):
		return "filter"
	}
	return "nat"
}

// parseSuffixed reads counters like "2606K" or "12M".
func parseSuffixed(s string) (uint64, error) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1000, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1000000, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1000000000, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "T"):
		mult, s = 1000000000000, strings.TrimSuffix(s, "T")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n * mult, err
}

type listTarget struct {
	name string
	args []string
}

// listTargetHandler reads a listed target's arguments into a (whose Raw is
// set); it returns the action, an unknown action or nil for no target.
type listTargetHandler func(a *Action, args []string) (*Action, error)

// listTargetHandlers maps each target the simulator models to its handler;
// any other name is a jump to a listed chain or an unknown target
// (listJump).
var listTargetHandlers = map[string]listTargetHandler{
	"":         listNoTarget,
	"ACCEPT":   listVerdict(ActionAccept),
	"DROP":     listVerdict(ActionDrop),
	"RETURN":   listVerdict(ActionReturn),
	"REJECT":   listKind(ActionReject),
	"LOG":      listKind(ActionLog),
	"NFLOG":    listKind(ActionLog),
	"REDIRECT": listRedirect,
	"DNAT":     listDNAT,
	"TPROXY":   listTPROXY,
	"MARK":     listMark,
	"CONNMARK": listConnMark,
	"CT":       listCT,
}

func (lt listTarget) action(t *Table) (*Action, error) {
	a := &Action{Raw: strings.TrimSpace(lt.name + " " + strings.Join(lt.args, " "))}
	h, ok := listTargetHandlers[lt.name]
	if !ok {
		h = listJump(t, lt.name)
	}
	return h(a, lt.args)
}

// listUnknown keeps a target the simulator does not model.
func listUnknown(a *Action) (*Action, error) {
	return &Action{Kind: ActionUnknown, Raw: a.Raw}, nil
}

// listNoTarget: a rule without -j; text left over is kept as unknown.
func listNoTarget(_ *Action, args []string) (*Action, error) {
	if len(args) > 0 {
		return &Action{Kind: ActionUnknown, Raw: strings.Join(args, " ")}, nil
	}
	return nil, nil
}

func listVerdict(k ActionKind) listTargetHandler {
	return func(a *Action, args []string) (*Action, error) {
		if len(args) > 0 {
			return listUnknown(a)
		}
		a.Kind = k
		return a, nil
	}
}

func listKind(k ActionKind) listTargetHandler {
	return func(a *Action, _ []string) (*Action, error) {
		a.Kind = k
		return a, nil
	}
}

// listJump is a jump to a listed chain; an upper-case name that is not a
// listed chain is an extension the simulator does not model.
func listJump(t *Table, name string) listTargetHandler {
	return func(a *Action, args []string) (*Action, error) {
		if t.Chain(name) != nil && len(args) == 0 {
			a.Kind, a.Chain = ActionJump, name
			return a, nil
		}
		if t.Chain(name) == nil && !isTargetName(name) && strings.ToUpper(name) != name {
			return nil, fmt.Errorf("target %q is neither a listed chain nor a known target", name)
		}
		return listUnknown(a)
	}
}

// listRedirect reads "redir ports P[-P]".
func listRedirect(a *Action, args []string) (*Action, error) {
	a.Kind = ActionRedirect
	if len(args) == 3 && args[0] == "redir" && args[1] == "ports" {
		pr, err := parsePortRange(args[2])
		if err != nil {
			return nil, err
		}
		a.Ports = pr
	} else if len(args) != 0 {
		return listUnknown(a)
	}
	return a, nil
}

// listDNAT reads "to:ADDR[:PORT]".
func listDNAT(a *Action, args []string) (*Action, error) {
	if len(args) != 1 || !strings.HasPrefix(args[0], "to:") {
		return listUnknown(a)
	}
	addr, pr, err := parseNATTo(strings.TrimPrefix(args[0], "to:"))
	if err != nil {
		return nil, err
	}
	a.Kind, a.Addr, a.Ports = ActionDNAT, addr, pr
	return a, nil
}

// listTPROXY reads "TPROXY redirect 0.0.0.0:15006 mark 0x539/0xffffffff".
func listTPROXY(a *Action, args []string) (*Action, error) {
	if len(args) < 3 || args[0] != "TPROXY" || args[1] != "redirect" {
		return listUnknown(a)
	}
	ap, err := netip.ParseAddrPort(args[2])
	if err != nil {
		return nil, fmt.Errorf("TPROXY address %q: %w", args[2], err)
	}
	a.Kind, a.Addr, a.Ports = ActionTPROXY, ap.Addr(), PortRange{ap.Port(), ap.Port()}
	if len(args) == 5 && args[3] == "mark" {
		v, m, err := parseMarkMask(args[4])
		if err != nil {
			return nil, err
		}
		a.Value, a.Mask, a.HasMark = v, m, true
	}
	return a, nil
}

// listMarkOps: the listing's MARK words, with iptables-save's option of
// the same meaning where there is one.
var listMarkOps = map[string]func(val, mask uint32) (uint32, uint32){
	"set":  func(val, _ uint32) (uint32, uint32) { return val, 0xffffffff },
	"xset": markOps["--set-xmark"],
	"and":  markOps["--and-mark"],
	"or":   markOps["--or-mark"],
	"xor":  markOps["--xor-mark"],
}

// listMark reads "MARK set 0x53a", "MARK xset 0x53a/0xffffffff" and
// "MARK and/or/xor 0x..".
func listMark(a *Action, args []string) (*Action, error) {
	if len(args) != 3 || args[0] != "MARK" {
		return listUnknown(a)
	}
	v, m, err := parseMarkMask(args[2])
	if err != nil {
		return nil, err
	}
	a.Kind = ActionMark
	op, ok := listMarkOps[args[1]]
	if !ok {
		return listUnknown(a)
	}
	a.Value, a.Mask = op(v, m)
	return a, nil
}

// listConnMark reads "CONNMARK save" and "CONNMARK restore".
func listConnMark(a *Action, args []string) (*Action, error) {
	if len(args) == 2 && args[0] == "CONNMARK" && (args[1] == "save" || args[1] == "restore") {
		a.Kind, a.NfMask, a.CtMask = ActionConnMark, 0xffffffff, 0xffffffff
		a.ConnMarkOp = ConnMarkSave
		if args[1] == "restore" {
			a.ConnMarkOp = ConnMarkRestore
		}
		return a, nil
	}
	return listUnknown(a)
}

// listCT reads "CT zone N" and "CT notrack".
func listCT(a *Action, args []string) (*Action, error) {
	if len(args) == 3 && args[0] == "CT" && args[1] == "zone" {
		z, err := strconv.ParseUint(args[2], 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad zone %q", args[2])
		}
		a.Kind, a.Zone = ActionCT, uint16(z)
		return a, nil
	}
	if len(args) == 2 && args[0] == "CT" && args[1] == "notrack" {
		a.Kind, a.NoTrack = ActionCT, true
		return a, nil
	}
	return listUnknown(a)
}

func isOpt(s string) bool { return s == "--" || s == "-f" || s == "!f" }

// parseListRow reads one rule row: [pkts bytes] [target] prot opt [in out]
// source destination [extras].
func parseListRow(f []string, verbose bool) (*Rule, listTarget, error) {
	r := &Rule{}
	var lt listTarget
	i := 0
	if verbose {
		if err := listRowCounters(r, f); err != nil {
			return nil, lt, err
		}
		i = 2
	}
	r.Text = strings.Join(f[i:], " ")
	// The target column is empty for rules without -j.
	if i+2 < len(f) && isOpt(f[i+2]) {
		lt.name = f[i]
		i++
	} else if !(i+1 < len(f) && isOpt(f[i+1])) {
		return nil, lt, errors.New("cannot find the opt column (--)")
	}
	need := 4
	if verbose {
		need = 6
	}
	if len(f) < i+need {
		return nil, lt, errors.New("too few columns")
	}
	prot := listRowProtOpt(r, f[i], f[i+1])
	i += 2
	if verbose {
		listRowIfaces(r, f[i:i+2])
		i += 2
	} else {
		r.Matches = append(r.Matches, Match{Kind: MatchUnknown, Raw: "interfaces (not shown without -v)"})
	}
	if err := listRowAddrs(r, f[i:i+2]); err != nil {
		return nil, lt, err
	}
	i += 2
	rest, err := parseListExtras(r, f[i:], prot)
	if err != nil {
		return nil, lt, err
	}
	lt.args = rest
	return r, lt, nil
}

// listRowCounters reads a -v row's pkts and bytes columns.
func listRowCounters(r *Rule, f []string) error {
	if len(f) < 8 {
		return errors.New("too few columns for a -v listing row")
	}
	pk, err1 := parseSuffixed(f[0])
	by, err2 := parseSuffixed(f[1])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("bad counters %q %q", f[0], f[1])
	}
	r.Counters = &Counters{Packets: pk, Bytes: by}
	return nil
}

// listRowProtOpt reads the prot and opt columns and returns the protocol.
func listRowProtOpt(r *Rule, protCol, opt string) string {
	neg := strings.HasPrefix(protCol, "!")
	prot := normProto(strings.TrimPrefix(protCol, "!"))
	if prot != "all" {
		r.Matches = append(r.Matches, Match{Kind: MatchProto, Proto: prot, Negate: neg, Raw: "-p " + protCol})
	}
	if opt != "--" {
		r.Matches = append(r.Matches, Match{Kind: MatchUnknown, Raw: "opt " + opt})
	}
	return prot
}

// listRowIfaces reads a -v row's in and out columns.
func listRowIfaces(r *Rule, cols []string) {
	for k, kind := range []MatchKind{MatchInIface, MatchOutIface} {
		v := cols[k]
		if v == "*" {
			continue
		}
		n := strings.HasPrefix(v, "!")
		r.Matches = append(r.Matches, Match{Kind: kind, Iface: strings.TrimPrefix(v, "!"), Negate: n, Raw: map[MatchKind]string{MatchInIface: "in ", MatchOutIface: "out "}[kind] + v})
	}
}

// listRowAddrs reads the source and destination columns.
func listRowAddrs(r *Rule, cols []string) error {
	for k, kind := range []MatchKind{MatchSrc, MatchDst} {
		v := cols[k]
		n := strings.HasPrefix(v, "!")
		v = strings.TrimPrefix(v, "!")
		if v == "0.0.0.0/0" || v == "::/0" {
			continue
		}
		pfx, err := parsePrefix(v)
		if err != nil {
			return fmt.Errorf("address %q: %w", cols[k], err)
		}
		r.Matches = append(r.Matches, Match{Kind: kind, Prefix: pfx, Negate: n, Raw: map[MatchKind]string{MatchSrc: "source ", MatchDst: "destination "}[kind] + cols[k]})
	}
	return nil
}

// listExtras walks a listing row's match clauses; i is the next word.
type listExtras struct {
	r    *Rule
	w    []string
	i    int
	prot string // the row's prot column
}

// listExtraHandler reads the clause at x.i; start is where it began
// (before a "!"), neg whether a "!" preceded it.
type listExtraHandler func(x *listExtras, start int, neg bool) error

// listExtraHandlers maps each match keyword of a listing to its handler;
// any other word begins the target's own text.
var listExtraHandlers = map[string]listExtraHandler{
	"tcp":       (*listExtras).tcpUDP,
	"udp":       (*listExtras).tcpUDP,
	"multiport": (*listExtras).multiport,
	"owner":     (*listExtras).owner,
	"mark":      (*listExtras).mark,
	"connmark":  (*listExtras).mark,
	"ctstate":   (*listExtras).ctstate,
	"state":     (*listExtras).ctstate,
	"/*":        (*listExtras).comment,
}

// parseListExtras reads match clauses and returns what is left (the
// target's own text).
func parseListExtras(r *Rule, w []string, prot string) ([]string, error) {
	x := &listExtras{r: r, w: w, prot: prot}
	for x.i < len(w) {
		start := x.i
		neg := false
		if w[x.i] == "!" {
			neg = true
			x.i++
			if x.i >= len(w) {
				return nil, errors.New("dangling negation (!) at the end")
			}
		}
		h, ok := listExtraHandlers[w[x.i]]
		if ok {
			if err := h(x, start, neg); err != nil {
				return nil, err
			}
			continue
		}
		if !neg {
			return w[x.i:], nil
		}
		x.i = len(w)
		x.add(Match{Kind: MatchUnknown}, start)
	}
	return nil, nil
}

// add records a match whose text runs from word from to x.i.
func (x *listExtras) add(m Match, from int) {
	m.Raw = strings.Join(x.w[from:x.i], " ")
	x.r.Matches = append(x.r.Matches, m)
}

// tcpUDP reads "tcp|udp [dpt:P] [spts:A:B] ... [flags:...]".
func (x *listExtras) tcpUDP(_ int, _ bool) error {
	w := x.w
	p := w[x.i]
	x.i++
	for x.i < len(w) && (strings.HasPrefix(w[x.i], "dpt:") || strings.HasPrefix(w[x.i], "spt:") || strings.HasPrefix(w[x.i], "dpts:") || strings.HasPrefix(w[x.i], "spts:")) {
		k, v, _ := strings.Cut(w[x.i], ":")
		n := strings.HasPrefix(v, "!")
		pr, err := parsePortRange(strings.TrimPrefix(v, "!"))
		if err != nil {
			return err
		}
		kind := MatchDPort
		if k[0] == 's' {
			kind = MatchSPort
		}
		s := x.i
		x.i++
		x.add(Match{Kind: kind, Proto: p, Ports: []PortRange{pr}, Negate: n}, s)
	}
	if x.i < len(w) && (strings.HasPrefix(w[x.i], "flags:") || w[x.i] == "option=") {
		s := x.i
		for x.i < len(w) && w[x.i] != "!" && !strings.Contains("tcp udp multiport owner mark connmark ctstate state /*", w[x.i]) {
			x.i++
		}
		x.add(Match{Kind: MatchUnknown}, s)
	}
	return nil
}

// multiport reads "multiport dports|sports [!]LIST".
func (x *listExtras) multiport(start int, _ bool) error {
	w, i := x.w, x.i
	if i+2 >= len(w) {
		return errors.New("multiport needs ports")
	}
	kind := MatchDPort
	switch w[i+1] {
	case "dports":
	case "sports":
		kind = MatchSPort
	default:
		x.i += 3
		x.add(Match{Kind: MatchUnknown}, start)
		return nil
	}
	v := w[i+2]
	n := strings.HasPrefix(v, "!")
	ports, err := parsePortList(strings.TrimPrefix(v, "!"))
	if err != nil {
		return err
	}
	x.i += 3
	x.add(Match{Kind: kind, Proto: x.prot, Ports: ports, Negate: n}, start)
	return nil
}

// owner reads "owner UID match 1337" (or GID).
func (x *listExtras) owner(start int, neg bool) error {
	w, i := x.w, x.i
	if i+3 >= len(w) || w[i+2] != "match" || (w[i+1] != "UID" && w[i+1] != "GID") {
		x.i = len(w)
		x.add(Match{Kind: MatchUnknown}, start)
		return nil
	}
	ids, err := parseIDRange(w[i+3])
	kind := MatchUID
	if w[i+1] == "GID" {
		kind = MatchGID
	}
	x.i += 4
	if err != nil {
		x.add(Match{Kind: MatchUnknown}, start)
		return nil
	}
	x.add(Match{Kind: kind, IDs: ids, Negate: neg}, start)
	return nil
}

// mark reads "mark|connmark match [!] 0x539[/0xff]".
func (x *listExtras) mark(start int, neg bool) error {
	w := x.w
	if x.i+2 >= len(w) || w[x.i+1] != "match" {
		return fmt.Errorf("%s: want 'match'", w[x.i])
	}
	kind := MatchMark
	if w[x.i] == "connmark" {
		kind = MatchConnMark
	}
	x.i += 2
	if w[x.i] == "!" {
		neg = true
		x.i++
		if x.i >= len(w) {
			return errors.New("mark match needs a value")
		}
	}
	v, m, err := parseMarkMask(w[x.i])
	if err != nil {
		return err
	}
	x.i++
	x.add(Match{Kind: kind, Value: v & m, Mask: m, Negate: neg}, start)
	return nil
}

// ctstate reads "ctstate|state S1,S2".
func (x *listExtras) ctstate(start int, neg bool) error {
	if x.i+1 >= len(x.w) {
		return errors.New("ctstate needs states")
	}
	x.i += 2
	x.add(Match{Kind: MatchCTState, States: strings.Split(x.w[x.i-1], ","), Negate: neg}, start)
	return nil
}

// comment reads "/* text */".
func (x *listExtras) comment(start int, _ bool) error {
	for x.i < len(x.w) && x.w[x.i] != "*/" {
		x.i++
	}
	if x.i == len(x.w) {
		return errors.New("unterminated /* comment */")
	}
	x.i++
	x.add(Match{Kind: MatchComment}, start)
	return nil
}
