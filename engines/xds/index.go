package xds

import (
	"net"
	"strconv"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// index holds the lookups of a Dump. Where several states of one name exist
// (a warming listener beside its active one), active or static wins.
type index struct {
	listeners map[string]*Listener
	byAddr    map[string][]*Listener // "ip:port" -> listeners bound there
	routes    map[string]*RouteConfig
	clusters  map[string]*Cluster
	endpoints map[string]*Endpoints
	secrets   map[string]*Secret
}

func serving(s State) bool { return s == StateActive || s == StateStatic }

// keep reports whether a resource in state s replaces one in state old.
func keep(old, s State) bool { return !serving(old) && serving(s) }

func (d *Dump) buildIndex() {
	ix := index{
		listeners: make(map[string]*Listener, len(d.Listeners)),
		byAddr:    make(map[string][]*Listener, len(d.Listeners)),
		routes:    make(map[string]*RouteConfig, len(d.Routes)),
		clusters:  make(map[string]*Cluster, len(d.Clusters)),
		endpoints: make(map[string]*Endpoints, len(d.Endpoints)),
		secrets:   make(map[string]*Secret, len(d.Secrets)),
	}
	for _, l := range d.Listeners {
		if l.Config == nil {
			continue
		}
		if old, ok := ix.listeners[l.Name]; !ok || keep(old.State, l.State) {
			ix.listeners[l.Name] = l
		}
		if !serving(l.State) {
			continue
		}
		if a := Addr(l.Config.GetAddress()); a != "" {
			ix.byAddr[a] = append(ix.byAddr[a], l)
		}
		for _, extra := range l.Config.GetAdditionalAddresses() {
			if a := Addr(extra.GetAddress()); a != "" {
				ix.byAddr[a] = append(ix.byAddr[a], l)
			}
		}
	}
	for _, r := range d.Routes {
		if r.Config == nil {
			continue
		}
		if old, ok := ix.routes[r.Name]; !ok || keep(old.State, r.State) {
			ix.routes[r.Name] = r
		}
	}
	for _, c := range d.Clusters {
		if c.Config == nil {
			continue
		}
		if old, ok := ix.clusters[c.Name]; !ok || keep(old.State, c.State) {
			ix.clusters[c.Name] = c
		}
	}
	for _, e := range d.Endpoints {
		if e.Config != nil {
			ix.endpoints[e.Name] = e
		}
	}
	for _, s := range d.Secrets {
		if old, ok := ix.secrets[s.Name]; !ok || keep(old.State, s.State) {
			ix.secrets[s.Name] = s
		}
	}
	d.idx = ix
}

// Listener returns the listener with this name (active or static before
// warming).
func (d *Dump) Listener(name string) (*Listener, bool) {
	l, ok := d.idx.listeners[name]
	return l, ok
}

// ListenerAt returns the serving listener bound exactly to ip:port, else the
// wildcard listener on the port (0.0.0.0 or ::), as Envoy hands off a
// connection redirected with use_original_dst.
func (d *Dump) ListenerAt(ip string, port uint32) (*Listener, bool) {
	p := strconv.FormatUint(uint64(port), 10)
	if ls := d.idx.byAddr[net.JoinHostPort(ip, p)]; len(ls) > 0 {
		return ls[0], true
	}
	wild := "0.0.0.0"
	if parsed := net.ParseIP(ip); parsed != nil && parsed.To4() == nil {
		wild = "::"
	}
	if ls := d.idx.byAddr[net.JoinHostPort(wild, p)]; len(ls) > 0 {
		return ls[0], true
	}
	return nil, false
}

// RouteConfig returns the route configuration with this name.
func (d *Dump) RouteConfig(name string) (*RouteConfig, bool) {
	return lookup(d, kindRoute, d.idx.routes, name)
}

// Cluster returns the cluster with this name.
func (d *Dump) Cluster(name string) (*Cluster, bool) {
	return lookup(d, kindCluster, d.idx.clusters, name)
}

// EndpointsFor returns the load assignment Envoy holds for a cluster: under
// its EDS service_name when it has one, else under its name, else the
// cluster's own load_assignment (STATIC, STRICT_DNS). ok is false when there
// is none.
func (d *Dump) EndpointsFor(cluster string) (*Endpoints, bool) {
	key := cluster
	if c, ok := d.Cluster(cluster); ok {
		if sn := c.Config.GetEdsClusterConfig().GetServiceName(); sn != "" {
			key = sn
		}
		if c.Config.GetType() != clusterv3.Cluster_EDS && c.Config.GetLoadAssignment() != nil {
			return &Endpoints{Meta: Meta{Name: cluster, State: c.State, Path: c.Path + ".load_assignment"}, Config: c.Config.GetLoadAssignment()}, true
		}
	}
	return lookup(d, kindEndpoints, d.idx.endpoints, key)
}

// Secret returns the SDS secret with this name.
func (d *Dump) Secret(name string) (*Secret, bool) {
	return lookup(d, kindSecret, d.idx.secrets, name)
}

// ListenerNames, RouteConfigNames, ClusterNames and SecretNames list the
// names the dump holds, sorted (for "closest candidates" in messages).
func (d *Dump) ListenerNames() []string    { return names(d, kindListener, d.idx.listeners) }
func (d *Dump) RouteConfigNames() []string { return names(d, kindRoute, d.idx.routes) }
func (d *Dump) ClusterNames() []string     { return names(d, kindCluster, d.idx.clusters) }
func (d *Dump) SecretNames() []string      { return names(d, kindSecret, d.idx.secrets) }
