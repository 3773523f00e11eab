package accesslog

import (
	"fmt"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Direction is which side of a proxy a hop is on.
type Direction int

// Directions, from the upstream cluster's name.
const (
	DirectionUnknown Direction = iota
	// Inbound: the proxy received the request for its own workload
	// (cluster inbound|PORT|| or InboundPassthroughCluster).
	Inbound
	// Outbound: the proxy sent the request on to another service
	// (outbound|PORT|SUBSET|HOST, PassthroughCluster, BlackHoleCluster; a
	// gateway's hops are outbound too).
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return "unknown"
}

// Cluster is an Istio cluster name taken apart.
type Cluster struct {
	Direction Direction
	Port      int
	Subset    string
	Host      string
}

// ParseCluster takes apart "outbound|9080|v1|reviews.default.svc.cluster.local",
// "inbound|9080||" (and the older "inbound|9080|http|host"), and names the
// passthrough clusters' direction. Other names give DirectionUnknown.
func ParseCluster(name string) Cluster {
	parts := strings.Split(name, "|")
	if len(parts) == 4 {
		c := Cluster{Subset: parts[2], Host: parts[3]}
		c.Port, _ = strconv.Atoi(parts[1])
		switch parts[0] {
		case "inbound":
			c.Direction = Inbound
			c.Subset = "" // the port name in old inbound clusters
		case "outbound":
			c.Direction = Outbound
		}
		return c
	}
	switch {
	case strings.HasPrefix(name, "InboundPassthroughCluster"):
		return Cluster{Direction: Inbound, Host: name}
	case name == "PassthroughCluster" || name == "BlackHoleCluster":
		return Cluster{Direction: Outbound, Host: name}
	}
	return Cluster{Host: name}
}

// Hop is one proxy's record of a request.
type Hop struct {
	Record
	Cluster Cluster
	// Parent is the index in Flow.Hops of the hop that caused this one, or
	// -1 (the first hop, or one whose cause is not in the logs).
	Parent int
}

// String is "proxy direction cluster status flags" for failure messages.
func (h Hop) String() string {
	proxy := h.Proxy
	if proxy == "" {
		proxy = h.Value(DownstreamLocalAddress)
	}
	s := fmt.Sprintf("%s %s %s %s", proxy, h.Cluster.Direction, h.Value(UpstreamCluster), h.Value(ResponseCode))
	if f := h.Value(ResponseFlags); f != "-" {
		s += " flags=" + f
	}
	if h.Source != "" {
		s += " (" + h.Source + ")"
	}
	return s
}

// Flow is every hop of one request, in path order.
type Flow struct {
	RequestID string
	Hops      []Hop
}

// Path returns the hops as strings, one per hop.
func (f Flow) Path() []string {
	out := make([]string, len(f.Hops))
	for i, h := range f.Hops {
		out[i] = h.String()
	}
	return out
}

// String is the request id and the numbered path.
func (f Flow) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "request %s, %d hops:", f.RequestID, len(f.Hops))
	for i, h := range f.Hops {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, h)
	}
	return b.String()
}

// Flows groups records by request id (records without one are left out)
// and orders each group into a path: a hop follows the hop that caused it.
// An inbound hop on proxy B is caused by the outbound hop on proxy A whose
// connection it received (A's upstream local address is B's downstream
// remote address, or else A's upstream host is B's downstream local
// address); an outbound hop is caused by the latest earlier inbound hop of
// the same workload (same proxy, or else the same IP). Hops are visited
// depth first from the hops with no cause, siblings by start time, so the
// path reads gateway, productpage inbound, productpage outbound to reviews,
// reviews inbound, ... even when clocks of different proxies disagree.
// Flows are returned by their first hop's start time.
func Flows(records []Record) []Flow {
	groups := map[string][]Record{}
	var ids []string
	for _, r := range records {
		if !r.Has(RequestID) {
			continue
		}
		if _, ok := groups[r.RequestID]; !ok {
			ids = append(ids, r.RequestID)
		}
		groups[r.RequestID] = append(groups[r.RequestID], r)
	}
	flows := make([]Flow, 0, len(ids))
	for _, id := range ids {
		flows = append(flows, order(id, groups[id]))
	}
	sort.SliceStable(flows, func(i, j int) bool {
		return flows[i].Hops[0].StartTime.Before(flows[j].Hops[0].StartTime)
	})
	return flows
}

