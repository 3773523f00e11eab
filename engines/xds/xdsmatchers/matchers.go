package xdsmatchers

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

func toDump(actual any) (*xds.Dump, error) {
	d, ok := actual.(*xds.Dump)
	if !ok || d == nil {
		return nil, fmt.Errorf("xdsmatchers expects a *xds.Dump, got:\n%s", format.Object(actual, 1))
	}
	return d, nil
}

func dumpName(d *xds.Dump) string {
	if d.Source != "" {
		return "config dump " + d.Source
	}
	return "config dump"
}

// namedMatcher checks that the dump has a resource of a kind.
type namedMatcher struct {
	kind  string
	typ   xds.Type // the dump must hold it for a miss to mean "absent"
	name  string
	has   func(d *xds.Dump, name string) bool
	names func(d *xds.Dump) []string
}

func (m *namedMatcher) Match(actual any) (bool, error) {
	d, err := toDump(actual)
	if err != nil {
		return false, err
	}
	if why := d.Lacking(m.typ); why != "" {
		return false, fmt.Errorf("%s: %s: it cannot show whether there is %s %q", dumpName(d), why, m.kind, m.name)
	}
	return m.has(d, m.name), nil
}

func (m *namedMatcher) FailureMessage(actual any) string {
	d, err := toDump(actual)
	if err != nil {
		return err.Error()
	}
	all := m.names(d)
	return fmt.Sprintf("Expected %s to have %s %q; it has %d: closest %s",
		dumpName(d), m.kind, m.name, len(all), strings.Join(orNone(xds.Closest(m.name, all, 5)), ", "))
}

func (m *namedMatcher) NegatedFailureMessage(actual any) string {
	d, err := toDump(actual)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("Expected %s not to have %s %q, but it does", dumpName(d), m.kind, m.name)
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"(none)"}
	}
	return s
}

// HaveListener matches a dump holding a listener with this name.
func HaveListener(name string) types.GomegaMatcher {
	return &namedMatcher{kind: "listener", typ: xds.TypeListeners, name: name,
		has:   func(d *xds.Dump, n string) bool { _, ok := d.Listener(n); return ok },
		names: (*xds.Dump).ListenerNames}
}

// HaveRouteConfig matches a dump holding a route configuration with this name.
func HaveRouteConfig(name string) types.GomegaMatcher {
	return &namedMatcher{kind: "route config", typ: xds.TypeRoutes, name: name,
		has:   func(d *xds.Dump, n string) bool { _, ok := d.RouteConfig(n); return ok },
		names: (*xds.Dump).RouteConfigNames}
}

// HaveCluster matches a dump holding a cluster with this name.
func HaveCluster(name string) types.GomegaMatcher {
	return &namedMatcher{kind: "cluster", typ: xds.TypeClusters, name: name,
		has:   func(d *xds.Dump, n string) bool { _, ok := d.Cluster(n); return ok },
		names: (*xds.Dump).ClusterNames}
}

// HaveHealthyEndpoints matches a dump whose cluster has healthy (or
// unknown-health) endpoints: exactly count if given, else at least one.
func HaveHealthyEndpoints(cluster string, count ...int) types.GomegaMatcher {
	m := &endpointsMatcher{cluster: cluster, want: -1}
	if len(count) > 0 {
		m.want = count[0]
	}
	return m
}

type endpointsMatcher struct {
	cluster string
	want    int
}

func (m *endpointsMatcher) count(d *xds.Dump) (healthy int, all []string, found bool) {
	e, ok := d.EndpointsFor(m.cluster)
	if !ok {
		return 0, nil, false
	}
	for _, le := range e.Config.GetEndpoints() {
		for _, lb := range le.GetLbEndpoints() {
			h := lb.GetHealthStatus()
			all = append(all, fmt.Sprintf("%s %s", xds.Addr(lb.GetEndpoint().GetAddress()), h))
			if h == corev3.HealthStatus_HEALTHY || h == corev3.HealthStatus_UNKNOWN {
				healthy++
			}
		}
	}
	return healthy, all, true
}

