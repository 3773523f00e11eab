//lint:file-ignore SA1019 configs from older Istio and Envoy versions still carry the deprecated header matchers, so they are read

package trace

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
)

func (t *tracer) http(hcm *hcmv3.HttpConnectionManager) {
	t.hcm = hcm
	rc := t.routeConfig(hcm)
	if rc == nil {
		return
	}
	t.rc = rc
	if !t.audit("http", fmt.Sprintf("route config %q", rc.GetName()), rc) {
		return
	}
	if len(hcm.GetEarlyHeaderMutationExtensions()) > 0 {
		t.res.unsupported("http", "early_header_mutation_extensions change the request's headers before routing")
		return
	}
	t.requestHeaders(hcm)
	if !t.normalizePath(hcm) || !t.internalOnlyHeaders() {
		return
	}
	host := t.vhostKey()
	vh, why := selectVirtualHost(rc.GetVirtualHosts(), host)
	if vh == nil {
		names := make([]string, 0, len(rc.GetVirtualHosts()))
		for _, v := range rc.GetVirtualHosts() {
			names = append(names, v.GetDomains()...)
		}
		t.res.noRoute("vhost", "no virtual host of %q has a domain matching host %q: Envoy answers 404 (NR); %s",
			rc.GetName(), host, xds.HaveList(xds.Closest(host, names, 5)))
		return
	}
	t.vh = vh
	t.res.VirtualHost = vh.GetName()
	t.res.step("vhost", "%q: %s", vh.GetName(), why)
	if !t.audit("vhost", fmt.Sprintf("virtual host %q", vh.GetName()), vh) || t.requireTLS(vh) {
		return
	}
	if vh.GetCors() != nil && t.isPreflight() {
		t.res.unsupported("vhost", "virtual host %q has a CORS policy: the CORS filter answers this preflight request itself, depending on the origin", vh.GetName())
		return
	}
	t.route(vh)
}

// routeConfig finds the connection manager's route configuration.
func (t *tracer) routeConfig(hcm *hcmv3.HttpConnectionManager) *routev3.RouteConfiguration {
	switch {
	case hcm.GetRds() != nil:
		name := hcm.GetRds().GetRouteConfigName()
		t.res.RouteConfig = name
		r, ok := t.d.RouteConfig(name)
		if why := t.d.Lacking(xds.TypeRoutes); why != "" {
			t.res.unsupported("http", "route config %q (RDS): %s", name, why)
			return nil
		}
		if !ok {
			t.res.noRoute("http", "route config %q (RDS) is not in the dump: Envoy answers 404 (NR); %s",
				name, xds.HaveList(xds.Closest(name, t.d.RouteConfigNames(), 5)))
			return nil
		}
		t.res.step("http", "HTTP connection manager, route config %q from RDS", name)
		return r.Config
	case hcm.GetRouteConfig() != nil:
		rc := hcm.GetRouteConfig()
		t.res.RouteConfig = rc.GetName()
		t.res.step("http", "HTTP connection manager, inline route config %q", rc.GetName())
		return rc
	case hcm.GetScopedRoutes() != nil:
		t.res.unsupported("http", "scoped routes (SRDS)")
	default:
		t.res.unsupported("http", "HTTP connection manager without a route specifier")
	}
	return nil
}

// vhostKey is what virtual hosts are matched on: the host (or the route
// configuration's vhost_header), lower case, without its port when
// ignore_port_in_host_matching is set.
func (t *tracer) vhostKey() string {
	host := t.host
	if hdr := t.rc.GetVhostHeader(); hdr != "" {
		host, _ = t.headerValue(hdr)
		t.res.step("vhost", "virtual hosts are matched on header %s (vhost_header): %q", hdr, host)
	}
	host = strings.ToLower(host)
	if h, _, ok := splitHostPort(host); ok && t.rc.GetIgnorePortInHostMatching() {
		t.res.step("vhost", "port ignored in host %q for matching (ignore_port_in_host_matching)", host)
		host = h
	}
	return host
}

