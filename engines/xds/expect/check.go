package expect

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

// Options tune Check.
type Options struct {
	// IstioVersion is the version under test ("1.30.2"). Empty: items with
	// an istio constraint are skipped and listed as such.
	IstioVersion string
	// Vars override the spec's vars for ${name} substitution. namespace
	// defaults to "default" and domain to "cluster.local".
	Vars map[string]string
}

// Failure is one expectation that does not hold.
type Failure struct {
	// Path is the element, e.g. "routeConfigs[0](http.8080).virtualHosts[0](*:8080)".
	Path string `json:"path"`
	// Line is the spec line of the element.
	Line       int      `json:"line"`
	Expected   string   `json:"expected"`
	Actual     string   `json:"actual"`
	Candidates []string `json:"candidates,omitempty"`
	Message    string   `json:"message"`
}

func (f Failure) String() string {
	s := fmt.Sprintf("line %d: %s: %s (expected %s, actual %s)", f.Line, f.Path, f.Message, f.Expected, f.Actual)
	if len(f.Candidates) > 0 {
		s += "; " + xds.HaveList(f.Candidates)
	}
	return s
}

// Report is the outcome of a check.
type Report struct {
	Source   string    `json:"source"`
	Checked  int       `json:"checked"`
	Skipped  []string  `json:"skipped"`
	Failures []Failure `json:"failures"`
}

// Passed reports whether every checked expectation held.
func (r *Report) Passed() bool { return len(r.Failures) == 0 }

// Check compares the dump with the spec.
func Check(d *xds.Dump, spec *Spec, opts Options) (*Report, error) {
	vars := map[string]string{"namespace": "default", "domain": "cluster.local"}
	for k, v := range spec.Vars {
		vars[k] = v
	}
	for k, v := range opts.Vars {
		vars[k] = v
	}
	c := &checker{d: d, vars: vars, rep: &Report{Source: spec.source, Skipped: []string{}, Failures: []Failure{}}}
	if opts.IstioVersion != "" {
		v, err := semver.NewVersion(strings.TrimPrefix(opts.IstioVersion, "v"))
		if err != nil {
			return nil, fmt.Errorf("istio version %q: %w", opts.IstioVersion, err)
		}
		c.version = v
	}
	for i := range spec.Listeners {
		c.listener(&spec.Listeners[i], fmt.Sprintf("listeners[%d]", i))
	}
	for i := range spec.RouteConfigs {
		c.routeConfig(&spec.RouteConfigs[i], fmt.Sprintf("routeConfigs[%d]", i))
	}
	for i := range spec.Clusters {
		c.cluster(&spec.Clusters[i], fmt.Sprintf("clusters[%d]", i))
	}
	for i := range spec.Flows {
		c.flow(&spec.Flows[i], fmt.Sprintf("flows[%d]", i))
	}
	if c.err != nil {
		return nil, c.err
	}
	return c.rep, nil
}

type checker struct {
	d       *xds.Dump
	vars    map[string]string
	version *semver.Version
	rep     *Report
	err     error
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// sub substitutes ${name}; an unknown variable is a spec error.
func (c *checker) sub(s string, line int, path string) string {
	out, err := Expand(s, c.vars)
	if err != nil && c.err == nil {
		c.err = &SpecError{Source: c.rep.Source, Line: line, Err: fmt.Errorf("%s: %w", path, err)}
	}
	return out
}

// Expand substitutes ${name} in s from vars; an unknown name is an error
// naming it and the names there are (the name is left empty in the result).
func Expand(s string, vars map[string]string) (string, error) {
	var err error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		name := varRef.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok && err == nil {
			err = fmt.Errorf("unknown variable ${%s} (have %s)", name, strings.Join(keys(vars), ", "))
		}
		return v
	})
	return out, err
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// applies decides whether an item is checked for the version under test.
func (c *checker) applies(it *Item, path string) bool {
	if it.cons == nil {
		c.rep.Checked++
		return true
	}
	if c.version == nil {
		c.rep.Skipped = append(c.rep.Skipped, fmt.Sprintf("%s (line %d): istio %s, and no Istio version was given", path, it.line, it.Istio))
		return false
	}
	if !it.cons.Check(c.version) {
		c.rep.Skipped = append(c.rep.Skipped, fmt.Sprintf("%s (line %d): istio %s does not hold for %s", path, it.line, it.Istio, c.version))
		return false
	}
	c.rep.Checked++
	return true
}

