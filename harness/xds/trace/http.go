//lint:file-ignore SA1019 configs from older Istio and Envoy versions still carry the deprecated header matchers, so they are read

package trace

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/meshcheck/meshcheck/harness/xds"
)

func (t *tracer) http(hcm *hcmv3.HttpConnectionManager) {
	var rc *routev3.RouteConfiguration
	switch {
	case hcm.GetRds() != nil:
		name := hcm.GetRds().GetRouteConfigName()
		r, ok := t.d.RouteConfig(name)
		if why := t.d.Lacking(xds.TypeRoutes); why != "" {
			t.res.RouteConfig = name
			t.res.unsupported("http", "route config %q (RDS): %s", name, why)
			return
		}
		if !ok {
			t.res.RouteConfig = name
			t.res.noRoute("http", "route config %q (RDS) is not in the dump: Envoy answers 404 (NR); %s",
				name, xds.HaveList(xds.Closest(name, t.d.RouteConfigNames(), 5)))
			return
		}
		rc = r.Config
		t.res.RouteConfig = name
		t.res.step("http", "HTTP connection manager, route config %q from RDS", name)
	case hcm.GetRouteConfig() != nil:
		rc = hcm.GetRouteConfig()
		t.res.RouteConfig = rc.GetName()
		t.res.step("http", "HTTP connection manager, inline route config %q", rc.GetName())
	case hcm.GetScopedRoutes() != nil:
		t.res.unsupported("http", "scoped routes (SRDS)")
		return
	default:
		t.res.unsupported("http", "HTTP connection manager without a route specifier")
		return
	}
	host := strings.ToLower(t.req.Host)
	if h, p, err := net.SplitHostPort(host); err == nil {
		strip := hcm.GetStripAnyHostPort() || rc.GetIgnorePortInHostMatching() ||
			(hcm.GetStripMatchingHostPort() && p == strconv.Itoa(int(t.req.Port)))
		if strip {
			t.res.step("vhost", "port stripped from host %q before matching", host)
			host = h
		}
	}
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
	t.res.VirtualHost = vh.GetName()
	t.res.step("vhost", "%q: %s", vh.GetName(), why)
	t.route(vh)
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
	path, rawQuery, _ := strings.Cut(t.req.path(), "?")
	query, _ := url.ParseQuery(rawQuery)
	for i, r := range vh.GetRoutes() {
		ok, why, unsup := t.routeMatches(r.GetMatch(), path, query)
		name := r.GetName()
		if name == "" {
			name = fmt.Sprintf("routes[%d]", i)
		}
		if unsup != "" {
			t.res.unsupported("route", "route %s of %q matches on %s", name, vh.GetName(), unsup)
			return
		}
		if !ok {
			continue
		}
		t.res.Route = name
		if name != fmt.Sprintf("routes[%d]", i) {
			name = fmt.Sprintf("%s (routes[%d])", name, i)
		}
		t.res.step("route", "%s: %s", name, why)
		t.action(r)
		return
	}
	t.res.noRoute("route", "no route of virtual host %q matches %s %s: Envoy answers 404 (NR); it has %d routes: %s",
		vh.GetName(), t.req.method(), t.req.path(), len(vh.GetRoutes()), describeRoutes(vh.GetRoutes(), 5))
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
func (t *tracer) routeMatches(m *routev3.RouteMatch, path string, query url.Values) (ok bool, why, unsup string) {
	cs := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	eq := func(a, b string) bool { return a == b || (!cs && strings.EqualFold(a, b)) }
	hasPrefix := func(s, p string) bool { return len(s) >= len(p) && eq(s[:len(p)], p) }
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		if !hasPrefix(path, ps.Prefix) {
			return false, "", ""
		}
		why = fmt.Sprintf("prefix %q matches path %q", ps.Prefix, path)
	case *routev3.RouteMatch_Path:
		if !eq(path, ps.Path) {
			return false, "", ""
		}
		why = fmt.Sprintf("path %q equals %q", ps.Path, path)
	case *routev3.RouteMatch_SafeRegex:
		re, err := regexp.Compile("^(?:" + ps.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return false, "", fmt.Sprintf("a regex Go's RE2 cannot compile (%v)", err)
		}
		if !re.MatchString(path) {
			return false, "", ""
		}
		why = fmt.Sprintf("regex %q matches path %q", ps.SafeRegex.GetRegex(), path)
	case *routev3.RouteMatch_PathSeparatedPrefix:
		p := ps.PathSeparatedPrefix
		if !(eq(path, p) || (hasPrefix(path, p) && len(path) > len(p) && path[len(p)] == '/')) {
			return false, "", ""
		}
		why = fmt.Sprintf("path_separated_prefix %q matches path %q", p, path)
	case *routev3.RouteMatch_ConnectMatcher_:
		if t.req.method() != "CONNECT" {
			return false, "", ""
		}
		why = "connect_matcher matches a CONNECT request"
	case *routev3.RouteMatch_PathMatchPolicy:
		return false, "", "path_match_policy " + ps.PathMatchPolicy.GetName()
	default:
		return false, "", fmt.Sprintf("path specifier %T", ps)
	}
	if rf := m.GetRuntimeFraction(); rf != nil {
		dp := rf.GetDefaultValue()
		if !(dp.GetDenominator() == typev3.FractionalPercent_HUNDRED && dp.GetNumerator() >= 100) {
			return false, "", "runtime_fraction (a random share of requests)"
		}
	}
	switch {
	case m.GetTlsContext() != nil:
		return false, "", "tls_context"
	case len(m.GetDynamicMetadata()) > 0:
		return false, "", "dynamic_metadata"
	case len(m.GetFilterState()) > 0:
		return false, "", "filter_state"
	case len(m.GetCookies()) > 0:
		return false, "", "cookies"
	}
	if m.GetGrpc() != nil {
		if !strings.HasPrefix(t.header("content-type"), "application/grpc") {
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
		vals, present := query[q.GetName()]
		switch {
		case q.GetPresentMatch():
			if !present {
				return false, "", ""
			}
		case q.GetStringMatch() != nil:
			if !present {
				return false, "", ""
			}
			v := ""
			if len(vals) > 0 {
				v = vals[0]
			}
			sok, u := stringMatches(q.GetStringMatch(), v)
			if u != "" {
				return false, "", u
			}
			if !sok {
				return false, "", ""
			}
		default:
			return false, "", "a query parameter matcher of unknown kind"
		}
		why += fmt.Sprintf(", query %s matches", q.GetName())
	}
	return true, why, ""
}

// header returns a request header, with pseudo-headers from the request line.
func (t *tracer) header(name string) string {
	v, _ := t.headerValue(name)
	return v
}

func (t *tracer) headerValue(name string) (string, bool) {
	switch strings.ToLower(name) {
	case ":authority", "host":
		return t.req.Host, true
	case ":path":
		return t.req.path(), true
	case ":method":
		return t.req.method(), true
	case ":scheme":
		if t.req.Scheme == "" {
			return "http", true
		}
		return t.req.Scheme, true
	}
	for k, v := range t.req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
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

func (t *tracer) action(r *routev3.Route) {
	switch a := r.GetAction().(type) {
	case *routev3.Route_Route:
		ra := a.Route
		switch cs := ra.GetClusterSpecifier().(type) {
		case *routev3.RouteAction_Cluster:
			t.res.step("action", "to cluster %s", cs.Cluster)
			t.addClusters([]WeightedCluster{{Name: cs.Cluster, Weight: 1}})
		case *routev3.RouteAction_WeightedClusters:
			var wcs []WeightedCluster
			for _, c := range cs.WeightedClusters.GetClusters() {
				if c.GetClusterHeader() != "" {
					t.res.unsupported("action", "weighted cluster taken from header %s", c.GetClusterHeader())
					return
				}
				wcs = append(wcs, WeightedCluster{Name: c.GetName(), Weight: c.GetWeight().GetValue()})
			}
			t.res.step("action", "weighted clusters %s", describeWeights(wcs))
			t.addClusters(wcs)
		case *routev3.RouteAction_ClusterHeader:
			v, ok := t.headerValue(cs.ClusterHeader)
			if !ok || v == "" {
				t.res.noRoute("action", "the route takes its cluster from header %s, which the request lacks: Envoy answers 404 (NR)", cs.ClusterHeader)
				return
			}
			t.res.step("action", "to cluster %s, from header %s", v, cs.ClusterHeader)
			t.addClusters([]WeightedCluster{{Name: v, Weight: 1}})
		default:
			t.res.unsupported("action", "cluster specifier %T", cs)
		}
	case *routev3.Route_Redirect:
		rd := t.redirect(a.Redirect)
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
		t.res.DirectResponse = dr
		t.res.step("action", "direct response %d", dr.Status)
	default:
		t.res.unsupported("action", "route action %T", a)
	}
}

func (t *tracer) redirect(r *routev3.RedirectAction) *Redirect {
	scheme := t.req.Scheme
	if scheme == "" {
		scheme = "http"
	}
	if r.GetHttpsRedirect() {
		scheme = "https"
	}
	if s := r.GetSchemeRedirect(); s != "" {
		scheme = s
	}
	host := t.req.Host
	if h := r.GetHostRedirect(); h != "" {
		host = h
	}
	if p := r.GetPortRedirect(); p != 0 {
		h, _, err := net.SplitHostPort(host)
		if err != nil {
			h = host
		}
		host = net.JoinHostPort(h, strconv.Itoa(int(p)))
	}
	path := t.req.path()
	if p := r.GetPathRedirect(); p != "" {
		path = p
	}
	codes := map[routev3.RedirectAction_RedirectResponseCode]int{
		routev3.RedirectAction_MOVED_PERMANENTLY: 301, routev3.RedirectAction_FOUND: 302,
		routev3.RedirectAction_SEE_OTHER: 303, routev3.RedirectAction_TEMPORARY_REDIRECT: 307,
		routev3.RedirectAction_PERMANENT_REDIRECT: 308,
	}
	return &Redirect{Location: scheme + "://" + host + path, ResponseCode: codes[r.GetResponseCode()]}
}
