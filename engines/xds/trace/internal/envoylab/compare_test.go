package envoylab

import (
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

func routed(clusters ...trace.WeightedCluster) *trace.Result {
	res := &trace.Result{Route: "r", Clusters: clusters, Endpoints: map[string][]trace.Endpoint{}}
	for _, c := range clusters {
		if !c.Missing && c.Name != "empty" {
			res.Endpoints[c.Name] = []trace.Endpoint{{Address: "127.0.0.1:1", Health: "UNKNOWN"}}
		}
	}
	return res
}

func echoed(cluster, host, path string) Outcome {
	return Outcome{Status: 200, Details: "via_upstream", Route: "r", Received: &Received{Cluster: cluster, Host: host, Path: path}}
}

func TestCompare(t *testing.T) {
	get := Sent{Method: "GET", Host: "h", Path: "/p?q=1"}
	cases := []struct {
		name   string
		res    *trace.Result
		o      Outcome
		sent   Sent
		want   Verdict
		tracer string // substring of Comparison.Tracer
	}{
		{"same cluster", routed(trace.WeightedCluster{Name: "a", Weight: 1}), echoed("a", "h", "/p?q=1"), get, Agree, "cluster a h/p?q=1"},
		{"other cluster", routed(trace.WeightedCluster{Name: "a", Weight: 1}), echoed("b", "h", "/p?q=1"), get, Disagree, "cluster a"},
		{"path rewritten by Envoy, not by the tracer", routed(trace.WeightedCluster{Name: "a", Weight: 1}), echoed("a", "h", "/new"), get, Disagree, "h/p?q=1"},
		{"tracer's upstream request", func() *trace.Result {
			r := routed(trace.WeightedCluster{Name: "a", Weight: 1})
			r.UpstreamRequest = &trace.UpstreamRequest{Host: "x", Path: "/new"}
			return r
		}(), echoed("a", "x", "/new"), get, Agree, "cluster a x/new"},
		{"upstream scheme", func() *trace.Result {
			r := routed(trace.WeightedCluster{Name: "a", Weight: 1})
			r.UpstreamRequest = &trace.UpstreamRequest{Scheme: "https", Host: "h", Path: "/p?q=1"}
			return r
		}(), func() Outcome { o := echoed("a", "h", "/p?q=1"); o.Received.ForwardedProto = "http"; return o }(), get, Disagree, "cluster a"},
		{"weighted set", routed(trace.WeightedCluster{Name: "a", Weight: 90}, trace.WeightedCluster{Name: "b", Weight: 10}), echoed("b", "h", "/p?q=1"), get, Agree, " | "},
		{"zero weight never chosen", routed(trace.WeightedCluster{Name: "a", Weight: 100}, trace.WeightedCluster{Name: "b", Weight: 0}), echoed("b", "h", "/p?q=1"), get, Disagree, "cluster a"},
		{"missing cluster", routed(trace.WeightedCluster{Name: "g", Weight: 1, Missing: true}), Outcome{Status: 503, Details: "cluster_not_found"}, get, Agree, "503 cluster_not_found"},
		{"no endpoints", routed(trace.WeightedCluster{Name: "empty", Weight: 1, NoHealthyUpstream: true}), Outcome{Status: 503, Details: "no_healthy_upstream"}, get, Agree, "503 no_healthy_upstream"},
		{"no route", &trace.Result{NoRoute: "no route"}, Outcome{Status: 404, Details: "route_not_found"}, get, Agree, "404 route_not_found"},
		{"no route, Envoy 503", &trace.Result{NoRoute: "no route"}, Outcome{Status: 503, Details: "cluster_not_found"}, get, Disagree, "404"},
		{"redirect", &trace.Result{Redirect: &trace.Redirect{Location: "https://h/p", ResponseCode: 301}}, Outcome{Status: 301, Location: "https://h/p", Details: "direct_response"}, get, Agree, "redirect 301 https://h/p"},
		{"redirect elsewhere", &trace.Result{Redirect: &trace.Redirect{Location: "https://h:80/p", ResponseCode: 301}}, Outcome{Status: 301, Location: "https://h/p", Details: "direct_response"}, get, Disagree, "https://h:80/p"},
		{"direct response", &trace.Result{DirectResponse: &trace.DirectResponse{Status: 200, Body: "ok"}}, Outcome{Status: 200, Body: "ok", Details: "direct_response"}, get, Agree, "direct 200 ok"},
		{"direct response to HEAD has no body", &trace.Result{DirectResponse: &trace.DirectResponse{Status: 200, Body: "ok"}}, Outcome{Status: 200, Details: "direct_response"}, Sent{Method: "HEAD", Host: "h", Path: "/"}, Agree, "direct 200"},
		{"3xx direct response with its Location", &trace.Result{DirectResponse: &trace.DirectResponse{Status: 301, Body: "gone", Location: "http://h/p"}}, Outcome{Status: 301, Location: "http://h/p", Details: "direct_response"}, get, Agree, "redirect 301 http://h/p"},
		{"201 direct response without the tracer's Location", &trace.Result{DirectResponse: &trace.DirectResponse{Status: 201, Body: "made"}}, Outcome{Status: 201, Body: "made", Location: "http://h/p", Details: "direct_response"}, get, Disagree, "direct 201 made"},
		{"undecided", &trace.Result{Unsupported: []string{"path_match_policy"}}, echoed("a", "h", "/"), get, Undecided, "undecided: path_match_policy"},
		{"other route name", routed(trace.WeightedCluster{Name: "a", Weight: 1}), func() Outcome { o := echoed("a", "h", "/p?q=1"); o.Route = "s"; return o }(), get, Disagree, "cluster a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare(tc.res, tc.o, tc.sent)
			if c.Verdict != tc.want || !strings.Contains(c.Tracer, tc.tracer) {
				t.Errorf("Compare = %s\nwant verdict %s, tracer containing %q", c, tc.want, tc.tracer)
			}
			if c.Verdict == Disagree && (c.Why == "" || !strings.Contains(c.String(), c.Envoy)) {
				t.Errorf("a disagreement must say why and carry both answers: %s", c)
			}
		})
	}
}

