package trace

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fieldKind says what the tracer does with a route-configuration field.
type fieldKind int

const (
	// modelled: the tracer reads the field and acts on it (or names the
	// request undecided where the field's effect depends on what it cannot
	// know, e.g. a runtime fraction below 100%).
	modelled fieldKind = iota
	// irrelevant: the field changes neither where the request goes nor what
	// the upstream or the client receives (stats, tracing, buffer limits).
	irrelevant
	// undecidable: the field changes routing in a way the tracer does not
	// model; a set one makes the trace undecided.
	undecidable
)

type fieldRule struct {
	kind fieldKind
	why  string
}

// routeProtoPrefix is the package of the audited messages; fieldRules keys
// are their full names without it ("RouteAction.prefix_rewrite").
const routeProtoPrefix = "envoy.config.route.v3."

func does(why string) fieldRule      { return fieldRule{modelled, why} }
func ignored(why string) fieldRule   { return fieldRule{irrelevant, why} }
func undecided(why string) fieldRule { return fieldRule{undecidable, why} }

const (
	statsOnly   = "stats only"
	tracingOnly = "tracing only"
	bufferLimit = "request body buffer limit: a bodiless request is unaffected"
	liveState   = "rate-limit descriptors: the answer depends on a rate-limit service's live counters, not on configuration"
	policyField = "reported in Result.Policy"
	headerEdits = "header changes, reported in Result.Policy in Envoy's order"
	perFilter   = "per-filter config: fault is reported in Result.Policy, CORS decides only preflights, a disabled filter changes nothing; any other filter makes the trace undecided"
	hedging     = "hedging: extra attempts to the same cluster, timing only"
	upstreamRsp = "follows redirects the upstream answers with: depends on the upstream's response"
	specifiers  = "route specifier extensions may replace or drop the route"
	subsets     = "metadata_match picks a subset of the cluster's endpoints"
	formatter   = "a substitution-format string: literals and %REQ(header)% are evaluated, any other command is undecided"
)

