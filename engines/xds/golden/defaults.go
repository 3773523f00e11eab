package golden

import (
	"time"

	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// fieldDefault is one decision on a field with presence (a wrapper, a
// Duration, a Percent): what Envoy reads when the field is unset.
type fieldDefault struct {
	// Field is the field's full proto name.
	Field protoreflect.FullName
	// Unset is the value Envoy documents it uses when the field is unset: a
	// field set to exactly this value is dropped on normalization, so it
	// equals an unset one. Nil: Envoy reads unset differently from every
	// value it can hold (a runtime key, the context, "not modified"), and set
	// stays different from unset.
	Unset proto.Message
	// Doc paraphrases Envoy's proto documentation (go-control-plane v1.40).
	Doc string
}

// Full names of the messages the rows are about.
const (
	hcm     = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager."
	cluster = "envoy.config.cluster.v3.Cluster."
	thresh  = "envoy.config.cluster.v3.CircuitBreakers.Thresholds."
	outlier = "envoy.config.cluster.v3.OutlierDetection."
	lis     = "envoy.config.listener.v3.Listener."
	route   = "envoy.config.route.v3."
	tcp     = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy."
)

func u32(v uint32) proto.Message        { return wrapperspb.UInt32(v) }
func boolean(v bool) proto.Message      { return wrapperspb.Bool(v) }
func dur(d time.Duration) proto.Message { return durationpb.New(d) }
func percent(v float64) proto.Message   { return &typev3.Percent{Value: v} }

// defaults is the one table of unset-versus-set decisions. A field with
// presence that is not here keeps set and unset apart: a possible change is
// shown, never hidden. Proto3 scalars (no presence) need no row: Envoy reads
// unset as zero, and both normalize to absent.
var defaults = []fieldDefault{
	// HTTP connection manager.
	{hcm + "use_remote_address", boolean(false), "false or absent: the XFF header decides internal/external origin"},
	{hcm + "generate_request_id", boolean(true), "generates x-request-id when missing; defaults to true"},
	{hcm + "stream_idle_timeout", dur(5 * time.Minute), "if not specified, 5 minutes; 0 disables it"},
	{hcm + "request_timeout", dur(0), "if not specified or 0, disabled"},
	{hcm + "request_headers_timeout", dur(0), "if not specified or 0, disabled"},
	{hcm + "drain_timeout", dur(5 * time.Second), "default grace period 5000 ms when not specified"},
	{hcm + "delayed_close_timeout", dur(time.Second), "default 1000 ms when not specified; 0 disables delayed close"},
	{hcm + "SetCurrentClientCertDetails.subject", boolean(false), "whether to forward the cert subject; defaults to false"},
	{hcm + "Tracing.client_sampling", percent(100), "Default: 100%"},
	{hcm + "Tracing.random_sampling", percent(100), "Default: 100% (an empty Percent is 0%, no random sampling)"},
	{hcm + "Tracing.overall_sampling", percent(100), "Default: 100%"},
	{hcm + "normalize_path", nil, "when not specified, the runtime key http_connection_manager.normalize_path decides"},
	{hcm + "max_request_headers_kb", nil, "unset is 60 KiB, but a runtime key can change that default, not a set value"},
	{"envoy.config.core.v3.HttpProtocolOptions.idle_timeout", dur(time.Hour), "if not specified, 1 hour; 0 disables (downstream and upstream)"},
	{"envoy.config.core.v3.HttpProtocolOptions.max_headers_count", nil, "unset is 100, but runtime keys can change that default, not a set value"},
	{"envoy.config.core.v3.HttpProtocolOptions.max_connection_duration", nil, "if not set, no max duration; 0 is not documented as the same"},
	{"envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.pack_trace_reason", boolean(true), "defaults to true"},
	{"envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.use_request_id_for_trace_sampling", boolean(true), "defaults to true"},
	{"envoy.config.core.v3.ConfigSource.initial_fetch_timeout", dur(15 * time.Second), "the default is 15s; 0 disables it"},
	{"envoy.extensions.filters.http.grpc_stats.v3.FilterConfig.stats_for_all_methods", boolean(false),
		"if neither it nor individual_method_stats_allowlist (its oneof) is set, the behaviour is stats_for_all_methods=false"},
	{"envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.require_client_certificate", nil, "the documentation names no default"},
	{"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.initial_read_buffer_size", nil,
		"if not defined, the inspector reads up to its 16KiB maximum: no initial size is documented"},
	// Cluster, circuit breakers, outlier detection, endpoints.
	{cluster + "connect_timeout", dur(5 * time.Second), "if not set, 5s"},
	{cluster + "per_connection_buffer_limit_bytes", u32(1 << 20), "if unspecified, an implementation default of 1MiB"},
	{cluster + "cleanup_interval", dur(5 * time.Second), "if not specified, 5000ms"},
	{cluster + "dns_refresh_rate", dur(5 * time.Second), "if not specified, 5000ms"},
	{cluster + "CommonLbConfig.healthy_panic_threshold", percent(50), "if not specified, 50%; 0% (an empty Percent) disables panic mode"},
	{thresh + "max_connections", u32(1024), "if not specified, 1024"},
	{thresh + "max_pending_requests", u32(1024), "if not specified, 1024"},
	{thresh + "max_requests", u32(1024), "if not specified, 1024"},
	{thresh + "max_retries", u32(3), "if not specified, 3"},
	{outlier + "consecutive_5xx", u32(5), "defaults to 5"},
	{outlier + "interval", dur(10 * time.Second), "defaults to 10000ms"},
	{outlier + "base_ejection_time", dur(30 * time.Second), "defaults to 30000ms"},
	{outlier + "max_ejection_percent", u32(10), "defaults to 10%"},
	{outlier + "enforcing_consecutive_5xx", u32(100), "defaults to 100"},
	{outlier + "enforcing_success_rate", u32(100), "defaults to 100"},
	{outlier + "success_rate_minimum_hosts", u32(5), "defaults to 5"},
	{outlier + "success_rate_request_volume", u32(100), "defaults to 100"},
	{outlier + "success_rate_stdev_factor", u32(1900), "defaults to 1900"},
	{outlier + "consecutive_gateway_failure", u32(5), "defaults to 5"},
	{outlier + "enforcing_consecutive_gateway_failure", u32(0), "defaults to 0"},
	{outlier + "consecutive_local_origin_failure", u32(5), "defaults to 5"},
	{outlier + "enforcing_consecutive_local_origin_failure", u32(100), "defaults to 100"},
	{outlier + "enforcing_local_origin_success_rate", u32(100), "defaults to 100"},
	{outlier + "failure_percentage_threshold", u32(85), "defaults to 85"},
	{outlier + "enforcing_failure_percentage", u32(0), "defaults to 0"},
	{outlier + "enforcing_failure_percentage_local_origin", u32(0), "defaults to 0"},
	{outlier + "failure_percentage_minimum_hosts", u32(5), "defaults to 5"},
	{outlier + "failure_percentage_request_volume", u32(50), "defaults to 50"},
	{outlier + "max_ejection_time", nil, "if not specified, 300s or base_ejection_time, whichever is larger: depends on another field"},
	{"envoy.config.endpoint.v3.LbEndpoint.load_balancing_weight", u32(1), "if unspecified, treated as 1"},
	{"envoy.config.endpoint.v3.LocalityLbEndpoints.load_balancing_weight", u32(0), "at least 1 when configured; with locality weighted balancing a locality " +
		"without a weight gets no load (a share of 0), otherwise weights are ignored; Envoy's own EDS dump prints an unweighted locality as 0"},
	{"envoy.config.endpoint.v3.ClusterLoadAssignment.Policy.overprovisioning_factor", u32(140), "the default value 140 (1.4)"},
	// Listener.
	{lis + "bind_to_port", boolean(true), "default is true"},
	{lis + "use_original_dst", boolean(false), "defaults to false"},
	{lis + "per_connection_buffer_limit_bytes", u32(1 << 20), "if unspecified, an implementation default of 1MiB"},
	{lis + "listener_filters_timeout", dur(15 * time.Second), "if not specified, 15s; 0 disables it"},
	{lis + "transparent", nil, "when not set the socket option is not modified; false clears it"},
	{lis + "freebind", nil, "when not set the socket option is not modified; false clears it"},
	{lis + "max_connections_to_accept_per_socket_event", nil, "if no value is given, Envoy accepts every pending connection"},
	{"envoy.config.listener.v3.FilterChain.transport_socket_connect_timeout", dur(0), "only present and nonzero sets a timeout"},
	{"envoy.config.listener.v3.FilterChainMatch.destination_port", nil, "a match criterion: unset matches every port"},
	// Routes.
	{route + "RouteAction.timeout", dur(15 * time.Second), "if not specified, 15s; 0 disables it"},
	{route + "RouteAction.idle_timeout", nil, "if not specified, no per-route idle timeout; 0 disables the HCM's one for the route"},
	{route + "RouteAction.max_grpc_timeout", nil, "if not configured, grpc-timeout is ignored; 0 means infinity"},
	{route + "RouteAction.MaxStreamDuration.max_stream_duration", nil, "if not specified, the HCM's applies; 0 disables it for the route"},
	{route + "RouteAction.MaxStreamDuration.grpc_timeout_header_max", nil, "if present, grpc-timeout is used (0: unlimited); if absent, it is not"},
	{route + "RetryPolicy.num_retries", u32(1), "defaults to 1"},
	{route + "WeightedCluster.ClusterWeight.weight", nil, "relative to the other clusters' weights; no default is documented"},
	{route + "RouteMatch.case_sensitive", boolean(true), "the default is true"},
	{route + "RouteConfiguration.max_direct_response_body_size_bytes", u32(4096), "if not specified, 4KB"},
	{route + "RouteConfiguration.validate_clusters", nil, "defaults to true for an inline route table, false for one from RDS: depends on where it sits"},
	// TCP proxy.
	{tcp + "idle_timeout", dur(time.Hour), "if not set, 1 hour; 0s disables it"},
	{tcp + "max_connect_attempts", u32(1), "if not specified, 1 connection attempt"},
}

// unsetAs indexes the rows that have a documented default.
var unsetAs = func() map[protoreflect.FullName]proto.Message {
	out := make(map[protoreflect.FullName]proto.Message, len(defaults))
	for _, d := range defaults {
		if d.Unset != nil {
			out[d.Field] = d.Unset
		}
	}
	return out
}()

// dropUnset deletes, in the JSON value v of the proto type sc and below it
// (Any payloads included, by their "@type"), each field whose value is the
// one Envoy documents for it unset.
func dropUnset(v any, sc schema) {
	switch t := v.(type) {
	case map[string]any:
		sc = sc.of(t)
		for k, x := range t {
			if def := sc.unsetValue(k); def != nil && string(raw(x)) == string(def) {
				delete(t, k)
				continue
			}
			dropUnset(x, sc.child(k))
		}
	case []any:
		for _, x := range t {
			dropUnset(x, sc)
		}
	}
}