func (m *endpointsMatcher) Match(actual any) (bool, error) {
	d, err := toDump(actual)
	if err != nil {
		return false, err
	}
	if why := d.Lacking(xds.TypeEndpoints); why != "" {
		return false, fmt.Errorf("%s: %s: take it with config_dump?include_eds", dumpName(d), why)
	}
	n, _, _ := m.count(d)
	if m.want < 0 {
		return n > 0, nil
	}
	return n == m.want, nil
}

func (m *endpointsMatcher) expected() string {
	if m.want < 0 {
		return "at least one healthy endpoint"
	}
	return fmt.Sprintf("%d healthy endpoints", m.want)
}

func (m *endpointsMatcher) FailureMessage(actual any) string {
	d, err := toDump(actual)
	if err != nil {
		return err.Error()
	}
	n, all, found := m.count(d)
	if !found {
		return fmt.Sprintf("Expected cluster %q in %s to have %s; it has no load assignment (closest clusters: %s)",
			m.cluster, dumpName(d), m.expected(), strings.Join(orNone(xds.Closest(m.cluster, d.ClusterNames(), 3)), ", "))
	}
	return fmt.Sprintf("Expected cluster %q in %s to have %s; it has %d healthy of %d: [%s]",
		m.cluster, dumpName(d), m.expected(), n, len(all), strings.Join(all, ", "))
}

func (m *endpointsMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected cluster %q not to have %s, but it does", m.cluster, m.expected())
}

// BeLintClean matches a dump with no lint finding of severity error.
func BeLintClean() types.GomegaMatcher { return &lintMatcher{} }

type lintMatcher struct{}

func (m *lintMatcher) Match(actual any) (bool, error) {
	d, err := toDump(actual)
	if err != nil {
		return false, err
	}
	return !lint.HasErrors(lint.Lint(d)), nil
}

func (m *lintMatcher) FailureMessage(actual any) string {
	d, err := toDump(actual)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for _, f := range lint.Lint(d) {
		lines = append(lines, "  "+f.String())
	}
	return fmt.Sprintf("Expected %s to be lint-clean (no errors); findings:\n%s", dumpName(d), strings.Join(lines, "\n"))
}

func (m *lintMatcher) NegatedFailureMessage(actual any) string {
	return "Expected the config dump to have lint errors, but it has none"
}

// RouteRequest starts a matcher on where a request goes; add WithUpstream
// or WithPolicy if wanted, and finish it with ToCluster, ToWeightedClusters,
// ToRedirect or ToNoRoute.
func RouteRequest(req trace.Request) *RequestMatcher { return &RequestMatcher{req: req} }

// RequestMatcher matches where a request goes in a dump.
type RequestMatcher struct {
	req      trace.Request
	want     map[string]uint32
	noRoute  bool
	redirect string
	upstream string
	// policy maps a RoutePolicy JSON path to its expected value.
	policy map[string]string
	res    *trace.Result
}

func (m *RequestMatcher) with(f func(c *RequestMatcher)) *RequestMatcher {
	c := *m
	c.policy = maps.Clone(m.policy)
	f(&c)
	return &c
}

// WithUpstream expects the upstream to receive this request after the
// route's rewrites: "scheme://host/path?query".
func (m *RequestMatcher) WithUpstream(url string) *RequestMatcher {
	return m.with(func(c *RequestMatcher) { c.upstream = url })
}

// WithPolicy expects a field of the route's policy, by its JSON path
// ("timeout", "retry.numRetries", "fault.abortPercent"), to have this value:
// a string as it is, anything else as JSON (see trace.RoutePolicy.Field).
func (m *RequestMatcher) WithPolicy(field, value string) *RequestMatcher {
	return m.with(func(c *RequestMatcher) {
		if c.policy == nil {
			c.policy = map[string]string{}
		}
		c.policy[field] = value
	})
}

// ToCluster expects the request to go to this one cluster.
func (m *RequestMatcher) ToCluster(name string) types.GomegaMatcher {
	return m.with(func(c *RequestMatcher) { c.want = map[string]uint32{name: 1} })
}

// ToWeightedClusters expects exactly these clusters and weights.
func (m *RequestMatcher) ToWeightedClusters(w map[string]uint32) types.GomegaMatcher {
	return m.with(func(c *RequestMatcher) { c.want = w })
}

