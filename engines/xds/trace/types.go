package trace

import (
	"fmt"
	"sort"
	"strings"
)

// Role is where in the mesh the request enters the proxy.
type Role string

// The roles a trace starts from.
const (
	// RoleGateway: a gateway (router) proxy; the listener on the port.
	RoleGateway Role = "gateway"
	// RoleSidecarOutbound: an app's outbound connection, redirected by the
	// pod's rules to virtualOutbound (15001).
	RoleSidecarOutbound Role = "sidecar-outbound"
	// RoleSidecarInbound: a connection to the pod, redirected to
	// virtualInbound (15006).
	RoleSidecarInbound Role = "sidecar-inbound"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleGateway, RoleSidecarOutbound, RoleSidecarInbound:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: want %s, %s or %s", s, RoleGateway, RoleSidecarOutbound, RoleSidecarInbound)
}

// Request is the connection and HTTP request to trace.
type Request struct {
	Role Role
	// Port is the destination port Envoy sees: the listener port for a
	// gateway (8080 behind an istioctl install's Service port 80), the
	// original destination port for a sidecar.
	Port uint32
	// Address is the destination IP: the original destination (a ClusterIP,
	// a pod IP). Empty means any address (0.0.0.0 for matching).
	Address string
	// SourceAddress and SourcePort describe the client, for chains matching
	// on source. Empty means unknown: a chain that matches on source then
	// makes the trace undecided.
	SourceAddress string
	SourcePort    uint32

	// ServerName is the TLS SNI; setting it (or TLS) makes the transport
	// protocol "tls".
	ServerName string
	TLS        bool
	// ALPN is the client's application protocol list. Empty means what
	// Envoy's http_inspector reports for plaintext HTTP/1.1 ("http/1.1"), or
	// for TLS from an Istio sidecar ("istio-http/1.1", "istio", "http/1.1").
	ALPN []string

	// Host is the :authority; Path (default "/") may carry a query string;
	// Method defaults to GET. Scheme is the request's :scheme, "http" or
	// "https"; empty means "https" when the connection is TLS, else "http"
	// (what Envoy's codec sets). It is what :scheme header matchers and a
	// redirect's scheme see. require_tls and a redirect's port rules follow
	// x-forwarded-proto instead, which is the connection's (TLS: https)
	// unless an x-forwarded-proto in Headers is one Envoy trusts (see the
	// package doc); scheme https over a connection that is not TLS makes
	// require_tls undecided.
	Host    string
	Path    string
	Method  string
	Scheme  string
	Headers map[string]string
}

func (r Request) transport() string {
	if r.TLS || r.ServerName != "" {
		return "tls"
	}
	return "raw_buffer"
}

func (r Request) alpn() []string {
	if len(r.ALPN) > 0 {
		return r.ALPN
	}
	if r.transport() == "tls" {
		return []string{"istio-http/1.1", "istio", "http/1.1"}
	}
	return []string{"http/1.1"}
}

func (r Request) method() string {
	if r.Method == "" {
		return "GET"
	}
	return strings.ToUpper(r.Method)
}

func (r Request) path() string {
	if r.Path == "" {
		return "/"
	}
	return r.Path
}

// String describes the request in one line.
func (r Request) String() string {
	dst := r.Address
	if dst == "" {
		dst = "*"
	}
	s := fmt.Sprintf("%s %s:%d", r.Role, dst, r.Port)
	if r.Host != "" || r.Path != "" {
		s += fmt.Sprintf(" %s %s%s", r.method(), r.Host, r.path())
	}
	if r.Scheme != "" {
		s += " scheme=" + r.Scheme
	}
	if len(r.Headers) > 0 {
		keys := make([]string, 0, len(r.Headers))
		for k := range r.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s += fmt.Sprintf(" %s=%s", k, r.Headers[k])
		}
	}
	return s
}

// WeightedCluster is one upstream cluster the route sends to.
type WeightedCluster struct {
	Name   string `json:"name"`
	Weight uint32 `json:"weight"`
	// Missing is true when the cluster is not in the dump's CDS: Envoy
	// answers 503 (NC) for requests sent there.
	Missing bool `json:"missing,omitempty"`
	// NoHealthyUpstream is true when the cluster's endpoints are known and
	// Envoy answers 503 (UH) for requests sent there: none healthy, none
	// degraded, and panic routing off (a cluster below its panic threshold,
	// 50% unless it sets one, sends to every endpoint instead).
	NoHealthyUpstream bool `json:"noHealthyUpstream,omitempty"`
}

// Endpoint is one upstream host of a cluster.
type Endpoint struct {
	Address  string `json:"address"`
	Health   string `json:"health"`
	Locality string `json:"locality,omitempty"`
	Weight   uint32 `json:"weight,omitempty"`
}

// Redirect is a route's redirect action.
type Redirect struct {
	Location     string `json:"location"`
	ResponseCode int    `json:"responseCode"`
}