func order(id string, recs []Record) Flow {
	hops := make([]Hop, len(recs))
	for i, r := range recs {
		hops[i] = Hop{Record: r, Cluster: ParseCluster(r.UpstreamCluster), Parent: -1}
	}
	// Sort by time, outbound before inbound at equal times, for stable
	// tie-breaking below.
	sort.SliceStable(hops, func(i, j int) bool {
		a, b := hops[i], hops[j]
		if !a.StartTime.Equal(b.StartTime) {
			return a.StartTime.Before(b.StartTime)
		}
		return a.Cluster.Direction == Outbound && b.Cluster.Direction != Outbound
	})
	for i := range hops {
		hops[i].Parent = parentOf(hops, i)
	}
	// Depth-first from the roots; children in time order (hops is sorted).
	children := make([][]int, len(hops))
	var roots []int
	for i, h := range hops {
		if h.Parent < 0 {
			roots = append(roots, i)
		} else {
			children[h.Parent] = append(children[h.Parent], i)
		}
	}
	seen := make([]bool, len(hops))
	var idx []int
	var visit func(int)
	visit = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		idx = append(idx, i)
		for _, c := range children[i] {
			visit(c)
		}
	}
	for _, r := range roots {
		visit(r)
	}
	for i := range hops { // cycles (clock skew): append in time order
		visit(i)
	}
	pos := make([]int, len(hops))
	for p, i := range idx {
		pos[i] = p
	}
	out := make([]Hop, len(hops))
	for p, i := range idx {
		h := hops[i]
		if h.Parent >= 0 {
			h.Parent = pos[h.Parent]
		}
		out[p] = h
	}
	return Flow{RequestID: id, Hops: out}
}

// parentOf returns the index of the hop that caused hops[i], or -1.
func parentOf(hops []Hop, i int) int {
	h := hops[i]
	switch h.Cluster.Direction {
	case Inbound:
		best := -1
		for j, a := range hops {
			if j == i || a.Cluster.Direction != Outbound {
				continue
			}
			if a.Has(UpstreamLocalAddress) && a.UpstreamLocalAddress == h.DownstreamRemoteAddress {
				return j
			}
			if best < 0 && a.Has(UpstreamHost) && a.UpstreamHost == h.DownstreamLocalAddress {
				best = j
			}
		}
		return best
	case Outbound:
		best := -1
		for j, in := range hops {
			if j == i || in.Cluster.Direction != Inbound || in.StartTime.After(h.StartTime) {
				continue
			}
			same := h.Proxy != "" && in.Proxy == h.Proxy
			if h.Proxy == "" || in.Proxy == "" {
				same = sameIP(in.DownstreamLocalAddress, h.DownstreamRemoteAddress)
			}
			if same && (best < 0 || !in.StartTime.Before(hops[best].StartTime)) {
				best = j
			}
		}
		return best
	}
	return -1
}

func sameIP(a, b string) bool {
	ha, _, err1 := net.SplitHostPort(a)
	hb, _, err2 := net.SplitHostPort(b)
	return err1 == nil && err2 == nil && ha == hb
}

