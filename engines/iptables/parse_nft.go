package iptables

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseNft reads `nft list ruleset` output, or an nft script of add/insert
// commands such as Istio's native nftables mode prints.
func ParseNft(data []byte) (*Ruleset, error) {
	p := &nftParser{rs: &Ruleset{Format: FormatNft}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, &ParseError{Format: FormatNft, Line: p.line, Text: strings.TrimSpace(sc.Text()), Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &ParseError{Format: FormatNft, Line: p.line + 1, Err: err}
	}
	if p.depth != 0 {
		return nil, &ParseError{Format: FormatNft, Line: p.line, Err: errors.New("unclosed block (missing })")}
	}
	if len(p.rs.Tables) == 0 {
		return nil, &ParseError{Format: FormatNft, Line: p.line, Err: errors.New("no table found")}
	}
	if err := checkNftJumps(p.rs, FormatNft); err != nil {
		return nil, err
	}
	return p.rs, nil
}

// checkNftJumps names the first jump or goto to a chain its table does not
// have (both nft forms).
func checkNftJumps(rs *Ruleset, format Format) error {
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				for _, a := range r.Actions {
					if (a.Kind == ActionJump || a.Kind == ActionGoto) && t.Chain(a.Chain) == nil {
						return &ParseError{Format: format, Line: r.Line, Text: r.Text, Err: fmt.Errorf("jump to chain %q which does not exist in table %s %s", a.Chain, t.Family, t.Name)}
					}
				}
			}
		}
	}
	return nil
}

type nftParser struct {
	rs    *Ruleset
	line  int
	depth int
	table *Table
	chain *Chain
	skip  int // depth of a set/map/flowtable block being skipped
}

func (p *nftParser) findTable(fam, name string) *Table {
	return findNftTable(p.rs, fam, name)
}

// findNftTable returns the table of exactly that family and name, or nil.
func findNftTable(rs *Ruleset, fam, name string) *Table {
	for _, t := range rs.Tables {
		if string(t.Family) == fam && t.Name == name {
			return t
		}
	}
	return nil
}

func (p *nftParser) getTable(fam, name string) (*Table, error) {
	switch fam {
	case "ip", "ip6", "inet":
	case "arp", "bridge", "netdev":
		return nil, fmt.Errorf("table family %q is not simulated", fam)
	default:
		return nil, fmt.Errorf("unknown table family %q", fam)
	}
	if t := p.findTable(fam, name); t != nil {
		return t, nil
	}
	t := &Table{Family: Family(fam), Name: name, Line: p.line}
	p.rs.Tables = append(p.rs.Tables, t)
	return t, nil
}

func (p *nftParser) getChain(t *Table, name string) *Chain {
	if c := t.Chain(name); c != nil {
		return c
	}
	c := &Chain{Name: name, Line: p.line}
	t.Chains = append(t.Chains, c)
	return c
}

func (p *nftParser) parseLine(raw string) error {
	line := strings.TrimSpace(raw)
	if i := strings.Index(line, "#"); i == 0 {
		return nil
	}
	if line == "" {
		return nil
	}
	if p.skip > 0 {
		p.skip += strings.Count(line, "{") - strings.Count(line, "}")
		if p.skip <= 0 {
			p.skip = 0
			p.depth--
		}
		return nil
	}
	toks, err := nftTokens(line)
	if err != nil {
		return err
	}
	switch {
	case line == "}":
		return p.closeBlock()
	case toks[0] == "table" && p.depth == 0:
		return p.openTable(toks)
	case p.depth == 1:
		if ok, err := p.tableLine(toks); ok {
			return err
		}
	case p.depth == 2:
		if toks[0] == "type" || toks[0] == "policy" || toks[0] == "comment" || toks[0] == "devices" {
			return parseChainHead(p.chain, toks)
		}
		return p.addRule(p.table, p.chain, toks, -1)
	case p.depth == 0:
		return p.command(toks)
	}
	return fmt.Errorf("unexpected %q", line)
}

