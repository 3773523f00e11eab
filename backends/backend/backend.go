// Package backend is the one interface every suite uses to bring a mesh up
// and act on it, whatever runs it: the embedded mesh (Istio's pilot
// in-process, real Envoys in network namespaces) or a kind cluster with an
// Istio release. Every wait takes its deadline from timeouts.Timeouts.
//
// What a backend may lack is explicit: Features lists what it offers (a VM,
// interception rules, access logs, more than one node, random Service VIPs,
// its own evidence), Has and Missing ask, and a method whose feature is
// missing returns an error wrapping ErrUnsupported that names it. Versions
// are asked of the running mesh (EnvoyVersion reads Envoy's build string).
package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Backend brings up a mesh, applies fixtures and reports what the mesh holds.
type Backend interface {
	// Name says which backend this is ("embedded", "kind").
	Name() string
	// Up brings up the control plane and the ingress gateway.
	Up(ctx context.Context) error
	// Down tears everything down; it is safe to call after a failed Up and
	// more than once.
	Down(ctx context.Context) error

	// Apply creates or updates a fixture's objects (a rendered fixture set,
	// base or step); Delete removes them.
	Apply(ctx context.Context, set *fixtures.Set) error
	Delete(ctx context.Context, set *fixtures.Set) error
	// WaitReady waits until every workload runs and every proxy has ACKed
	// the control plane's current config; a NACK fails at once with Envoy's
	// message.
	WaitReady(ctx context.Context) error

	// Proxies lists sidecars and gateways; Workloads every pod and VM.
	Proxies(ctx context.Context) ([]Proxy, error)
	Workloads(ctx context.Context) ([]Workload, error)
	// ConfigDump is a proxy's /config_dump?include_eds.
	ConfigDump(ctx context.Context, p Proxy) ([]byte, error)
	// InterceptionRules are a workload's rules as the kernel holds them
	// (iptables-save output, or nft list ruleset in native nftables mode).
	InterceptionRules(ctx context.Context, w Workload) ([]byte, error)
	// Mark notes the current end of every proxy's access log; AccessLogs
	// returns what a proxy logged since a mark.
	Mark(ctx context.Context) (Mark, error)
	AccessLogs(ctx context.Context, p Proxy, since Mark) ([]byte, error)

	// Ingress is how the host reaches the ingress gateway over HTTP.
	Ingress(ctx context.Context) (traffic.Transport, error)
	// InWorkload sends HTTP from inside a workload to addr (host:port),
	// through its sidecar when it has one.
	InWorkload(ctx context.Context, w Workload, addr string) (traffic.Transport, error)
	// ServiceAddress is the address (ClusterIP:port, or a ServiceEntry's)
	// that in-mesh clients use for a service.
	ServiceAddress(ctx context.Context, namespace, name string, port int) (string, error)

	// Sync is the control plane's view of every proxy: sent and ACKed
	// versions per type, and the NACK text when there is one.
	Sync(ctx context.Context) ([]ProxySync, error)

	// Features lists what this backend offers (see Feature); the methods
	// below return an error wrapping ErrUnsupported, naming the feature,
	// where it lacks one.
	Features() []Feature
	// Versions asks the running mesh which Istio, Envoy and Kubernetes it
	// runs (after Up).
	Versions(ctx context.Context) (Versions, error)
	// StartVM runs a VM outside the mesh (FeatureVM).
	StartVM(ctx context.Context, namespace, name string) (Workload, error)
	// FixtureVars are the variables every fixture gets on this backend
	// (image registries and tags); empty where it needs none.
	FixtureVars() map[string]string
	// CollectEvidence writes the backend's own evidence into dir
	// (FeatureEvidence).
	CollectEvidence(ctx context.Context, dir string) error
	// ServiceVIPs maps each Service VIP to a stable name such as
	// "<vip reviews.default>" (FeatureServiceVIPs).
	ServiceVIPs(ctx context.Context) (map[string]string, error)
}

// ProxyKind is what a proxy does.
type ProxyKind string

// Proxy kinds.
const (
	Sidecar ProxyKind = "sidecar"
	Gateway ProxyKind = "gateway"
)

// Workload is a pod or a VM.
type Workload struct {
	Namespace, Name string
	Labels          map[string]string
	IP              string
	// Ports are the app's container ports.
	Ports []int
	// Proxy is the workload's proxy kind, empty for none (a VM, an unmeshed pod).
	Proxy ProxyKind
	// Node is the cluster node the pod runs on; empty where the backend has
	// no nodes (the embedded mesh) and for VMs.
	Node string
}

func (w Workload) String() string { return w.Namespace + "/" + w.Name }

// Proxy is a workload's proxy.
type Proxy struct {
	Workload
}

// Mark is a point in every proxy's access log.
type Mark struct {
	At      time.Time
	Offsets map[string]int64 // by namespace/name
}

// ProxySync is a proxy's xDS state as the control plane sees it.
type ProxySync struct {
	Proxy string // namespace/name
	// Current is true when the proxy has the control plane's latest config.
	Current bool
	// Types maps a type URL to its sent and ACKed version and NACK text.
	Types map[string]TypeSync
}

// TypeSync is the state of one xDS type.
type TypeSync struct {
	Sent, Acked, LastError string
}

// Synced reports whether every type is ACKed at the version last sent and
// the proxy is current.
func (s ProxySync) Synced() bool {
	if !s.Current || len(s.Types) == 0 {
		return false
	}
	for _, t := range s.Types {
		if t.Sent == "" || t.Sent != t.Acked || t.LastError != "" {
			return false
		}
	}
	return true
}

func (s ProxySync) String() string {
	n := 0
	for _, t := range s.Types {
		if t.Sent == t.Acked {
			n++
		}
	}
	state := "current"
	if !s.Current {
		state = "behind"
	}
	return fmt.Sprintf("%s: %s, %d of %d types ACKed", s.Proxy, state, n, len(s.Types))
}
