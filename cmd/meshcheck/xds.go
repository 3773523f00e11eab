package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/expect"
	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

func newXDSCmd(s streams) *cobra.Command {
	return newGroupCmd("xds", "read Envoy config dumps: trace a request, lint, check expectations, diff",
		newXDSTraceCmd(s),
		newXDSLintCmd(s),
		newXDSCheckCmd(s),
		newXDSDiffCmd(s),
	)
}

// loadDump reads a dump from a file or "-"; the error carries the exit code.
func loadDump(s streams, name string, opts xds.Options) (*xds.Dump, error) {
	data, err := readInput(s, name)
	if err != nil {
		return nil, exitWith(exitNoInput, fmt.Errorf("cannot read config dump: %w", err))
	}
	opts.Source = inputLabel(name)
	d, err := xds.Parse(data, opts)
	if err != nil {
		return nil, exitWith(exitBadInput, err)
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(s.Err, "meshcheck: warning: %s: %s\n", opts.Source, w)
	}
	return d, nil
}

// addDumpFlag registers --dump, the config dump most xds commands read.
func addDumpFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "dump", "", "config dump `FILE`, or - for stdin (required)")
	_ = c.MarkFlagFilename("dump", "json")
}

// traceOptions are the flags of xds trace.
type traceOptions struct {
	dump, role, address, source, host, path, method, sni, alpn, scheme string
	// routes is a bare route configuration file; routeConfig names one route
	// configuration to trace alone (with --dump or --routes).
	routes, routeConfig string
	port                uint
	tls                 bool
	headers             []string
	output              outputFormat
}

func newXDSTraceCmd(s streams) *cobra.Command {
	o := &traceOptions{}
	c := &cobra.Command{
		Use:   "trace --dump FILE --role ROLE --port PORT [flags]",
		Short: "where does this request go, and why",
		Long: `Traces one request through a config dump the way Envoy matches it, and prints
each step.

Exit codes: 0 a route (or TCP proxy) was found; 3 Envoy would find no listener,
filter chain, virtual host or route (the reason is printed); 4 the trace met
something meshcheck cannot decide (named under "unsupported").

--port is the port Envoy sees: for a gateway installed by istioctl the
Service's port 80 arrives on 8080. For a sidecar it is the original
destination port, and --address the original destination IP (a ClusterIP or
pod IP).`,
		Example: `  meshcheck xds trace --dump gateway.json --role gateway --port 8080 --host bookinfo.example.com --path /productpage
  meshcheck xds trace --dump productpage.json --role sidecar-outbound --address 10.96.12.7 --port 9080 --host reviews:9080 -o json
  kubectl exec deploy/productpage-v1 -c istio-proxy -- pilot-agent request GET 'config_dump?include_eds' |
    meshcheck xds trace --dump - --role sidecar-inbound --address 10.244.0.12 --port 9080 --host productpage:9080`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(s) },
	}
	f := c.Flags()
	addDumpFlag(c, &o.dump)
	f.StringVar(&o.role, "role", "", "gateway, sidecar-outbound or sidecar-inbound (required)")
	f.UintVar(&o.port, "port", 0, "destination port Envoy sees (required)")
	f.StringVar(&o.address, "address", "", "destination IP (original destination)")
	f.StringVar(&o.source, "source", "", "source `IP[:PORT]`, for chains that match on source")
	f.StringVar(&o.host, "host", "", "Host (:authority) header")
	f.StringVar(&o.path, "path", "/", "request path, with an optional query string")
	f.StringVar(&o.method, "method", "GET", "request method")
	f.StringVar(&o.scheme, "scheme", "", "the request's :scheme, http or https (default: https over TLS, else http); require_tls and redirects follow x-forwarded-proto (a --header) where Envoy trusts it")
	f.StringVar(&o.sni, "sni", "", "TLS server name (implies a TLS connection)")
	f.BoolVar(&o.tls, "tls", false, "the connection is TLS (an Istio sidecar's mTLS)")
	f.StringVar(&o.alpn, "alpn", "", "comma-separated ALPN list the client offers")
	f.StringArrayVar(&o.headers, "header", nil, "request header `K=V` (repeatable)")
	f.StringVar(&o.routes, "routes", "", "a route configuration `FILE` (RouteConfiguration, or a list of them, JSON or YAML) to trace alone, instead of --dump")
	f.StringVar(&o.routeConfig, "route-config", "", "trace this route configuration `NAME` alone (listener and filter chain not traced; --role and --port not needed)")
	addOutputFlag(c, &o.output)
	completeFlag(c, "role", "gateway", "sidecar-outbound", "sidecar-inbound")
	completeFlag(c, "scheme", "http", "https")
	return c
}

