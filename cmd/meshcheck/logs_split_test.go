package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLogsParse(t *testing.T) {
	code, out, errs := runCLI("", "logs", "parse", "-o", "json", "testdata/logs/gateway-json.log")
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errs)
	}
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || recs[0]["response_code"] != float64(200) || recs[0]["request_id"] != "meshcheck-live-0001" {
		t.Fatalf("records %v", recs)
	}
	if _, ok := recs[0]["x_forwarded_for"]; ok {
		t.Error("absent x_forwarded_for is in the JSON")
	}
	if !strings.Contains(errs, "5 records, 0 other lines skipped (format json)") {
		t.Errorf("stderr %q", errs)
	}
	// Standard input, mixed with the proxy's own logging, text output.
	in := "2026-11-21T06:26:24.985Z\tinfo\tEnvoy proxy is ready\n" + readFile(t, "testdata/logs/seed001.log")
	code, out, errs = runCLI(in, "logs", "parse", "-")
	if code != exitOK || strings.Count(out, "\n") != 5 || !strings.Contains(errs, "<stdin>: 5 records, 1 other lines skipped (format istio)") {
		t.Errorf("code %d out %q err %q", code, out, errs)
	}
}

func TestLogsErrors(t *testing.T) {
	bad := strings.Replace(readFile(t, "testdata/logs/seed001.log"), `" 200 -`, `" 2OO -`, 1)
	tests := []struct {
		args  []string
		stdin string
		code  int
		err   string
	}{
		{[]string{"logs", "parse", "-"}, bad, exitBadInput, `<stdin>:1: column 71: %RESPONSE_CODE%: "2OO" is not a number`},
		{[]string{"logs", "parse", "--format", "istio-1.8", "testdata/logs/seed001.log"}, "", exitBadInput, "testdata/logs/seed001.log:1: column 75"},
		{[]string{"logs", "parse", "testdata/logs/missing.log"}, "", exitNoInput, "cannot read testdata/logs/missing.log"},
		{[]string{"logs", "parse", "--format", "istio-9", "-"}, "", exitUsage, "unknown format"},
		{[]string{"logs", "parse"}, "", exitUsage, "no input"},
		{[]string{"logs", "flows", "--request-id", "nope", "testdata/logs/gateway.log"}, "", exitFail, "closest: meshcheck-live-"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(tt.stdin, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.err) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.err)
		}
	}
}

func TestLogsFlows(t *testing.T) {
	code, out, errs := runCLI("", "logs", "flows", "--request-id", "meshcheck-live-0002", "-o", "json",
		"testdata/logs/gateway.log", "testdata/logs/productpage.log", "testdata/logs/reviews.log")
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errs)
	}
	var flows []flowJSON
	if err := json.Unmarshal([]byte(out), &flows); err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, h := range flows[0].Hops {
		path = append(path, h.Proxy+" "+h.Direction)
	}
	if got := strings.Join(path, ", "); got != "gateway outbound, productpage inbound, productpage outbound, reviews inbound" {
		t.Errorf("path %s", got)
	}
	if p := flows[0].Hops[3].Parent; p != 3 {
		t.Errorf("reviews inbound's parent is hop %d, want 3", p)
	}
	code, out, _ = runCLI("", "logs", "flows", "testdata/logs/gateway.log", "testdata/logs/productpage.log", "testdata/logs/reviews.log")
	if code != exitOK || strings.Count(out, "request meshcheck-live-") != 5 || !strings.Contains(out, "1. gateway outbound outbound|9080||down.default.svc.cluster.local 503 flags=UF") {
		t.Errorf("code %d out:\n%s", code, out)
	}
}

func TestSplitDecide(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=270,v2=30"}, exitOK, "pass\npass after 300 samples"},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=9,v2=1"}, exitNeedMore, "need-more\n"},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=320,v2=80"}, exitFail, "fail\nfail after 400 samples"},
		{[]string{"--weights", "v1=100,v2=0", "--counts", "v1=10,v2=1"}, exitFail, "whose weight is 0"},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=10,v3=1"}, exitFail, "not in the weights: v3 (1)"},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=270,v2=30", "--detect", "5"}, exitNeedMore, "deviation of 5%"},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=x"}, exitUsage, ""},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=1", "--power", "2"}, exitUsage, ""},
		{[]string{"--weights", "v1=90,v2=10"}, exitUsage, ""},
		{[]string{"--weights", "v1=90,v2=10", "--counts", "v1=1", "--detect", "150"}, exitUsage, ""},
	}
	for _, tt := range tests {
		code, out, errs := runCLI("", append([]string{"split", "decide"}, tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.out) {
			t.Errorf("%v: code %d out %q err %q; want %d and %q", tt.args, code, out, errs, tt.code, tt.out)
		}
	}
	code, out, _ := runCLI("", "split", "decide", "--weights", "v1=50,v2=30,v3=20", "--counts", "v1=250,v2=150,v3=100", "-o", "json")
	var r struct {
		Decision  string                        `json:"decision"`
		Reason    string                        `json:"reason"`
		Counts    map[string]int                `json:"counts"`
		Shares    map[string]float64            `json:"shares"`
		Intervals map[string]map[string]float64 `json:"intervals"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
		t.Fatalf("code %d, %v: %s", code, err, out)
	}
	if r.Decision != "pass" || r.Counts["v2"] != 150 || r.Shares["v2"] != 0.3 || r.Intervals["v2"]["low"] >= 0.3 || r.Intervals["v2"]["high"] <= 0.3 || r.Reason == "" {
		t.Errorf("JSON %+v", r)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"logs", "parse", "-h"}, {"logs", "flows", "-h"}, {"split", "decide", "-h"}} {
		code, out, _ := runCLI("", args...)
		if code != exitOK || !strings.Contains(out, "Examples:") {
			t.Errorf("%v: code %d, help %q", args, code, out)
		}
	}
	code, _, errs := runCLI("", "logs")
	if code != exitUsage || !strings.Contains(errs, "parse") || !strings.Contains(errs, "flows") {
		t.Errorf("logs: code %d %q", code, errs)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := readInput(streams{}, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