// closeBlock reads "}", which closes a chain or a table.
func (p *nftParser) closeBlock() error {
	if p.depth == 0 {
		return errors.New("} without an open block")
	}
	p.depth--
	if p.chain != nil {
		p.chain = nil
	} else {
		p.table = nil
	}
	return nil
}

// openTable reads "table FAMILY NAME [{]".
func (p *nftParser) openTable(toks []string) error {
	if len(toks) < 3 || (len(toks) == 4 && toks[3] != "{") {
		return errors.New("want: table FAMILY NAME {")
	}
	t, err := p.getTable(toks[1], toks[2])
	if err != nil {
		return err
	}
	if len(toks) == 4 {
		p.table, p.depth = t, 1
	}
	return nil
}

// nftTableObjects are the objects of a table block other than chains; a
// block of theirs is skipped.
var nftTableObjects = map[string]bool{
	"set": true, "map": true, "flowtable": true, "counter": true, "quota": true,
	"ct": true, "limit": true, "secmark": true, "synproxy": true,
}

// tableLine reads a line inside a table block; ok is false for a line it
// does not know.
func (p *nftParser) tableLine(toks []string) (ok bool, err error) {
	switch {
	case toks[0] == "chain":
		if len(toks) != 3 || toks[2] != "{" {
			return true, errors.New("want: chain NAME {")
		}
		p.chain, p.depth = p.getChain(p.table, toks[1]), 2
		return true, nil
	case nftTableObjects[toks[0]]:
		if toks[len(toks)-1] == "{" {
			p.depth++
			p.skip = 1
		}
		return true, nil
	case toks[0] == "flags" || toks[0] == "comment":
		return true, nil
	}
	return false, nil
}

// command handles script syntax: add/insert/flush/delete/create.
func (p *nftParser) command(toks []string) error {
	verb := toks[0]
	if verb == "flush" && len(toks) >= 2 && toks[1] == "ruleset" {
		p.rs.Tables = nil
		return nil
	}
	if len(toks) < 4 && !(len(toks) == 3 && toks[1] == "table") {
		return fmt.Errorf("unknown statement %q", strings.Join(toks, " "))
	}
	obj := toks[1]
	switch verb {
	case "add", "create", "insert", "flush", "delete", "destroy":
	default:
		return fmt.Errorf("unknown command %q", verb)
	}
	if obj == "table" {
		return p.tableCommand(verb, toks)
	}
	if len(toks) < 5 {
		return errors.New("want: " + verb + " " + obj + " FAMILY TABLE CHAIN ...")
	}
	t, err := p.getTable(toks[2], toks[3])
	if err != nil {
		return err
	}
	switch obj {
	case "chain":
		return p.chainCommand(verb, t, toks)
	case "rule":
		return p.ruleCommand(verb, t, toks)
	}
	return fmt.Errorf("unknown object %q", obj)
}

// tableCommand handles "VERB table [FAMILY] NAME".
func (p *nftParser) tableCommand(verb string, toks []string) error {
	if len(toks) < 4 {
		toks = append(toks, "")
	}
	fam, name := toks[2], toks[3]
	if len(toks) == 4 && name == "" {
		fam, name = "ip", toks[2]
	}
	switch verb {
	case "add", "create":
		_, err := p.getTable(fam, name)
		return err
	case "flush":
		if t := p.findTable(fam, name); t != nil {
			for _, c := range t.Chains {
				c.Rules = nil
			}
		}
		return nil
	}
	for i, t := range p.rs.Tables {
		if string(t.Family) == fam && t.Name == name {
			p.rs.Tables = append(p.rs.Tables[:i], p.rs.Tables[i+1:]...)
			break
		}
	}
	return nil
}

// chainCommand handles "VERB chain FAMILY TABLE NAME [{ HEAD }]".
func (p *nftParser) chainCommand(verb string, t *Table, toks []string) error {
	c := p.getChain(t, toks[4])
	if verb == "flush" {
		c.Rules = nil
		return nil
	}
	rest := toks[5:]
	if len(rest) > 0 {
		if rest[0] != "{" || rest[len(rest)-1] != "}" {
			return errors.New("chain definition must be in { }")
		}
		return parseChainHead(c, rest[1:len(rest)-1])
	}
	return nil
}