// request turns the flags into a trace request.
func (o *traceOptions) request() (trace.Request, error) {
	r, err := o.inputsRole()
	if err != nil {
		return trace.Request{}, err
	}
	if o.port > 65535 {
		return trace.Request{}, usageErr("--port %d is not a port", o.port)
	}
	hdrs, err := parseKV(o.headers)
	if err != nil {
		return trace.Request{}, usageErr("--header: %w", err)
	}
	if o.scheme != "" && o.scheme != "http" && o.scheme != "https" {
		return trace.Request{}, usageErr("--scheme %q: want http or https", o.scheme)
	}
	req := trace.Request{Role: r, Port: uint32(o.port), Address: o.address, Host: o.host, Path: o.path, Method: o.method,
		Scheme: o.scheme, ServerName: o.sni, TLS: o.tls, Headers: hdrs}
	if o.alpn != "" {
		req.ALPN = strings.Split(o.alpn, ",")
	}
	if o.source != "" {
		if req.SourceAddress, req.SourcePort, err = parseSource(o.source); err != nil {
			return trace.Request{}, err
		}
	}
	return req, nil
}

// routeOnly reports whether a route configuration is traced alone.
func (o *traceOptions) routeOnly() bool { return o.routes != "" || o.routeConfig != "" }

// inputsRole checks which inputs are given: a dump with --role and --port, or a
// route configuration alone (--routes, or --dump with --route-config).
func (o *traceOptions) inputsRole() (trace.Role, error) {
	switch {
	case o.routes != "" && o.dump != "":
		return "", usageErr("--routes and --dump: give one")
	case o.routeOnly() && o.routes == "" && o.dump == "":
		return "", usageErr("--route-config needs --dump or --routes")
	case o.routeOnly() && o.role == "":
		return trace.RoleGateway, nil
	case o.dump == "" || o.role == "" || o.port == 0:
		return "", usageErr("--dump, --role and --port are required (or --routes FILE to trace a route configuration alone)")
	}
	r, err := trace.ParseRole(o.role)
	if err != nil {
		return "", usageErr("--role: %w", err)
	}
	return r, nil
}

// loadRoutes reads a bare route configuration (or a list of them), JSON or
// YAML, as a dump holding only RDS.
func loadRoutes(s streams, name string) (*xds.Dump, error) {
	data, err := readInput(s, name)
	if err != nil {
		return nil, exitWith(exitNoInput, fmt.Errorf("cannot read route configuration: %w", err))
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, exitWith(exitBadInput, fmt.Errorf("%s: not JSON or YAML: %w", inputLabel(name), err))
	}
	if t := bytes.TrimSpace(js); len(t) == 0 || t[0] != '[' {
		js = append(append([]byte("["), js...), ']')
	}
	d, err := xds.Parse(js, xds.Options{Source: inputLabel(name)})
	if err != nil {
		return nil, exitWith(exitBadInput, err)
	}
	if !d.Has(xds.TypeRoutes) {
		return nil, exitWith(exitBadInput, fmt.Errorf("%s: no route configuration (want a RouteConfiguration with virtual_hosts)", inputLabel(name)))
	}
	return d, nil
}

