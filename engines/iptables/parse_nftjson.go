package iptables

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ParseNftJSON reads `nft -j list ruleset` output. Rules are converted to
// the same model as the text form; their Text is rendered in nft syntax.
func ParseNftJSON(data []byte) (*Ruleset, error) {
	rs := &Ruleset{Format: FormatNftJSON}
	jr := newJSONReader(data)
	if err := jr.expect('{'); err != nil {
		return nil, err
	}
	found := false
	for jr.dec.More() {
		tok, err := jr.dec.Token()
		if err != nil {
			return nil, jr.fail(jr.dec.InputOffset(), err)
		}
		if tok != "nftables" {
			var skip json.RawMessage
			if err := jr.dec.Decode(&skip); err != nil {
				return nil, jr.fail(jr.dec.InputOffset(), err)
			}
			continue
		}
		found = true
		if err := jr.readArray(rs); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, jr.fail(0, errors.New(`no "nftables" array`))
	}
	if err := checkNftJumps(rs, FormatNftJSON); err != nil {
		return nil, err
	}
	return rs, nil
}

// jsonReader streams a JSON document and maps byte offsets to lines.
type jsonReader struct {
	dec      *json.Decoder
	data     []byte
	newlines []int64 // offsets of the newlines in data
}

func newJSONReader(data []byte) *jsonReader {
	jr := &jsonReader{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	jr.dec.UseNumber()
	for i, c := range data {
		if c == '\n' {
			jr.newlines = append(jr.newlines, int64(i))
		}
	}
	return jr
}

func (jr *jsonReader) lineAt(off int64) int {
	n, _ := slices.BinarySearch(jr.newlines, off)
	return n + 1
}

func (jr *jsonReader) fail(off int64, err error) error {
	return &ParseError{Format: FormatNftJSON, Line: jr.lineAt(off), Err: err}
}

// expect reads the delimiter want.
func (jr *jsonReader) expect(want json.Delim) error {
	tok, err := jr.dec.Token()
	if err != nil {
		return jr.fail(jr.dec.InputOffset(), err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return jr.fail(jr.dec.InputOffset(), fmt.Errorf("want %q, got %v", want, tok))
	}
	return nil
}

// readArray reads the "nftables" array's objects into rs.
func (jr *jsonReader) readArray(rs *Ruleset) error {
	if err := jr.expect('['); err != nil {
		return err
	}
	for jr.dec.More() {
		off := jr.dec.InputOffset()
		for off < int64(len(jr.data)) && strings.IndexByte(" \t\r\n,", jr.data[off]) >= 0 {
			off++
		}
		var obj map[string]json.RawMessage
		if err := jr.dec.Decode(&obj); err != nil {
			return jr.fail(jr.dec.InputOffset(), err)
		}
		line := jr.lineAt(off)
		if err := addJSONObject(rs, obj, line); err != nil {
			return &ParseError{Format: FormatNftJSON, Line: line, Err: err}
		}
	}
	return jr.expect(']')
}

type jsonChain struct {
	Family string      `json:"family"`
	Table  string      `json:"table"`
	Name   string      `json:"name"`
	Type   string      `json:"type"`
	Hook   string      `json:"hook"`
	Prio   json.Number `json:"prio"`
	Policy string      `json:"policy"`
}

type jsonRule struct {
	Family string            `json:"family"`
	Table  string            `json:"table"`
	Chain  string            `json:"chain"`
	Expr   []json.RawMessage `json:"expr"`
}

// jsonObjHandler adds one object of the "nftables" array to rs.
type jsonObjHandler func(rs *Ruleset, body json.RawMessage, line int) error

// jsonObjHandlers maps each object kind to its handler; the kinds that do
// not change routing are skipped.
var jsonObjHandlers = map[string]jsonObjHandler{
	"table": addJSONTable,
	"chain": addJSONChain,
	"rule":  addJSONRule,
}

// jsonSkipped lists the object kinds that are read and ignored.
var jsonSkipped = map[string]bool{
	"metainfo": true, "set": true, "map": true, "element": true, "flowtable": true, "counter": true,
	"quota": true, "ct helper": true, "limit": true, "secmark": true, "synproxy": true,
}

func addJSONObject(rs *Ruleset, obj map[string]json.RawMessage, line int) error {
	for kind, body := range obj {
		if jsonSkipped[kind] {
			continue
		}
		h, ok := jsonObjHandlers[kind]
		if !ok {
			return fmt.Errorf("unknown object %q", kind)
		}
		if err := h(rs, body, line); err != nil {
			return err
		}
	}
	return nil
}

// simulatedFamily: arp, bridge and netdev tables are not simulated.
func simulatedFamily(fam string) bool {
	return fam == "ip" || fam == "ip6" || fam == "inet"
}

func addJSONTable(rs *Ruleset, body json.RawMessage, line int) error {
	var t struct{ Family, Name string }
	if err := json.Unmarshal(body, &t); err != nil {
		return err
	}
	if !simulatedFamily(t.Family) {
		return nil
	}
	if findNftTable(rs, t.Family, t.Name) == nil {
		rs.Tables = append(rs.Tables, &Table{Family: Family(t.Family), Name: t.Name, Line: line})
	}
	return nil
}

func addJSONChain(rs *Ruleset, body json.RawMessage, line int) error {
	var c jsonChain
	if err := json.Unmarshal(body, &c); err != nil {
		return err
	}
	t := findNftTable(rs, c.Family, c.Table)
	if t == nil {
		if !simulatedFamily(c.Family) {
			return nil
		}
		return fmt.Errorf("chain %s in undeclared table %s %s", c.Name, c.Family, c.Table)
	}
	ch := &Chain{Name: c.Name, Line: line}
	if c.Hook != "" {
		ch.Hook, ch.Type, ch.Policy = Hook(c.Hook), c.Type, "ACCEPT"
		if c.Policy == "drop" {
			ch.Policy = "DROP"
		}
		if p, err := strconv.Atoi(c.Prio.String()); err == nil {
			ch.Priority = p
		} else if p, ok := nftPriorities[c.Prio.String()]; ok {
			ch.Priority = p
		}
	}
	t.Chains = append(t.Chains, ch)
	return nil
}

func addJSONRule(rs *Ruleset, body json.RawMessage, line int) error {
	var r jsonRule
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	t := findNftTable(rs, r.Family, r.Table)
	if t == nil {
		if !simulatedFamily(r.Family) {
			return nil
		}
		return fmt.Errorf("rule in undeclared table %s %s", r.Family, r.Table)
	}
	c := t.Chain(r.Chain)
	if c == nil {
		return fmt.Errorf("rule in undeclared chain %s", r.Chain)
	}
	rule, err := jsonRuleToModel(r.Expr)
	if err != nil {
		return err
	}
	rule.Line = line
	c.Rules = append(c.Rules, rule)
	return nil
}

func jsonRuleToModel(exprs []json.RawMessage) (*Rule, error) {
	r := &Rule{}
	var texts []string
	for _, raw := range exprs {
		var e map[string]json.RawMessage
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("expression %s: %w", raw, err)
		}
		if len(e) != 1 {
			return nil, fmt.Errorf("expression %s: want one key", raw)
		}
		for k, v := range e {
			text, m, a, err := jsonExpr(k, v)
			if err != nil {
				return nil, fmt.Errorf("expression %s: %w", raw, err)
			}
			if text == "" {
				continue
			}
			texts = append(texts, text)
			if m != nil {
				m.Raw = text
				r.Matches = append(r.Matches, *m)
			}
			if a != nil {
				a.Raw = text
				r.Actions = append(r.Actions, *a)
			}
		}
	}
	r.Text = strings.Join(texts, " ")
	return r, nil
}

// jsonValue renders a right-hand side in nft text syntax.
func jsonValue(v json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), nil
	}
	var list []json.RawMessage
	if json.Unmarshal(v, &list) == nil {
		parts := make([]string, len(list))
		for i, x := range list {
			p, err := jsonValue(x)
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return strings.Join(parts, ","), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return "", fmt.Errorf("value %s", v)
	}
	if s, ok := obj["set"]; ok {
		return jsonSetValue(s)
	}
	if p, ok := obj["prefix"]; ok {
		return jsonPrefixValue(p)
	}
	if rg, ok := obj["range"]; ok {
		return jsonRangeValue(rg)
	}
	if m, ok := obj["meta"]; ok {
		return jsonKeyValue("meta ", m), nil
	}
	if m, ok := obj["ct"]; ok {
		return jsonKeyValue("ct ", m), nil
	}
	return "", errUnknownExpr
}

