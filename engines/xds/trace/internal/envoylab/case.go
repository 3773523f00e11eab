package envoylab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// Case is one case file: a route configuration, the clusters it needs, and
// the requests sent through it.
type Case struct {
	// Name and Description say what the case covers.
	Name        string `json:"name"`
	Description string `json:"description"`
	// RouteConfig is an Envoy RouteConfiguration (proto field names), held
	// inline by the listener's HTTP connection manager.
	RouteConfig map[string]any `json:"route_config"`
	// RouteConfigFrom takes the route configuration from a config dump
	// instead (a dump Istio's pilot generated).
	RouteConfigFrom *DumpRef `json:"route_config_from"`
	// HCM holds extra HttpConnectionManager fields (strip_any_host_port, ...).
	HCM map[string]any `json:"hcm"`
	// TLS makes the listener terminate TLS (a throwaway self-signed
	// certificate, no ALPN): every request is then HTTPS over HTTP/1.1.
	TLS bool `json:"tls"`
	// Clusters describes clusters that are not plain echo servers. Every
	// cluster the routes name is an echo server unless listed here.
	Clusters []ClusterSpec `json:"clusters"`
	// Requests are sent to Envoy and traced, in order.
	Requests []Request `json:"requests"`

	// File is where the case was read from.
	File string `json:"-"`
}

// DumpRef names a route configuration in a config dump file, relative to
// the case file.
type DumpRef struct {
	Dump  string `json:"dump"`
	Route string `json:"route"`
}

// ClusterSpec is a cluster the case shapes itself.
type ClusterSpec struct {
	Name string `json:"name"`
	// Kind is "echo" (default: a STATIC cluster on an echo server), "dns"
	// (STRICT_DNS on localhost, then the echo server), "empty" (no
	// endpoints: 503 no healthy upstream) or "missing" (not defined at all:
	// 503 cluster not found; the route configuration then has
	// validate_clusters false).
	Kind string `json:"kind"`
	// Hostname is the endpoint's hostname (auto_host_rewrite uses it).
	Hostname string `json:"hostname"`
	// Health is the endpoint's health_status (HEALTHY, UNHEALTHY, DRAINING,
	// DEGRADED, TIMEOUT, UNKNOWN); unset means none.
	Health string `json:"health"`
	// PanicThreshold, when set, is the cluster's
	// common_lb_config.healthy_panic_threshold (percent; 0 turns panic
	// routing off, as Istio does where it sends unhealthy endpoints).
	PanicThreshold *float64 `json:"panic_threshold"`
}

// Cluster kinds.
const (
	KindEcho    = "echo"
	KindDNS     = "dns"
	KindEmpty   = "empty"
	KindMissing = "missing"
)

// Request is one request of a case.
type Request struct {
	Method string `json:"method"`
	// Host is the Host header; "${port}" stands for the listener's port.
	Host string `json:"host"`
	// Path is sent as is, query string included.
	Path string `json:"path"`
	// Headers are sent as they are; x-forwarded-proto: https stands for a
	// request that reached a TLS front (the listener is plaintext; Envoy
	// trusts the header without use_remote_address).
	Headers map[string]string `json:"headers"`
	// Want, when set, is what Envoy must answer, in Outcome's words
	// ("cluster a", "redirect 301 https://x/", "404", ...): it guards the
	// lab, so a case tests what it says.
	Want string `json:"want"`
	// Gap, when set, names a known disagreement of the tracer with Envoy:
	// the test reports it instead of failing, and fails once the tracer
	// agrees (so the note is removed).
	Gap string `json:"gap"`
}

// Load reads a case file.
func Load(path string) (*Case, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read case: %w", err)
	}
	var c Case
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.File = path
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.RouteConfigFrom != nil {
		rc, err := routeFromDump(filepath.Join(filepath.Dir(path), c.RouteConfigFrom.Dump), c.RouteConfigFrom.Route)
		if err != nil {
			return nil, fmt.Errorf("%s: route_config_from: %w", path, err)
		}
		c.RouteConfig = rc
	}
	return &c, nil
}

func (c *Case) validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("name: missing")
	case (c.RouteConfig == nil) == (c.RouteConfigFrom == nil):
		return fmt.Errorf("route_config: give exactly one of route_config and route_config_from")
	case len(c.Requests) == 0:
		return fmt.Errorf("requests: none")
	}
	for i, cs := range c.Clusters {
		switch cs.Kind {
		case "", KindEcho, KindDNS, KindEmpty, KindMissing:
		default:
			return fmt.Errorf("clusters[%d].kind: %q is not echo, dns, empty or missing", i, cs.Kind)
		}
		if cs.Name == "" {
			return fmt.Errorf("clusters[%d].name: missing", i)
		}
	}
	for i, r := range c.Requests {
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			return fmt.Errorf("requests[%d].path: %q does not start with /", i, r.Path)
		}
	}
	return nil
}

// routeFromDump reads a route configuration out of a config dump, as JSON
// with proto field names.
func routeFromDump(path, name string) (map[string]any, error) {
	d, err := xds.ParseFile(path, xds.Options{})
	if err != nil {
		return nil, fmt.Errorf("parse dump: %w", err)
	}
	rc, ok := d.RouteConfig(name)
	if !ok {
		return nil, fmt.Errorf("route config %q not in %s; %s", name, path, xds.HaveList(xds.Closest(name, d.RouteConfigNames(), 5)))
	}
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(rc.Config)
	if err != nil {
		return nil, fmt.Errorf("route config %q: %w", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("route config %q: %w", name, err)
	}
	return m, nil
}

// clusterSpecs returns every cluster the case needs: those its routes name
// (echo servers unless Clusters says otherwise) and those Clusters lists,
// sorted by name.
func (c *Case) clusterSpecs() []ClusterSpec {
	byName := map[string]ClusterSpec{}
	for _, n := range referencedClusters(c.RouteConfig) {
		byName[n] = ClusterSpec{Name: n, Kind: KindEcho}
	}
	for _, cs := range c.Clusters {
		if cs.Kind == "" {
			cs.Kind = KindEcho
		}
		byName[cs.Name] = cs
	}
	out := make([]ClusterSpec, 0, len(byName))
	for _, cs := range byName {
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// referencedClusters walks generic JSON for the cluster names routes use:
// every "cluster" string (route actions, mirror policies) and the names of
// weighted_clusters' clusters.
func referencedClusters(v any) []string {
	var out []string
	var walk func(v any, parent string)
	walk = func(v any, parent string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (k == "cluster" || (k == "name" && parent == "clusters")) {
					out = append(out, s)
				}
				walk(e, k)
			}
		case []any:
			for _, e := range x {
				walk(e, parent)
			}
		}
	}
	walk(v, "")
	return out
}