// fieldRules is every field of the audited messages (auditedMessages in the
// test): what the tracer does with it, or why it does not matter. The
// tracer's audit names a set field that is missing here, or undecidable, as
// unsupported.
var fieldRules = map[string]fieldRule{
	"RouteConfiguration.name":                                    does("reported as Result.RouteConfig"),
	"RouteConfiguration.virtual_hosts":                           does("virtual host selection by domain"),
	"RouteConfiguration.vhds":                                    undecided("virtual hosts discovered on demand (VHDS) are not in the dump"),
	"RouteConfiguration.internal_only_headers":                   does("removed from external requests before routing: a request carrying one is undecided"),
	"RouteConfiguration.response_headers_to_add":                 does(headerEdits),
	"RouteConfiguration.response_headers_to_remove":              does(headerEdits),
	"RouteConfiguration.request_headers_to_add":                  does(headerEdits),
	"RouteConfiguration.request_headers_to_remove":               does(headerEdits),
	"RouteConfiguration.most_specific_header_mutations_wins":     does("orders the header changes in Result.Policy"),
	"RouteConfiguration.validate_clusters":                       ignored("load-time validation of cluster names; a missing cluster is reported per request"),
	"RouteConfiguration.max_direct_response_body_size_bytes":     ignored("load-time limit on direct response bodies"),
	"RouteConfiguration.cluster_specifier_plugins":               ignored("plugin definitions; a route using one is undecided (RouteAction.cluster_specifier_plugin)"),
	"RouteConfiguration.request_mirror_policies":                 does(policyField),
	"RouteConfiguration.ignore_port_in_host_matching":            does("the port is stripped from the host before virtual host matching"),
	"RouteConfiguration.vhost_header":                            does("the virtual host is matched on this header instead of :authority"),
	"RouteConfiguration.ignore_path_parameters_in_path_matching": does("path parameters (;...) are dropped before path matching"),
	"RouteConfiguration.typed_per_filter_config":                 does(perFilter),
	"RouteConfiguration.metadata":                                ignored("metadata for filters and logs"),
	"RouteConfiguration.route_specifiers":                        undecided(specifiers),

	"VirtualHost.name":                              does("reported as Result.VirtualHost"),
	"VirtualHost.domains":                           does("virtual host selection by domain"),
	"VirtualHost.routes":                            does("first matching route"),
	"VirtualHost.matcher":                           undecided("routes chosen by the xDS matcher API"),
	"VirtualHost.require_tls":                       does("a request whose x-forwarded-proto is not https is redirected to https (301)"),
	"VirtualHost.virtual_clusters":                  does("the matched virtual cluster is reported in Result.Policy"),
	"VirtualHost.rate_limits":                       ignored(liveState),
	"VirtualHost.request_headers_to_add":            does(headerEdits),
	"VirtualHost.request_headers_to_remove":         does(headerEdits),
	"VirtualHost.response_headers_to_add":           does(headerEdits),
	"VirtualHost.response_headers_to_remove":        does(headerEdits),
	"VirtualHost.cors":                              does("CORS: a preflight request is undecided, others pass"),
	"VirtualHost.typed_per_filter_config":           does(perFilter),
	"VirtualHost.include_request_attempt_count":     ignored("adds x-envoy-attempt-count to the upstream request: observability"),
	"VirtualHost.include_attempt_count_in_response": ignored("adds x-envoy-attempt-count to the response: observability"),
	"VirtualHost.retry_policy":                      does(policyField),
	"VirtualHost.retry_policy_typed_config":         does(policyField),
	"VirtualHost.hedge_policy":                      ignored(hedging),
	"VirtualHost.include_is_timeout_retry_header":   ignored("adds x-envoy-is-timeout-retry to retries: observability"),
	"VirtualHost.per_request_buffer_limit_bytes":    ignored(bufferLimit),
	"VirtualHost.request_body_buffer_limit":         ignored(bufferLimit),
	"VirtualHost.request_mirror_policies":           does(policyField),
	"VirtualHost.metadata":                          ignored("metadata for filters and logs"),
	"VirtualHost.route_specifiers":                  undecided(specifiers),

	"Route.name":                           does("reported as Result.Route and in Result.Policy"),
	"Route.match":                          does("route matching"),
	"Route.route":                          does("forward to clusters"),
	"Route.redirect":                       does("redirect, Location as Envoy writes it"),
	"Route.direct_response":                does("direct response"),
	"Route.filter_action":                  undecided("the route hands the request to a filter"),
	"Route.non_forwarding_action":          undecided("the route neither forwards nor answers: a filter decides"),
	"Route.metadata":                       does(policyField),
	"Route.decorator":                      ignored(tracingOnly),
	"Route.typed_per_filter_config":        does(perFilter),
	"Route.request_headers_to_add":         does(headerEdits),
	"Route.request_headers_to_remove":      does(headerEdits),
	"Route.response_headers_to_add":        does(headerEdits),
	"Route.response_headers_to_remove":     does(headerEdits),
	"Route.tracing":                        ignored(tracingOnly),
	"Route.per_request_buffer_limit_bytes": ignored(bufferLimit),
	"Route.stat_prefix":                    ignored(statsOnly),
	"Route.request_body_buffer_limit":      ignored(bufferLimit),
	"Route.route_specifiers":               undecided(specifiers),

	"RouteMatch.prefix":                does("path prefix"),
	"RouteMatch.path":                  does("exact path"),
	"RouteMatch.safe_regex":            does("whole-path RE2 regex"),
	"RouteMatch.connect_matcher":       does("CONNECT requests"),
	"RouteMatch.path_separated_prefix": does("prefix ending at a path segment"),
	"RouteMatch.path_match_policy":     does("Envoy's URI template matcher; another matcher is undecided"),
	"RouteMatch.case_sensitive":        does("case-insensitive prefix and path"),
	"RouteMatch.runtime_fraction":      does("100% matches; a smaller share is undecided"),
	"RouteMatch.headers":               does("header matchers"),
	"RouteMatch.query_parameters":      does("query parameter matchers"),
	"RouteMatch.cookies":               undecided("cookie matchers"),
	"RouteMatch.grpc":                  does("gRPC content-type"),
	"RouteMatch.tls_context":           undecided("the client certificate's presence and validation"),
	"RouteMatch.dynamic_metadata":      undecided("dynamic metadata set by filters"),
	"RouteMatch.filter_state":          undecided("filter state set by filters"),

	"RouteAction.cluster":                                      does("single cluster"),
	"RouteAction.cluster_header":                               does("cluster named by a request header"),
	"RouteAction.weighted_clusters":                            does("weighted clusters"),
	"RouteAction.cluster_specifier_plugin":                     undecided("a cluster specifier plugin picks the cluster"),
	"RouteAction.inline_cluster_specifier_plugin":              undecided("a cluster specifier plugin picks the cluster"),
	"RouteAction.cluster_not_found_response_code":              does("the status Envoy answers when the cluster is missing"),
	"RouteAction.metadata_match":                               undecided(subsets),
	"RouteAction.prefix_rewrite":                               does("upstream path"),
	"RouteAction.regex_rewrite":                                does("upstream path"),
	"RouteAction.path_rewrite_policy":                          does("Envoy's URI template rewrite; another rewriter is undecided"),
	"RouteAction.path_rewrite":                                 does(formatter),
	"RouteAction.host_rewrite_literal":                         does("upstream host"),
	"RouteAction.auto_host_rewrite":                            does("upstream host from the endpoint's hostname; undecided when endpoints differ"),
	"RouteAction.host_rewrite_header":                          does("upstream host from a request header"),
	"RouteAction.host_rewrite_path_regex":                      does("upstream host from the path"),
	"RouteAction.host_rewrite":                                 does(formatter),
	"RouteAction.append_x_forwarded_host":                      ignored("adds x-forwarded-host when the host is rewritten: the upstream's :authority is reported"),
	"RouteAction.timeout":                                      does(policyField),
	"RouteAction.idle_timeout":                                 does(policyField),
	"RouteAction.flush_timeout":                                ignored("timeout for flushing a response to a slow client"),
	"RouteAction.early_data_policy":                            ignored("TLS 0-RTT early data only"),
	"RouteAction.retry_policy":                                 does(policyField),
	"RouteAction.retry_policy_typed_config":                    does(policyField),
	"RouteAction.request_mirror_policies":                      does(policyField),
	"RouteAction.priority":                                     ignored("connection pool priority: circuit-breaker thresholds only"),
	"RouteAction.rate_limits":                                  ignored(liveState),
	"RouteAction.include_vh_rate_limits":                       ignored(liveState),
	"RouteAction.hash_policy":                                  does(policyField),
	"RouteAction.cors":                                         does("CORS: a preflight request is undecided, others pass"),
	"RouteAction.max_grpc_timeout":                             does(policyField),
	"RouteAction.grpc_timeout_offset":                          does(policyField),
	"RouteAction.upgrade_configs":                              does("a request with an Upgrade header is undecided; others are unaffected"),
	"RouteAction.internal_redirect_policy":                     ignored(upstreamRsp),
	"RouteAction.internal_redirect_action":                     ignored(upstreamRsp),
	"RouteAction.max_internal_redirects":                       ignored(upstreamRsp),
	"RouteAction.hedge_policy":                                 ignored(hedging),
	"RouteAction.max_stream_duration":                          does(policyField),
	"RedirectAction.https_redirect":                            does("Location scheme"),
	"RedirectAction.scheme_redirect":                           does("Location scheme"),
	"RedirectAction.host_redirect":                             does("Location host"),
	"RedirectAction.port_redirect":                             does("Location port"),
	"RedirectAction.path_redirect":                             does("Location path"),
	"RedirectAction.prefix_rewrite":                            does("Location path"),
	"RedirectAction.regex_rewrite":                             does("Location path"),
	"RedirectAction.path_rewrite":                              does(formatter),
	"RedirectAction.response_code":                             does("redirect status"),
	"RedirectAction.strip_query":                               does("Location query"),
	"WeightedCluster.clusters":                                 does("weighted clusters"),
	"WeightedCluster.total_weight":                             ignored("load-time check of the weights' sum; the weights are reported"),
	"WeightedCluster.runtime_key_prefix":                       does("the configured weights are reported; runtime keys <prefix>.<cluster> could override them, and runtime is not in a config dump (as for a runtime_fraction's default)"),
	"WeightedCluster.header_name":                              ignored("which share a request falls into (hash of a header); the clusters and weights reported are unchanged"),
	"WeightedCluster.use_hash_policy":                          ignored("which share a request falls into (hash policy); the clusters and weights reported are unchanged"),
	"WeightedCluster.ClusterWeight.name":                       does("cluster"),
	"WeightedCluster.ClusterWeight.cluster_header":             undecided("a weighted cluster named by a request header"),
	"WeightedCluster.ClusterWeight.weight":                     does("weight"),
	"WeightedCluster.ClusterWeight.metadata_match":             undecided(subsets),
	"WeightedCluster.ClusterWeight.request_headers_to_add":     does(headerEdits),
	"WeightedCluster.ClusterWeight.request_headers_to_remove":  does(headerEdits),
	"WeightedCluster.ClusterWeight.response_headers_to_add":    does(headerEdits),
	"WeightedCluster.ClusterWeight.response_headers_to_remove": does(headerEdits),
	"WeightedCluster.ClusterWeight.typed_per_filter_config":    does(perFilter),
	"WeightedCluster.ClusterWeight.host_rewrite_literal":       does("upstream host; undecided when the clusters' hosts differ"),

	"HeaderMatcher.name":                          does("header name, pseudo-headers from the request"),
	"HeaderMatcher.exact_match":                   does("exact"),
	"HeaderMatcher.safe_regex_match":              does("RE2 regex"),
	"HeaderMatcher.range_match":                   does("integer range"),
	"HeaderMatcher.present_match":                 does("presence"),
	"HeaderMatcher.prefix_match":                  does("prefix"),
	"HeaderMatcher.suffix_match":                  does("suffix"),
	"HeaderMatcher.contains_match":                does("contains"),
	"HeaderMatcher.string_match":                  does("string matcher"),
	"HeaderMatcher.invert_match":                  does("inversion"),
	"HeaderMatcher.treat_missing_header_as_empty": does("missing header as empty"),
	"QueryParameterMatcher.name":                  does("parameter name"),
	"QueryParameterMatcher.string_match":          does("string matcher on the first value"),
	"QueryParameterMatcher.present_match":         does("presence"),
}

// fieldKey is a field's key in fieldRules.
func fieldKey(fd protoreflect.FieldDescriptor) string {
	return strings.TrimPrefix(string(fd.ContainingMessage().FullName()), routeProtoPrefix) + "." + string(fd.Name())
}

// audit names as unsupported every field set in msg that is undecidable or
// not in fieldRules at all, so that no field is silently ignored. where
// locates msg for the message ("route reviews (routes[0])"). It reports
// whether msg passed.
func (t *tracer) audit(stage, where string, msg proto.Message) bool {
	var bad []string
	msg.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		r, ok := fieldRules[fieldKey(fd)]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s sets %s, a field meshcheck does not know", where, fd.FullName()))
		case r.kind == undecidable:
			bad = append(bad, fmt.Sprintf("%s sets %s (%s)", where, fd.FullName(), r.why))
		}
		return true
	})
	for _, b := range bad {
		t.res.unsupported(stage, "%s", b)
	}
	return len(bad) == 0
}