// ruleCommand handles "add|insert rule FAMILY TABLE CHAIN [index N] EXPR...".
func (p *nftParser) ruleCommand(verb string, t *Table, toks []string) error {
	c := t.Chain(toks[4])
	if c == nil {
		return fmt.Errorf("chain %q does not exist in table %s %s", toks[4], t.Family, t.Name)
	}
	expr := toks[5:]
	pos := -1
	if verb == "insert" {
		pos = 0
	}
	if len(expr) >= 2 && (expr[0] == "index" || expr[0] == "position" || expr[0] == "handle") {
		n, err := strconv.Atoi(expr[1])
		if err != nil {
			return fmt.Errorf("bad %s %q", expr[0], expr[1])
		}
		if expr[0] != "index" {
			return fmt.Errorf("%s is not supported (rule handles are not known)", expr[0])
		}
		if n < 0 || n > len(c.Rules) {
			return fmt.Errorf("index %d out of range 0..%d", n, len(c.Rules))
		}
		pos = n
		if verb == "add" {
			pos = n + 1
		}
		expr = expr[2:]
	}
	return p.addRule(t, c, expr, pos)
}

// parseChainHead reads "type nat hook output priority -100 ; policy accept ;".
func parseChainHead(c *Chain, toks []string) error {
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case ";":
		case "type":
			if i+4 >= len(toks) || toks[i+2] != "hook" {
				return errors.New("want: type TYPE hook HOOK priority PRIO")
			}
			c.Type, c.Hook = toks[i+1], Hook(toks[i+3])
			if c.Policy == "" {
				c.Policy = "ACCEPT"
			}
			i += 3
			if toks[i+1] == "device" && i+3 < len(toks) {
				i += 2
			}
			if i+2 >= len(toks) || toks[i+1] != "priority" {
				return errors.New("want: priority after hook")
			}
			i += 2
			prio, used, err := parsePriority(toks[i:])
			if err != nil {
				return err
			}
			c.Priority = prio
			i += used - 1
		case "policy":
			if i+1 >= len(toks) {
				return errors.New("policy needs a value")
			}
			switch toks[i+1] {
			case "accept":
				c.Policy = "ACCEPT"
			case "drop":
				c.Policy = "DROP"
			default:
				return fmt.Errorf("policy %q", toks[i+1])
			}
			i++
		case "comment":
			i++
		case "devices", "device":
			for i < len(toks) && toks[i] != ";" {
				i++
			}
		default:
			return fmt.Errorf("unexpected %q in chain definition", toks[i])
		}
	}
	return nil
}

// parsePriority reads "-100", "dstnat", "mangle - 1".
func parsePriority(t []string) (int, int, error) {
	if len(t) == 0 {
		return 0, 0, errors.New("missing priority")
	}
	base, ok := nftPriorities[t[0]]
	if !ok {
		n, err := strconv.Atoi(strings.TrimSuffix(t[0], ";"))
		if err != nil {
			return 0, 0, fmt.Errorf("bad priority %q", t[0])
		}
		return n, 1, nil
	}
	if len(t) >= 3 && (t[1] == "+" || t[1] == "-") {
		n, err := strconv.Atoi(t[2])
		if err == nil {
			if t[1] == "-" {
				n = -n
			}
			return base + n, 3, nil
		}
	}
	return base, 1, nil
}

// nftTokens splits a line into words, braces, commas and semicolons;
// quoted strings lose their quotes.
func nftTokens(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t':
			flush()
		case '{', '}', ',', ';':
			flush()
			out = append(out, string(c))
		case '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	if len(out) == 0 {
		return nil, errors.New("empty line")
	}
	return out, nil
}

