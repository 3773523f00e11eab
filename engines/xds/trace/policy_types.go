package trace

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// UpstreamRequest is what the upstream receives when the request is
// forwarded to a cluster, after every rewrite of the route
// (prefix_rewrite, regex_rewrite, path_rewrite_policy, host_rewrite_*).
type UpstreamRequest struct {
	// Scheme is the request's scheme as Envoy forwards it (the :scheme the
	// route matched on; the cluster's transport socket decides whether the
	// connection to the upstream is TLS, which this does not describe).
	Scheme string `json:"scheme"`
	// Host is the :authority the upstream receives.
	Host string `json:"host"`
	// Path is the :path the upstream receives, query string included.
	Path string `json:"path"`
	// HostRewrite names how Host was computed when it was rewritten
	// ("host_rewrite_literal", "auto_host_rewrite", ...); empty when the
	// client's host is kept. For auto_host_rewrite the host is the
	// endpoint's hostname, which depends on the endpoint the load balancer
	// picks: Host is then the first endpoint's hostname (or address) and
	// HostRewrite says so.
	HostRewrite string `json:"hostRewrite,omitempty"`
}

// RoutePolicy is what the matched route (with its virtual host and route
// configuration) does to the request besides choosing where it goes.
// Durations are strings in Go's format ("15s", "1m30s", "0s").
type RoutePolicy struct {
	// Name and Metadata are the route's.
	Name     string         `json:"name,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	// Timeout is the route's upstream timeout: "15s" (Envoy's default) when
	// the route sets none; "0s" disables it. Empty for a redirect or direct
	// response.
	Timeout string `json:"timeout,omitempty"`
	// IdleTimeout is the route's stream idle timeout, empty when unset
	// (the HTTP connection manager's applies).
	IdleTimeout string `json:"idleTimeout,omitempty"`
	// MaxStreamDuration, MaxGrpcTimeout and GrpcTimeoutOffset are the
	// route's stream-duration limits, empty when unset.
	MaxStreamDuration string `json:"maxStreamDuration,omitempty"`
	MaxGrpcTimeout    string `json:"maxGrpcTimeout,omitempty"`
	GrpcTimeoutOffset string `json:"grpcTimeoutOffset,omitempty"`
	// Retry is the retry policy that applies: the route's, else the virtual
	// host's (Envoy does not merge them). Nil when neither sets one.
	Retry *RetryPolicy `json:"retry,omitempty"`
	// Mirrors are the request mirror (shadow) policies.
	Mirrors []Mirror `json:"mirrors,omitempty"`
	// HashPolicies describe the consistent-hash inputs, in order.
	HashPolicies []HashPolicy `json:"hashPolicies,omitempty"`
	// Fault is the fault injection the route applies (Istio's
	// VirtualService fault: typed_per_filter_config
	// "envoy.filters.http.fault"); nil when none.
	Fault *Fault `json:"fault,omitempty"`
	// RequestHeadersToAdd and ResponseHeadersToAdd are listed in the order
	// Envoy applies them (weighted cluster, route, virtual host, route
	// configuration; reversed when most_specific_header_mutations_wins):
	// with overwrite actions the later one wins.
	RequestHeadersToAdd     []HeaderChange `json:"requestHeadersToAdd,omitempty"`
	RequestHeadersToRemove  []string       `json:"requestHeadersToRemove,omitempty"`
	ResponseHeadersToAdd    []HeaderChange `json:"responseHeadersToAdd,omitempty"`
	ResponseHeadersToRemove []string       `json:"responseHeadersToRemove,omitempty"`
	// VirtualCluster is the name of the virtual host's virtual cluster the
	// request matches (stats only): "other" when the virtual host has
	// virtual clusters and none matches, empty when it has none.
	VirtualCluster string `json:"virtualCluster,omitempty"`
}

// RetryPolicy is a route's or virtual host's retry policy.
type RetryPolicy struct {
	// From is "route" or "virtualHost".
	From                 string   `json:"from"`
	RetryOn              string   `json:"retryOn,omitempty"`
	NumRetries           uint32   `json:"numRetries"`
	PerTryTimeout        string   `json:"perTryTimeout,omitempty"`
	PerTryIdleTimeout    string   `json:"perTryIdleTimeout,omitempty"`
	RetriableStatusCodes []uint32 `json:"retriableStatusCodes,omitempty"`
	RetryHostPredicates  []string `json:"retryHostPredicates,omitempty"`
	RetryPriority        string   `json:"retryPriority,omitempty"`
	// HostSelectionRetryMaxAttempts is how many times a host is reselected.
	HostSelectionRetryMaxAttempts int64  `json:"hostSelectionRetryMaxAttempts,omitempty"`
	BackOffBase                   string `json:"backOffBase,omitempty"`
	BackOffMax                    string `json:"backOffMax,omitempty"`
}

// Mirror is one request mirror policy: a copy of the request is sent to
// Cluster, fire and forget.
type Mirror struct {
	Cluster string `json:"cluster,omitempty"`
	// ClusterHeader is set instead of Cluster when the mirror cluster comes
	// from a request header.
	ClusterHeader string `json:"clusterHeader,omitempty"`
	// Percent is the default share of requests mirrored (100 when unset);
	// RuntimeKey, when set, can override it at runtime.
	Percent    float64 `json:"percent"`
	RuntimeKey string  `json:"runtimeKey,omitempty"`
}

// HashPolicy is one consistent-hash input: Kind is "header", "cookie",
// "connection_properties", "query_parameter" or "filter_state"; Name the
// header, cookie, parameter or key.
type HashPolicy struct {
	Kind     string `json:"kind"`
	Name     string `json:"name,omitempty"`
	Terminal bool   `json:"terminal,omitempty"`
}

// Fault is fault injection on the route.
type Fault struct {
	// DelayPercent of requests wait Delay before being forwarded.
	DelayPercent float64 `json:"delayPercent,omitempty"`
	Delay        string  `json:"delay,omitempty"`
	// AbortPercent of requests are answered with AbortStatus (HTTP) or
	// AbortGrpcStatus instead of being forwarded.
	AbortPercent    float64 `json:"abortPercent,omitempty"`
	AbortStatus     uint32  `json:"abortStatus,omitempty"`
	AbortGrpcStatus uint32  `json:"abortGrpcStatus,omitempty"`
	// HeaderControlled is true when the delay or abort is taken from
	// request headers (x-envoy-fault-*).
	HeaderControlled bool `json:"headerControlled,omitempty"`
	// From is where the config was found: "weightedCluster", "route",
	// "virtualHost" or "routeConfig".
	From string `json:"from"`
}

// HeaderChange is one header a route adds (or sets) on the request or
// response.
type HeaderChange struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Action is Envoy's append action: APPEND_IF_EXISTS_OR_ADD,
	// ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD or OVERWRITE_IF_EXISTS.
	Action string `json:"action"`
	// Level is where it is configured: "weightedCluster", "route",
	// "virtualHost" or "routeConfig".
	Level string `json:"level"`
}

// Field returns one field of the policy by its JSON path, e.g. "timeout",
// "retry.numRetries", "mirrors[0].cluster", "fault.abortPercent": a string
// as it is, anything else as JSON. ok is false when the field is absent
// (unset, or a nil policy). Expectations (xds check) and the Gomega
// matchers compare policies through it.
func (p *RoutePolicy) Field(path string) (value string, ok bool) {
	if p == nil {
		return "", false
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", false
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", false
	}
	for _, seg := range strings.Split(path, ".") {
		name, idx, hasIdx := strings.Cut(strings.TrimSuffix(seg, "]"), "[")
		obj, isObj := v.(map[string]any)
		if !isObj {
			return "", false
		}
		if v, ok = obj[name]; !ok {
			return "", false
		}
		if hasIdx {
			list, isList := v.([]any)
			n, err := strconv.Atoi(idx)
			if !isList || err != nil || n < 0 || n >= len(list) {
				return "", false
			}
			v = list[n]
		}
	}
	if s, isStr := v.(string); isStr {
		return s, true
	}
	b, _ = json.Marshal(v)
	return string(b), true
}

// Summary is the policy in one line for the text output: what differs from
// a plain forward (timeouts, retries, mirrors, hashing, fault, header
// changes, virtual cluster).
func (p *RoutePolicy) Summary() string {
	if p == nil {
		return ""
	}
	var parts []string
	add := func(ok bool, format string, a ...any) {
		if ok {
			parts = append(parts, fmt.Sprintf(format, a...))
		}
	}
	add(p.Timeout != "", "timeout %s", p.Timeout)
	add(p.IdleTimeout != "", "idle timeout %s", p.IdleTimeout)
	if r := p.Retry; r != nil {
		add(true, "%d retries on %s (%s)", r.NumRetries, r.RetryOn, r.From)
	}
	for _, m := range p.Mirrors {
		add(true, "mirror %v%% to %s%s", m.Percent, m.Cluster, m.ClusterHeader)
	}
	for _, h := range p.HashPolicies {
		add(true, "hash on %s %s", h.Kind, h.Name)
	}
	if f := p.Fault; f != nil {
		add(f.DelayPercent > 0, "fault delay %v%% %s", f.DelayPercent, f.Delay)
		add(f.AbortPercent > 0, "fault abort %v%% status %d", f.AbortPercent, f.AbortStatus)
	}
	n := len(p.RequestHeadersToAdd) + len(p.RequestHeadersToRemove) + len(p.ResponseHeadersToAdd) + len(p.ResponseHeadersToRemove)
	add(n > 0, "%d header changes", n)
	add(p.VirtualCluster != "", "virtual cluster %s", p.VirtualCluster)
	return strings.Join(parts, ", ")
}