// FindFlow returns the flow of request id. When there is none, the error
// lists the closest request ids.
func FindFlow(flows []Flow, id string) (Flow, error) {
	for _, f := range flows {
		if f.RequestID == id {
			return f, nil
		}
	}
	type cand struct {
		id    string
		score int
	}
	var cs []cand
	for _, f := range flows {
		cs = append(cs, cand{f.RequestID, commonPrefix(f.RequestID, id)})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	var near []string
	for i := 0; i < len(cs) && i < 3; i++ {
		near = append(near, cs[i].id)
	}
	return Flow{}, fmt.Errorf("no flow with request id %q among %d flows; closest: %s", id, len(flows), strings.Join(near, ", "))
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// Check is an expectation on one flow. Check returns nil or an error
// carrying the evidence: what was expected, what the flow had, and the
// closest candidates.
type Check interface {
	Check(Flow) error
	String() string
}

// Step is the expectation for one hop. Zero fields match anything.
type Step struct {
	// Proxy matches the hop's proxy by prefix ("productpage" matches
	// "productpage-v1-5f9d").
	Proxy string
	// Direction, when not DirectionUnknown, must equal the hop's.
	Direction Direction
	// Cluster is a path.Match pattern on the upstream cluster, e.g.
	// "outbound|9080|v2|reviews.*".
	Cluster string
	// Status, when not 0, must equal the response code.
	Status int
}

func (s Step) String() string {
	var parts []string
	if s.Proxy != "" {
		parts = append(parts, s.Proxy)
	}
	if s.Direction != DirectionUnknown {
		parts = append(parts, s.Direction.String())
	}
	if s.Cluster != "" {
		parts = append(parts, s.Cluster)
	}
	if s.Status != 0 {
		parts = append(parts, strconv.Itoa(s.Status))
	}
	if len(parts) == 0 {
		return "any hop"
	}
	return strings.Join(parts, " ")
}

// mismatches lists what of s the hop does not match.
func (s Step) mismatches(h Hop) []string {
	var m []string
	if s.Proxy != "" && !strings.HasPrefix(h.Proxy, s.Proxy) {
		m = append(m, fmt.Sprintf("proxy %q", h.Proxy))
	}
	if s.Direction != DirectionUnknown && s.Direction != h.Cluster.Direction {
		m = append(m, "direction "+h.Cluster.Direction.String())
	}
	if s.Cluster != "" {
		if ok, _ := path.Match(s.Cluster, h.UpstreamCluster); !ok {
			m = append(m, fmt.Sprintf("cluster %q", h.Value(UpstreamCluster)))
		}
	}
	if s.Status != 0 && (!h.Has(ResponseCode) || h.ResponseCode != s.Status) {
		m = append(m, "status "+h.Value(ResponseCode))
	}
	return m
}

type pathCheck struct {
	steps []Step
	start bool // later hops are allowed
}

// ExpectPath checks the flow has exactly these hops in this order.
func ExpectPath(steps ...Step) Check { return pathCheck{steps: steps} }

// ExpectPathStart checks the flow begins with these hops in this order;
// hops after them are not checked (a callee that calls further on only
// some of its versions).
func ExpectPathStart(steps ...Step) Check { return pathCheck{steps: steps, start: true} }

func (c pathCheck) String() string {
	parts := make([]string, len(c.steps))
	for i, s := range c.steps {
		parts[i] = s.String()
	}
	if c.start {
		parts = append(parts, "...")
	}
	return "path " + strings.Join(parts, " -> ")
}

func (c pathCheck) Check(f Flow) error {
	for i, s := range c.steps {
		if i >= len(f.Hops) {
			return fmt.Errorf("%s: hop %d missing: expected %s, the flow ends after %d hops\n%s", c, i+1, s, len(f.Hops), f)
		}
		if m := s.mismatches(f.Hops[i]); len(m) > 0 {
			return fmt.Errorf("%s: hop %d: expected %s, got %s (differs in %s)%s\n%s",
				c, i+1, s, f.Hops[i], strings.Join(m, ", "), closest(s, f, i), f)
		}
	}
	if len(f.Hops) > len(c.steps) && !c.start {
		return fmt.Errorf("%s: %d unexpected extra hops after hop %d, first: %s\n%s",
			c, len(f.Hops)-len(c.steps), len(c.steps), f.Hops[len(c.steps)], f)
	}
	return nil
}

// closest names the hops (other than skip) that match s best.
func closest(s Step, f Flow, skip int) string {
	best, bestN := -1, 1<<30
	for i, h := range f.Hops {
		if i == skip {
			continue
		}
		if n := len(s.mismatches(h)); n < bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return ""
	}
	if bestN == 0 {
		return fmt.Sprintf("; closest candidate: hop %d %s matches fully (out of order?)", best+1, f.Hops[best])
	}
	return fmt.Sprintf("; closest candidate: hop %d %s (differs in %s)", best+1, f.Hops[best], strings.Join(s.mismatches(f.Hops[best]), ", "))
}

type statusCheck struct{ codes []int }

// ExpectStatus checks the response code of each hop in path order.
func ExpectStatus(codes ...int) Check { return statusCheck{codes} }

func (c statusCheck) String() string { return fmt.Sprintf("status per hop %v", c.codes) }

func (c statusCheck) Check(f Flow) error {
	if len(f.Hops) != len(c.codes) {
		return fmt.Errorf("%s: expected %d hops, got %d\n%s", c, len(c.codes), len(f.Hops), f)
	}
	for i, want := range c.codes {
		h := f.Hops[i]
		if !h.Has(ResponseCode) || h.ResponseCode != want {
			return fmt.Errorf("%s: hop %d: expected status %d, got %s (details %s, flags %s): %s\n%s",
				c, i+1, want, h.Value(ResponseCode), h.Value(ResponseCodeDetails), h.Value(ResponseFlags), h, f)
		}
	}
	return nil
}

type clusterCheck struct{ patterns []string }

// ExpectClusters checks the upstream cluster of each hop in path order;
// each is a path.Match pattern.
func ExpectClusters(patterns ...string) Check { return clusterCheck{patterns} }

func (c clusterCheck) String() string {
	return "upstream clusters " + strings.Join(c.patterns, " -> ")
}

func (c clusterCheck) Check(f Flow) error {
	if len(f.Hops) != len(c.patterns) {
		return fmt.Errorf("%s: expected %d hops, got %d\n%s", c, len(c.patterns), len(f.Hops), f)
	}
	for i, p := range c.patterns {
		if ok, err := path.Match(p, f.Hops[i].UpstreamCluster); err != nil {
			return fmt.Errorf("%s: bad pattern %q: %w", c, p, err)
		} else if !ok {
			return fmt.Errorf("%s: hop %d: expected cluster %s, got %s%s\n%s",
				c, i+1, p, f.Hops[i].Value(UpstreamCluster), closest(Step{Cluster: p}, f, i), f)
		}
	}
	return nil
}

type noFlags struct{}

// NoResponseFlags checks no hop has response flags (no retries, resets,
// no-route, upstream failures...).
func NoResponseFlags() Check { return noFlags{} }

func (noFlags) String() string { return "no response flags on any hop" }

func (c noFlags) Check(f Flow) error {
	for i, h := range f.Hops {
		if h.Has(ResponseFlags) {
			return fmt.Errorf("%s: hop %d has flags %s (details %s): %s\n%s", c, i+1, h.ResponseFlags, h.Value(ResponseCodeDetails), h, f)
		}
	}
	return nil
}

type allCheck struct{ checks []Check }

// All checks every check and joins their failures.
func All(checks ...Check) Check { return allCheck{checks} }

func (c allCheck) String() string {
	parts := make([]string, len(c.checks))
	for i, x := range c.checks {
		parts[i] = x.String()
	}
	return "all of (" + strings.Join(parts, "; ") + ")"
}

func (c allCheck) Check(f Flow) error {
	var errs []string
	for _, x := range c.checks {
		if err := x.Check(f); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d checks failed:\n%s", len(errs), len(c.checks), strings.Join(errs, "\n"))
	}
	return nil
}
