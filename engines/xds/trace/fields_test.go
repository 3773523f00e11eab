package trace

import (
	"sort"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// auditedMessages are the route-configuration messages whose every field
// must be in fieldRules: modelled, irrelevant with a reason, or undecidable.
var auditedMessages = []protoreflect.ProtoMessage{
	&routev3.RouteConfiguration{},
	&routev3.VirtualHost{},
	&routev3.Route{},
	&routev3.RouteMatch{},
	&routev3.RouteAction{},
	&routev3.RedirectAction{},
	&routev3.WeightedCluster{},
	&routev3.WeightedCluster_ClusterWeight{},
	&routev3.HeaderMatcher{},
	&routev3.QueryParameterMatcher{},
}

// TestFieldRulesCoverEveryField walks the pinned go-control-plane's
// descriptors: a field that is in no table (a go-control-plane bump added
// it) fails the test, and so does a table entry for a field that no longer
// exists.
func TestFieldRulesCoverEveryField(t *testing.T) {
	seen := map[string]bool{}
	var missing []string
	for _, msg := range auditedMessages {
		fields := msg.ProtoReflect().Descriptor().Fields()
		for n := 0; n < fields.Len(); n++ {
			fd := fields.Get(n)
			key := fieldKey(fd)
			seen[key] = true
			r, ok := fieldRules[key]
			if !ok {
				oneof := ""
				if o := fd.ContainingOneof(); o != nil {
					oneof = " (oneof " + string(o.Name()) + ")"
				}
				missing = append(missing, string(fd.FullName())+oneof)
				continue
			}
			if r.why == "" {
				t.Errorf("fieldRules[%q] gives no reason", key)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d fields are neither modelled, irrelevant nor undecidable in fieldRules (decide each: read Envoy's route_components.proto):\n  %v", len(missing), missing)
	}
	var stale []string
	for k := range fieldRules {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("fieldRules lists fields the pinned go-control-plane does not have: %v", stale)
	}
}

// TestAuditNamesSetFields: a set field that is undecidable, or missing from
// fieldRules (what a go-control-plane bump would bring), stops the trace with
// its name; modelled and irrelevant fields pass.
func TestAuditNamesSetFields(t *testing.T) {
	saved := fieldRules["Route.stat_prefix"]
	delete(fieldRules, "Route.stat_prefix")
	defer func() { fieldRules["Route.stat_prefix"] = saved }()
	cases := []struct {
		name string
		msg  *routev3.Route
		want string // "" passes
	}{
		{"modelled and irrelevant", &routev3.Route{Name: "r", Decorator: &routev3.Decorator{Operation: "op"}}, ""},
		{"unknown", &routev3.Route{StatPrefix: "s"}, "route r sets envoy.config.route.v3.Route.stat_prefix, a field meshcheck does not know"},
		{"undecidable", &routev3.Route{Action: &routev3.Route_NonForwardingAction{NonForwardingAction: &routev3.NonForwardingAction{}}},
			"route r sets envoy.config.route.v3.Route.non_forwarding_action (the route neither forwards nor answers: a filter decides)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &tracer{res: &Result{}}
			ok := tr.audit("route", "route r", tc.msg)
			got := strings.Join(tr.res.Unsupported, "; ")
			if ok != (tc.want == "") || got != tc.want {
				t.Errorf("audit = %v, unsupported %q; want %q", ok, got, tc.want)
			}
		})
	}
}
