package envoylab

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

// Verdict is how the tracer's answer relates to Envoy's.
type Verdict string

// The verdicts.
const (
	// Agree: the tracer predicted what Envoy did.
	Agree Verdict = "agree"
	// Undecided: the tracer named what it cannot decide (allowed).
	Undecided Verdict = "undecided"
	// Disagree: the tracer predicted something else: a silent wrong answer.
	Disagree Verdict = "DISAGREE"
)

// Comparison is the judgement of one request, with both answers.
type Comparison struct {
	Verdict Verdict
	// Tracer is the tracer's answer in Outcome.Summary's words; several
	// acceptable answers (weighted clusters) are joined by " | ".
	Tracer string
	// Envoy is what Envoy did, with its evidence.
	Envoy string
	// Why names the difference, for a disagreement.
	Why string
}

func (c Comparison) String() string {
	s := fmt.Sprintf("%s\n  tracer: %s\n  envoy:  %s", c.Verdict, c.Tracer, c.Envoy)
	if c.Why != "" {
		s += "\n  why:    " + c.Why
	}
	return s
}

// Sent is the request as the client sent it.
type Sent struct {
	Method, Host, Path string
	Headers            map[string]string
}

// Compare judges the tracer's result for the request sent against Envoy's
// outcome.
func Compare(res *trace.Result, o Outcome, sent Sent) Comparison {
	c := Comparison{Envoy: o.String()}
	if res.Undecided() {
		c.Verdict, c.Tracer = Undecided, "undecided: "+strings.Join(res.Unsupported, "; ")
		return c
	}
	answers := expected(res, sent)
	c.Tracer = strings.Join(answers, " | ")
	got := o.Summary()
	if !slices.Contains(answers, got) {
		c.Verdict, c.Why = Disagree, fmt.Sprintf("Envoy answered %q", got)
		return c
	}
	if o.Route != "" && res.Route != "" && o.Route != res.Route {
		c.Verdict, c.Why = Disagree, fmt.Sprintf("Envoy matched route %q, the tracer route %q", o.Route, res.Route)
		return c
	}
	if o.Received != nil {
		if why := schemeCheck(res.UpstreamRequest, o.Received); why != "" {
			c.Verdict, c.Why = Disagree, why
			return c
		}
		if why := headerCheck(res.Policy, sent.Headers, o.Received); why != "" {
			c.Verdict, c.Why = Disagree, why
			return c
		}
	}
	c.Verdict = Agree
	return c
}

// schemeCheck compares the tracer's upstream scheme with the
// x-forwarded-proto the upstream received: an HTTP/1.1 client sends no
// :scheme, so Envoy takes it from x-forwarded-proto (when that is http or
// https) and forwards both alike.
func schemeCheck(up *trace.UpstreamRequest, got *Received) string {
	xfp := strings.ToLower(got.ForwardedProto)
	if up == nil || (xfp != "http" && xfp != "https") || strings.EqualFold(up.Scheme, xfp) {
		return ""
	}
	return fmt.Sprintf("the tracer forwards scheme %q, the upstream received x-forwarded-proto %q", up.Scheme, got.ForwardedProto)
}

