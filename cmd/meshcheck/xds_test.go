package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const td = "../../engines/xds/testdata"

func TestXDSTraceJSON(t *testing.T) {
	code, out, stderr := runCLI("", "xds", "trace", "--dump", td+"/pilot/gateway-config_dump.json",
		"--role", "gateway", "--port", "8080", "--host", "whoami.example.com", "--path", "/", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var res struct {
		Listener    string `json:"listener"`
		FilterChain string `json:"filterChain"`
		RouteConfig string `json:"routeConfig"`
		VirtualHost string `json:"virtualHost"`
		Route       string `json:"route"`
		Clusters    []struct {
			Name   string `json:"name"`
			Weight int    `json:"weight"`
		} `json:"clusters"`
		Endpoints   map[string][]struct{ Address, Health string } `json:"endpoints"`
		Unsupported []string                                      `json:"unsupported"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if res.Listener != "0.0.0.0_8080" || res.RouteConfig != "http.8080" || res.VirtualHost != "*:8080" || res.Route != "whoami-split" || res.FilterChain == "" {
		t.Errorf("unexpected trace: %+v", res)
	}
	if len(res.Clusters) != 2 || res.Clusters[0].Weight != 90 || res.Clusters[1].Weight != 10 {
		t.Errorf("clusters = %+v", res.Clusters)
	}
	eps := res.Endpoints["outbound|80|v1|whoami.default.svc.cluster.local"]
	if len(eps) != 1 || eps[0].Address != "10.244.0.11:80" || eps[0].Health != "HEALTHY" {
		t.Errorf("endpoints = %+v", res.Endpoints)
	}
	if res.Unsupported == nil {
		t.Errorf("unsupported must be an empty array, not null")
	}
}

func TestXDSExitCodes(t *testing.T) {
	dump := td + "/samples/gateway-config_dump.json"
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no listener", "", []string{"xds", "trace", "--dump", dump, "--role", "gateway", "--port", "80", "--host", "x"}, exitNoRoute, "NO ROUTE: no listener on 0.0.0.0:80; have 0.0.0.0_8080", ""},
		{"no route", "", []string{"xds", "trace", "--dump", dump, "--role", "gateway", "--port", "8080", "--host", "x", "--path", "/nope"}, exitNoRoute, "no route of virtual host", ""},
		{"stdin dump", mustRead(t, dump), []string{"xds", "trace", "--dump", "-", "--role", "gateway", "--port", "8080", "--path", "/productpage"}, exitOK, "outbound|9080||productpage.default.svc.cluster.local (weight 1, 1 endpoints)", ""},
		{"missing flags", "", []string{"xds", "trace", "--dump", dump}, exitUsage, "", "--dump, --role and --port are required"},
		{"bad role", "", []string{"xds", "trace", "--dump", dump, "--role", "egress", "--port", "80"}, exitUsage, "", `unknown role "egress"`},
		{"bad header", "", []string{"xds", "trace", "--dump", dump, "--role", "gateway", "--port", "80", "--header", "nokey"}, exitUsage, "", `"nokey" is not KEY=VALUE`},
		{"missing file", "", []string{"xds", "lint", "--dump", "/nonexistent/dump.json"}, exitNoInput, "", "cannot read config dump"},
		{"yaml input", "configs:\n- a: b\n", []string{"xds", "lint", "--dump", "-"}, exitBadInput, "", "<stdin>:1:1 (offset 0): not an Envoy config dump: not JSON: it looks like YAML"},
		{"empty input", "", []string{"xds", "lint", "--dump", "-"}, exitBadInput, "", "the document is empty"},
		{"lint clean enough", "", []string{"xds", "lint", "--dump", dump}, exitOK, "0 errors, 4 warnings, 0 info", ""},
		{"check fails", "", []string{"xds", "check", "--dump", dump, "--expect", td + "/expect/bookinfo-gateway.yaml", "--istio-version", "1.10.0"}, exitFail, "route config http.80 not found", ""},
		{"check passes", "", []string{"xds", "check", "--dump", dump, "--expect", td + "/expect/bookinfo-gateway.yaml", "--istio-version", "1.30.2"}, exitOK, "8 checked, 0 failed, 1 skipped", ""},
		{"check missing spec", "", []string{"xds", "check", "--dump", dump, "--expect", "/nonexistent.yaml"}, exitNoInput, "", "no such file"},
		{"diff same", "", []string{"xds", "diff", dump, dump}, exitOK, "0 changes", ""},
		{"diff differs", "", []string{"xds", "diff", dump, td + "/samples/gateway-config_dump.minimal.json"}, exitFail, "changes", ""},
		{"diff one arg", "", []string{"xds", "diff", dump}, exitUsage, "", "want two dumps"},
		{"unknown subcommand", "", []string{"xds", "frobnicate"}, exitUsage, "", `unknown command "frobnicate"`},
		{"help", "", []string{"xds", "trace", "-h"}, exitOK, "Examples:", ""},
		{"bad output", "", []string{"xds", "lint", "--dump", dump, "-o", "yaml"}, exitUsage, "", `invalid argument "yaml" for "-o, --output" flag: want text or json`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, stderr)
			}
			if !strings.Contains(out, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", out, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
		})
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(filepath.Clean(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// --scheme reaches the tracer: the upstream request carries it, and a value
// that is not a scheme is a usage error.
func TestXDSTraceScheme(t *testing.T) {
	dump := td + "/pilot/gateway-config_dump.json"
	base := []string{"xds", "trace", "--dump", dump, "--role", "gateway", "--port", "8080", "--host", "whoami.example.com", "-o", "json"}
	for _, tc := range []struct {
		scheme string
		code   int
		want   string
	}{
		{"https", exitOK, `"scheme": "https"`},
		{"http", exitOK, `"scheme": "http"`},
		{"ftp", exitUsage, ""},
	} {
		code, out, stderr := runCLI("", append(base, "--scheme", tc.scheme)...)
		if code != tc.code {
			t.Errorf("--scheme %s: exit %d, want %d; stderr %s", tc.scheme, code, tc.code, stderr)
			continue
		}
		if tc.want != "" && (!strings.Contains(out, `"upstreamRequest"`) || !strings.Contains(out, tc.want)) {
			t.Errorf("--scheme %s: no upstream request with %s in\n%s", tc.scheme, tc.want, out)
		}
	}
}

// --routes traces a route configuration alone; the inputs are checked.
func TestXDSTraceRoutes(t *testing.T) {
	routes := filepath.Join("testdata", "docs", "routes.yaml")
	bare := filepath.Join(t.TempDir(), "rc.json")
	if err := os.WriteFile(bare, []byte(`{"name":"r","virtual_hosts":[{"name":"a","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c","regex_rewrite":{"pattern":{"regex":"^/x/(.*)"},"substitution":"/\\1"}}}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"yaml, upstream rewrite", []string{"--routes", routes, "--host", "api.example.com", "--path", "/v2/a"}, exitOK, "upstream  http://api.internal/a"},
		{"json, regex rewrite", []string{"--routes", bare, "--host", "h", "--path", "/x/y"}, exitOK, "upstream  http://h/y"},
		{"no virtual host", []string{"--routes", routes, "--host", "nope.example.com"}, exitNoRoute, "no virtual host"},
		{"a route config of a dump", []string{"--dump", td + "/pilot/gateway-config_dump.json", "--route-config", "http.8080", "--host", "whoami.example.com"}, exitOK, "whoami"},
		{"an unknown route config", []string{"--dump", td + "/pilot/gateway-config_dump.json", "--route-config", "nope", "--host", "x"}, exitNoRoute, "not in the dump"},
		{"both inputs", []string{"--routes", routes, "--dump", bare}, exitUsage, "give one"},
		{"route config without input", []string{"--route-config", "x"}, exitUsage, "needs --dump or --routes"},
		{"not a route configuration", []string{"--routes", td + "/pilot/gateway-config_dump.json"}, exitBadInput, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI("", append([]string{"xds", "trace"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, want %d and %q\nstdout: %s\nstderr: %s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}
