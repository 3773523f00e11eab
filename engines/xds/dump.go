package xds

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// State is where a resource stands in Envoy's lifecycle.
type State string

// The states a config dump reports.
const (
	StateStatic   State = "static"   // from the bootstrap
	StateActive   State = "active"   // dynamic and serving
	StateWarming  State = "warming"  // dynamic, waiting for its dependencies
	StateDraining State = "draining" // a listener being replaced
	StateRejected State = "rejected" // only an error_state: Envoy refused it
)

// Meta is what the dump says about a resource besides its config.
type Meta struct {
	// Name of the resource (listener, cluster, route config, secret name;
	// cluster_name for endpoints).
	Name string
	// Version is the xDS version_info Envoy applied, empty for static ones.
	Version     string
	LastUpdated time.Time
	State       State
	// Error is set when Envoy rejected an update of this resource (a NACK).
	Error *UpdateError
	// Path locates the resource in the document, e.g.
	// "configs[1].dynamic_listeners[3]".
	Path string
}

// UpdateError is Envoy's error_state: the last update it refused.
type UpdateError struct {
	Details     string
	Version     string
	LastAttempt time.Time
}

func (e *UpdateError) String() string {
	if e.Version != "" {
		return fmt.Sprintf("version %s rejected: %s", e.Version, e.Details)
	}
	return "rejected: " + e.Details
}

// Listener is one listener of the dump.
type Listener struct {
	Meta
	// Config is nil only for a rejected listener Envoy never accepted.
	Config *listenerv3.Listener
}

// Cluster is one cluster of the dump.
type Cluster struct {
	Meta
	Config *clusterv3.Cluster
}

// DefaultPanicThreshold is Envoy's healthy_panic_threshold (percent) for a
// cluster whose common_lb_config sets none.
const DefaultPanicThreshold = 50.0

// PanicThreshold is the share of healthy endpoints (percent) below which
// Envoy balances over every endpoint, unhealthy ones too; 0 turns panic
// routing off.
func (c *Cluster) PanicThreshold() float64 {
	if p := c.Config.GetCommonLbConfig().GetHealthyPanicThreshold(); p != nil {
		return p.GetValue()
	}
	return DefaultPanicThreshold
}

// RouteConfig is one route configuration (RDS or static) of the dump.
type RouteConfig struct {
	Meta
	Config *routev3.RouteConfiguration
}

// ScopedRoute is one scoped route configuration of the dump.
type ScopedRoute struct {
	Meta
	Config *routev3.ScopedRouteConfiguration
}

// Endpoints is the load assignment Envoy holds for one cluster.
type Endpoints struct {
	Meta
	Config *endpointv3.ClusterLoadAssignment
}

// Secret is one SDS secret of the dump (Envoy redacts key material).
type Secret struct {
	Meta
	Config *tlsv3.Secret
}

// Unknown is a payload whose type the binary cannot resolve. The parse keeps
// going: the payload is kept as JSON and reported here.
type Unknown struct {
	TypeURL string
	// Path locates the Any in the document, e.g.
	// "configs[1].dynamic_listeners[0].active_state.listener.filter_chains[0].filters[0].typed_config".
	Path string
	Raw  json.RawMessage
}

// Shape says what kind of document the dump was read from.
type Shape string

// The document shapes Parse accepts.
const (
	ShapeAdmin             Shape = "admin"              // Envoy's /config_dump or istioctl proxy-config all
	ShapeIstioctlListeners Shape = "istioctl-listeners" // a JSON array of Listener
	ShapeIstioctlRoutes    Shape = "istioctl-routes"    // a JSON array of RouteConfiguration
	ShapeIstioctlClusters  Shape = "istioctl-clusters"  // a JSON array of Cluster
	ShapeIstioctlEndpoints Shape = "istioctl-endpoints" // a JSON array of ClusterStatus or ClusterLoadAssignment
	ShapeIstioctlSecrets   Shape = "istioctl-secrets"   // istioctl proxy-config secret -o json: one SecretsConfigDump
	ShapeIstioctlBootstrap Shape = "istioctl-bootstrap" // istioctl proxy-config bootstrap -o json: one BootstrapConfigDump
	ShapeSection           Shape = "section"            // one element of "configs", with its "@type"
)

// Dump is a parsed config dump with its indexes.
type Dump struct {
	// Source names where the dump came from (a file name), for messages.
	Source    string
	Shape     Shape
	Bootstrap *bootstrapv3.Bootstrap
	// Node is the bootstrap's node, when the dump has a bootstrap.
	Node *corev3.Node

	Listeners    []*Listener
	Clusters     []*Cluster
	Routes       []*RouteConfig
	ScopedRoutes []*ScopedRoute
	Secrets      []*Secret
	Endpoints    []*Endpoints
	// HasEndpoints is true when the dump carries endpoint information
	// (include_eds, or istioctl's endpoint output). Without it, checks on
	// endpoints are not judged. It equals Has(TypeEndpoints).
	HasEndpoints bool

	Unknown []Unknown
	// Warnings are things the parse accepted but a user should know, such as
	// fields the binary's go-control-plane does not know (a newer Envoy).
	Warnings []string

	idx   index
	lazy  *lazyStore
	types map[Type]bool // the sections the document has (see Has)
}

// Addr formats an Envoy socket address as "ip:port" (or a pipe path).
func Addr(a *corev3.Address) string {
	if a == nil {
		return ""
	}
	if p := a.GetPipe(); p != nil {
		return p.GetPath()
	}
	sa := a.GetSocketAddress()
	if sa == nil {
		return ""
	}
	if sa.GetNamedPort() != "" {
		return net.JoinHostPort(sa.GetAddress(), sa.GetNamedPort())
	}
	return net.JoinHostPort(sa.GetAddress(), strconv.FormatUint(uint64(sa.GetPortValue()), 10))
}
