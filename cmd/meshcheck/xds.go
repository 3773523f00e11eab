package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/meshcheck/meshcheck/harness/xds"
	"github.com/meshcheck/meshcheck/harness/xds/expect"
	"github.com/meshcheck/meshcheck/harness/xds/golden"
	"github.com/meshcheck/meshcheck/harness/xds/lint"
	"github.com/meshcheck/meshcheck/harness/xds/trace"
)

func xdsGroup() group {
	return group{
		name:    "xds",
		summary: "read Envoy config dumps: trace a request, lint, check expectations, diff",
		commands: []command{
			{name: "trace", summary: "where does this request go, and why", usage: xdsTraceUsage, run: xdsTrace},
			{name: "lint", summary: "flag broken or suspicious config in a dump", usage: xdsLintUsage, run: xdsLint},
			{name: "check", summary: "check a dump against an expectation spec", usage: xdsCheckUsage, run: xdsCheck},
			{name: "diff", summary: "semantic diff of two dumps after normalization", usage: xdsDiffUsage, run: xdsDiff},
		},
	}
}

// loadDump reads a dump from a file or "-" and reports errors to stderr with
// the exit code to return (0 when it worked).
func loadDump(s streams, name string) (*xds.Dump, int) { return loadDumpWith(s, name, xds.Options{}) }

// loadDumpWith is loadDump with parse options (Source is set here).
func loadDumpWith(s streams, name string, opts xds.Options) (*xds.Dump, int) {
	data, err := readInput(s, name)
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck: cannot read config dump: %v\n", err)
		return nil, exitNoInput
	}
	src := name
	if name == "-" {
		src = "<stdin>"
	}
	opts.Source = src
	d, err := xds.Parse(data, opts)
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck: %v\n", err)
		return nil, exitBadInput
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(s.Err, "meshcheck: warning: %s: %s\n", src, w)
	}
	return d, exitOK
}

const xdsTraceUsage = `
Exit codes: 0 a route (or TCP proxy) was found; 3 Envoy would find no listener,
filter chain, virtual host or route (the reason is printed); 4 the trace met
something meshcheck cannot decide (named under "unsupported").

--port is the port Envoy sees: for a gateway installed by istioctl the
Service's port 80 arrives on 8080. For a sidecar it is the original
destination port, and --address the original destination IP (a ClusterIP or
pod IP).

Examples:
  meshcheck xds trace --dump gw.json --role gateway --port 8080 --host bookinfo.example.com --path /productpage
  meshcheck xds trace --dump pp.json --role sidecar-outbound --address 10.96.12.7 --port 9080 --host reviews:9080 -o json
  kubectl exec deploy/productpage-v1 -c istio-proxy -- pilot-agent request GET 'config_dump?include_eds' |
    meshcheck xds trace --dump - --role sidecar-inbound --address 10.244.0.12 --port 9080 --host productpage:9080`

const exitUndecided = 4