func (p *nftParser) addRule(t *Table, c *Chain, toks []string, pos int) error {
	if t == nil || c == nil {
		return errors.New("rule outside a chain")
	}
	r, err := parseNftRule(toks, t.Family)
	if err != nil {
		return err
	}
	r.Line = p.line
	if pos < 0 || pos >= len(c.Rules) {
		c.Rules = append(c.Rules, r)
		return nil
	}
	c.Rules = append(c.Rules, nil)
	copy(c.Rules[pos+1:], c.Rules[pos:])
	c.Rules[pos] = r
	return nil
}

// joinNft renders tokens back as nft text.
func joinNft(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && t != "," && t != ";" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

var unqualifiedMeta = map[string]bool{"skuid": true, "skgid": true, "mark": true, "iifname": true, "oifname": true, "iif": true, "oif": true, "l4proto": true, "nfproto": true, "protocol": true}

// nftRuleParser walks one rule's tokens; i is the next token to read.
type nftRuleParser struct {
	toks []string
	i    int
}

// nftWholeError is an error that already names its expression: parseNftRule
// returns it as is.
type nftWholeError struct{ err error }

func (e nftWholeError) Error() string { return e.err.Error() }

// nftStmtHandler reads the statement tok (already consumed); a nil action
// with a nil error is a statement the simulator skips (counter, comment).
type nftStmtHandler func(p *nftRuleParser, tok string) (*Action, error)

// nftStmts maps each statement keyword to its handler; any other token is
// read by matchExpr.
var nftStmts = map[string]nftStmtHandler{
	"counter":  (*nftRuleParser).counterStmt,
	"comment":  (*nftRuleParser).commentStmt,
	"accept":   (*nftRuleParser).verdictStmt,
	"drop":     (*nftRuleParser).verdictStmt,
	"return":   (*nftRuleParser).verdictStmt,
	"reject":   (*nftRuleParser).rejectStmt,
	"log":      (*nftRuleParser).logStmt,
	"jump":     (*nftRuleParser).jumpStmt,
	"goto":     (*nftRuleParser).jumpStmt,
	"redirect": (*nftRuleParser).natStmt,
	"dnat":     (*nftRuleParser).natStmt,
	"tproxy":   (*nftRuleParser).natStmt,
}

// parseNftRule reads one rule's expressions and statements.
func parseNftRule(toks []string, fam Family) (*Rule, error) {
	r := &Rule{Text: joinNft(toks)}
	p := &nftRuleParser{toks: toks}
	for p.i < len(toks) {
		start := p.i
		tok, _ := p.next()
		m, a, err := p.expr(tok)
		if errors.Is(err, errUnknownExpr) {
			addUnknownNft(r, toks, start, tok)
			return r, nil
		}
		var whole nftWholeError
		if errors.As(err, &whole) {
			return nil, whole.err
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", joinNft(toks[start:min(p.i+1, len(toks))]), err)
		}
		raw := joinNft(toks[start:p.i])
		if m != nil {
			m.Raw = raw
			r.Matches = append(r.Matches, *m)
		}
		if a != nil {
			a.Raw = raw
			r.Actions = append(r.Actions, *a)
		}
	}
	return r, nil
}

// addUnknownNft keeps the rest of the rule from start verbatim: an unknown
// expression's extent is not known.
func addUnknownNft(r *Rule, toks []string, start int, tok string) {
	raw := joinNft(toks[start:])
	if isStatement(tok) || (tok == "xt" && start+1 < len(toks) && toks[start+1] == "target") {
		r.Actions = append(r.Actions, Action{Kind: ActionUnknown, Raw: raw})
	} else {
		r.Matches = append(r.Matches, Match{Kind: MatchUnknown, Raw: raw})
	}
}

// next returns the next token; false at the end.
func (p *nftRuleParser) next() (string, bool) {
	if p.i >= len(p.toks) {
		return "", false
	}
	p.i++
	return p.toks[p.i-1], true
}

// peekIs reports whether the token off places ahead is want.
func (p *nftRuleParser) peekIs(off int, want string) bool {
	return p.i+off < len(p.toks) && p.toks[p.i+off] == want
}

// value reads an optional operator and a value or { set }.
func (p *nftRuleParser) value() (neg bool, vals []string, err error) {
	toks := p.toks
	if p.i < len(toks) && (toks[p.i] == "!=" || toks[p.i] == "==") {
		neg = toks[p.i] == "!="
		p.i++
	}
	if p.i >= len(toks) {
		return false, nil, errors.New("missing value")
	}
	if toks[p.i] == "{" {
		p.i++
		for p.i < len(toks) && toks[p.i] != "}" {
			if toks[p.i] != "," {
				vals = append(vals, toks[p.i])
			}
			p.i++
		}
		if p.i >= len(toks) {
			return false, nil, errors.New("unclosed {")
		}
		p.i++
		return neg, vals, nil
	}
	if t := toks[p.i]; strings.HasPrefix(t, "@") || t == "&" || t == "|" || t == ">" || t == "<" || t == ">=" || t == "<=" {
		return false, nil, errUnknownExpr
	}
	v := toks[p.i]
	p.i++
	// a comma-separated list without braces (ct state established,related)
	for p.i+1 < len(toks) && toks[p.i] == "," {
		v += "," + toks[p.i+1]
		p.i += 2
	}
	return neg, strings.Split(v, ","), nil
}

// expr reads one expression or statement whose first token tok is
// already consumed.
func (p *nftRuleParser) expr(tok string) (*Match, *Action, error) {
	if h, ok := nftStmts[tok]; ok {
		a, err := h(p, tok)
		return nil, a, err
	}
	return p.matchExpr(tok)
}

// matchExpr reads a match, or a "set" statement on meta, mark or ct.
func (p *nftRuleParser) matchExpr(tok string) (*Match, *Action, error) {
	var m *Match
	var a *Action
	var err error
	switch {
	case tok == "meta" && p.peekIs(1, "set"):
		a, err = nftSetStmt(p.toks, &p.i, "meta")
	case tok == "meta":
		k, _ := p.next()
		m, err = nftMeta(k, p.value)
	case unqualifiedMeta[tok] && !p.peekIs(0, "set"):
		m, err = nftMeta(tok, p.value)
	case tok == "mark" && p.peekIs(0, "set"):
		p.i--
		a, err = nftSetStmt(p.toks, &p.i, "meta")
	case tok == "ip" || tok == "ip6":
		f, _ := p.next()
		m, err = nftIP(tok, f, p.value)
	case tok == "tcp" || tok == "udp" || tok == "th":
		f, _ := p.next()
		m, err = nftPort(tok, f, p.value)
	case tok == "ct" && p.peekIs(1, "set"):
		a, err = nftSetStmt(p.toks, &p.i, "ct")
	case tok == "ct":
		k, _ := p.next()
		m, err = nftCt(k, p.value)
	default:
		err = errUnknownExpr
	}
	return m, a, err
}

// counterStmt skips "counter [packets N bytes N]".
func (p *nftRuleParser) counterStmt(string) (*Action, error) {
	if p.i+3 < len(p.toks) && p.peekIs(0, "packets") {
		p.i += 4
	}
	return nil, nil
}

// commentStmt skips "comment TEXT".
func (p *nftRuleParser) commentStmt(string) (*Action, error) {
	p.i++
	return nil, nil
}

func (p *nftRuleParser) verdictStmt(tok string) (*Action, error) {
	return &Action{Kind: map[string]ActionKind{"accept": ActionAccept, "drop": ActionDrop, "return": ActionReturn}[tok]}, nil
}

// rejectStmt reads "reject" and ignores its options (the rest of the rule).
func (p *nftRuleParser) rejectStmt(string) (*Action, error) {
	p.i = len(p.toks)
	return &Action{Kind: ActionReject}, nil
}

func (p *nftRuleParser) logStmt(string) (*Action, error) {
	for p.i < len(p.toks) && (p.toks[p.i] == "prefix" || p.toks[p.i] == "level" || p.toks[p.i] == "group" || p.toks[p.i] == "flags") {
		p.i += 2
	}
	return &Action{Kind: ActionLog}, nil
}

func (p *nftRuleParser) jumpStmt(tok string) (*Action, error) {
	ch, ok := p.next()
	if !ok {
		return nil, nftWholeError{errors.New(tok + " needs a chain")}
	}
	k := ActionJump
	if tok == "goto" {
		k = ActionGoto
	}
	return &Action{Kind: k, Chain: ch}, nil
}

func (p *nftRuleParser) natStmt(tok string) (*Action, error) {
	return nftNAT(tok, p.toks, &p.i)
}

var errUnknownExpr = errors.New("expression not modelled")

func isStatement(tok string) bool {
	switch tok {
	case "snat", "masquerade", "queue", "limit", "quota", "notrack", "dup", "fwd", "set", "update", "add", "synproxy", "numgen", "symhash", "jhash":
		return true
	}
	return false
}

func parseNum32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return uint32(n), nil
}

