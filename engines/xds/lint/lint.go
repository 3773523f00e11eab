package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// Severity of a finding.
type Severity string

// Severities, most severe first.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Rule names what a finding is about; stable for filtering and reports.
type Rule string

// The rules Lint applies.
const (
	MissingRouteConfig Rule = "missing-route-config"
	MissingCluster     Rule = "missing-cluster"
	NoAssignment       Rule = "eds-no-assignment"
	NoHealthyEndpoint  Rule = "eds-no-healthy-endpoint"
	Rejected           Rule = "rejected"
	Warming            Rule = "warming"
	DuplicateDomain    Rule = "duplicate-domain"
	UnknownType        Rule = "unknown-type"
	// NotChecked says that references into a type the dump lacks (istioctl's
	// per-type output) were not judged.
	NotChecked Rule = "not-checked"
)

// Finding is one problem, with where it is and a sentence a user understands.
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     Rule     `json:"rule"`
	// Resource names the resource in words, e.g.
	// "listener 0.0.0.0_8080, filter chain filter_chains[0]".
	Resource string `json:"resource"`
	// Path locates it in the document, e.g. "configs[1].dynamic_listeners[0]".
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s [%s] %s: %s", f.Severity, f.Rule, f.Resource, f.Message)
}

// HasErrors reports whether any finding has severity error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns how many findings have each severity.
func Count(fs []Finding) map[Severity]int {
	out := map[Severity]int{}
	for _, f := range fs {
		out[f.Severity]++
	}
	return out
}

// Lint checks the dump and returns its findings, errors first.
func Lint(d *xds.Dump) []Finding {
	l := &linter{d: d, unchecked: map[xds.Type][]string{}}
	l.resources()
	l.listeners()
	for _, r := range d.Routes {
		if r.Config != nil {
			l.routeConfig(fmt.Sprintf("route config %s", r.Name), r.Path, r.Config)
		}
	}
	l.endpoints()
	l.notChecked()
	for _, u := range d.Unknown {
		l.add(Info, UnknownType, "payload "+u.TypeURL, u.Path,
			"type %s is unknown to meshcheck: kept as JSON, not checked (an Istio or vendor extension without Go definitions?)", u.TypeURL)
	}
	rank := map[Severity]int{Error: 0, Warning: 1, Info: 2}
	sort.SliceStable(l.out, func(i, j int) bool { return rank[l.out[i].Severity] < rank[l.out[j].Severity] })
	return l.out
}

type linter struct {
	d   *xds.Dump
	out []Finding
	// unchecked holds, per type the dump lacks, the names referenced into it.
	unchecked map[xds.Type][]string
}

// holds reports whether the dump has type t; when it does not, the
// reference to name is recorded as not checked.
func (l *linter) holds(t xds.Type, name string) bool {
	if l.d.Has(t) {
		return true
	}
	l.unchecked[t] = append(l.unchecked[t], name)
	return false
}

// notChecked adds one info finding per lacking type that was referenced.
func (l *linter) notChecked() {
	for _, t := range xds.AllTypes {
		names := l.unchecked[t]
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		names = slices.Compact(names)
		l.add(Info, NotChecked, "dump "+l.d.Source, "", "%s: %d references into %s not checked, e.g. %s",
			l.d.Lacking(t), len(names), t, strings.Join(names[:min(3, len(names))], ", "))
	}
}

func (l *linter) add(sev Severity, rule Rule, resource, path, format string, a ...any) {
	l.out = append(l.out, Finding{Severity: sev, Rule: rule, Resource: resource, Path: path, Message: fmt.Sprintf(format, a...)})
}

// resources flags rejected and warming resources of every kind.
func (l *linter) resources() {
	type res struct {
		kind string
		m    xds.Meta
	}
	var all []res
	for _, x := range l.d.Listeners {
		all = append(all, res{"listener", x.Meta})
	}
	for _, x := range l.d.Clusters {
		all = append(all, res{"cluster", x.Meta})
	}
	for _, x := range l.d.Routes {
		all = append(all, res{"route config", x.Meta})
	}
	for _, x := range l.d.ScopedRoutes {
		all = append(all, res{"scoped route", x.Meta})
	}
	for _, x := range l.d.Secrets {
		all = append(all, res{"secret", x.Meta})
	}
	for _, x := range l.d.Endpoints {
		all = append(all, res{"endpoints", x.Meta})
	}
	for _, r := range all {
		name := fmt.Sprintf("%s %s", r.kind, r.m.Name)
		if r.m.Error != nil {
			l.add(Error, Rejected, name, r.m.Path,
				"Envoy rejected an update (NACK) and keeps serving the previous version, if any: %s", r.m.Error)
		}
		if r.m.State == xds.StateWarming {
			l.add(Warning, Warming, name, r.m.Path,
				"warming: Envoy has not finished initializing it (waiting for its routes, endpoints or secrets), so it does not serve yet")
		}
	}
}