// holds reports whether the dump has every type a check needs; for each it
// lacks, the check at path is listed as skipped with the reason, never
// failed: istioctl's per-type output holds one type.
func (c *checker) holds(line int, path string, types ...xds.Type) bool {
	ok := true
	for _, t := range types {
		if why := c.d.Lacking(t); why != "" {
			c.rep.Skipped = append(c.rep.Skipped, fmt.Sprintf("%s (line %d): %s", path, line, why))
			ok = false
		}
	}
	return ok
}

func (c *checker) fail(line int, path, msg, expected, actual string, candidates []string) {
	c.rep.Failures = append(c.rep.Failures, Failure{Path: path, Line: line, Message: msg, Expected: expected, Actual: actual, Candidates: candidates})
}

// present checks that an expected resource is there (or absent, when the
// spec says so) and reports whether its details are to be checked next.
func (c *checker) present(line int, path, what, name string, found, absent bool, have func() []string) bool {
	switch {
	case absent && found:
		c.fail(line, path, what+" "+name+" is present", "absent", "present", nil)
		return false
	case absent:
		return false
	case !found:
		c.fail(line, path, fmt.Sprintf("%s %s not found", what, name), name, "not found", xds.Closest(name, have(), 3))
		return false
	}
	return true
}

func (c *checker) listener(e *Listener, path string) {
	if !c.holds(e.line, path, xds.TypeListeners) || !c.applies(&e.Item, path) {
		return
	}
	name := c.sub(e.Name, e.line, path)
	path = fmt.Sprintf("%s(%s)", path, name)
	l, ok := c.d.Listener(name)
	if !c.present(e.line, path, "listener", name, ok, e.Absent, c.d.ListenerNames) {
		return
	}
	if e.Address != "" {
		want := c.sub(e.Address, e.line, path)
		if got := xds.Addr(l.Config.GetAddress()); got != want {
			c.fail(e.line, path+".address", "listener address differs", want, got, nil)
		}
	}
}

func (c *checker) routeConfig(e *RouteConfig, path string) {
	if !c.holds(e.line, path, xds.TypeRoutes) || !c.applies(&e.Item, path) {
		return
	}
	name := c.sub(e.Name, e.line, path)
	path = fmt.Sprintf("%s(%s)", path, name)
	r, ok := c.d.RouteConfig(name)
	if !c.present(e.line, path, "route config", name, ok, e.Absent, c.d.RouteConfigNames) {
		return
	}
	for i := range e.VirtualHosts {
		c.virtualHost(r.Config, &e.VirtualHosts[i], fmt.Sprintf("%s.virtualHosts[%d]", path, i))
	}
}

func (c *checker) virtualHost(rc *routev3.RouteConfiguration, e *VirtualHost, path string) {
	if !c.applies(&e.Item, path) {
		return
	}
	name := c.sub(e.Name, e.line, path)
	path = fmt.Sprintf("%s(%s)", path, name)
	var vh *routev3.VirtualHost
	names := []string{}
	for _, v := range rc.GetVirtualHosts() {
		names = append(names, v.GetName())
		if v.GetName() == name {
			vh = v
		}
	}
	if vh == nil {
		c.fail(e.line, path, fmt.Sprintf("virtual host %s not found in route config %s", name, rc.GetName()), name, "not found", xds.Closest(name, names, 3))
		return
	}
	for _, d := range e.Domains {
		d = c.sub(d, e.line, path)
		found := false
		for _, have := range vh.GetDomains() {
			found = found || have == d
		}
		if !found {
			c.fail(e.line, path+".domains", fmt.Sprintf("domain %q missing", d), d, fmt.Sprintf("%q", vh.GetDomains()), xds.Closest(d, vh.GetDomains(), 3))
		}
	}
	for i := range e.Routes {
		c.route(vh, &e.Routes[i], fmt.Sprintf("%s.routes[%d]", path, i))
	}
}