type valueFn func() (bool, []string, error)

func nftMeta(key string, value valueFn) (*Match, error) {
	neg, vals, err := value()
	if err != nil {
		return nil, err
	}
	switch key {
	case "l4proto", "protocol":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		return &Match{Kind: MatchProto, Proto: normProto(vals[0]), Negate: neg}, nil
	case "nfproto":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		f := map[string]Family{"ipv4": FamilyIPv4, "ipv6": FamilyIPv6}[vals[0]]
		if f == "" {
			return nil, errUnknownExpr
		}
		return &Match{Kind: MatchFamily, Family: f, Negate: neg}, nil
	case "skuid", "skgid":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		ids, err := parseIDRange(vals[0])
		if err != nil {
			return nil, errUnknownExpr
		}
		k := MatchUID
		if key == "skgid" {
			k = MatchGID
		}
		return &Match{Kind: k, IDs: ids, Negate: neg}, nil
	case "mark":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		v, err := parseNum32(vals[0])
		if err != nil {
			return nil, err
		}
		return &Match{Kind: MatchMark, Value: v, Mask: 0xffffffff, Negate: neg}, nil
	case "iifname", "oifname", "iif", "oif":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		k := MatchInIface
		if key[0] == 'o' {
			k = MatchOutIface
		}
		name := vals[0]
		if strings.HasSuffix(name, "*") {
			name = strings.TrimSuffix(name, "*") + "+"
		}
		return &Match{Kind: k, Iface: name, Negate: neg}, nil
	}
	return nil, errUnknownExpr
}

