package suite

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds"
)

// NS is the namespace a fixture's namespace is created as on the
// backend (Backend.Namespace): tests name fixtures' namespaces, and build
// names that hold one (a cluster's FQDN) with NS.
func (s *Suite) NS(fixture string) string { return s.Backend.Namespace(fixture) }

// Host is the host name a fixture's or test's host is served as: where
// the backend gives the run namespaces of its own (<namespace>-<run ID>),
// its first label gets the same suffix (bookinfo.example.com becomes
// bookinfo-<run ID>.example.com), so that runs sharing an ingress gateway
// keep to their own virtual hosts; elsewhere it is h.
func (s *Suite) Host(h string) string {
	suffix := strings.TrimPrefix(s.NS("x"), "x")
	if suffix == "" {
		return h
	}
	label, rest, ok := strings.Cut(h, ".")
	if !ok {
		return h + suffix
	}
	return label + suffix + "." + rest
}

// Workload finds the workload in namespace (a fixture's, mapped with NS)
// whose name starts with prefix; the error lists every workload there is.
func (s *Suite) Workload(ctx context.Context, namespace, prefix string) (backend.Workload, error) {
	namespace = s.NS(namespace)
	ws, err := s.Backend.Workloads(ctx)
	if err != nil {
		return backend.Workload{}, fmt.Errorf("suite: workloads: %w", err)
	}
	names := make([]string, 0, len(ws))
	for _, w := range ws {
		if w.Namespace == namespace && strings.HasPrefix(w.Name, prefix) {
			return w, nil
		}
		names = append(names, w.String())
	}
	return backend.Workload{}, fmt.Errorf("suite: no workload %s/%s*; have %v", namespace, prefix, names)
}

// Proxy finds the proxy of the workload in namespace (a fixture's, mapped
// with NS; istio-system for the gateway, as it is) whose name starts with
// prefix; the error lists every proxy there is.
func (s *Suite) Proxy(ctx context.Context, namespace, prefix string) (backend.Proxy, error) {
	if namespace != "istio-system" {
		namespace = s.NS(namespace)
	}
	ps, err := s.Backend.Proxies(ctx)
	if err != nil {
		return backend.Proxy{}, fmt.Errorf("suite: proxies: %w", err)
	}
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Namespace == namespace && strings.HasPrefix(p.Name, prefix) {
			return p, nil
		}
		names = append(names, p.String())
	}
	return backend.Proxy{}, fmt.Errorf("suite: no proxy %s/%s*; have %v", namespace, prefix, names)
}

// Dump reads and parses a proxy's config dump, named after the proxy in
// messages.
func (s *Suite) Dump(ctx context.Context, p backend.Proxy) (*xds.Dump, error) {
	b, err := s.Backend.ConfigDump(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("suite: config dump of %s: %w", p, err)
	}
	d, err := xds.Parse(b, xds.Options{Source: p.String()})
	if err != nil {
		return nil, fmt.Errorf("suite: config dump of %s: %w", p, err)
	}
	return d, nil
}

// AccessLog reads and parses what a proxy logged since a mark.
func (s *Suite) AccessLog(ctx context.Context, p backend.Proxy, since backend.Mark) ([]accesslog.Record, error) {
	b, err := s.Backend.AccessLogs(ctx, p, since)
	if err != nil {
		return nil, fmt.Errorf("suite: access log of %s: %w", p, err)
	}
	res, err := accesslog.Read(bytes.NewReader(b), accesslog.ReadOptions{Source: p.String(), Proxy: p.Name})
	if err != nil {
		return nil, fmt.Errorf("suite: access log of %s: %w", p, err)
	}
	return res.Records, nil
}

// SampleSplit runs the sequential split test for weights ("v1=90,v2=10")
// on requests sent through tr, each classified by c, for at most
// Timeouts.SplitSampling, and records the decision (Record, RecordSplit)
// with the fixture step it was decided in when the test steps one.
func (s *Suite) SampleSplit(ctx context.Context, tr traffic.Transport, req traffic.Request, c traffic.Classifier, weights string) (split.Result, error) {
	w, err := split.ParseWeights(weights)
	if err != nil {
		return split.Result{}, fmt.Errorf("suite: %w", err)
	}
	test, err := split.New(w, split.Options{})
	if err != nil {
		return split.Result{}, fmt.Errorf("suite: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeouts.SplitSampling)
	defer cancel()
	res, err := split.Sampler{Test: test, Sample: traffic.SampleFunc(tr, req, s.Timeouts.Request, c)}.Run(ctx)
	fixture, step := s.stepped()
	s.Record(RecordSplit, SplitRecord{Name: fmt.Sprintf("weights %s, %s", weights, req), Fixture: fixture, Step: step, Result: res})
	if err != nil {
		return res, fmt.Errorf("suite: sampling %s through %s: %w", req, tr, err)
	}
	return res, nil
}

// stepped is the one fixture the test set up now steps, and its step;
// empty when it steps none, or several (which one a split is about is
// then not known).
func (s *Suite) stepped() (fixture, step string) {
	for _, f := range s.testing {
		if f.Step == "" {
			continue
		}
		if fixture != "" {
			return "", ""
		}
		fixture, step = f.Name, f.Step
	}
	return fixture, step
}