func TestHeaderCheck(t *testing.T) {
	policy := &trace.RoutePolicy{
		RequestHeadersToRemove: []string{"x-secret", "x-both"},
		RequestHeadersToAdd: []trace.HeaderChange{
			{Name: "x-subset", Value: "b", Action: "OVERWRITE_IF_EXISTS_OR_ADD", Level: "weightedCluster:b"},
			{Name: "x-level", Value: "route", Action: "OVERWRITE_IF_EXISTS_OR_ADD", Level: "route"},
			{Name: "x-level", Value: "vh", Action: "OVERWRITE_IF_EXISTS_OR_ADD", Level: "virtualHost"},
			{Name: "x-append", Value: "added", Action: "APPEND_IF_EXISTS_OR_ADD", Level: "route"},
			{Name: "x-absent", Value: "added", Action: "ADD_IF_ABSENT", Level: "route"},
			{Name: "x-if-exists", Value: "added", Action: "OVERWRITE_IF_EXISTS", Level: "route"},
			{Name: "x-client", Value: "%DOWNSTREAM_REMOTE_ADDRESS%", Action: "OVERWRITE_IF_EXISTS_OR_ADD", Level: "route"},
			{Name: "x-both", Value: "vh", Action: "APPEND_IF_EXISTS_OR_ADD", Level: "virtualHost"},
		},
	}
	sent := map[string]string{"X-Append": "c", "x-absent": "c", "x-secret": "s"}
	agreeing := map[string][]string{"x-level": {"vh"}, "x-append": {"c", "added"}, "x-absent": {"c"}, "x-client": {"127.0.0.1:1"}}
	cases := []struct {
		name    string
		cluster string
		change  func(h map[string][]string)
		want    string // substring of the mismatch, "" for none
	}{
		{"agrees", "a", func(map[string][]string) {}, ""},
		{"a later overwrite wins", "a", func(h map[string][]string) { h["x-level"] = []string{"route"} }, "header x-level"},
		{"append keeps the client's value", "a", func(h map[string][]string) { h["x-append"] = []string{"added"} }, "header x-append"},
		{"removed header arrived", "a", func(h map[string][]string) { h["x-secret"] = []string{"s"} }, "header x-secret"},
		{"a header removed and added is not judged", "a", func(h map[string][]string) { h["x-both"] = []string{"anything"} }, ""},
		{"overwrite if exists adds nothing", "a", func(h map[string][]string) { h["x-if-exists"] = []string{"added"} }, "header x-if-exists"},
		{"the picked cluster's header", "b", func(map[string][]string) {}, "header x-subset"},
		{"the picked cluster's header arrived", "b", func(h map[string][]string) { h["x-subset"] = []string{"b"} }, ""},
		{"a formatted value is not judged", "a", func(h map[string][]string) { h["x-client"] = []string{"anything"} }, ""},
	}
	// One level decides every action on the headers before it: two
	// ADD_IF_ABSENT on an absent header both add; the overwrite is set
	// before the append.
	level := &trace.RoutePolicy{RequestHeadersToAdd: []trace.HeaderChange{
		{Name: "x-twice", Value: "1", Action: "ADD_IF_ABSENT", Level: "route"},
		{Name: "x-twice", Value: "2", Action: "ADD_IF_ABSENT", Level: "route"},
		{Name: "x-mixed", Value: "appended", Action: "APPEND_IF_EXISTS_OR_ADD", Level: "route"},
		{Name: "x-mixed", Value: "set", Action: "OVERWRITE_IF_EXISTS_OR_ADD", Level: "route"},
		{Name: "x-mixed", Value: "vh", Action: "ADD_IF_ABSENT", Level: "virtualHost"},
	}}
	if why := headerCheck(level, nil, &Received{Headers: map[string][]string{"x-twice": {"1", "2"}, "x-mixed": {"set", "appended"}}}); why != "" {
		t.Errorf("one level's changes: %s", why)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][]string{}
			for k, v := range agreeing {
				got[k] = v
			}
			tc.change(got)
			why := headerCheck(policy, sent, &Received{Cluster: tc.cluster, Headers: got})
			if (tc.want == "") != (why == "") || !strings.Contains(why, tc.want) {
				t.Errorf("headerCheck = %q, want %q", why, tc.want)
			}
		})
	}
}

func TestOutcomeSummary(t *testing.T) {
	cases := []struct {
		o    Outcome
		want string
	}{
		{echoed("a", "h", "/x?y"), "cluster a h/x?y"},
		{Outcome{Status: 302, Location: "http://h/", Details: "direct_response"}, "redirect 302 http://h/"},
		{Outcome{Status: 403, Details: "direct_response"}, "direct 403"},
		{Outcome{Status: 200, Body: "ok", Details: "direct_response"}, "direct 200 ok"},
		{Outcome{Status: 404, Details: "route_not_found", Flags: "NR"}, "404 route_not_found"},
		{Outcome{Status: 201, Body: "made", Location: "http://h/x", Details: "direct_response"}, "direct 201 made (location http://h/x)"},
	}
	for _, tc := range cases {
		if got := tc.o.Summary(); got != tc.want {
			t.Errorf("Summary() = %q, want %q", got, tc.want)
		}
		if !tc.o.Wanted(strings.Fields(tc.want)[0]) || tc.o.Wanted(tc.want+"x") {
			t.Errorf("Wanted: %q should match its first word and not %q", tc.want, tc.want+"x")
		}
	}
}