// normalizePath sets the :path Envoy routes on. Envoy's normalization
// (normalize_path, merge_slashes, escaped slashes) changes only paths with
// dot segments, repeated slashes, backslashes or percent-encoding; for
// those, when it is on, the trace is undecided rather than guessed.
func (t *tracer) normalizePath(hcm *hcmv3.HttpConnectionManager) bool {
	t.path = t.req.path()
	if strings.Contains(t.path, "#") {
		// Envoy answers 400 (path_normalization_failed) to a request target
		// with a fragment by default; a runtime flag it reads at run time
		// strips the fragment instead, and the dump does not show runtime.
		t.res.unsupported("http", "path %q carries a fragment: Envoy rejects it with 400 by default, or strips it when its runtime says so", t.path)
		return false
	}
	p, _ := splitQuery(t.path)
	on := hcm.GetNormalizePath().GetValue() || hcm.GetMergeSlashes() || hcm.GetPathNormalizationOptions() != nil ||
		hcm.GetPathWithEscapedSlashesAction() > hcmv3.HttpConnectionManager_KEEP_UNCHANGED
	if on && needsNormalizing(p) {
		t.res.unsupported("http", "path %q would be normalized (normalize_path/merge_slashes/path_with_escaped_slashes_action), which meshcheck does not model", p)
		return false
	}
	return true
}

// needsNormalizing reports whether Envoy's path normalization could change
// p: a "." or ".." segment, an empty segment, a percent-encoding or a
// backslash.
func needsNormalizing(p string) bool {
	if strings.ContainsAny(p, "%\\") {
		return true
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "." || s == ".." || (s == "" && i > 0 && i < len(segs)-1) {
			return true
		}
	}
	return false
}

// internalOnlyHeaders: Envoy removes the route configuration's
// internal_only_headers from requests it does not mark internal, before
// routing.
func (t *tracer) internalOnlyHeaders() bool {
	for _, h := range t.rc.GetInternalOnlyHeaders() {
		if _, ok := t.clientHeader(h); !ok {
			continue
		}
		internal, undecided := t.internalRequest()
		if undecided != "" {
			t.res.unsupported("http", "the request carries %s, an internal_only_header Envoy removes from external requests: %s", h, undecided)
			return false
		}
		if !internal {
			t.res.step("http", "%s removed: an internal_only_header, and the request is external", h)
			t.dropped[strings.ToLower(h)] = true
		}
	}
	return true
}

// selectVirtualHost follows Envoy's domain order: exact, then the longest
// suffix wildcard ("*.example.com", "*-bar.example.com"), then the longest
// prefix wildcard ("foo.*"), then "*".
func selectVirtualHost(vhs []*routev3.VirtualHost, host string) (*routev3.VirtualHost, string) {
	var (
		suffixVH, prefixVH, anyVH *routev3.VirtualHost
		suffixD, prefixD          string
	)
	for _, vh := range vhs {
		for _, d := range vh.GetDomains() {
			d = strings.ToLower(d)
			switch {
			case d == "*":
				if anyVH == nil {
					anyVH = vh
				}
			case d == host:
				return vh, fmt.Sprintf("domain %q matches host %q exactly", d, host)
			case strings.HasPrefix(d, "*"):
				s := d[1:]
				if len(host) > len(s) && strings.HasSuffix(host, s) && len(d) > len(suffixD) {
					suffixVH, suffixD = vh, d
				}
			case strings.HasSuffix(d, "*"):
				p := d[:len(d)-1]
				if len(host) > len(p) && strings.HasPrefix(host, p) && len(d) > len(prefixD) {
					prefixVH, prefixD = vh, d
				}
			}
		}
	}
	switch {
	case suffixVH != nil:
		return suffixVH, fmt.Sprintf("suffix wildcard %q matches host %q (no exact domain)", suffixD, host)
	case prefixVH != nil:
		return prefixVH, fmt.Sprintf("prefix wildcard %q matches host %q (no exact or suffix domain)", prefixD, host)
	case anyVH != nil:
		return anyVH, fmt.Sprintf("catch-all \"*\" serves host %q (no exact or wildcard domain)", host)
	}
	return nil, ""
}

