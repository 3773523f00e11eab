package review

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds/golden"
)

// load is the pilot-generated gateway golden (a weighted whoami route).
func load(t *testing.T) golden.Doc {
	t.Helper()
	b, err := os.ReadFile("../testdata/golden/pilot-gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := golden.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// route is the whoami route of the gateway's http.8080.
func route(d golden.Doc) map[string]any {
	vh := d["routes"]["http.8080"].(map[string]any)["virtual_hosts"].([]any)[0].(map[string]any)
	return vh["routes"].([]any)[0].(map[string]any)["route"].(map[string]any)
}

// TestClassifyAndWord edits a real dump the way control-plane regressions
// do and checks the category and the words of each change.
func TestClassifyAndWord(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(golden.Doc)
		cat  Category
		word string
	}{
		{"weight", func(d golden.Doc) {
			route(d)["weighted_clusters"].(map[string]any)["clusters"].([]any)[0].(map[string]any)["weight"] = 10
		}, Weights, "weights: route configuration http.8080, virtual host *:8080, route 0, route.weighted_clusters, cluster outbound|80|v1|whoami.default.svc.cluster.local, weight: 90 → 10"},
		{"timeout", func(d golden.Doc) { route(d)["timeout"] = "15s" }, Timeouts, `route.timeout: "0s" → "15s"`},
		{"retries dropped", func(d golden.Doc) { delete(route(d), "retry_policy") }, Timeouts, "route.retry_policy: removed (was"},
		{"target", func(d golden.Doc) {
			r := route(d)
			delete(r, "weighted_clusters")
			r["cluster"] = "outbound|80|v1|whoami.default.svc.cluster.local"
		}, RouteTarget, `route.cluster: added "outbound|80|v1|whoami.default.svc.cluster.local"`},
		{"cluster gone", func(d golden.Doc) { delete(d["clusters"], "outbound|80|v2|whoami.default.svc.cluster.local") }, Clusters, "clusters: cluster outbound|80|v2|whoami.default.svc.cluster.local: removed"},
		{"listener gone", func(d golden.Doc) { delete(d["listeners"], "0.0.0.0_8080") }, Listeners, "listener 0.0.0.0_8080: removed"},
		{"panic threshold", func(d golden.Doc) {
			c := d["clusters"]["outbound|80|v1|whoami.default.svc.cluster.local"].(map[string]any)
			delete(c["common_lb_config"].(map[string]any), "healthy_panic_threshold")
		}, Endpoints, "common_lb_config.healthy_panic_threshold: {} → unset (Envoy's default {\"value\":50})"},
	} {
		before, after := load(t), load(t)
		tc.edit(after)
		changes := golden.Diff(before, after)
		if len(changes) == 0 {
			t.Fatalf("%s: no change", tc.name)
		}
		var words []string
		found := false
		for _, c := range changes {
			w := Word(c)
			words = append(words, w)
			if Classify(c) == tc.cat && strings.Contains(w, tc.word) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want a %q change worded with %q; got:\n%s", tc.name, tc.cat, tc.word, strings.Join(words, "\n"))
		}
	}
	if d := golden.Diff(load(t), load(t)); len(d) != 0 {
		t.Errorf("a dump against itself: %v", d)
	}
}

func TestAccepted(t *testing.T) {
	a, err := ParseAccepted([]byte(`apiVersion: meshcheck.dev/v1alpha1
kind: AcceptedChanges
changes:
  - proxy: istio-system/istio-ingressgateway-*
    type: routes
    name: http.8080
    path: "*weighted_clusters*weight"
    reason: the split moves on purpose
  - type: clusters
    name: "outbound|80|v2|*"
    reason: v2 is retired
`), "accepted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	weight := golden.Change{Op: golden.Changed, Kind: "routes", Name: "http.8080", Field: "virtual_hosts[*:8080].routes[0].route.weighted_clusters.clusters[outbound|80|v1|whoami.default.svc.cluster.local].weight", Old: json.RawMessage("90"), New: json.RawMessage("10")}
	for _, tc := range []struct {
		proxy string
		c     golden.Change
		at    string
	}{
		{"istio-system/istio-ingressgateway-7d9", weight, "accepted.yaml:4"},
		{"default/sleep-1", weight, ""},
		{"istio-system/istio-ingressgateway-7d9", golden.Change{Op: golden.Changed, Kind: "routes", Name: "http.8080", Field: "virtual_hosts[*:8080].routes[0].route.timeout"}, ""},
		{"default/sleep-1", golden.Change{Op: golden.Removed, Kind: "clusters", Name: "outbound|80|v2|whoami.default.svc.cluster.local"}, "accepted.yaml:9"},
		{"default/sleep-1", golden.Change{Op: golden.Removed, Kind: "clusters", Name: "outbound|80|v1|whoami.default.svc.cluster.local"}, ""},
	} {
		_, at, ok := a.Match(tc.proxy, tc.c)
		if ok != (tc.at != "") || at != tc.at {
			t.Errorf("Match(%s, %s %s %s) = %q, %v; want %q", tc.proxy, tc.c.Kind, tc.c.Name, tc.c.Field, at, ok, tc.at)
		}
	}
}

func TestAcceptedErrors(t *testing.T) {
	head := "apiVersion: meshcheck.dev/v1alpha1\nkind: AcceptedChanges\n"
	for _, tc := range []struct{ in, want string }{
		{head + "changes:\n  - type: routes\n", "a.yaml:4: accepted changes.changes[0]: reason is required"},
		{head + "changes:\n  - type: route\n    reason: x\n", `a.yaml:4: accepted changes.changes[0]: type "route": want one of listeners, routes`},
		{head + "changes:\n  - kind: routes\n", `a.yaml:4: unknown field "kind" in accepted changes.changes[0]`},
		{"apiVersion: v1\nkind: AcceptedChanges\n", "a.yaml:1: accepted changes: apiVersion \"v1\""},
		{"", "a.yaml: the accepted changes file is empty"},
	} {
		if _, err := ParseAccepted([]byte(tc.in), "a.yaml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAccepted(%q) = %v; want %q", tc.in, err, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "anything", true},
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"outbound|80|?1|*", "outbound|80|v1|whoami.default.svc.cluster.local", true},
		{"*[v1]*", "clusters[v1].weight", true},
		{"*weight", "a.weight.x", false},
	} {
		if got := glob(tc.p, tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func FuzzParseAccepted(f *testing.F) {
	f.Add("apiVersion: meshcheck.dev/v1alpha1\nkind: AcceptedChanges\nchanges:\n  - type: routes\n    reason: r\n")
	f.Add("changes: 3")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAccepted([]byte(in), "fuzz")
		if err != nil {
			return
		}
		for _, r := range a.Changes {
			if r.Reason == "" {
				t.Errorf("a rule without a reason was accepted: %+v", r)
			}
		}
	})
}
