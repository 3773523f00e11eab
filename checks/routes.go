package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/meshcheck/meshcheck/engines/xds"
	xdsexpect "github.com/meshcheck/meshcheck/engines/xds/expect"
	"github.com/meshcheck/meshcheck/fixtures/expect"
)

// routes checks a proxy's config dump against xDS expectations: one result
// per failure, or one passing result for the whole block.
func (r *Runner) routes(ctx context.Context, t target, rt *expect.Routes) []Result {
	res := t.result(Routes, "proxy "+rt.Proxy, rt.Line())
	p, err := r.proxy(ctx, rt.Proxy)
	if err != nil {
		return []Result{broken(res, err)}
	}
	b, err := r.Backend.ConfigDump(ctx, p)
	if err != nil {
		return []Result{undecided(res, fmt.Errorf("config dump of %s: %w", p, err))}
	}
	d, err := xds.Parse(b, xds.Options{Source: p.String()})
	if err != nil {
		return []Result{undecided(res, fmt.Errorf("parse the config dump of %s: %w", p, err))}
	}
	vars := map[string]string{expect.PodIPVar: p.IP}
	for k, v := range t.fixture.Vars {
		vars[k] = v
	}
	spec := rt.Spec
	spec.SetSource(t.source)
	rep, err := xdsexpect.Check(d, &spec, xdsexpect.Options{IstioVersion: r.IstioVersion, Vars: vars})
	if err != nil {
		return []Result{undecided(res, err)}
	}
	res.Name = fmt.Sprintf("proxy %s (%s): %d expectations", rt.Proxy, p, rep.Checked)
	if len(rep.Skipped) > 0 {
		res.Detail = "skipped: " + strings.Join(rep.Skipped, "; ")
	}
	if rep.Passed() {
		res.Status = Pass
		return []Result{res}
	}
	var out []Result
	for _, f := range rep.Failures {
		fr := t.result(Routes, fmt.Sprintf("proxy %s (%s): %s: %s", rt.Proxy, p, f.Path, f.Message), f.Line)
		fr.Status, fr.Expected, fr.Actual, fr.Candidates = Fail, f.Expected, f.Actual, f.Candidates
		if f.Expected == "a decided trace" {
			fr.Status = Undecided
		}
		out = append(out, fr)
	}
	return out
}

func undecided(r Result, err error) Result {
	r.Status, r.LastError = Undecided, err.Error()
	return r
}
