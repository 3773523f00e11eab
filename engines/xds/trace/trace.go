package trace

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// Well-known listener names in Istio sidecars.
const (
	VirtualOutbound = "virtualOutbound"
	VirtualInbound  = "virtualInbound"
)

const (
	hcmFilter = "envoy.filters.network.http_connection_manager"
	tcpFilter = "envoy.filters.network.tcp_proxy"
)

// Trace follows req through the dump. It returns an error only for a request
// that cannot be traced at all (no role, no port); a request Envoy would not
// route is a Result with NoRoute set.
func Trace(d *xds.Dump, req Request) (*Result, error) {
	if req.Port == 0 {
		return nil, fmt.Errorf("trace: the request needs a destination port")
	}
	if req.Address != "" {
		if _, err := netip.ParseAddr(req.Address); err != nil {
			return nil, fmt.Errorf("trace: destination address %q is not an IP: %w", req.Address, err)
		}
	}
	if req.SourceAddress != "" {
		if _, err := netip.ParseAddr(req.SourceAddress); err != nil {
			return nil, fmt.Errorf("trace: source address %q is not an IP: %w", req.SourceAddress, err)
		}
	}
	t := newTracer(d, req, req.String())
	if why := d.Lacking(xds.TypeListeners); why != "" {
		t.res.unsupported("listener", "%s: a trace starts at a listener", why)
		return t.res, nil
	}
	l := t.listener()
	if l == nil {
		return t.res, nil
	}
	t.chain(l)
	return t.res, nil
}

// newTracer starts a trace of req through d; request is the result's
// one-line description of the request.
func newTracer(d *xds.Dump, req Request, request string) *tracer {
	return &tracer{d: d, req: req, dropped: map[string]bool{},
		res: &Result{Request: request, Clusters: []WeightedCluster{}, Endpoints: map[string][]Endpoint{}, Unsupported: []string{}}}
}

type tracer struct {
	d   *xds.Dump
	req Request
	res *Result

	// Set by the HTTP connection manager, virtual host and route stages.
	hcm *hcmv3.HttpConnectionManager
	rc  *routev3.RouteConfiguration
	vh  *routev3.VirtualHost
	// connTLS: the filter chain terminates TLS.
	connTLS bool
	// scheme and xfp are the :scheme and x-forwarded-proto Envoy routes
	// with; host and path the :authority and :path (after the connection
	// manager's port stripping and path normalization).
	scheme, xfp, host, path string
	// matched is the part of the path the route's path specifier matched,
	// which a prefix_rewrite replaces.
	matched string
	// dropped are the client's headers the connection manager removed.
	dropped map[string]bool
}

func (t *tracer) dstIP() string {
	if t.req.Address == "" {
		return "0.0.0.0"
	}
	return t.req.Address
}

// listener finds the listener that serves the connection.
func (t *tracer) listener() *listenerv3.Listener {
	switch t.req.Role {
	case RoleSidecarOutbound:
		vo, ok := t.d.Listener(VirtualOutbound)
		if !ok {
			t.res.noRoute("listener", "no %s listener (a sidecar's outbound traffic enters there); %s",
				VirtualOutbound, xds.HaveList(xds.Closest(VirtualOutbound, t.d.ListenerNames(), 5)))
			return nil
		}
		return t.handoff(vo)
	case RoleSidecarInbound:
		vi, ok := t.d.Listener(VirtualInbound)
		if !ok {
			t.res.noRoute("listener", "no %s listener (a sidecar's inbound traffic enters there); %s",
				VirtualInbound, xds.HaveList(xds.Closest(VirtualInbound, t.d.ListenerNames(), 5)))
			return nil
		}
		return t.handoff(vi)
	case RoleGateway, "":
		l, ok := t.d.ListenerAt(t.dstIP(), t.req.Port)
		if !ok {
			ports := []string{}
			for _, x := range t.d.Listeners {
				if x.Config != nil {
					ports = append(ports, fmt.Sprintf("%s (%s)", x.Name, xds.Addr(x.Config.GetAddress())))
				}
			}
			t.res.noRoute("listener", "no listener on %s; %s", net.JoinHostPort(t.dstIP(), fmt.Sprint(t.req.Port)),
				xds.HaveList(xds.Closest(fmt.Sprintf("0.0.0.0_%d", t.req.Port), ports, 5)))
			return nil
		}
		t.res.Listener = l.Name
		t.res.step("listener", "%s (%s) serves port %d", l.Name, xds.Addr(l.Config.GetAddress()), t.req.Port)
		return l.Config
	default:
		t.res.unsupported("listener", "role %q", t.req.Role)
		return nil
	}
}