func (t *tracer) route(vh *routev3.VirtualHost) {
	_, rawQuery := splitQueryOnly(t.path)
	query := parseQuery(rawQuery)
	path, _ := splitQuery(t.path)
	if t.rc.GetIgnorePathParametersInPathMatching() {
		path, _, _ = strings.Cut(path, ";")
	}
	for i, r := range vh.GetRoutes() {
		name := r.GetName()
		if name == "" {
			name = fmt.Sprintf("routes[%d]", i)
		}
		// The conditions of a match all must hold: one the tracer models
		// that fails rules the route out whatever the others say; only a
		// route whose modelled conditions hold is audited.
		ok, why, unsup := t.routeMatches(r.GetMatch(), path, query)
		if unsup != "" {
			t.res.unsupported("route", "route %s of %q matches on %s", name, vh.GetName(), unsup)
			return
		}
		if !ok {
			continue
		}
		if !t.auditMatch(r.GetMatch(), fmt.Sprintf("route %s of %q", name, vh.GetName())) {
			return
		}
		t.res.Route = name
		if name != fmt.Sprintf("routes[%d]", i) {
			name = fmt.Sprintf("%s (routes[%d])", name, i)
		}
		t.res.step("route", "%s: %s", name, why)
		if t.audit("route", "route "+name, r) {
			t.action(r, name)
		}
		return
	}
	t.res.noRoute("route", "no route of virtual host %q matches %s %s: Envoy answers 404 (NR); it has %d routes: %s",
		vh.GetName(), t.req.method(), t.path, len(vh.GetRoutes()), describeRoutes(vh.GetRoutes(), 5))
}

// parseQuery splits a query string ("?a=1&b") the way Envoy's
// parseQueryString does: on "&", at the first "=", values left
// percent-encoded, a key without "=" has an empty value.
func parseQuery(raw string) map[string][]string {
	out := map[string][]string{}
	for _, kv := range strings.Split(strings.TrimPrefix(raw, "?"), "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out[k] = append(out[k], v)
	}
	return out
}

// auditMatch audits a RouteMatch and its header and query matchers.
func (t *tracer) auditMatch(m *routev3.RouteMatch, where string) bool {
	ok := t.audit("route", where+" match", m)
	for _, h := range m.GetHeaders() {
		ok = ok && t.audit("route", where+" header matcher "+h.GetName(), h)
	}
	for _, q := range m.GetQueryParameters() {
		ok = ok && t.audit("route", where+" query matcher "+q.GetName(), q)
	}
	return ok
}

func describeRoutes(rs []*routev3.Route, n int) string {
	parts := []string{}
	for i, r := range rs {
		if i == n {
			parts = append(parts, fmt.Sprintf("... %d more", len(rs)-n))
			break
		}
		parts = append(parts, describeMatch(r.GetMatch()))
	}
	return strings.Join(parts, "; ")
}

func describeMatch(m *routev3.RouteMatch) string {
	var s string
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		s = fmt.Sprintf("prefix %q", ps.Prefix)
	case *routev3.RouteMatch_Path:
		s = fmt.Sprintf("path %q", ps.Path)
	case *routev3.RouteMatch_SafeRegex:
		s = fmt.Sprintf("regex %q", ps.SafeRegex.GetRegex())
	case *routev3.RouteMatch_PathSeparatedPrefix:
		s = fmt.Sprintf("path_separated_prefix %q", ps.PathSeparatedPrefix)
	default:
		s = fmt.Sprintf("%T", ps)
	}
	for _, h := range m.GetHeaders() {
		s += fmt.Sprintf(" +header %s", h.GetName())
	}
	for _, q := range m.GetQueryParameters() {
		s += fmt.Sprintf(" +query %s", q.GetName())
	}
	return s
}