func xdsTrace(_ context.Context, s streams, args []string) int {
	c := command{name: "trace", summary: "where does this request go, and why", usage: xdsTraceUsage}
	fs := newFlagSet("xds", c, s)
	dump := fs.String("dump", "", "config dump `FILE`, or - for stdin (required)")
	role := fs.String("role", "", "gateway, sidecar-outbound or sidecar-inbound (required)")
	port := fs.Uint("port", 0, "destination port Envoy sees (required)")
	addr := fs.String("address", "", "destination IP (original destination)")
	source := fs.String("source", "", "source `IP[:PORT]`, for chains that match on source")
	host := fs.String("host", "", "Host (:authority) header")
	path := fs.String("path", "/", "request path, with an optional query string")
	method := fs.String("method", "GET", "request method")
	sni := fs.String("sni", "", "TLS server name (implies a TLS connection)")
	tls := fs.Bool("tls", false, "the connection is TLS (an Istio sidecar's mTLS)")
	alpn := fs.String("alpn", "", "comma-separated ALPN list the client offers")
	out := outputFlag(fs)
	var headers multiFlag
	fs.Var(&headers, "header", "request header `K=V` (repeatable)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected arguments %q", fs.Args())
	}
	if *dump == "" || *role == "" || *port == 0 {
		return usageError(s, fs, "--dump, --role and --port are required")
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	if *port > 65535 {
		return usageError(s, fs, "--port %d is not a port", *port)
	}
	r, err := trace.ParseRole(*role)
	if err != nil {
		return usageError(s, fs, "--role: %v", err)
	}
	hdrs, err := parseKV(headers)
	if err != nil {
		return usageError(s, fs, "--header: %v", err)
	}
	req := trace.Request{Role: r, Port: uint32(*port), Address: *addr, Host: *host, Path: *path, Method: *method,
		ServerName: *sni, TLS: *tls, Headers: hdrs}
	if *alpn != "" {
		req.ALPN = strings.Split(*alpn, ",")
	}
	if *source != "" {
		ip, p, found := strings.Cut(*source, ":")
		if strings.Count(*source, ":") > 1 { // IPv6 without a port
			ip, p, found = *source, "", false
		}
		req.SourceAddress = ip
		if found {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				return usageError(s, fs, "--source port %q: %v", p, err)
			}
			req.SourcePort = uint32(n)
		}
	}
	// A trace touches a handful of resources: decode only those.
	d, code := loadDumpWith(s, *dump, xds.Options{Lazy: true})
	if d == nil {
		return code
	}
	res, err := trace.Trace(d, req)
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	if errs := d.LoadErrors(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(s.Err, "meshcheck: %v\n", e)
		}
		return exitBadInput
	}
	if *out == "json" {
		if code := writeJSON(s, res); code != exitOK {
			return code
		}
	} else {
		fmt.Fprint(s.Out, res.Text())
	}
	switch {
	case res.Undecided():
		if *out == "json" {
			fmt.Fprintf(s.Err, "meshcheck: undecided: %s\n", strings.Join(res.Unsupported, "; "))
		}
		return exitUndecided
	case res.NoRoute != "":
		if *out == "json" {
			fmt.Fprintf(s.Err, "meshcheck: no route: %s\n", res.NoRoute)
		}
		return exitNoRoute
	}
	return exitOK
}