// handoff applies use_original_dst: the listener bound to the original
// destination serves the connection if there is one.
func (t *tracer) handoff(l *xds.Listener) *listenerv3.Listener {
	t.res.Listener = l.Name
	if !l.Config.GetUseOriginalDst().GetValue() {
		t.res.step("listener", "%s (%s) receives the connection", l.Name, xds.Addr(l.Config.GetAddress()))
		return l.Config
	}
	target, ok := t.d.ListenerAt(t.dstIP(), t.req.Port)
	if !ok || target.Name == l.Name {
		t.res.step("listener", "%s (%s): use_original_dst finds no listener for %s, so its own filter chains serve it",
			l.Name, xds.Addr(l.Config.GetAddress()), net.JoinHostPort(t.dstIP(), fmt.Sprint(t.req.Port)))
		return l.Config
	}
	t.res.HandedOffFrom = l.Name
	t.res.Listener = target.Name
	how := "exact address"
	if xds.Addr(target.Config.GetAddress()) != net.JoinHostPort(t.dstIP(), fmt.Sprint(t.req.Port)) {
		how = "wildcard address, same port"
	}
	t.res.step("listener", "%s (%s) hands off (use_original_dst) to %s (%s, %s)",
		l.Name, xds.Addr(l.Config.GetAddress()), target.Name, xds.Addr(target.Config.GetAddress()), how)
	return target.Config
}

// chain selects the filter chain and follows its terminal filter.
func (t *tracer) chain(l *listenerv3.Listener) {
	if l.GetFilterChainMatcher() != nil {
		t.res.unsupported("chain", "listener %s selects filter chains with filter_chain_matcher (the xDS matcher API)", l.GetName())
		return
	}
	fc, why, undecided := t.selectChain(l.GetFilterChains())
	if undecided != "" {
		t.res.unsupported("chain", "%s", undecided)
		return
	}
	if fc == nil {
		if dfc := l.GetDefaultFilterChain(); dfc != nil {
			fc = dfc
			why = "no chain matches; the default filter chain serves it"
		} else {
			t.res.noRoute("chain", "no filter chain of %s matches %s (%s), and there is no default filter chain: Envoy closes the connection",
				l.GetName(), t.connString(), why)
			return
		}
	}
	name := fc.GetName()
	if name == "" {
		name = fmt.Sprintf("filter_chains[%d]", indexOf(l.GetFilterChains(), fc))
	}
	t.res.FilterChain = name
	t.connTLS = t.req.transport() == "tls"
	if t.connTLS != terminatesTLS(fc) {
		t.res.step("chain", "note: the request's connection is %s but the chain's transport socket says otherwise; the request's is used", t.req.transport())
	}
	t.res.step("chain", "%s: %s", name, why)
	t.filters(l.GetName(), fc)
}

// terminatesTLS reports whether the chain's transport socket is TLS.
func terminatesTLS(fc *listenerv3.FilterChain) bool {
	ts := fc.GetTransportSocket()
	return ts != nil && (strings.Contains(ts.GetName(), "tls") || strings.Contains(ts.GetTypedConfig().GetTypeUrl(), "TlsContext"))
}

func (t *tracer) connString() string {
	return fmt.Sprintf("dst %s:%d, transport %s, alpn %v", t.dstIP(), t.req.Port, t.req.transport(), t.req.alpn())
}

func indexOf(list []*listenerv3.FilterChain, fc *listenerv3.FilterChain) int {
	for i, x := range list {
		if x == fc {
			return i
		}
	}
	return -1
}