// routeMatches evaluates a RouteMatch; unsup names what it cannot decide.
func (t *tracer) routeMatches(m *routev3.RouteMatch, path string, query map[string][]string) (ok bool, why, unsup string) {
	t.matched = ""
	ok, why, unsup = t.pathMatches(m, path)
	if !ok {
		return false, "", unsup
	}
	if m.GetGrpc() != nil {
		if !isGrpc(t.header("content-type")) {
			return false, "", ""
		}
		why += ", gRPC content-type"
	}
	for _, h := range m.GetHeaders() {
		hok, u := t.headerMatches(h)
		if u != "" {
			return false, "", u
		}
		if !hok {
			return false, "", ""
		}
		why += fmt.Sprintf(", header %s matches", h.GetName())
	}
	for _, q := range m.GetQueryParameters() {
		qok, u := queryParamMatches(q, query)
		if u != "" || !qok {
			return false, "", u
		}
		why += fmt.Sprintf(", query %s matches", q.GetName())
	}
	if rf := m.GetRuntimeFraction(); rf != nil {
		dp := rf.GetDefaultValue()
		if !(dp.GetDenominator() == typev3.FractionalPercent_HUNDRED && dp.GetNumerator() >= 100) {
			return false, "", "runtime_fraction (a random share of requests)"
		}
	}
	return true, why, ""
}

// pathMatches evaluates a RouteMatch's path specifier, recording in
// t.matched what matched; unsup names what it cannot decide.
func (t *tracer) pathMatches(m *routev3.RouteMatch, path string) (ok bool, why, unsup string) {
	cs := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	eq := func(a, b string) bool { return a == b || (!cs && strings.EqualFold(a, b)) }
	hasPrefix := func(s, p string) bool { return len(s) >= len(p) && eq(s[:len(p)], p) }
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		if !hasPrefix(path, ps.Prefix) {
			return false, "", ""
		}
		t.matched = ps.Prefix
		why = fmt.Sprintf("prefix %q matches path %q", ps.Prefix, path)
	case *routev3.RouteMatch_Path:
		if !eq(path, ps.Path) {
			return false, "", ""
		}
		t.matched = ps.Path
		why = fmt.Sprintf("path %q equals %q", ps.Path, path)
	case *routev3.RouteMatch_SafeRegex:
		re, err := regexp.Compile("^(?:" + ps.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return false, "", fmt.Sprintf("a regex Go's RE2 cannot compile (%v)", err)
		}
		if !re.MatchString(path) {
			return false, "", ""
		}
		t.matched = path
		why = fmt.Sprintf("regex %q matches path %q", ps.SafeRegex.GetRegex(), path)
	case *routev3.RouteMatch_PathSeparatedPrefix:
		p := ps.PathSeparatedPrefix
		if !(eq(path, p) || (hasPrefix(path, p) && len(path) > len(p) && path[len(p)] == '/')) {
			return false, "", ""
		}
		t.matched = p
		why = fmt.Sprintf("path_separated_prefix %q matches path %q", p, path)
	case *routev3.RouteMatch_ConnectMatcher_:
		if t.req.method() != "CONNECT" {
			return false, "", ""
		}
		why = "connect_matcher matches a CONNECT request"
	case *routev3.RouteMatch_PathMatchPolicy:
		ok, tpl, u := templateMatch(ps, path)
		if u != "" || !ok {
			return false, "", u
		}
		t.matched = tpl
		why = fmt.Sprintf("URI template %q matches path %q", tpl, path)
	default:
		return false, "", fmt.Sprintf("path specifier %T", ps)
	}
	return true, why, ""
}

// queryParamMatches evaluates one query parameter matcher against the
// request's query; unsup names what it cannot decide.
func queryParamMatches(q *routev3.QueryParameterMatcher, query map[string][]string) (ok bool, unsup string) {
	vals, present := query[q.GetName()]
	switch {
	case q.GetPresentMatch():
		if !present {
			return false, ""
		}
	case q.GetStringMatch() != nil:
		if !present {
			return false, ""
		}
		v := ""
		if len(vals) > 0 {
			v = vals[0]
		}
		sok, u := stringMatches(q.GetStringMatch(), v)
		if u != "" {
			return false, u
		}
		if !sok {
			return false, ""
		}
	default:
		return false, "a query parameter matcher of unknown kind"
	}
	return true, ""
}