func matchString(m *routev3.RouteMatch) string {
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return "prefix " + ps.Prefix
	case *routev3.RouteMatch_Path:
		return "path " + ps.Path
	case *routev3.RouteMatch_SafeRegex:
		return "regex " + ps.SafeRegex.GetRegex()
	case *routev3.RouteMatch_PathSeparatedPrefix:
		return "path_separated_prefix " + ps.PathSeparatedPrefix
	}
	return fmt.Sprintf("%T", m.GetPathSpecifier())
}

func (c *checker) route(vh *routev3.VirtualHost, e *Route, path string) {
	if !c.applies(&e.Item, path) {
		return
	}
	name, match := c.sub(e.Name, e.line, path), c.sub(e.Match, e.line, path)
	var r *routev3.Route
	var have []string
	for _, x := range vh.GetRoutes() {
		have = append(have, x.GetName()+" ("+matchString(x.GetMatch())+")")
		if r == nil && ((name != "" && x.GetName() == name) || (name == "" && match != "" && matchString(x.GetMatch()) == match)) {
			r = x
		}
	}
	key := name
	if key == "" {
		key = match
	}
	path = fmt.Sprintf("%s(%s)", path, key)
	if r == nil {
		c.fail(e.line, path, fmt.Sprintf("route %s not found in virtual host %s", key, vh.GetName()), key, "not found", xds.Closest(key, have, 3))
		return
	}
	got := weights(r)
	if e.Cluster != "" {
		want := c.sub(e.Cluster, e.line, path)
		if len(got) != 1 || got[want] == 0 {
			c.fail(e.line, path+".cluster", "route sends elsewhere", want, formatWeights(got), keys(got))
		}
	}
	if e.Clusters != nil {
		want := map[string]uint32{}
		for k, v := range e.Clusters {
			want[c.sub(k, e.line, path)] = v
		}
		if formatWeights(want) != formatWeights(got) {
			c.fail(e.line, path+".clusters", "weighted clusters differ", formatWeights(want), formatWeights(got), nil)
		}
	}
}

func weights(r *routev3.Route) map[string]uint32 {
	out := map[string]uint32{}
	ra := r.GetRoute()
	if ra == nil {
		return out
	}
	if cl := ra.GetCluster(); cl != "" {
		out[cl] = 1
	}
	for _, wc := range ra.GetWeightedClusters().GetClusters() {
		out[wc.GetName()] += wc.GetWeight().GetValue()
	}
	return out
}