func (l *linter) listeners() {
	for _, ls := range l.d.Listeners {
		if ls.Config == nil || ls.State == xds.StateDraining {
			continue
		}
		chains := append([]*listenerv3.FilterChain{}, ls.Config.GetFilterChains()...)
		if dfc := ls.Config.GetDefaultFilterChain(); dfc != nil {
			chains = append(chains, dfc)
		}
		for i, fc := range chains {
			cname := fc.GetName()
			if cname == "" {
				cname = fmt.Sprintf("filter_chains[%d]", i)
				if i == len(ls.Config.GetFilterChains()) {
					cname = "default_filter_chain"
				}
			}
			resource := fmt.Sprintf("listener %s, filter chain %s", ls.Name, cname)
			for _, f := range fc.GetFilters() {
				tc := f.GetTypedConfig()
				switch {
				case tc.MessageIs(&hcmv3.HttpConnectionManager{}):
					hcm := &hcmv3.HttpConnectionManager{}
					if tc.UnmarshalTo(hcm) != nil {
						continue
					}
					if rds := hcm.GetRds(); rds != nil && l.holds(xds.TypeRoutes, rds.GetRouteConfigName()) {
						if _, ok := l.d.RouteConfig(rds.GetRouteConfigName()); !ok {
							l.add(Error, MissingRouteConfig, resource, ls.Path,
								"route config %q (RDS) is not in the dump: Envoy answers 404 to requests on this chain; %s",
								rds.GetRouteConfigName(), xds.HaveList(xds.Closest(rds.GetRouteConfigName(), l.d.RouteConfigNames(), 3)))
						}
					}
					if rc := hcm.GetRouteConfig(); rc != nil {
						l.routeConfig(resource+", inline route config "+rc.GetName(), ls.Path, rc)
					}
				case tc.MessageIs(&tcpv3.TcpProxy{}):
					tp := &tcpv3.TcpProxy{}
					if tc.UnmarshalTo(tp) != nil {
						continue
					}
					names := []string{tp.GetCluster()}
					for _, wc := range tp.GetWeightedClusters().GetClusters() {
						names = append(names, wc.GetName())
					}
					for _, n := range names {
						l.cluster(n, resource+", tcp_proxy", ls.Path)
					}
				}
			}
		}
	}
}

func (l *linter) cluster(name, resource, path string) {
	if name == "" || !l.holds(xds.TypeClusters, name) {
		return
	}
	if _, ok := l.d.Cluster(name); !ok {
		l.add(Error, MissingCluster, resource, path,
			"cluster %q is not in CDS: Envoy answers 503 (NC) for traffic sent there; %s",
			name, xds.HaveList(xds.Closest(name, l.d.ClusterNames(), 3)))
	}
}

func (l *linter) routeConfig(resource, path string, rc *routev3.RouteConfiguration) {
	seen := map[string]string{}
	for _, vh := range rc.GetVirtualHosts() {
		for _, dom := range vh.GetDomains() {
			key := strings.ToLower(dom)
			if other, ok := seen[key]; ok && other != vh.GetName() {
				l.add(Warning, DuplicateDomain, resource, path,
					"domain %q is in virtual hosts %q and %q: Envoy rejects such a route config (a NACK) or serves only one", dom, other, vh.GetName())
				continue
			}
			seen[key] = vh.GetName()
		}
		for i, r := range vh.GetRoutes() {
			rname := r.GetName()
			if rname == "" {
				rname = fmt.Sprintf("routes[%d]", i)
			}
			where := fmt.Sprintf("%s, virtual host %s, route %s", resource, vh.GetName(), rname)
			ra := r.GetRoute()
			if ra == nil {
				continue
			}
			l.cluster(ra.GetCluster(), where, path)
			for _, wc := range ra.GetWeightedClusters().GetClusters() {
				l.cluster(wc.GetName(), where, path)
			}
		}
	}
}

func (l *linter) endpoints() {
	for _, c := range l.d.Clusters {
		if c.Config == nil || c.Config.GetType() != clusterv3.Cluster_EDS || c.State == xds.StateRejected ||
			!l.holds(xds.TypeEndpoints, c.Name) {
			continue
		}
		e, ok := l.d.EndpointsFor(c.Name)
		if !ok {
			l.add(Error, NoAssignment, "cluster "+c.Name, c.Path,
				"EDS cluster has no load assignment in the dump: Envoy keeps it warming or answers 503 (UH)")
			continue
		}
		total, healthy := 0, 0
		for _, le := range e.Config.GetEndpoints() {
			for _, lb := range le.GetLbEndpoints() {
				total++
				if h := lb.GetHealthStatus(); h == corev3.HealthStatus_HEALTHY || h == corev3.HealthStatus_UNKNOWN {
					healthy++
				}
			}
		}
		if healthy == 0 {
			l.add(Warning, NoHealthyEndpoint, "cluster "+c.Name, e.Path, "%s", noHealthyText(c, total))
		}
	}
}

// noHealthyText says what Envoy does with a cluster none of whose total
// endpoints is healthy: 503 (UH) when it has none at all or panic routing is
// off; otherwise, below the panic threshold (50% unless the cluster sets
// one), it balances over every endpoint, unhealthy ones too.
func noHealthyText(c *xds.Cluster, total int) string {
	if total == 0 {
		return "no healthy endpoint (0 endpoints in all): requests to it get 503 (UH); common for a subset that selects no pods"
	}
	if c.PanicThreshold() == 0 {
		return fmt.Sprintf("no healthy endpoint (%d endpoints in all) and panic routing off (healthy_panic_threshold 0): requests to it get 503 (UH)", total)
	}
	return fmt.Sprintf("no healthy endpoint (%d endpoints in all): below the panic threshold Envoy balances over all of them, unhealthy ones too (DEGRADED ones first)", total)
}