// filters follows the chain's terminal network filter.
func (t *tracer) filters(listener string, fc *listenerv3.FilterChain) {
	for _, f := range fc.GetFilters() {
		switch {
		case f.GetName() == hcmFilter || f.GetTypedConfig().GetTypeUrl() == "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager":
			hcm := &hcmv3.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
				t.res.unsupported("http", "filter %s: typed_config is %s, not an HttpConnectionManager: %v", f.GetName(), f.GetTypedConfig().GetTypeUrl(), err)
				return
			}
			t.res.Protocol = "http"
			t.http(hcm)
			return
		case f.GetName() == tcpFilter || f.GetTypedConfig().GetTypeUrl() == "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":
			tp := &tcpv3.TcpProxy{}
			if err := f.GetTypedConfig().UnmarshalTo(tp); err != nil {
				t.res.unsupported("tcp", "filter %s: typed_config is %s, not a TcpProxy: %v", f.GetName(), f.GetTypedConfig().GetTypeUrl(), err)
				return
			}
			t.res.Protocol = "tcp"
			t.tcp(tp)
			return
		}
	}
	names := make([]string, 0, len(fc.GetFilters()))
	for _, f := range fc.GetFilters() {
		names = append(names, f.GetName())
	}
	if len(names) == 0 {
		t.res.noRoute("filters", "the chain has no network filters")
		return
	}
	t.res.unsupported("filters", "the chain's filters %v hold neither an HTTP connection manager nor a TCP proxy", names)
}

func (t *tracer) tcp(tp *tcpv3.TcpProxy) {
	switch {
	case tp.GetCluster() != "":
		t.res.step("tcp", "tcp_proxy to cluster %s", tp.GetCluster())
		t.addClusters([]WeightedCluster{{Name: tp.GetCluster(), Weight: 1}}, nil)
	case tp.GetWeightedClusters() != nil:
		var wcs []WeightedCluster
		for _, c := range tp.GetWeightedClusters().GetClusters() {
			wcs = append(wcs, WeightedCluster{Name: c.GetName(), Weight: c.GetWeight()})
		}
		t.res.step("tcp", "tcp_proxy to weighted clusters %s", describeWeights(wcs))
		t.addClusters(wcs, nil)
	default:
		t.res.unsupported("tcp", "tcp_proxy without a cluster or weighted_clusters")
	}
}

// notFoundStatus is what Envoy answers for a missing cluster: the route's
// cluster_not_found_response_code (nil: 503).
func notFoundStatus(code fmt.Stringer) string {
	if code == nil || code.String() == routev3.RouteAction_SERVICE_UNAVAILABLE.String() {
		return "503 (NC)"
	}
	return code.String() + " (NC, cluster_not_found_response_code)"
}

// addClusters records the clusters and their endpoints. notFound is the
// route's cluster_not_found_response_code (nil: 503).
func (t *tracer) addClusters(wcs []WeightedCluster, notFound fmt.Stringer) {
	status := notFoundStatus(notFound)
	for i := range wcs {
		name := wcs[i].Name
		c, ok := t.d.Cluster(name)
		if !ok && name == "" {
			wcs[i].Missing = true // no cluster named: explained by the action
			continue
		}
		if why := t.d.Lacking(xds.TypeClusters); why != "" {
			t.res.step("cluster", "%s: not checked, %s", name, why)
			continue
		}
		if !ok {
			wcs[i].Missing = true
			t.res.step("cluster", "%s is NOT in CDS: Envoy answers %s; %s", name, status,
				xds.HaveList(xds.Closest(name, t.d.ClusterNames(), 3)))
			continue
		}
		t.res.Endpoints[name] = t.endpoints(c)
		wcs[i].NoHealthyUpstream = t.noHealthyUpstream(c, t.res.Endpoints[name])
	}
	t.res.Clusters = append(t.res.Clusters, wcs...)
}