// parseSource splits --source IP[:PORT] (an IPv6 address without a port
// has more than one colon).
func parseSource(src string) (string, uint32, error) {
	ip, p, found := strings.Cut(src, ":")
	if !found || strings.Count(src, ":") > 1 {
		return src, 0, nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, usageErr("--source port %q: %w", p, err)
	}
	return ip, uint32(n), nil
}

func (o *traceOptions) run(s streams) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	var d *xds.Dump
	if o.routes != "" {
		d, err = loadRoutes(s, o.routes)
	} else {
		// A trace touches a handful of resources: decode only those.
		d, err = loadDump(s, o.dump, xds.Options{Lazy: true})
	}
	if err != nil {
		return err
	}
	var res *trace.Result
	if o.routeOnly() {
		res, err = trace.TraceRouteConfig(d, o.routeConfig, req)
	} else {
		res, err = trace.Trace(d, req)
	}
	if err != nil {
		return usageErr("%w", err)
	}
	if errs := d.LoadErrors(); len(errs) > 0 {
		return exitWith(exitBadInput, errors.Join(errs...))
	}
	if o.output.json() {
		if err := writeJSON(s.Out, res); err != nil {
			return err
		}
	} else {
		fmt.Fprint(s.Out, res.Text())
	}
	switch {
	case res.Undecided():
		return o.verdict(exitUndecided, "undecided: %s", strings.Join(res.Unsupported, "; "))
	case res.NoRoute != "":
		return o.verdict(exitNoRoute, "no route: %s", res.NoRoute)
	}
	return nil
}

// verdict ends a trace with code; with -o json, whose output does not
// say it in words, the reason also goes to stderr.
func (o *traceOptions) verdict(code int, format string, a ...any) error {
	if o.output.json() {
		return exitWith(code, fmt.Errorf(format, a...))
	}
	return exitCode(code)
}

// lintOptions are the flags of xds lint.
type lintOptions struct {
	dump   string
	output outputFormat
}

func newXDSLintCmd(s streams) *cobra.Command {
	o := &lintOptions{}
	c := &cobra.Command{
		Use:   "lint --dump FILE [flags]",
		Short: "flag broken or suspicious config in a dump",
		Long: `Exit codes: 0 no finding of severity error; 1 at least one.

Errors: a missing route config or cluster, an EDS cluster with no assignment
(judged only when the dump includes endpoints), a resource Envoy rejected.
Warnings: an EDS cluster with no healthy endpoint, warming resources,
duplicate domains. Info: payloads of unknown types.`,
		Example: `  meshcheck xds lint --dump productpage.json
  meshcheck xds lint --dump - -o json < gateway.json`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(s) },
	}
	addDumpFlag(c, &o.dump)
	addOutputFlag(c, &o.output)
	return c
}

func (o *lintOptions) run(s streams) error {
	if o.dump == "" {
		return usageErr("--dump FILE is required")
	}
	d, err := loadDump(s, o.dump, xds.Options{})
	if err != nil {
		return err
	}
	findings := lint.Lint(d)
	if o.output.json() {
		if findings == nil {
			findings = []lint.Finding{}
		}
		if err := writeJSON(s.Out, findings); err != nil {
			return err
		}
	} else {
		for _, f := range findings {
			fmt.Fprintln(s.Out, f)
		}
		n := lint.Count(findings)
		fmt.Fprintf(s.Out, "%d errors, %d warnings, %d info\n", n[lint.Error], n[lint.Warning], n[lint.Info])
	}
	if lint.HasErrors(findings) {
		return exitCode(exitFail)
	}
	return nil
}

// checkOptions are the flags of xds check.
type checkOptions struct {
	dump, spec, istioVersion string
	vars                     []string
	output                   outputFormat
}