func formatWeights(m map[string]uint32) string {
	parts := []string{}
	for _, k := range keys(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

func (c *checker) cluster(e *Cluster, path string) {
	if !c.holds(e.line, path, xds.TypeClusters) || !c.applies(&e.Item, path) {
		return
	}
	name := c.sub(e.Name, e.line, path)
	path = fmt.Sprintf("%s(%s)", path, name)
	cl, ok := c.d.Cluster(name)
	if !c.present(e.line, path, "cluster", name, ok, e.Absent, c.d.ClusterNames) {
		return
	}
	if e.Type != "" && !strings.EqualFold(cl.Config.GetType().String(), e.Type) {
		c.fail(e.line, path+".type", "cluster discovery type differs", strings.ToUpper(e.Type), cl.Config.GetType().String(), nil)
	}
	c.clusterTLS(e, cl, path)
	if (e.Endpoints == nil && e.HealthyEndpoints == nil && e.Addresses == nil) || !c.holds(e.line, path+".endpoints", xds.TypeEndpoints) {
		return
	}
	total, healthy, addrs := 0, 0, []string{}
	if ep, ok := c.d.EndpointsFor(name); ok {
		for _, le := range ep.Config.GetEndpoints() {
			for _, lb := range le.GetLbEndpoints() {
				total++
				if h := lb.GetHealthStatus(); h == corev3.HealthStatus_HEALTHY || h == corev3.HealthStatus_UNKNOWN {
					healthy++
				}
				sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
				addrs = append(addrs, net.JoinHostPort(sa.GetAddress(), fmt.Sprint(sa.GetPortValue())))
			}
		}
	}
	if e.Endpoints != nil && *e.Endpoints != total {
		c.fail(e.line, path+".endpoints", "endpoint count differs", fmt.Sprint(*e.Endpoints), fmt.Sprint(total), nil)
	}
	if e.HealthyEndpoints != nil && *e.HealthyEndpoints != healthy {
		c.fail(e.line, path+".healthyEndpoints", "healthy endpoint count differs", fmt.Sprint(*e.HealthyEndpoints), fmt.Sprint(healthy), nil)
	}
	if e.Addresses != nil {
		want := make([]string, len(e.Addresses))
		for i, a := range e.Addresses {
			want[i] = c.sub(a, e.line, path)
		}
		slices.Sort(want)
		slices.Sort(addrs)
		if !slices.Equal(want, addrs) {
			c.fail(e.line, path+".addresses", "endpoint addresses differ", strings.Join(want, ", "), strings.Join(addrs, ", "), nil)
		}
	}
}

func (c *checker) flow(e *Flow, path string) {
	if e.Name != "" {
		path = fmt.Sprintf("%s(%s)", path, e.Name)
	}
	if !c.holds(e.line, path, xds.TypeListeners, xds.TypeRoutes) || !c.applies(&e.Item, path) {
		return
	}
	role, err := trace.ParseRole(e.Request.Role)
	if err != nil {
		c.err = &SpecError{Source: c.rep.Source, Line: e.line, Err: fmt.Errorf("%s.request.role: %w", path, err)}
		return
	}
	if e.Request.Port == 0 {
		c.err = &SpecError{Source: c.rep.Source, Line: e.line, Err: fmt.Errorf("%s.request.port is required", path)}
		return
	}
	req := trace.Request{
		Role: role, Port: e.Request.Port, Address: c.sub(e.Request.Address, e.line, path),
		SourceAddress: c.sub(e.Request.Source, e.line, path), Host: c.sub(e.Request.Host, e.line, path),
		Path: c.sub(e.Request.Path, e.line, path), Method: e.Request.Method, Scheme: e.Request.Scheme, TLS: e.Request.TLS,
		ServerName: c.sub(e.Request.SNI, e.line, path), Headers: map[string]string{},
	}
	for k, v := range e.Request.Headers {
		req.Headers[k] = c.sub(v, e.line, path)
	}
	res, err := trace.Trace(c.d, req)
	if err != nil {
		c.err = &SpecError{Source: c.rep.Source, Line: e.line, Err: fmt.Errorf("%s: %w", path, err)}
		return
	}
	if res.Undecided() {
		c.fail(e.line, path, "the trace met something meshcheck cannot decide", "a decided trace", strings.Join(res.Unsupported, "; "), nil)
		return
	}
	if e.NoRoute {
		if res.NoRoute == "" {
			c.fail(e.line, path, "Envoy would route the request", "no route", formatTraceClusters(res), nil)
		}
		return
	}
	if res.NoRoute != "" {
		c.fail(e.line, path, "Envoy would not route the request: "+res.NoRoute, "a route", "no route", nil)
		return
	}
	c.flowOutcome(e, path, res)
	for _, f := range []struct{ field, want, got string }{
		{"listener", e.Listener, res.Listener},
		{"routeConfig", e.RouteConfig, res.RouteConfig},
		{"virtualHost", e.VirtualHost, res.VirtualHost},
		{"route", e.Route, res.Route},
	} {
		if want := c.sub(f.want, e.line, path); want != "" && want != f.got {
			c.fail(e.line, path+"."+f.field, f.field+" differs", want, f.got, nil)
		}
	}
	if e.Clusters != nil {
		want := map[string]uint32{}
		for k, v := range e.Clusters {
			want[c.sub(k, e.line, path)] = v
		}
		got := map[string]uint32{}
		for _, wc := range res.Clusters {
			got[wc.Name] += wc.Weight
		}
		if formatWeights(want) != formatWeights(got) {
			c.fail(e.line, path+".clusters", "the request goes elsewhere", formatWeights(want), formatWeights(got), nil)
		}
	}
	if len(e.Endpoints) > 0 && !c.holds(e.line, path+".endpoints", xds.TypeClusters, xds.TypeEndpoints) {
		return
	}
	for k, n := range e.Endpoints {
		cl := c.sub(k, e.line, path)
		if got := len(res.Endpoints[cl]); got != n {
			c.fail(e.line, path+".endpoints", fmt.Sprintf("endpoint count of %s differs", cl), fmt.Sprint(n), fmt.Sprint(got), nil)
		}
	}
}

// flowOutcome checks the flow's upstream request, redirect and policy.
func (c *checker) flowOutcome(e *Flow, path string, res *trace.Result) {
	if want := c.sub(e.Upstream, e.line, path); want != "" {
		got := "(not forwarded: " + formatTraceClusters(res) + ")"
		if u := res.UpstreamRequest; u != nil {
			got = u.Scheme + "://" + u.Host + u.Path
		}
		if got != want {
			c.fail(e.line, path+".upstream", "the upstream receives another request", want, got, nil)
		}
	}
	if want := c.sub(e.Redirect, e.line, path); want != "" || e.RedirectCode != 0 {
		got, code := "(no redirect: "+formatTraceClusters(res)+")", 0
		if r := res.Redirect; r != nil {
			got, code = r.Location, r.ResponseCode
		}
		if want != "" && got != want {
			c.fail(e.line, path+".redirect", "the redirect differs", want, got, nil)
		}
		if e.RedirectCode != 0 && code != e.RedirectCode {
			c.fail(e.line, path+".redirectCode", "the redirect status differs", fmt.Sprint(e.RedirectCode), fmt.Sprint(code), nil)
		}
	}
	for _, k := range keys(e.Policy) {
		want := c.sub(e.Policy[k], e.line, path)
		got, ok := res.Policy.Field(k)
		if !ok {
			got = "(unset)"
		}
		if got != want {
			c.fail(e.line, path+".policy."+k, "the route's policy differs", want, got, nil)
		}
	}
}

func formatTraceClusters(res *trace.Result) string {
	got := map[string]uint32{}
	for _, wc := range res.Clusters {
		got[wc.Name] += wc.Weight
	}
	if res.Redirect != nil {
		return "redirect to " + res.Redirect.Location
	}
	if res.DirectResponse != nil {
		return fmt.Sprintf("direct response %d", res.DirectResponse.Status)
	}
	return formatWeights(got)
}

// TLSModes are the modes a cluster's tls may name.
var TLSModes = []string{xds.TLSIstioMutual, xds.TLSAuto, xds.TLSDisable, xds.TLSSimple, xds.TLSMutual}

// clusterTLS checks the mTLS/TLS mode of the proxy's connections to the
// cluster; a mode it cannot decide is reported as undecided.
func (c *checker) clusterTLS(e *Cluster, cl *xds.Cluster, path string) {
	if e.TLS == "" {
		return
	}
	if !slices.Contains(TLSModes, e.TLS) {
		c.err = &SpecError{Source: c.rep.Source, Line: e.line, Err: fmt.Errorf("%s.tls: %q is not one of %s", path, e.TLS, strings.Join(TLSModes, ", "))}
		return
	}
	got, err := xds.UpstreamTLS(cl.Config)
	if err != nil {
		c.fail(e.line, path+".tls", "the upstream mTLS/TLS mode cannot be decided", "a decided trace", err.Error(), nil)
		return
	}
	if got != e.TLS {
		c.fail(e.line, path+".tls", "the upstream mTLS/TLS mode differs (the transport socket the proxy uses to the cluster)", e.TLS, got, nil)
	}
}
