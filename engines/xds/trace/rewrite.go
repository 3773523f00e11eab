package trace

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
)

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// splitHostPort splits "host:port" the way Envoy finds a port in a host
// header: after the last colon, or after "]:" for an IPv6 literal.
func splitHostPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if strings.HasPrefix(hostport, "[") {
		i = strings.LastIndex(hostport, "]:")
		if i >= 0 {
			i++
		}
	}
	if i < 0 {
		return hostport, "", false
	}
	return hostport[:i], hostport[i+1:], true
}

// splitQuery cuts a path at its query string ("?...") or fragment.
func splitQuery(p string) (path, rest string) {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// compileRE2 compiles an Envoy (RE2) regex with Go's RE2 engine, anchored
// when whole is set.
func compileRE2(re string, whole bool) (*regexp.Regexp, error) {
	if whole {
		re = "^(?:" + re + ")$"
	}
	return regexp.Compile(re)
}

// substitution turns an Envoy regex substitution (\1 for a group) into Go's
// template syntax (${1}), escaping Go's "$".
func substitution(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// rewritePath applies a prefix_rewrite (replacing the matched part of the
// path) or a regex_rewrite (every match in the path without its query) the
// way Envoy's rewritePathByPrefixOrRegex does. It returns "" when there is
// no rewrite or the rewrite yields an empty path (Envoy then keeps the path).
func rewritePath(path, matched, prefix string, rx *matcherv3.RegexMatchAndSubstitute) (string, error) {
	if prefix != "" {
		return prefix + path[len(matched):], nil
	}
	if rx == nil {
		return "", nil
	}
	re, err := compileRE2(rx.GetPattern().GetRegex(), false)
	if err != nil {
		return "", fmt.Errorf("regex_rewrite %q: Go's RE2 cannot compile it: %w", rx.GetPattern().GetRegex(), err)
	}
	p, q := splitQuery(path)
	np := re.ReplaceAllString(p, substitution(rx.GetSubstitution()))
	if np == "" {
		return "", nil
	}
	return np + q, nil
}

// reqCommand is the one substitution-format command the tracer evaluates:
// %REQ(header)%, the request header's value ("" when absent).
var reqCommand = regexp.MustCompile(`%REQ\(([^():%]+)\)%`)

// format evaluates a substitution-format string made of literals, "%%" and
// %REQ(header)%; ok is false when it holds any other command.
func (t *tracer) format(s string) (string, bool) {
	out := reqCommand.ReplaceAllStringFunc(s, func(cmd string) string {
		v, _ := t.headerValue(reqCommand.FindStringSubmatch(cmd)[1])
		return strings.ReplaceAll(v, "%", "%%")
	})
	if strings.Contains(strings.ReplaceAll(out, "%%", ""), "%") {
		return "", false
	}
	return strings.ReplaceAll(out, "%%", "%"), true
}

// upstreamPath is the :path the upstream receives after the route's path
// rewrite; undecided names what cannot be computed.
func (t *tracer) upstreamPath(ra *routev3.RouteAction) (path, how, undecided string) {
	if ra.GetPathRewritePolicy() != nil {
		np, u := templateRewrite(ra, t.matched, t.path)
		return np, "URI template rewrite", u
	}
	if f := ra.GetPathRewrite(); f != "" {
		lit, ok := t.format(f)
		if !ok {
			return "", "", fmt.Sprintf("path_rewrite %q holds substitution commands other than %%REQ(header)%%", f)
		}
		if lit == "" {
			return t.path, "", "" // Envoy keeps the path when the result is empty
		}
		_, q := splitQuery(t.path)
		return lit + q, "path_rewrite", ""
	}
	np, err := rewritePath(t.path, t.matched, ra.GetPrefixRewrite(), ra.GetRegexRewrite())
	if err != nil {
		return "", "", err.Error()
	}
	switch {
	case np == "":
		return t.path, "", ""
	case ra.GetPrefixRewrite() != "":
		return np, fmt.Sprintf("prefix_rewrite %q replaces %q", ra.GetPrefixRewrite(), t.matched), ""
	default:
		return np, fmt.Sprintf("regex_rewrite %q -> %q", ra.GetRegexRewrite().GetPattern().GetRegex(), ra.GetRegexRewrite().GetSubstitution()), ""
	}
}

// upstreamHost is the :authority the upstream receives, Envoy's
// finalizeHostHeader order: a weighted cluster's host_rewrite_literal, the
// route's host_rewrite_literal, host_rewrite_header (when the request has
// it), host_rewrite_path_regex, host_rewrite, auto_host_rewrite.
func (t *tracer) upstreamHost(ra *routev3.RouteAction, wcs []*routev3.WeightedCluster_ClusterWeight, clusters []WeightedCluster) (host, how, undecided string) {
	if h, how, u, ok := t.weightedHostRewrite(wcs); ok || u != "" {
		return h, how, u
	}
	switch {
	case ra.GetHostRewriteLiteral() != "":
		return ra.GetHostRewriteLiteral(), "host_rewrite_literal", ""
	case ra.GetHostRewriteHeader() != "":
		if v, ok := t.headerValue(ra.GetHostRewriteHeader()); ok && v != "" {
			return v, "host_rewrite_header " + ra.GetHostRewriteHeader(), ""
		}
		return t.host, "", ""
	case ra.GetHostRewritePathRegex() != nil:
		rx := ra.GetHostRewritePathRegex()
		re, err := compileRE2(rx.GetPattern().GetRegex(), false)
		if err != nil {
			return "", "", fmt.Sprintf("host_rewrite_path_regex %q: Go's RE2 cannot compile it: %v", rx.GetPattern().GetRegex(), err)
		}
		p, _ := splitQuery(t.path)
		if h := re.ReplaceAllString(p, substitution(rx.GetSubstitution())); h != "" {
			return h, "host_rewrite_path_regex", ""
		}
		return t.host, "", ""
	case ra.GetHostRewrite() != "":
		lit, ok := t.format(ra.GetHostRewrite())
		if !ok {
			return "", "", fmt.Sprintf("host_rewrite %q holds substitution commands other than %%REQ(header)%%", ra.GetHostRewrite())
		}
		if lit == "" {
			return t.host, "", ""
		}
		return lit, "host_rewrite", ""
	case ra.GetAutoHostRewrite().GetValue():
		return t.autoHost(clusters)
	}
	return t.host, "", ""
}

// weightedHostRewrite is the weighted clusters' host_rewrite_literal: ok
// when they all set the same one; undecided when the host depends on the
// cluster picked.
func (t *tracer) weightedHostRewrite(wcs []*routev3.WeightedCluster_ClusterWeight) (host, how, undecided string, ok bool) {
	hosts := map[string]bool{}
	for _, c := range wcs {
		hosts[c.GetHostRewriteLiteral()] = true
	}
	if len(hosts) > 1 {
		return "", "", "the weighted clusters rewrite the host differently (host_rewrite_literal): the upstream host depends on the cluster picked", false
	}
	for h := range hosts {
		if h != "" {
			return h, "weighted cluster host_rewrite_literal", "", true
		}
	}
	return "", "", "", false
}

// autoHost is auto_host_rewrite: the picked endpoint's hostname (a DNS
// cluster's endpoint address, or the endpoint's hostname field); Envoy keeps
// the host when it is empty. Undecided when the candidates differ.
func (t *tracer) autoHost(clusters []WeightedCluster) (host, how, undecided string) {
	names := map[string]bool{}
	for _, wc := range clusters {
		c, ok := t.d.Cluster(wc.Name)
		if !ok && t.d.Lacking(xds.TypeClusters) != "" {
			return "", "", fmt.Sprintf("auto_host_rewrite: cluster %s, whose endpoints' hostnames it uses, is not in the dump (%s)", wc.Name, t.d.Lacking(xds.TypeClusters))
		}
		if !ok {
			continue // not in CDS: Envoy answers 503 before any rewrite matters
		}
		dns := c.Config.GetType() == clusterv3.Cluster_STRICT_DNS || c.Config.GetType() == clusterv3.Cluster_LOGICAL_DNS
		if e, ok := t.d.EndpointsFor(wc.Name); ok {
			for _, le := range e.Config.GetEndpoints() {
				for _, lb := range le.GetLbEndpoints() {
					h := lb.GetEndpoint().GetHostname()
					if h == "" && dns {
						h = lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress()
					}
					names[h] = true
				}
			}
		} else if len(t.res.Endpoints[wc.Name]) > 0 || dns {
			return "", "", fmt.Sprintf("auto_host_rewrite: the endpoints of %s, whose hostnames it uses, are not in the dump", wc.Name)
		}
	}
	switch len(names) {
	case 0:
		return t.host, "", ""
	case 1:
		for h := range names {
			if h == "" {
				return t.host, "", ""
			}
			return h, "auto_host_rewrite (the endpoint's hostname)", ""
		}
	}
	return "", "", "auto_host_rewrite: the endpoints' hostnames differ, so the upstream host depends on the endpoint picked"
}

// redirectLocation is the Location Envoy writes for a RedirectAction
// (Http::Utility::newUri after finalizePathHeaderForRedirect).
func (t *tracer) redirectLocation(r *routev3.RedirectAction) (string, string) {
	scheme := t.scheme
	switch {
	case r.GetSchemeRedirect() != "":
		scheme = r.GetSchemeRedirect()
	case r.GetHttpsRedirect():
		scheme = "https"
	}
	port := ""
	if p := r.GetPortRedirect(); p != 0 {
		port = ":" + itoa(p)
	}
	host := r.GetHostRedirect()
	if host == "" {
		host = t.redirectHost(scheme, port)
	}
	path, undecided := t.redirectPath(r)
	if undecided != "" {
		return "", undecided
	}
	return scheme + "://" + host + port + path, ""
}

// redirectHost is the request's host with its port removed when the
// redirect sets a port, or when the scheme changes and the port is the
// default one of the request's x-forwarded-proto (80 for http, 443 for
// https).
func (t *tracer) redirectHost(scheme, port string) string {
	h, p, ok := splitHostPort(t.host)
	if !ok {
		return t.host
	}
	remove := port != ""
	if scheme != t.xfp {
		remove = remove || (strings.EqualFold(t.xfp, "https") && p == "443") || (strings.EqualFold(t.xfp, "http") && p == "80")
	}
	if remove {
		return h
	}
	return t.host
}

// redirectPath is the Location's path: the request's path after the
// redirect's prefix or regex rewrite, or path_redirect (whose own query
// wins; else the request's query is kept), a leading "/", and strip_query.
func (t *tracer) redirectPath(r *routev3.RedirectAction) (string, string) {
	path := t.path
	np, err := rewritePath(path, t.matched, r.GetPrefixRewrite(), r.GetRegexRewrite())
	if err != nil {
		return "", err.Error()
	}
	if np != "" {
		path = np
	}
	redirect := r.GetPathRedirect()
	if f := r.GetPathRewrite(); f != "" {
		lit, ok := t.format(f)
		if !ok {
			return "", fmt.Sprintf("redirect path_rewrite %q holds substitution commands other than %%REQ(header)%%", f)
		}
		if lit != "" {
			redirect = lit
		}
	}
	redirectHasQuery := strings.Contains(redirect, "?")
	if redirect != "" {
		if redirectHasQuery {
			path = redirect
		} else {
			_, q := splitQueryOnly(path)
			path = redirect + q
		}
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if r.GetStripQuery() && !redirectHasQuery {
		path, _ = splitQueryOnly(path)
	}
	return path, ""
}

// splitQueryOnly cuts at "?" only, as Envoy's redirect code does.
func splitQueryOnly(p string) (string, string) {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}