// isGrpc is Envoy's gRPC content-type test: application/grpc alone or
// followed by "+" and a suffix; not application/grpc-web, and not with
// parameters (";charset=..."): a real Envoy 1.40 takes
// "application/grpc;charset=utf-8" for not gRPC (docs/xds.md).
func isGrpc(ct string) bool {
	rest, ok := strings.CutPrefix(ct, "application/grpc")
	return ok && (rest == "" || rest[0] == '+')
}

// header returns a request header, with pseudo-headers from the request line.
func (t *tracer) header(name string) string {
	v, _ := t.headerValue(name)
	return v
}

func (t *tracer) headerValue(name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":authority", "host":
		return t.host, true
	case ":path":
		return t.path, true
	case ":method":
		return t.req.method(), true
	case ":scheme":
		return t.scheme, true
	case "x-forwarded-proto":
		return t.xfp, true
	}
	return t.clientHeader(name)
}

// headerMatches follows Envoy's HeaderMatcher, including a missing header
// (matches only "must be absent", or inverted "must be present") and
// treat_missing_header_as_empty.
func (t *tracer) headerMatches(h *routev3.HeaderMatcher) (bool, string) {
	v, present := t.headerValue(h.GetName())
	if !present && !h.GetTreatMissingHeaderAsEmpty() {
		_, isPresent := h.GetHeaderMatchSpecifier().(*routev3.HeaderMatcher_PresentMatch)
		if h.GetInvertMatch() {
			return isPresent && h.GetPresentMatch(), ""
		}
		return isPresent && !h.GetPresentMatch(), ""
	}
	var ok bool
	// The deprecated matchers (exact, prefix, suffix, contains, safe_regex)
	// are still what older Istio and Envoy versions send: keep reading them.
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case nil:
		ok = true // no specifier: presence
	case *routev3.HeaderMatcher_ExactMatch:
		ok = v == s.ExactMatch
	case *routev3.HeaderMatcher_PrefixMatch:
		ok = strings.HasPrefix(v, s.PrefixMatch)
	case *routev3.HeaderMatcher_SuffixMatch:
		ok = strings.HasSuffix(v, s.SuffixMatch)
	case *routev3.HeaderMatcher_ContainsMatch:
		ok = strings.Contains(v, s.ContainsMatch)
	case *routev3.HeaderMatcher_SafeRegexMatch:
		re, err := regexp.Compile("^(?:" + s.SafeRegexMatch.GetRegex() + ")$")
		if err != nil {
			return false, fmt.Sprintf("header %s regex Go's RE2 cannot compile (%v)", h.GetName(), err)
		}
		ok = re.MatchString(v)
	case *routev3.HeaderMatcher_PresentMatch:
		ok = s.PresentMatch
	case *routev3.HeaderMatcher_RangeMatch:
		n, err := strconv.ParseInt(v, 10, 64)
		ok = err == nil && n >= s.RangeMatch.GetStart() && n < s.RangeMatch.GetEnd()
	case *routev3.HeaderMatcher_StringMatch:
		var u string
		ok, u = stringMatches(s.StringMatch, v)
		if u != "" {
			return false, "header " + h.GetName() + " " + u
		}
	default:
		return false, fmt.Sprintf("header %s matcher %T", h.GetName(), s)
	}
	if h.GetInvertMatch() {
		ok = !ok
	}
	return ok, ""
}