func newXDSCheckCmd(s streams) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   "check --dump FILE --expect SPEC.yaml [flags]",
		Short: "check a dump against an expectation spec",
		Long: `Exit codes: 0 every checked expectation holds; 1 one failed (each failure names
the element, its spec line, the expected and actual values, and the closest
candidates).

The spec is YAML: listeners, routeConfigs (virtualHosts, routes), clusters
(type, endpoint counts) and flows (a request and where it must go). Only what
is written is checked. Items may carry istio: ">=1.23"; strings may use
${namespace} and ${domain} (defaults: default, cluster.local) and vars.`,
		Example: `  meshcheck xds check --dump gateway.json --expect bookinfo-gateway.yaml --istio-version 1.30.2
  meshcheck xds check --dump productpage.json --expect bookinfo-productpage.yaml --var namespace=default -o json`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(s) },
	}
	f := c.Flags()
	addDumpFlag(c, &o.dump)
	f.StringVar(&o.spec, "expect", "", "expectation spec `SPEC.yaml` (required)")
	_ = c.MarkFlagFilename("expect", "yaml", "yml")
	f.StringVar(&o.istioVersion, "istio-version", "", "Istio version under test (`X.Y.Z`); items with an istio constraint are skipped without it")
	f.StringArrayVar(&o.vars, "var", nil, "spec variable `K=V` (repeatable), e.g. --var namespace=bookinfo")
	addOutputFlag(c, &o.output)
	return c
}

func (o *checkOptions) run(s streams) error {
	if o.dump == "" || o.spec == "" {
		return usageErr("--dump FILE and --expect SPEC.yaml are required")
	}
	vm, err := parseKV(o.vars)
	if err != nil {
		return usageErr("--var: %w", err)
	}
	spec, err := expect.LoadFile(o.spec)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return exitWith(exitNoInput, err)
		}
		return exitWith(exitBadInput, err)
	}
	d, err := loadDump(s, o.dump, xds.Options{})
	if err != nil {
		return err
	}
	rep, err := expect.Check(d, spec, expect.Options{IstioVersion: o.istioVersion, Vars: vm})
	if err != nil {
		return exitWith(exitBadInput, err)
	}
	if o.output.json() {
		if err := writeJSON(s.Out, rep); err != nil {
			return err
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
		return exitCode(exitFail)
	}
	return nil
}

// diffOptions are the flags of xds diff.
type diffOptions struct {
	redact bool
	output outputFormat
}

func newXDSDiffCmd(s streams) *cobra.Command {
	o := &diffOptions{}
	c := &cobra.Command{
		Use:   "diff A B [flags]",
		Short: "semantic diff of two dumps after normalization",
		Long: `Exit codes: 0 the dumps hold the same config after normalization; 1 they differ.

Normalization drops versions, nonces, timestamps and uids and orders what
Envoy does not read in order; --redact-ips also ignores endpoint addresses.
Each line is "+ kind name" (added in B), "- kind name" (removed), or
"~ kind name: field.path: old -> new".`,
		Example: `  meshcheck xds diff productpage.json productpage-after.json           # exit 1: they differ
  meshcheck xds diff productpage.json productpage-after.json --redact-ips -o json   # exit 1`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("want two dumps, A and B; got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return o.run(s, args[0], args[1]) },
	}
	c.Flags().BoolVar(&o.redact, "redact-ips", false, "ignore endpoint IP addresses")
	addOutputFlag(c, &o.output)
	return c
}

func (o *diffOptions) run(s streams, a, b string) error {
	if a == "-" && b == "-" {
		return usageErr("only one of A and B can be standard input")
	}
	var docs [2]golden.Doc
	for i, name := range []string{a, b} {
		d, err := loadDump(s, name, xds.Options{})
		if err != nil {
			return err
		}
		if docs[i], err = golden.Normalize(d, golden.Options{RedactEndpointIPs: o.redact}); err != nil {
			return exitWith(exitBadInput, fmt.Errorf("%s: %w", name, err))
		}
	}
	changes := golden.Diff(docs[0], docs[1])
	if o.output.json() {
		if changes == nil {
			changes = []golden.Change{}
		}
		if err := writeJSON(s.Out, changes); err != nil {
			return err
		}
	} else {
		fmt.Fprint(s.Out, golden.Format(changes))
		fmt.Fprintf(s.Out, "%d changes\n", len(changes))
	}
	if len(changes) > 0 {
		return exitCode(exitFail)
	}
	return nil
}
