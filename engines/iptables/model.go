package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Format names the text a Ruleset was read from.
type Format string

// The formats Parse understands.
const (
	FormatSave    Format = "iptables-save"
	FormatListing Format = "iptables-listing"
	FormatNft     Format = "nft"
	FormatNftJSON Format = "nft-json"
)

// Family is the address family a table applies to: "ip" (IPv4), "ip6" or
// "inet" (both, nftables only).
type Family string

// The families.
const (
	FamilyIPv4 Family = "ip"
	FamilyIPv6 Family = "ip6"
	FamilyInet Family = "inet"
)

// Hook is the netfilter hook a packet is evaluated at.
type Hook string

// The hooks the simulator evaluates. Input, forward and postrouting chains
// are parsed but not evaluated.
const (
	HookPrerouting  Hook = "prerouting"
	HookInput       Hook = "input"
	HookForward     Hook = "forward"
	HookOutput      Hook = "output"
	HookPostrouting Hook = "postrouting"
)

// Ruleset is every table read from one input, in input order.
type Ruleset struct {
	Format Format
	Tables []*Table
}

// Table is one iptables table (nat, raw, mangle, filter, security) or one
// nftables table.
type Table struct {
	Family Family
	Name   string
	Chains []*Chain
	Line   int
}

// Chain returns the named chain, or nil.
func (t *Table) Chain(name string) *Chain {
	for _, c := range t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Chain is a built-in (base) chain, which has a Hook, or a user chain.
type Chain struct {
	Name string
	// Hook is empty for a user chain.
	Hook Hook
	// Type is the nftables chain type ("nat", "filter", "route"); for iptables
	// it is the table name.
	Type string
	// Priority orders base chains at one hook (raw -300, mangle -150,
	// dstnat -100, filter 0).
	Priority int
	// Policy is ACCEPT or DROP for base chains, empty for user chains.
	Policy   string
	Counters *Counters
	Rules    []*Rule
	Line     int
}

// Counters are packet and byte counters as printed by the tool.
type Counters struct {
	Packets, Bytes uint64
}

// Rule is one rule: its matches and the actions taken when all match.
type Rule struct {
	// Line is the 1-based line of the input the rule came from.
	Line int
	// Text is the rule as written (for iptables-save: without "-A CHAIN").
	Text     string
	Matches  []Match
	Actions  []Action
	Counters *Counters
}

// MatchKind says what a Match tests.
type MatchKind int

// The match kinds. MatchUnknown carries the verbatim text.
const (
	MatchUnknown  MatchKind = iota
	MatchProto              // layer 4 protocol (Proto)
	MatchSrc                // source address (Prefix)
	MatchDst                // destination address (Prefix)
	MatchInIface            // input interface (Iface, "+" suffix is a prefix)
	MatchOutIface           // output interface
	MatchSPort              // source port (Ports)
	MatchDPort              // destination port (Ports)
	MatchUID                // socket owner UID (IDs)
	MatchGID                // socket owner GID (IDs)
	MatchMark               // packet mark (Value/Mask)
	MatchConnMark           // conntrack mark (Value/Mask)
	MatchCTState            // conntrack state (States)
	MatchFamily             // address family (Family), nftables "ip"/"ip6" payloads imply it
	MatchComment            // a comment: always matches
)

var matchKindNames = [...]string{"unknown", "proto", "src", "dst", "in-iface", "out-iface", "sport", "dport", "uid-owner", "gid-owner", "mark", "connmark", "ctstate", "family", "comment"}

func (k MatchKind) String() string {
	if int(k) < len(matchKindNames) {
		return matchKindNames[k]
	}
	return "MatchKind(" + strconv.Itoa(int(k)) + ")"
}

// PortRange is an inclusive port range; a single port has Lo == Hi.
type PortRange struct{ Lo, Hi uint16 }

// Contains reports whether p is in the range.
func (r PortRange) Contains(p uint16) bool { return p >= r.Lo && p <= r.Hi }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// IDRange is an inclusive UID or GID range.
type IDRange struct{ Lo, Hi uint32 }

// Match is one condition of a rule. Which fields are set depends on Kind.
type Match struct {
	Kind   MatchKind
	Negate bool
	// Proto is the protocol for MatchProto, and the protocol whose header
	// holds the port for MatchSPort/MatchDPort ("" if either tcp or udp).
	Proto  string
	Prefix netip.Prefix
	Iface  string
	Ports  []PortRange
	IDs    IDRange
	Value  uint32
	Mask   uint32
	States []string
	Family Family
	// Raw is the match as written in the input.
	Raw string
}

// ActionKind says what an Action does.
type ActionKind int

// The action kinds. Jump, Goto, Return, Accept, Drop, Reject, Redirect, DNAT
// and TPROXY end the rule's evaluation in the current chain; Mark, CT,
// ConnMark, Log and Counter do not.
const (
	ActionUnknown ActionKind = iota
	ActionJump
	ActionGoto
	ActionReturn
	ActionAccept
	ActionDrop
	ActionReject
	ActionRedirect
	ActionDNAT
	ActionTPROXY
	ActionMark
	ActionCT
	ActionConnMark
	ActionLog
)

var actionKindNames = [...]string{"UNKNOWN", "JUMP", "GOTO", "RETURN", "ACCEPT", "DROP", "REJECT", "REDIRECT", "DNAT", "TPROXY", "MARK", "CT", "CONNMARK", "LOG"}

func (k ActionKind) String() string {
	if int(k) < len(actionKindNames) {
		return actionKindNames[k]
	}
	return "ActionKind(" + strconv.Itoa(int(k)) + ")"
}

// ConnMark operations.
const (
	ConnMarkSave    = "save"    // ctmark = (ctmark &^ CtMask) ^ (mark & NfMask)
	ConnMarkRestore = "restore" // mark = (mark &^ NfMask) ^ (ctmark & CtMask)
	ConnMarkSet     = "set"     // ctmark = (ctmark &^ Mask) ^ Value
)

// Action is what a rule does when it matches.
type Action struct {
	Kind ActionKind
	// Chain is the target of a jump or goto.
	Chain string
	// Ports is the new destination port range of REDIRECT, DNAT or TPROXY
	// (zero: unchanged).
	Ports PortRange
	// Addr is the new destination of DNAT or the TPROXY address (invalid: unchanged).
	Addr netip.Addr
	// Value and Mask: MARK and TPROXY set mark = (mark &^ Mask) ^ Value;
	// CONNMARK set does the same on the conntrack mark.
	Value, Mask uint32
	// HasMark is true when a TPROXY action also sets the mark.
	HasMark bool
	// CtMask and NfMask for CONNMARK save and restore.
	CtMask, NfMask uint32
	ConnMarkOp     string
	// Zone is the CT zone; NoTrack is CT --notrack.
	Zone    uint16
	NoTrack bool
	// Raw is the action as written.
	Raw string
}

// Terminal reports whether the action ends the rule's evaluation in this
// chain (and so the actions after it are not reached).
func (a Action) Terminal() bool {
	switch a.Kind {
	case ActionMark, ActionCT, ActionConnMark, ActionLog:
		return false
	}
	return true
}

// Unsupported is a match or action the simulator does not model, kept
// verbatim with where it was found.
type Unsupported struct {
	Table string `json:"table"`
	Chain string `json:"chain"`
	Rule  int    `json:"rule"`
	Line  int    `json:"line"`
	Text  string `json:"text"`
}

func (u Unsupported) String() string {
	return fmt.Sprintf("line %d: %s %s rule %d: %q", u.Line, u.Table, u.Chain, u.Rule, u.Text)
}

// Unsupported lists every unknown match and action in the ruleset.
func (rs *Ruleset) Unsupported() []Unsupported {
	var out []Unsupported
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for i, r := range c.Rules {
				for _, m := range r.Matches {
					if m.Kind == MatchUnknown {
						out = append(out, Unsupported{Table: t.Name, Chain: c.Name, Rule: i + 1, Line: r.Line, Text: m.Raw})
					}
				}
				for _, a := range r.Actions {
					if a.Kind == ActionUnknown {
						out = append(out, Unsupported{Table: t.Name, Chain: c.Name, Rule: i + 1, Line: r.Line, Text: a.Raw})
					}
				}
			}
		}
	}
	return out
}