func jsonSetValue(s json.RawMessage) (string, error) {
	inner, err := jsonValue(s)
	if err != nil {
		return "", err
	}
	return "{ " + strings.ReplaceAll(inner, ",", ", ") + " }", nil
}

func jsonPrefixValue(p json.RawMessage) (string, error) {
	var pf struct {
		Addr string      `json:"addr"`
		Len  json.Number `json:"len"`
	}
	if err := json.Unmarshal(p, &pf); err != nil {
		return "", err
	}
	return pf.Addr + "/" + pf.Len.String(), nil
}

func jsonRangeValue(rg json.RawMessage) (string, error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(rg, &pair); err != nil || len(pair) != 2 {
		return "", fmt.Errorf("range %s", rg)
	}
	a, err1 := jsonValue(pair[0])
	b, err2 := jsonValue(pair[1])
	if err1 != nil || err2 != nil {
		return "", fmt.Errorf("range %s", rg)
	}
	return a + "-" + b, nil
}

// jsonKeyValue renders {"meta": {"key": K}} and {"ct": {"key": K}}.
func jsonKeyValue(prefix string, m json.RawMessage) string {
	var k struct{ Key string }
	_ = json.Unmarshal(m, &k)
	return prefix + k.Key
}

// jsonTextHandler renders one JSON expression as nft text; known false
// means the engine does not model it (it is then kept as unknown).
type jsonTextHandler func(kind string, v json.RawMessage) (text string, known bool, err error)