// headerCheck compares the request headers the tracer's route policy
// predicts with those the upstream received, for the headers the policy
// adds or removes. A weighted cluster's changes count only for the cluster
// Envoy picked. Not judged: a value with a %FORMAT% operator, and a header
// the policy both removes and adds, because its removals carry no level
// (Envoy removes, then adds, level by level, so the order decides).
func headerCheck(p *trace.RoutePolicy, sent map[string]string, got *Received) string {
	if p == nil {
		return ""
	}
	want := map[string][]string{}
	for k, v := range sent {
		want[strings.ToLower(k)] = []string{v}
	}
	judged, unjudged, removed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, n := range p.RequestHeadersToRemove {
		delete(want, strings.ToLower(n))
		judged[strings.ToLower(n)], removed[strings.ToLower(n)] = true, true
	}
	var changes []trace.HeaderChange
	for _, h := range p.RequestHeadersToAdd {
		if c, ok := strings.CutPrefix(h.Level, "weightedCluster:"); ok && c != got.Cluster {
			continue
		}
		h.Name = strings.ToLower(h.Name)
		if strings.Contains(h.Value, "%") || removed[h.Name] {
			unjudged[h.Name] = true
			continue
		}
		judged[h.Name] = true
		changes = append(changes, h)
	}
	for len(changes) > 0 {
		n := 1
		for n < len(changes) && changes[n].Level == changes[0].Level {
			n++
		}
		applyLevel(want, changes[:n])
		changes = changes[n:]
	}
	names := make([]string, 0, len(judged))
	for n := range judged {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !unjudged[n] && !slices.Equal(want[n], got.Headers[n]) {
			return fmt.Sprintf("header %s: the tracer's route policy gives %q, the upstream received %q", n, want[n], got.Headers[n])
		}
	}
	return ""
}

// applyLevel applies one level's header changes as Envoy's header parser
// does: every action is decided on the headers as they were before the
// level (ADD_IF_ABSENT, OVERWRITE_IF_EXISTS), then the overwrites are set,
// then the additions appended.
func applyLevel(h map[string][]string, level []trace.HeaderChange) {
	var overwrite, add []trace.HeaderChange
	for _, c := range level {
		_, present := h[c.Name]
		switch c.Action {
		case "ADD_IF_ABSENT":
			if !present {
				add = append(add, c)
			}
		case "OVERWRITE_IF_EXISTS_OR_ADD":
			overwrite = append(overwrite, c)
		case "OVERWRITE_IF_EXISTS":
			if present {
				overwrite = append(overwrite, c)
			}
		default: // APPEND_IF_EXISTS_OR_ADD
			add = append(add, c)
		}
	}
	for _, c := range overwrite {
		h[c.Name] = []string{c.Value}
	}
	for _, c := range add {
		h[c.Name] = append(h[c.Name], c.Value)
	}
}

// expected turns a trace result into the outcomes it allows, in
// Outcome.Summary's words. The answer to a HEAD request has no body.
func expected(res *trace.Result, sent Sent) []string {
	switch {
	case res.NoRoute != "":
		return []string{"404 route_not_found"}
	case res.Redirect != nil:
		return []string{fmt.Sprintf("redirect %d %s", res.Redirect.ResponseCode, res.Redirect.Location)}
	case res.DirectResponse != nil:
		body := res.DirectResponse.Body
		if strings.EqualFold(sent.Method, "HEAD") {
			body = ""
		}
		return []string{directSummary(res.DirectResponse.Status, body, res.DirectResponse.Location)}
	}
	up := trace.UpstreamRequest{Host: sent.Host, Path: sent.Path}
	if res.UpstreamRequest != nil {
		up = *res.UpstreamRequest
	}
	var out []string
	for _, wc := range forwarded(res.Clusters) {
		out = append(out, clusterAnswer(res, wc, up))
	}
	if len(out) == 0 {
		return []string{"no cluster"}
	}
	return out
}

// forwarded are the clusters a request can go to: those with weight, or
// all when none has.
func forwarded(wcs []trace.WeightedCluster) []trace.WeightedCluster {
	var out []trace.WeightedCluster
	for _, wc := range wcs {
		if wc.Weight > 0 {
			out = append(out, wc)
		}
	}
	if len(out) == 0 {
		return wcs
	}
	return out
}

// clusterAnswer is what Envoy answers when it sends the request to wc.
func clusterAnswer(res *trace.Result, wc trace.WeightedCluster, up trace.UpstreamRequest) string {
	if wc.Missing {
		return "503 cluster_not_found"
	}
	if wc.NoHealthyUpstream {
		return "503 no_healthy_upstream"
	}
	return fmt.Sprintf("cluster %s %s%s", wc.Name, up.Host, up.Path)
}