func nftIP(proto, field string, value valueFn) (*Match, error) {
	neg, vals, err := value()
	if err != nil {
		return nil, err
	}
	switch field {
	case "saddr", "daddr":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		pfx, err := parsePrefix(vals[0])
		if err != nil {
			return nil, err
		}
		if pfx.Addr().Is4() != (proto == "ip") {
			return nil, fmt.Errorf("%s address %s is of the wrong family", proto, vals[0])
		}
		k := MatchSrc
		if field == "daddr" {
			k = MatchDst
		}
		return &Match{Kind: k, Prefix: pfx, Negate: neg}, nil
	case "protocol", "nexthdr":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		return &Match{Kind: MatchProto, Proto: normProto(vals[0]), Negate: neg}, nil
	}
	return nil, errUnknownExpr
}

func nftPort(proto, field string, value valueFn) (*Match, error) {
	if field != "dport" && field != "sport" {
		return nil, errUnknownExpr
	}
	neg, vals, err := value()
	if err != nil {
		return nil, err
	}
	var ports []PortRange
	for _, v := range vals {
		pr, err := parsePortRange(v)
		if err != nil {
			return nil, err
		}
		ports = append(ports, pr)
	}
	k := MatchDPort
	if field == "sport" {
		k = MatchSPort
	}
	if proto == "th" {
		proto = ""
	}
	return &Match{Kind: k, Proto: proto, Ports: ports, Negate: neg}, nil
}