// DirectResponse is a route's direct_response action.
type DirectResponse struct {
	Status int    `json:"status"`
	Body   string `json:"body,omitempty"`
	// Location is the Location header Envoy adds to a 3xx or 201 direct
	// response: the request's own URL.
	Location string `json:"location,omitempty"`
}

// Step is one decision of the trace, in words.
type Step struct {
	Stage  string `json:"stage"`
	Detail string `json:"detail"`
}

// Result is where the request goes and why.
type Result struct {
	Request string `json:"request"`
	// Listener is where the request is served; HandedOffFrom the listener
	// that received it first (virtualOutbound), when a handoff happened.
	Listener      string `json:"listener"`
	HandedOffFrom string `json:"handedOffFrom,omitempty"`
	FilterChain   string `json:"filterChain"`
	// Protocol is "http" (an HTTP connection manager) or "tcp" (a TCP proxy).
	Protocol    string `json:"protocol,omitempty"`
	RouteConfig string `json:"routeConfig,omitempty"`
	VirtualHost string `json:"virtualHost,omitempty"`
	Route       string `json:"route,omitempty"`

	Clusters       []WeightedCluster     `json:"clusters"`
	Redirect       *Redirect             `json:"redirect,omitempty"`
	DirectResponse *DirectResponse       `json:"directResponse,omitempty"`
	Endpoints      map[string][]Endpoint `json:"endpoints"`
	// UpstreamRequest is what the upstream receives, set when the request
	// is forwarded to a cluster.
	UpstreamRequest *UpstreamRequest `json:"upstreamRequest,omitempty"`
	// Policy is the matched route's policy (timeouts, retries, mirrors,
	// hashing, fault injection, header changes), set when a route matched.
	Policy *RoutePolicy `json:"policy,omitempty"`

	// Unsupported names what the tracer met and cannot decide; the trace
	// stopped there.
	Unsupported []string `json:"unsupported"`
	// NoRoute says why Envoy would find no listener, no filter chain, no
	// virtual host or no route. Empty when one was found.
	NoRoute string `json:"noRoute,omitempty"`
	Steps   []Step `json:"steps"`
}

// Routed reports whether Envoy would serve the request with a route (or a
// TCP proxy): no NoRoute and nothing undecided.
func (r *Result) Routed() bool { return r.NoRoute == "" && len(r.Unsupported) == 0 }

// Undecided reports whether the trace stopped at something unsupported.
func (r *Result) Undecided() bool { return len(r.Unsupported) > 0 }

func (r *Result) step(stage, format string, a ...any) {
	r.Steps = append(r.Steps, Step{Stage: stage, Detail: fmt.Sprintf(format, a...)})
}

func (r *Result) unsupported(stage, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	r.Unsupported = append(r.Unsupported, msg)
	r.step(stage, "UNSUPPORTED: %s", msg)
}

func (r *Result) noRoute(stage, format string, a ...any) {
	r.NoRoute = fmt.Sprintf(format, a...)
	r.step(stage, "NO ROUTE: %s", r.NoRoute)
}

// Text renders the result for people: one line per step, then the outcome.
func (r *Result) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "request   %s\n", r.Request)
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "%-9s %s\n", s.Stage, s.Detail)
	}
	if sum := r.Policy.Summary(); sum != "" && !r.Undecided() {
		fmt.Fprintf(&b, "policy    %s\n", sum)
	}
	switch {
	case r.Undecided():
		fmt.Fprintf(&b, "result    UNDECIDED: %s\n", strings.Join(r.Unsupported, "; "))
	case r.NoRoute != "":
		fmt.Fprintf(&b, "result    NO ROUTE: %s\n", r.NoRoute)
	case r.Redirect != nil:
		fmt.Fprintf(&b, "result    redirect %d to %s\n", r.Redirect.ResponseCode, r.Redirect.Location)
	case r.DirectResponse != nil:
		fmt.Fprintf(&b, "result    direct response %d\n", r.DirectResponse.Status)
	default:
		if u := r.UpstreamRequest; u != nil {
			fmt.Fprintf(&b, "upstream  %s://%s%s\n", u.Scheme, u.Host, u.Path)
		}
		parts := make([]string, 0, len(r.Clusters))
		for _, c := range r.Clusters {
			p := fmt.Sprintf("%s (weight %d, %d endpoints)", c.Name, c.Weight, len(r.Endpoints[c.Name]))
			if _, known := r.Endpoints[c.Name]; !known {
				p = fmt.Sprintf("%s (weight %d, cluster not checked: the dump has no CDS)", c.Name, c.Weight)
			}
			if c.Missing {
				p = c.Name + " (MISSING from CDS: 503 NC)"
			}
			parts = append(parts, p)
		}
		fmt.Fprintf(&b, "result    %s\n", strings.Join(parts, ", "))
	}
	return b.String()
}