// RuleCount is the number of rules in all tables.
func (rs *Ruleset) RuleCount() int {
	n := 0
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			n += len(c.Rules)
		}
	}
	return n
}

// Table returns the first table with the name and a family that serves fam
// (inet serves both), or nil.
func (rs *Ruleset) Table(fam Family, name string) *Table {
	for _, t := range rs.Tables {
		if t.Name == name && (t.Family == fam || t.Family == FamilyInet || fam == "") {
			return t
		}
	}
	return nil
}

// ParseError is a parse failure at a line of the input.
type ParseError struct {
	Format Format
	Line   int
	Text   string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("%s: line %d: %v", e.Format, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: line %d: %v (in %q)", e.Format, e.Line, e.Err, e.Text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// protoNumber maps protocol names to numbers and back for matching "-p 6".
var protoNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "132": "sctp", "0": "all"}

func normProto(p string) string {
	p = strings.ToLower(p)
	if n, ok := protoNames[p]; ok {
		return n
	}
	if p == "icmpv6" {
		return "ipv6-icmp"
	}
	return p
}

// builtinHooks maps iptables built-in chain names to hooks.
var builtinHooks = map[string]Hook{
	"PREROUTING":  HookPrerouting,
	"INPUT":       HookInput,
	"FORWARD":     HookForward,
	"OUTPUT":      HookOutput,
	"POSTROUTING": HookPostrouting,
}

// tablePriority is the priority of iptables tables at each hook (the nat
// table is at -100 for prerouting and output, +100 for postrouting and input).
func tablePriority(table string, h Hook) int {
	switch table {
	case "raw":
		return -300
	case "mangle":
		return -150
	case "nat":
		if h == HookPostrouting || h == HookInput {
			return 100
		}
		return -100
	case "filter":
		return 0
	case "security":
		return 50
	}
	return 0
}

// nftPriorities are the named priorities of nft chain declarations.
var nftPriorities = map[string]int{"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
