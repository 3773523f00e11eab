package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures/expect"
)

// path sends one request tagged by its User-Agent and waits until the
// proxies' access logs show its flow with the expected hops.
func (r *Runner) path(ctx context.Context, t target, p *expect.Path) Result {
	res := t.result(Paths, p.Name, p.Line())
	steps := make([]accesslog.Step, len(p.Hops))
	var want []string
	for i, h := range p.Hops {
		cluster, _ := t.fixture.Expand(h.Cluster)
		steps[i] = accesslog.Step{Proxy: h.Proxy, Direction: expect.Directions[h.Direction], Cluster: cluster, Status: h.Status}
		want = append(want, steps[i].String())
	}
	res.Expected = strings.Join(want, " -> ")
	tr, err := r.transport(ctx, t, p.From, p.To)
	if err != nil {
		return broken(res, err)
	}
	mark, err := r.Backend.Mark(ctx)
	if err != nil {
		return undecided(res, fmt.Errorf("mark the access logs: %w", err))
	}
	tag := "meshcheck-" + traffic.NewRequestID()
	req := request(t, p.Request)
	if req.Headers == nil {
		req.Headers = http.Header{}
	}
	req.Headers.Set("User-Agent", tag)
	sent := traffic.Do(ctx, tr, req, r.Timeouts.Request, nil)
	if sent.Err != nil || (p.Status != 0 && sent.Status != p.Status) {
		res.Status, res.Actual = Fail, fmt.Sprintf("the request answered %s", sent)
		if sent.Err != nil {
			res.LastError = sent.Err.Error()
		}
		return res
	}
	expectPath := accesslog.ExpectPath
	if p.MoreHops {
		expectPath = accesslog.ExpectPathStart
	}
	check := accesslog.All(expectPath(steps...), accesslog.NoResponseFlags())
	flow, err := r.awaitFlow(ctx, mark, tag, check)
	if len(flow.Hops) > 0 {
		res.Detail = flow.String()
		res.Actual = strings.Join(flow.Path(), " -> ")
		brief := flow.Brief()
		res.Flow = &brief
	}
	if err != nil {
		res.Status, res.LastError = Fail, err.Error()
		return res
	}
	res.Status = Pass
	return res
}

// awaitFlow reads every proxy's log since mark until the tagged request's
// flow passes check or the convergence deadline ends; it returns the last
// flow seen and the last error.
func (r *Runner) awaitFlow(ctx context.Context, mark backend.Mark, tag string, check accesslog.Check) (accesslog.Flow, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Timeouts.Convergence)
	defer cancel()
	var flow accesslog.Flow
	var last error
	for {
		flow, last = r.taggedFlow(ctx, mark, tag)
		if last == nil {
			if last = check.Check(flow); last == nil {
				return flow, nil
			}
		}
		select {
		case <-ctx.Done():
			return flow, fmt.Errorf("%w (waited %v for the access logs)", last, r.Timeouts.Convergence)
		case <-time.After(r.Timeouts.ConvergenceInterval):
		}
	}
}

// taggedFlow is the flow of the request whose first record carries the
// tag (an edge proxy gives a request a new id; the id it logs is the one
// the mesh carries on).
func (r *Runner) taggedFlow(ctx context.Context, mark backend.Mark, tag string) (accesslog.Flow, error) {
	ps, err := r.Backend.Proxies(ctx)
	if err != nil {
		return accesslog.Flow{}, err
	}
	var records []accesslog.Record
	for _, p := range ps {
		b, err := r.Backend.AccessLogs(ctx, p, mark)
		if err != nil {
			return accesslog.Flow{}, fmt.Errorf("access log of %s: %w", p, err)
		}
		rd, err := accesslog.Read(bytes.NewReader(b), accesslog.ReadOptions{Source: p.String(), Proxy: p.Name})
		if err != nil {
			return accesslog.Flow{}, fmt.Errorf("access log of %s: %w", p, err)
		}
		records = append(records, rd.Records...)
	}
	flows := accesslog.Flows(records)
	for _, f := range flows {
		if len(f.Hops) > 0 && f.Hops[0].UserAgent == tag {
			return f, nil
		}
	}
	return accesslog.Flow{}, errors.New("no proxy has logged the request tagged " + tag + " yet")
}
