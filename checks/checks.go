package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/fixtures/expect"
	"github.com/meshcheck/meshcheck/timeouts"
)

// Status is a check's outcome.
type Status string

// Outcomes.
const (
	Pass      Status = "pass"
	Fail      Status = "fail"
	Undecided Status = "undecided"
)

// Kind is what a check looks at.
type Kind string

// Kinds of checks, as expect.yaml names their lists.
const (
	Routes       Kind = "routes"
	Splits       Kind = "splits"
	Paths        Kind = "paths"
	Interception Kind = "interception"
)

// Result is one check with its evidence.
type Result struct {
	Fixture string `json:"fixture"`
	Step    string `json:"step"` // empty for the base objects
	Kind    Kind   `json:"kind"`
	// Name says what was checked, in words.
	Name string `json:"name"`
	// Source is file:line of the check in expect.yaml.
	Source     string   `json:"source"`
	Status     Status   `json:"status"`
	Expected   string   `json:"expected,omitempty"`
	Actual     string   `json:"actual,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	LastError  string   `json:"lastError,omitempty"`
	// Detail is the rest of the evidence: a trace, a split's reason, a flow.
	Detail string `json:"detail,omitempty"`
	// Split is a splits check's whole decision (counts, shares, intervals,
	// weights, error rates) for the report; nil for other kinds.
	Split *split.Result `json:"split,omitempty"`
	// Flow is a paths check's request as the access logs gave it, hop by
	// hop, for the report; nil for other kinds and when no proxy logged
	// the request.
	Flow *accesslog.Brief `json:"flow,omitempty"`
	// Interception is an interception check's behaviours simulated through
	// the workload's rules, each with its trail, for the report; nil for
	// other kinds.
	Interception *Trails `json:"interception,omitempty"`
}

// Trails are a workload's interception behaviours as simulated.
type Trails struct {
	Workload string `json:"workload"`
	// Istio is the istio-iptables release whose behaviours were checked.
	Istio      string             `json:"istio"`
	Behaviours []iptables.Checked `json:"behaviours"`
}

// String is one line (and the detail below it) for a report.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %s: %s %s", strings.ToUpper(string(r.Status)), r.Source, r.Kind, r.Name)
	if r.Status != Pass {
		fmt.Fprintf(&b, "\n          expected %s\n          actual   %s", orNone(r.Expected), orNone(r.Actual))
		if len(r.Candidates) > 0 {
			fmt.Fprintf(&b, "\n          closest  %s", strings.Join(r.Candidates, ", "))
		}
		if r.LastError != "" {
			fmt.Fprintf(&b, "\n          last error: %s", r.LastError)
		}
	}
	if r.Detail != "" && r.Status != Pass {
		b.WriteString("\n          " + strings.ReplaceAll(strings.TrimRight(r.Detail, "\n"), "\n", "\n          "))
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Runner runs checks against one backend.
type Runner struct {
	Backend  backend.Backend
	Timeouts timeouts.Timeouts
	// IstioVersion is passed to xDS expectations with version constraints.
	IstioVersion string
}

// target is the state a check runs in.
type target struct {
	fixture expect.Fixture
	name    string // the fixture's name
	step    string
	source  string // the expect.yaml
}

func (t target) result(kind Kind, name string, line int) Result {
	return Result{Fixture: t.name, Step: t.step, Kind: kind, Name: name, Source: fmt.Sprintf("%s:%d", t.source, line)}
}

// Run runs the checks of e that apply after step ("" for the base objects)
// of fixture name, in order: routes, interception, paths, splits.
func (r *Runner) Run(ctx context.Context, name string, fx expect.Fixture, e *expect.Expect, step string) []Result {
	t := target{fixture: fx, name: name, step: step, source: e.Source}
	var out []Result
	for _, c := range e.For(step) {
		for i := range c.Routes {
			out = append(out, r.routes(ctx, t, &c.Routes[i])...)
		}
		for i := range c.Interception {
			out = append(out, r.interception(ctx, t, &c.Interception[i])...)
		}
		for i := range c.Paths {
			out = append(out, r.path(ctx, t, &c.Paths[i]))
		}
		for i := range c.Splits {
			out = append(out, r.split(ctx, t, &c.Splits[i]))
		}
	}
	return out
}

// Summary counts results by status.
func Summary(rs []Result) map[Status]int {
	out := map[Status]int{Pass: 0, Fail: 0, Undecided: 0}
	for _, r := range rs {
		out[r.Status]++
	}
	return out
}

// proxy finds the ingress gateway ("gateway") or the proxy of the first
// workload NAMESPACE/PREFIX selects; the error lists what there is.
func (r *Runner) proxy(ctx context.Context, sel string) (backend.Proxy, error) {
	ps, err := r.Backend.Proxies(ctx)
	if err != nil {
		return backend.Proxy{}, fmt.Errorf("list proxies: %w", err)
	}
	var names []string
	for _, p := range ps {
		if sel == expect.GatewayProxy && p.Proxy == backend.Gateway && strings.HasPrefix(p.Name, expect.GatewayHop) {
			return p, nil
		}
		if ns, prefix, _ := expect.SplitSelector(sel); p.Namespace == r.Backend.Namespace(ns) && strings.HasPrefix(p.Name, prefix) {
			return p, nil
		}
		names = append(names, p.String())
	}
	return backend.Proxy{}, &notFound{what: "proxy", sel: sel, have: names}
}

// notFound is a proxy or workload the mesh does not have: a failure, with
// what it has as candidates.
type notFound struct {
	what, sel string
	have      []string
}

func (e *notFound) Error() string {
	return fmt.Sprintf("no %s %s; have %s", e.what, e.sel, strings.Join(e.have, ", "))
}

// broken is the result of a check that could not run: failed when the mesh
// lacks what it names, undecided otherwise (a backend error).
func broken(r Result, err error) Result {
	var nf *notFound
	if errors.As(err, &nf) {
		r.Status, r.Expected, r.Actual, r.Candidates = Fail, nf.what+" "+nf.sel, "none", nf.have
		return r
	}
	r.Status, r.LastError = Undecided, err.Error()
	return r
}

// workloads lists the workloads NAMESPACE/PREFIX selects.
func (r *Runner) workloads(ctx context.Context, sel string) ([]backend.Workload, error) {
	ws, err := r.Backend.Workloads(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workloads: %w", err)
	}
	ns, prefix, _ := expect.SplitSelector(sel)
	ns = r.Backend.Namespace(ns)
	var out []backend.Workload
	var names []string
	for _, w := range ws {
		if w.Namespace == ns && strings.HasPrefix(w.Name, prefix) {
			out = append(out, w)
		}
		names = append(names, w.String())
	}
	if len(out) == 0 {
		return nil, &notFound{what: "workload", sel: sel, have: names}
	}
	return out, nil
}
