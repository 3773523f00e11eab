package checks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures/expect"
)

// transport is how a split's or a path's requests leave: through the
// ingress, or from inside a workload to a service's address.
func (r *Runner) transport(ctx context.Context, t target, from, to string) (traffic.Transport, error) {
	if from == expect.IngressSource {
		return r.Backend.Ingress(ctx)
	}
	ws, err := r.workloads(ctx, from)
	if err != nil {
		return nil, err
	}
	name, port, _ := strings.Cut(to, ":")
	p, _ := strconv.Atoi(port)
	addr, err := r.Backend.ServiceAddress(ctx, t.fixture.Namespace, name, p)
	if err != nil {
		return nil, fmt.Errorf("address of %s: %w", to, err)
	}
	return r.Backend.InWorkload(ctx, ws[0], addr)
}

// request expands a request's variables (checked by expect.Load).
func request(t target, q expect.Request) traffic.Request {
	host, _ := t.fixture.Expand(q.Host)
	path, _ := t.fixture.Expand(q.Path)
	req := traffic.Request{Method: q.Method, Host: host, Path: path}
	if len(q.Headers) > 0 {
		req.Headers = http.Header{}
		for k, v := range q.Headers {
			v, _ = t.fixture.Expand(v)
			req.Headers.Set(k, v)
		}
	}
	return req
}

// split samples requests until engines/split's sequential test decides
// whether the observed shares hold the weights.
func (r *Runner) split(ctx context.Context, t target, s *expect.Split) Result {
	res := t.result(Splits, s.Name, s.Line())
	if res.Name == "" {
		res.Name = fmt.Sprintf("split %s from %s", s.Weights, s.From)
	}
	res.Expected = "weights " + s.Weights
	test, err := split.New(s.ParsedWeights(), split.Options{})
	if err != nil {
		return undecided(res, err)
	}
	tr, err := r.transport(ctx, t, s.From, s.To)
	if err != nil {
		return broken(res, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeouts.SplitSampling)
	defer cancel()
	sample := traffic.SampleFunc(tr, request(t, s.Request), r.Timeouts.Request, expect.Classifiers[s.Classify])
	out, err := split.Sampler{Test: test, Sample: sample}.Run(ctx)
	res.Actual = fmt.Sprintf("%s after %d requests", formatCounts(out.Counts), out.Samples)
	res.Detail = out.Reason
	res.Split = &out
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return undecided(res, err)
	case err != nil:
		res.Status, res.LastError = Fail, err.Error()
	case out.Decision == split.Pass:
		res.Status = Pass
	case out.Decision == split.Fail:
		res.Status = Fail
	default:
		res.Status = Undecided
	}
	return res
}

func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "no responses"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ",")
}