func stringMatches(m *matcherv3.StringMatcher, v string) (bool, string) {
	ic := m.GetIgnoreCase()
	norm := func(s string) string {
		if ic {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		return norm(v) == norm(p.Exact), ""
	case *matcherv3.StringMatcher_Prefix:
		return strings.HasPrefix(norm(v), norm(p.Prefix)), ""
	case *matcherv3.StringMatcher_Suffix:
		return strings.HasSuffix(norm(v), norm(p.Suffix)), ""
	case *matcherv3.StringMatcher_Contains:
		return strings.Contains(norm(v), norm(p.Contains)), ""
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := regexp.Compile("^(?:" + p.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return false, fmt.Sprintf("a regex Go's RE2 cannot compile (%v)", err)
		}
		return re.MatchString(v), ""
	}
	return false, fmt.Sprintf("string matcher %T", m.GetMatchPattern())
}

// action follows the matched route's action and reports its policy.
func (t *tracer) action(r *routev3.Route, name string) {
	var wcs []*routev3.WeightedCluster_ClusterWeight
	ra := r.GetRoute()
	if wc := ra.GetWeightedClusters(); wc != nil {
		wcs = wc.GetClusters()
	}
	p := t.policy(r, wcs)
	levels := t.perFilterLevels(r, wcs)
	if !t.perFilterConfigs(levels, p) || !t.httpFilters(levels) {
		return
	}
	t.res.Policy = p
	switch a := r.GetAction().(type) {
	case *routev3.Route_Route:
		t.forward(a.Route, wcs, name)
	case *routev3.Route_Redirect:
		if !t.audit("action", "route "+name+" redirect", a.Redirect) {
			return
		}
		loc, undecided := t.redirectLocation(a.Redirect)
		if undecided != "" {
			t.res.unsupported("action", "%s", undecided)
			return
		}
		rd := &Redirect{Location: loc, ResponseCode: redirectCodes[a.Redirect.GetResponseCode()]}
		t.res.Redirect = rd
		t.res.step("action", "redirect %d to %s", rd.ResponseCode, rd.Location)
	case *routev3.Route_DirectResponse:
		dr := &DirectResponse{Status: int(a.DirectResponse.GetStatus())}
		if b := a.DirectResponse.GetBody(); b != nil {
			dr.Body = b.GetInlineString()
			if dr.Body == "" {
				dr.Body = string(b.GetInlineBytes())
			}
		}
		if dr.Status == 201 || (dr.Status >= 300 && dr.Status < 400) {
			dr.Location, _ = t.redirectLocation(&routev3.RedirectAction{})
		}
		t.res.DirectResponse = dr
		t.res.step("action", "direct response %d", dr.Status)
	default:
		t.res.unsupported("action", "route action %T", a)
	}
}

var redirectCodes = map[routev3.RedirectAction_RedirectResponseCode]int{
	routev3.RedirectAction_MOVED_PERMANENTLY: 301, routev3.RedirectAction_FOUND: 302,
	routev3.RedirectAction_SEE_OTHER: 303, routev3.RedirectAction_TEMPORARY_REDIRECT: 307,
	routev3.RedirectAction_PERMANENT_REDIRECT: 308,
}

// perFilterLevels are the typed_per_filter_config levels, most specific
// first. A weighted cluster's config applies when its cluster is picked: with
// several clusters that is a draw, so the levels are then undecided.
func (t *tracer) perFilterLevels(r *routev3.Route, wcs []*routev3.WeightedCluster_ClusterWeight) []perFilterLevel {
	var levels []perFilterLevel
	for _, c := range wcs {
		if len(c.GetTypedPerFilterConfig()) > 0 {
			levels = append(levels, perFilterLevel{level: "weighted cluster " + c.GetName(), cfgs: c.GetTypedPerFilterConfig()})
		}
	}
	if len(levels) > 0 && len(wcs) > 1 {
		// Which cluster's config applies depends on the cluster picked.
		return []perFilterLevel{{level: "weighted clusters", undecided: true}}
	}
	return append(levels,
		perFilterLevel{level: "route", cfgs: r.GetTypedPerFilterConfig()},
		perFilterLevel{level: "virtual host", cfgs: t.vh.GetTypedPerFilterConfig()},
		perFilterLevel{level: "route config", cfgs: t.rc.GetTypedPerFilterConfig()})
}

// forward follows a RouteAction to its clusters and computes what the
// upstream receives.
func (t *tracer) forward(ra *routev3.RouteAction, wcs []*routev3.WeightedCluster_ClusterWeight, name string) {
	if !t.audit("action", "route "+name+" action", ra) {
		return
	}
	if wc := ra.GetWeightedClusters(); wc != nil && !t.audit("action", "route "+name+" weighted_clusters", wc) {
		return
	}
	for _, c := range wcs {
		if !t.audit("action", "route "+name+" weighted cluster "+c.GetName(), c) {
			return
		}
	}
	if ra.GetCors() != nil && t.isPreflight() {
		t.res.unsupported("action", "route %s has a CORS policy: the CORS filter answers this preflight request itself, depending on the origin", name)
		return
	}
	if _, up := t.clientHeader("upgrade"); up && len(ra.GetUpgradeConfigs()) > 0 {
		t.res.unsupported("action", "route %s has upgrade_configs and the request asks for an upgrade", name)
		return
	}
	clusters := t.clusters(ra)
	if clusters == nil {
		return
	}
	t.addClusters(clusters, ra.GetClusterNotFoundResponseCode())
	t.upstream(ra, wcs, clusters)
}

// clusters picks the route's clusters; nil when the trace stopped.
func (t *tracer) clusters(ra *routev3.RouteAction) []WeightedCluster {
	switch cs := ra.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		t.res.step("action", "to cluster %s", cs.Cluster)
		return []WeightedCluster{{Name: cs.Cluster, Weight: 1}}
	case *routev3.RouteAction_WeightedClusters:
		var wcs []WeightedCluster
		for _, c := range cs.WeightedClusters.GetClusters() {
			wcs = append(wcs, WeightedCluster{Name: c.GetName(), Weight: c.GetWeight().GetValue()})
		}
		t.res.step("action", "weighted clusters %s", describeWeights(wcs))
		if p := cs.WeightedClusters.GetRuntimeKeyPrefix(); p != "" {
			t.res.step("action", "the weights are the configured ones: runtime keys %s.<cluster> would override them, and runtime is not in the dump", p)
		}
		return wcs
	case *routev3.RouteAction_ClusterHeader:
		v, ok := t.headerValue(cs.ClusterHeader)
		if !ok || v == "" {
			// Envoy looks up the empty cluster name, finds none and answers
			// cluster_not_found_response_code (503 unless set).
			t.res.step("action", "the route takes its cluster from header %s, which the request lacks: no cluster (%s)", cs.ClusterHeader, notFoundStatus(ra.GetClusterNotFoundResponseCode()))
			return []WeightedCluster{{Name: "", Weight: 1}}
		}
		t.res.step("action", "to cluster %s, from header %s", v, cs.ClusterHeader)
		return []WeightedCluster{{Name: v, Weight: 1}}
	}
	t.res.unsupported("action", "cluster specifier %T", ra.GetClusterSpecifier())
	return nil
}

// upstream computes the request the upstream receives.
func (t *tracer) upstream(ra *routev3.RouteAction, wcs []*routev3.WeightedCluster_ClusterWeight, clusters []WeightedCluster) {
	if t.hcm.GetSchemeHeaderTransformation().GetMatchUpstream() {
		t.res.unsupported("upstream", "scheme_header_transformation match_upstream: the upstream :scheme follows each cluster's transport")
		return
	}
	host, hostHow, undecided := t.upstreamHost(ra, wcs, clusters)
	if undecided != "" {
		t.res.unsupported("upstream", "%s", undecided)
		return
	}
	path, pathHow, undecided := t.upstreamPath(ra)
	if undecided != "" {
		t.res.unsupported("upstream", "%s", undecided)
		return
	}
	u := &UpstreamRequest{Scheme: t.scheme, Host: host, Path: path, HostRewrite: hostHow}
	t.res.UpstreamRequest = u
	how := []string{}
	for _, h := range []string{hostHow, pathHow} {
		if h != "" {
			how = append(how, h)
		}
	}
	if len(how) > 0 {
		t.res.step("rewrite", "%s: the upstream receives %s://%s%s", strings.Join(how, "; "), u.Scheme, u.Host, u.Path)
	}
}