// jsonTextHandlers maps each JSON expression kind the engine models to its
// renderer; "counter" is skipped and any other kind is unknown.
var jsonTextHandlers = map[string]jsonTextHandler{
	"match":    jsonMatchText,
	"accept":   jsonKindText,
	"drop":     jsonKindText,
	"return":   jsonKindText,
	"reject":   jsonKindText,
	"log":      jsonKindText,
	"jump":     jsonJumpText,
	"goto":     jsonJumpText,
	"redirect": jsonNATText,
	"dnat":     jsonNATText,
	"tproxy":   jsonNATText,
	"mangle":   jsonMangleText,
}

// jsonExpr converts one expression by rendering it as nft text and reusing
// the text parser, so both forms share one meaning.
func jsonExpr(kind string, v json.RawMessage) (string, *Match, *Action, error) {
	if kind == "counter" {
		return "", nil, nil, nil
	}
	h, ok := jsonTextHandlers[kind]
	if !ok {
		return unknownJSON(kind, v)
	}
	text, known, err := h(kind, v)
	if err != nil {
		return "", nil, nil, err
	}
	if !known {
		return unknownJSON(kind, v)
	}
	toks, err := nftTokens(text)
	if err != nil {
		return "", nil, nil, err
	}
	r, err := parseNftRule(toks, "")
	if err != nil {
		return "", nil, nil, err
	}
	var m *Match
	var a *Action
	if len(r.Matches) == 1 {
		m = &r.Matches[0]
	}
	if len(r.Actions) == 1 {
		a = &r.Actions[0]
	}
	if m == nil && a == nil {
		return unknownJSON(kind, v)
	}
	return text, m, a, nil
}