func xdsLint(_ context.Context, s streams, args []string) int {
	c := command{name: "lint", summary: "flag broken or suspicious config in a dump", usage: xdsLintUsage}
	fs := newFlagSet("xds", c, s)
	dump := fs.String("dump", "", "config dump `FILE`, or - for stdin (required)")
	out := outputFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *dump == "" || fs.NArg() > 0 {
		return usageError(s, fs, "--dump FILE is required, and nothing else")
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	d, code := loadDump(s, *dump)
	if d == nil {
		return code
	}
	findings := lint.Lint(d)
	if *out == "json" {
		if findings == nil {
			findings = []lint.Finding{}
		}
		if code := writeJSON(s, findings); code != exitOK {
			return code
		}
	} else {
		for _, f := range findings {
			fmt.Fprintln(s.Out, f)
		}
		n := lint.Count(findings)
		fmt.Fprintf(s.Out, "%d errors, %d warnings, %d info\n", n[lint.Error], n[lint.Warning], n[lint.Info])
	}
	if lint.HasErrors(findings) {
		return exitFail
	}
	return exitOK
}
func xdsCheck(_ context.Context, s streams, args []string) int {
	c := command{name: "check", summary: "check a dump against an expectation spec", usage: xdsCheckUsage}
	fs := newFlagSet("xds", c, s)
	dump := fs.String("dump", "", "config dump `FILE`, or - for stdin (required)")
	specFile := fs.String("expect", "", "expectation spec `SPEC.yaml` (required)")
	version := fs.String("istio-version", "", "Istio version under test (`X.Y.Z`); items with an istio constraint are skipped without it")
	out := outputFlag(fs)
	var vars multiFlag
	fs.Var(&vars, "var", "spec variable `K=V` (repeatable), e.g. --var namespace=bookinfo")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *dump == "" || *specFile == "" || fs.NArg() > 0 {
		return usageError(s, fs, "--dump FILE and --expect SPEC.yaml are required, and nothing else")
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	vm, err := parseKV(vars)
	if err != nil {
		return usageError(s, fs, "--var: %v", err)
	}
	spec, err := expect.LoadFile(*specFile)
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck: %v\n", err)
		if errors.Is(err, os.ErrNotExist) {
			return exitNoInput
		}
		return exitBadInput
	}
	d, code := loadDump(s, *dump)
	if d == nil {
		return code
	}
	rep, err := expect.Check(d, spec, expect.Options{IstioVersion: *version, Vars: vm})
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck: %v\n", err)
		return exitBadInput
	}
	if *out == "json" {
		if code := writeJSON(s, rep); code != exitOK {
			return code
		}
	} else {
		for _, f := range rep.Failures {
			fmt.Fprintf(s.Out, "FAIL %s\n", f)
		}
		for _, sk := range rep.Skipped {
			fmt.Fprintf(s.Out, "skip %s\n", sk)
		}
		fmt.Fprintf(s.Out, "%d checked, %d failed, %d skipped\n", rep.Checked, len(rep.Failures), len(rep.Skipped))
	}
	if !rep.Passed() {
		return exitFail
	}
	return exitOK
}
func xdsDiff(_ context.Context, s streams, args []string) int {
	c := command{name: "diff", summary: "semantic diff of two dumps after normalization", usage: xdsDiffUsage}
	fs := newFlagSet("xds", c, s)
	out := outputFlag(fs)
	redact := fs.Bool("redact-ips", false, "ignore endpoint IP addresses")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		return usageError(s, fs, "want two dumps, A and B")
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	if fs.Arg(0) == "-" && fs.Arg(1) == "-" {
		return usageError(s, fs, "only one of A and B can be standard input")
	}
	var docs [2]golden.Doc
	for i := range docs {
		d, code := loadDump(s, fs.Arg(i))
		if d == nil {
			return code
		}
		doc, err := golden.Normalize(d, golden.Options{RedactEndpointIPs: *redact})
		if err != nil {
			fmt.Fprintf(s.Err, "meshcheck: %s: %v\n", fs.Arg(i), err)
			return exitBadInput
		}
		docs[i] = doc
	}
	changes := golden.Diff(docs[0], docs[1])
	if *out == "json" {
		if changes == nil {
			changes = []golden.Change{}
		}
		if code := writeJSON(s, changes); code != exitOK {
			return code
		}
	} else {
		fmt.Fprint(s.Out, golden.Format(changes))
		fmt.Fprintf(s.Out, "%d changes\n", len(changes))
	}
	if len(changes) > 0 {
		return exitFail
	}
	return exitOK
}

const (
	xdsLintUsage = `
Exit codes: 0 no finding of severity error; 1 at least one.

Errors: a missing route config or cluster, an EDS cluster with no assignment
(judged only when the dump includes endpoints), a resource Envoy rejected.
Warnings: an EDS cluster with no healthy endpoint, warming resources,
duplicate domains. Info: payloads of unknown types.

Examples:
  meshcheck xds lint --dump productpage.json
  meshcheck xds lint --dump - -o json < gateway.json`
	xdsCheckUsage = `
Exit codes: 0 every checked expectation holds; 1 one failed (each failure names
the element, its spec line, the expected and actual values, and the closest
candidates).

The spec is YAML: listeners, routeConfigs (virtualHosts, routes), clusters
(type, endpoint counts) and flows (a request and where it must go). Only what
is written is checked. Items may carry istio: ">=1.23"; strings may use
${namespace} and ${domain} (defaults: default, cluster.local) and vars.

Examples:
  meshcheck xds check --dump gw.json --expect fixtures/bookinfo/expect-gateway.yaml --istio-version 1.30.2
  meshcheck xds check --dump pp.json --expect spec.yaml --var namespace=bookinfo -o json`
	xdsDiffUsage = `
Exit codes: 0 the dumps hold the same config after normalization; 1 they differ.

Normalization drops versions, nonces, timestamps and uids and orders what
Envoy does not read in order; --redact-ips also ignores endpoint addresses.
Each line is "+ kind name" (added in B), "- kind name" (removed), or
"~ kind name: field.path: old -> new".

Examples:
  meshcheck xds diff before.json after.json
  meshcheck xds diff --redact-ips -o json golden.json live.json`
)