// ToRedirect expects Envoy to answer with a redirect to this Location.
func (m *RequestMatcher) ToRedirect(location string) types.GomegaMatcher {
	return m.with(func(c *RequestMatcher) { c.redirect = location })
}

// ToNoRoute expects Envoy to find no listener, chain, virtual host or route.
func (m *RequestMatcher) ToNoRoute() types.GomegaMatcher {
	return m.with(func(c *RequestMatcher) { c.noRoute = true })
}

func (m *RequestMatcher) Match(actual any) (bool, error) {
	d, err := toDump(actual)
	if err != nil {
		return false, err
	}
	if m.want == nil && !m.noRoute && m.redirect == "" {
		return false, fmt.Errorf("RouteRequest needs ToCluster, ToWeightedClusters, ToRedirect or ToNoRoute")
	}
	res, err := trace.Trace(d, m.req)
	if err != nil {
		return false, err
	}
	m.res = res
	if res.Undecided() {
		return false, fmt.Errorf("cannot decide where %s goes: %s\ntrace:\n%s", m.req, strings.Join(res.Unsupported, "; "), res.Text())
	}
	return len(m.mismatches()) == 0, nil
}

// mismatches lists, in words, how the traced result differs.
func (m *RequestMatcher) mismatches() []string {
	res := m.res
	if m.noRoute {
		if res.NoRoute == "" {
			return []string{"it goes to " + m.actual()}
		}
		return nil
	}
	var out []string
	switch {
	case m.redirect != "":
		if res.Redirect == nil || res.Redirect.Location != m.redirect {
			out = append(out, "it goes to "+m.actual())
		}
	case res.NoRoute != "" || weights(m.want) != weights(got(res)):
		out = append(out, "it goes to "+m.actual())
	}
	if m.upstream != "" {
		gotUp := "(not forwarded)"
		if u := res.UpstreamRequest; u != nil {
			gotUp = u.Scheme + "://" + u.Host + u.Path
		}
		if gotUp != m.upstream {
			out = append(out, fmt.Sprintf("the upstream receives %s, not %s", gotUp, m.upstream))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.policy)) {
		v, ok := res.Policy.Field(k)
		if !ok {
			v = "(unset)"
		}
		if v != m.policy[k] {
			out = append(out, fmt.Sprintf("policy %s is %s, not %s", k, v, m.policy[k]))
		}
	}
	return out
}

func (m *RequestMatcher) actual() string {
	switch {
	case m.res.NoRoute != "":
		return "no route (" + m.res.NoRoute + ")"
	case m.res.Redirect != nil:
		return fmt.Sprintf("a redirect %d to %s", m.res.Redirect.ResponseCode, m.res.Redirect.Location)
	case m.res.DirectResponse != nil:
		return fmt.Sprintf("a direct response %d", m.res.DirectResponse.Status)
	}
	return weights(got(m.res))
}

func got(res *trace.Result) map[string]uint32 {
	out := map[string]uint32{}
	for _, c := range res.Clusters {
		out[c.Name] += c.Weight
	}
	return out
}

func weights(w map[string]uint32) string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, w[k])
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

func (m *RequestMatcher) expected() string {
	var s string
	switch {
	case m.noRoute:
		return "no route"
	case m.redirect != "":
		s = "a redirect to " + m.redirect
	case len(m.want) == 1:
		for k := range m.want {
			s = "cluster " + k
		}
	default:
		s = "weighted clusters " + weights(m.want)
	}
	if m.upstream != "" {
		s += ", the upstream receiving " + m.upstream
	}
	for _, k := range slices.Sorted(maps.Keys(m.policy)) {
		s += fmt.Sprintf(", policy %s = %s", k, m.policy[k])
	}
	return s
}

func (m *RequestMatcher) FailureMessage(any) string {
	if m.res == nil {
		return "the request was not traced"
	}
	return fmt.Sprintf("Expected %s to go to %s; %s\ntrace:\n%s", m.req, m.expected(), strings.Join(m.mismatches(), "; "), m.res.Text())
}

func (m *RequestMatcher) NegatedFailureMessage(any) string {
	text := ""
	if m.res != nil {
		text = m.res.Text()
	}
	return fmt.Sprintf("Expected %s not to go to %s, but it does\ntrace:\n%s", m.req, m.expected(), text)
}
