package accesslog

import (
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// TestEnvoyCapturedLogs runs the live test's checks on the lines a real
// Envoy 1.40 wrote (captured with MESHCHECK_CAPTURE=testdata/envoy).
func TestEnvoyCapturedLogs(t *testing.T) {
	out, err := os.ReadFile("testdata/envoy/gateway.istio-proxy-output.txt")
	if err != nil {
		t.Fatal(err)
	}
	checkMeshLogs(t, os.DirFS("testdata/envoy"), string(out))
}

// checkMeshLogs checks the logs of the live mesh (see envoy_live_test.go):
// every format parses to the same records, the profile is detected, flows
// join the hops of each request in path order, Envoy's own logging mixed
// into the output is skipped.
func checkMeshLogs(t *testing.T, fsys fs.FS, output string) {
	t.Helper()
	byFormat := readMeshLogs(t, fsys)
	checkFormatsAgree(t, byFormat)
	flows := Flows(byFormat["istio"])
	if len(flows) != len(liveRequests) {
		t.Fatalf("%d flows, want %d:\n%v", len(flows), len(liveRequests), flows)
	}
	for _, r := range liveRequests {
		f, err := FindFlow(flows, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Hops[0].ResponseCode != r.status {
			t.Errorf("%s: first hop status %d, want %d", r.id, f.Hops[0].ResponseCode, r.status)
		}
		if check, ok := meshFlowChecks[r.status]; ok {
			check(t, r.id, f)
		}
	}
	checkGatewayOutput(t, output)
}

// readMeshLogs reads every proxy's log in every format, once detecting the
// format and once told it, checks the record counts and the detected
// profile, and returns the detected reading's records by format.
func readMeshLogs(t *testing.T, fsys fs.FS) map[string][]Record {
	t.Helper()
	want := map[string]int{"gateway": 5, "productpage": 6, "reviews": 3}
	detect := map[string]string{"istio": "istio", "istio-1.22": "istio", "json": "json"}
	byFormat := map[string][]Record{}
	for _, proxy := range []string{"gateway", "productpage", "reviews"} {
		for _, f := range []string{"istio", "istio-1.22", "json"} {
			name := proxy + "." + f + ".log"
			for _, spec := range []string{"", f} {
				file, err := fsys.Open(name)
				if err != nil {
					t.Fatal(err)
				}
				res, err := Read(file, ReadOptions{Format: spec, Source: name, Proxy: proxy})
				file.Close()
				if err != nil {
					t.Fatalf("%s (format %q): %v", name, spec, err)
				}
				if len(res.Records) != want[proxy] || res.Skipped != 0 {
					t.Errorf("%s (format %q): %d records, %d skipped; want %d and 0", name, spec, len(res.Records), res.Skipped, want[proxy])
				}
				if spec == "" {
					if got := res.Profile(); got != detect[f] {
						t.Errorf("%s: detected %q, want %q", name, got, detect[f])
					}
					byFormat[f] = append(byFormat[f], res.Records...)
				}
			}
		}
	}
	return byFormat
}

// checkFormatsAgree checks that the three formats give the same canonical
// records.
func checkFormatsAgree(t *testing.T, byFormat map[string][]Record) {
	t.Helper()
	canon := func(r Record) string {
		r.Source = ""
		b, _ := json.Marshal(r)
		return string(b)
	}
	for i, r := range byFormat["istio"] {
		for _, f := range []string{"istio-1.22", "json"} {
			if i >= len(byFormat[f]) {
				t.Fatalf("%s has fewer records than istio", f)
			}
			if a, b := canon(r), canon(byFormat[f][i]); a != b {
				t.Errorf("record %d differs between istio and %s:\n  %s\n  %s", i, f, a, b)
			}
		}
	}
}

// meshFlowChecks checks a live request's flow, by its first hop's status.
var meshFlowChecks = map[int]func(t *testing.T, id string, f Flow){
	200: checkMeshFlowOK,
	404: checkMeshFlowNoRoute,
	503: checkMeshFlowRefused,
}

// checkMeshFlowOK: gateway, productpage in and out, reviews in, all 200.
func checkMeshFlowOK(t *testing.T, id string, f Flow) {
	t.Helper()
	ok := All(
		ExpectPath(
			Step{Proxy: "gateway", Direction: Outbound, Cluster: "outbound|9080||productpage.default.svc.cluster.local", Status: 200},
			Step{Proxy: "productpage", Direction: Inbound, Cluster: "inbound|9080||", Status: 200},
			Step{Proxy: "productpage", Direction: Outbound, Cluster: "outbound|9080|v2|reviews.*", Status: 200},
			Step{Proxy: "reviews", Direction: Inbound, Cluster: "inbound|9080||", Status: 200},
		),
		ExpectStatus(200, 200, 200, 200),
		ExpectClusters("outbound|9080||productpage.*", "inbound|9080||", "outbound|9080|v2|reviews.default.svc.cluster.local", "inbound|9080||"),
		NoResponseFlags(),
	)
	if err := ok.Check(f); err != nil {
		t.Errorf("%s: %v", id, err)
	}
	if h := f.Hops[3]; h.BytesSent != int64(len(liveReviewsBody)) || h.UserAgent != "Go-http-client/1.1" {
		t.Errorf("%s: reviews inbound bytes_sent %d user_agent %q, want %d and Go-http-client/1.1", id, h.BytesSent, h.UserAgent, len(liveReviewsBody))
	}
	if h := f.Hops[0]; h.UserAgent != "meshcheck-live/1 (test)" || h.Authority != "bookinfo.example.com" || h.RouteName != "productpage" {
		t.Errorf("%s: gateway hop %+v", id, h.Record)
	}
}

// checkMeshFlowNoRoute: one gateway hop, NR route_not_found.
func checkMeshFlowNoRoute(t *testing.T, id string, f Flow) {
	t.Helper()
	h := f.Hops[0]
	if len(f.Hops) != 1 || h.ResponseFlags != "NR" || h.ResponseCodeDetails != "route_not_found" || h.Has(UpstreamCluster) || h.Has(RouteName) {
		t.Errorf("%s: want one hop with NR route_not_found and no cluster or route:\n%v", id, f)
	}
	if err := NoResponseFlags().Check(f); err == nil || !strings.Contains(err.Error(), "hop 1 has flags NR (details route_not_found)") {
		t.Errorf("NoResponseFlags on %s: %v", id, err)
	}
}

// checkMeshFlowRefused: the gateway's upstream refused the connection (UF).
func checkMeshFlowRefused(t *testing.T, id string, f Flow) {
	t.Helper()
	h := f.Hops[0]
	if h.ResponseFlags != "UF" || !strings.Contains(h.UpstreamTransportFailureReason, "Connection_refused") ||
		!strings.HasPrefix(h.ResponseCodeDetails, "upstream_reset_before_response_started{") {
		t.Errorf("%s: want UF, connection refused:\n%+v", id, h.Record)
	}
}

// checkGatewayOutput checks istio-proxy's output: Envoy's own logging with
// access-log lines mixed in.
func checkGatewayOutput(t *testing.T, output string) {
	t.Helper()
	res, err := Read(strings.NewReader(output), ReadOptions{Source: "gateway output"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != len(liveRequests) || res.Skipped < 10 {
		t.Errorf("gateway output: %d records and %d skipped lines, want %d and at least 10", len(res.Records), res.Skipped, len(liveRequests))
	}
	for i, r := range res.Records {
		if r.RequestID != liveRequests[i].id {
			t.Errorf("gateway output record %d: request id %q, want %q", i, r.RequestID, liveRequests[i].id)
		}
	}
}