// jsonKindText: a verdict or statement without arguments is its own name.
func jsonKindText(kind string, _ json.RawMessage) (string, bool, error) {
	return kind, true, nil
}

func jsonJumpText(kind string, v json.RawMessage) (string, bool, error) {
	var j struct{ Target string }
	if err := json.Unmarshal(v, &j); err != nil {
		return "", false, err
	}
	return kind + " " + j.Target, true, nil
}

// jsonMatchText renders {"match": {"op", "left", "right"}}.
func jsonMatchText(_ string, v json.RawMessage) (string, bool, error) {
	var m struct {
		Op    string          `json:"op"`
		Left  json.RawMessage `json:"left"`
		Right json.RawMessage `json:"right"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		return "", false, err
	}
	var left map[string]json.RawMessage
	if err := json.Unmarshal(m.Left, &left); err != nil {
		return "", false, err
	}
	lhs, ok := jsonMatchLeft(left)
	if !ok {
		return "", false, nil
	}
	rhs, err := jsonValue(m.Right)
	if err != nil {
		return "", false, nil
	}
	op := ""
	switch m.Op {
	case "==", "in":
	case "!=":
		op = "!= "
	default:
		return "", false, nil
	}
	return lhs + " " + op + rhs, true, nil
}

// jsonMatchLeft renders a match's left side: meta, payload or ct.
func jsonMatchLeft(left map[string]json.RawMessage) (string, bool) {
	switch {
	case left["meta"] != nil:
		return jsonKeyValue("meta ", left["meta"]), true
	case left["payload"] != nil:
		var p struct{ Protocol, Field string }
		_ = json.Unmarshal(left["payload"], &p)
		return p.Protocol + " " + p.Field, true
	case left["ct"] != nil:
		return jsonKeyValue("ct ", left["ct"]), true
	}
	return "", false
}

// jsonNATText renders redirect, dnat and tproxy with their optional family,
// address and port.
func jsonNATText(kind string, v json.RawMessage) (string, bool, error) {
	var n struct {
		Family string          `json:"family"`
		Addr   json.RawMessage `json:"addr"`
		Port   json.RawMessage `json:"port"`
	}
	if len(v) > 0 && string(v) != "null" {
		if err := json.Unmarshal(v, &n); err != nil {
			return "", false, err
		}
	}
	text := kind
	if n.Family != "" {
		text += " " + n.Family
	}
	addr, port := "", ""
	if len(n.Addr) > 0 {
		a, err := jsonValue(n.Addr)
		if err != nil {
			return "", false, nil
		}
		addr = a
	}
	if len(n.Port) > 0 {
		p, err := jsonValue(n.Port)
		if err != nil {
			return "", false, nil
		}
		port = ":" + p
	}
	if addr != "" || port != "" {
		if strings.Contains(addr, ":") && port != "" {
			addr = "[" + addr + "]"
		}
		text += " to " + addr + port
	}
	return text, true, nil
}

func jsonMangleText(_ string, v json.RawMessage) (string, bool, error) {
	var m struct {
		Key   json.RawMessage `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(v, &m); err != nil {
		return "", false, err
	}
	k, err1 := jsonValue(m.Key)
	val, err2 := jsonValue(m.Value)
	if err1 != nil || err2 != nil {
		return "", false, nil
	}
	return k + " set " + val, true, nil
}

func unknownJSON(kind string, v json.RawMessage) (string, *Match, *Action, error) {
	text := fmt.Sprintf("{%q: %s}", kind, v)
	switch kind {
	case "match":
		return text, &Match{Kind: MatchUnknown}, nil, nil
	}
	return text, nil, &Action{Kind: ActionUnknown}, nil
}