func nftCt(key string, value valueFn) (*Match, error) {
	neg, vals, err := value()
	if err != nil {
		return nil, err
	}
	switch key {
	case "state":
		st := make([]string, len(vals))
		for i, v := range vals {
			st[i] = strings.ToUpper(v)
		}
		return &Match{Kind: MatchCTState, States: st, Negate: neg}, nil
	case "mark":
		if len(vals) != 1 {
			return nil, errUnknownExpr
		}
		v, err := parseNum32(vals[0])
		if err != nil {
			return nil, err
		}
		return &Match{Kind: MatchConnMark, Value: v, Mask: 0xffffffff, Negate: neg}, nil
	}
	return nil, errUnknownExpr
}

// nftSetStmt reads "meta mark set X", "ct mark set mark", "ct zone set N";
// *i points at the key.
func nftSetStmt(toks []string, i *int, obj string) (*Action, error) {
	if *i+2 >= len(toks) {
		return nil, errors.New("incomplete set statement")
	}
	key := toks[*i]
	*i += 2 // key, "set"
	src := toks[*i]
	*i++
	if src == "meta" || src == "ct" {
		if *i >= len(toks) {
			return nil, errors.New("incomplete set statement")
		}
		src += " " + toks[*i]
		*i++
	}
	switch {
	case obj == "meta" && key == "mark":
		if src == "ct mark" {
			return &Action{Kind: ActionConnMark, ConnMarkOp: ConnMarkRestore, NfMask: 0xffffffff, CtMask: 0xffffffff}, nil
		}
		v, err := parseNum32(src)
		if err != nil {
			return nil, errUnknownExpr
		}
		return &Action{Kind: ActionMark, Value: v, Mask: 0xffffffff}, nil
	case obj == "ct" && key == "mark":
		if src == "mark" || src == "meta mark" {
			return &Action{Kind: ActionConnMark, ConnMarkOp: ConnMarkSave, NfMask: 0xffffffff, CtMask: 0xffffffff}, nil
		}
		v, err := parseNum32(src)
		if err != nil {
			return nil, errUnknownExpr
		}
		return &Action{Kind: ActionConnMark, ConnMarkOp: ConnMarkSet, Value: v, Mask: 0xffffffff}, nil
	case obj == "ct" && key == "zone":
		z, err := strconv.ParseUint(src, 10, 16)
		if err != nil {
			return nil, errUnknownExpr
		}
		return &Action{Kind: ActionCT, Zone: uint16(z)}, nil
	}
	return nil, errUnknownExpr
}

// nftNAT reads "redirect [to :PORT]", "dnat [ip|ip6] to ADDR[:PORT]",
// "tproxy [ip|ip6] to [ADDR]:PORT".
func nftNAT(kind string, toks []string, i *int) (*Action, error) {
	a := &Action{Kind: map[string]ActionKind{"redirect": ActionRedirect, "dnat": ActionDNAT, "tproxy": ActionTPROXY}[kind]}
	if *i < len(toks) && (toks[*i] == "ip" || toks[*i] == "ip6") {
		*i++
	}
	if *i >= len(toks) || toks[*i] != "to" {
		if kind == "redirect" {
			return a, nil
		}
		return nil, errors.New(kind + " needs: to ADDR:PORT")
	}
	*i++
	if *i >= len(toks) {
		return nil, errors.New(kind + " to: missing address")
	}
	to := toks[*i]
	*i++
	if strings.HasPrefix(to, ":") {
		p, err := parsePortRange(to[1:])
		if err != nil {
			return nil, err
		}
		a.Ports = p
		return a, nil
	}
	if kind == "redirect" {
		p, err := parsePortRange(to)
		if err != nil {
			return nil, err
		}
		a.Ports = p
		return a, nil
	}
	addr, pr, err := parseNATTo(to)
	if err != nil {
		return nil, err
	}
	a.Addr, a.Ports = addr, pr
	if !addr.IsValid() {
		return nil, fmt.Errorf("bad address %q", to)
	}
	return a, nil
}
