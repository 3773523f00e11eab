// Package backend is the one interface every suite uses to bring a mesh up
// and act on it, whatever runs it: the embedded mesh (Istio's pilot
// in-process, real Envoys in network namespaces), a kind cluster, or any
// Kubernetes cluster a kubeconfig reaches (kube), with Istio installed by
// istioctl or already there. Every wait takes its deadline from
// timeouts.Timeouts.
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
	"sort"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Backend brings up a mesh, applies fixtures and reports what the mesh holds.
type Backend interface {
	// Name says which backend this is ("embedded", "kind", "kube").
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
	// Namespace is the namespace a fixture's namespace (as the fixture
	// and expect.yaml selectors name it) is created as on this backend:
	// <namespace>-<run ID> on a cluster meshcheck does not own (kube),
	// the same elsewhere.
	Namespace(fixture string) string
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
	// Annotations are the pod's (the injector reads its interception
	// settings from them: istio.PodOptions).
	Annotations map[string]string
	IP          string
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

// ProxySync is a proxy's xDS state as the control plane sees it: the one
// sync status of every backend (istiod's /debug/syncz on kind, pilot's own
// connections in the embedded mesh).
type ProxySync struct {
	Proxy string // namespace/name
	// Current is true when the proxy has the control plane's latest config.
	Current bool
	// Types maps a type URL to its sent and ACKed version and NACK text.
	Types map[string]TypeSync
	// Services and Gateways are, where the control plane tells them, the
	// Services it found selecting the proxy and the gateway configs it
	// merged for a gateway (evidence of a gateway's listeners).
	Services []string `json:",omitempty"`
	Gateways []string `json:",omitempty"`
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

// String says whether the proxy is current, how many types are ACKed, and
// for each type that is not, what was sent and ACKed and Envoy's NACK text.
func (s ProxySync) String() string {
	n := 0
	var pending []string
	for url, t := range s.Types {
		if t.Sent == t.Acked && t.Sent != "" && t.LastError == "" {
			n++
			continue
		}
		p := fmt.Sprintf("%s sent=%s acked=%s", url[strings.LastIndexByte(url, '.')+1:], short(t.Sent), short(t.Acked))
		if t.LastError != "" {
			p += " NACK: " + t.LastError
		}
		pending = append(pending, p)
	}
	sort.Strings(pending)
	state := "current"
	if !s.Current {
		state = "behind"
	}
	out := fmt.Sprintf("%s: %s, %d of %d types ACKed", s.Proxy, state, n, len(s.Types))
	if len(pending) > 0 {
		out += " (" + strings.Join(pending, "; ") + ")"
	}
	return out
}

// short is the end of a version or nonce, enough to tell two apart.
func short(v string) string {
	if len(v) > 8 {
		return "..." + v[len(v)-8:]
	}
	return v
}

// NACKError is a proxy's rejection of the config last sent, with Envoy's
// text.
type NACKError struct{ Proxy, TypeURL, Text string }

func (e *NACKError) Error() string {
	return fmt.Sprintf("proxy %s NACKed %s: %s", e.Proxy, e.TypeURL, e.Text)
}

// Unsynced compares the proxies a backend runs (named as syncs name them)
// with the control plane's view: behind lists each proxy that is not
// connected or not synced, with its state. A NACK of any proxy is returned
// at once as a *NACKError: waiting will not mend it.
func Unsynced(proxies []string, syncs []ProxySync) (behind []string, err error) {
	by := map[string]ProxySync{}
	for _, s := range syncs {
		by[s.Proxy] = s
		urls := make([]string, 0, len(s.Types))
		for url := range s.Types {
			urls = append(urls, url)
		}
		sort.Strings(urls)
		for _, url := range urls {
			if t := s.Types[url]; t.LastError != "" {
				return nil, &NACKError{s.Proxy, url, t.LastError}
			}
		}
	}
	for _, p := range proxies {
		s, ok := by[p]
		switch {
		case !ok:
			behind = append(behind, p+" (not connected to the control plane)")
		case !s.Synced():
			behind = append(behind, s.String())
		}
	}
	return behind, nil
}