func (t *tracer) endpoints(c *xds.Cluster) []Endpoint {
	out := []Endpoint{}
	typ := c.Config.GetType()
	if typ == clusterv3.Cluster_ORIGINAL_DST {
		dst := net.JoinHostPort(t.dstIP(), fmt.Sprint(t.req.Port))
		t.res.step("cluster", "%s: ORIGINAL_DST, forwards to the original destination %s", c.Name, dst)
		return append(out, Endpoint{Address: dst, Health: "ORIGINAL_DST"})
	}
	e, ok := t.d.EndpointsFor(c.Name)
	if !ok {
		if !t.d.HasEndpoints && typ == clusterv3.Cluster_EDS {
			t.res.step("cluster", "%s: EDS; the dump has no endpoints (take it with include_eds)", c.Name)
		} else {
			t.res.step("cluster", "%s: %s, no load assignment: Envoy answers 503 (UH)", c.Name, typ)
		}
		return out
	}
	healthy := 0
	for _, le := range e.Config.GetEndpoints() {
		loc := ""
		if l := le.GetLocality(); l != nil && (l.GetRegion() != "" || l.GetZone() != "" || l.GetSubZone() != "") {
			loc = strings.Trim(l.GetRegion()+"/"+l.GetZone()+"/"+l.GetSubZone(), "/")
		}
		for _, lb := range le.GetLbEndpoints() {
			addr := xds.Addr(lb.GetEndpoint().GetAddress())
			if addr == "" && lb.GetEndpoint().GetHostname() != "" {
				addr = lb.GetEndpoint().GetHostname()
			}
			h := lb.GetHealthStatus()
			if h == corev3.HealthStatus_UNKNOWN || h == corev3.HealthStatus_HEALTHY {
				healthy++
			}
			out = append(out, Endpoint{Address: addr, Health: h.String(), Locality: loc, Weight: lb.GetLoadBalancingWeight().GetValue()})
		}
	}
	t.res.step("cluster", "%s: %s, %d endpoints (%d healthy or unknown)", c.Name, typ, len(out), healthy)
	return out
}

// noHealthyUpstream decides whether Envoy answers 503 (UH) for a cluster
// whose endpoints are known: only when none is healthy (HEALTHY or
// UNKNOWN), none is DEGRADED (Envoy falls back to those), and panic routing
// is off (healthy_panic_threshold 0). With a threshold above the healthy
// share Envoy balances over every endpoint instead (panic mode), and the
// request goes through; the step says so.
func (t *tracer) noHealthyUpstream(c *xds.Cluster, eps []Endpoint) bool {
	if len(eps) == 0 {
		// No endpoint at all: 503 (UH), unless the dump just lacks EDS.
		return t.d.HasEndpoints || c.Config.GetType() != clusterv3.Cluster_EDS
	}
	if eps[0].Health == "ORIGINAL_DST" {
		return false
	}
	healthy, degraded := 0, 0
	for _, e := range eps {
		switch e.Health {
		case "HEALTHY", "UNKNOWN":
			healthy++
		case "DEGRADED":
			degraded++
		}
	}
	threshold := c.PanicThreshold()
	share := 100 * float64(healthy) / float64(len(eps))
	switch {
	case healthy == 0 && degraded > 0:
		t.res.step("cluster", "%s: no healthy endpoint; Envoy sends to the %d DEGRADED ones", c.Name, degraded)
	case share < threshold:
		t.res.step("cluster", "%s: %.0f%% of the endpoints healthy, below the panic threshold %.0f%%: Envoy balances over all %d endpoints, unhealthy ones too", c.Name, share, threshold, len(eps))
	case healthy == 0:
		t.res.step("cluster", "%s: no healthy endpoint and panic routing off (healthy_panic_threshold 0): Envoy answers 503 (UH)", c.Name)
		return true
	}
	return false
}

func describeWeights(wcs []WeightedCluster) string {
	parts := make([]string, len(wcs))
	var total uint32
	for i, c := range wcs {
		parts[i] = fmt.Sprintf("%s=%d", c.Name, c.Weight)
		total += c.Weight
	}
	return fmt.Sprintf("%s (total %d)", strings.Join(parts, ", "), total)
}
