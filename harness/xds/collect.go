package xds

import (
	"fmt"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// collect moves one decoded admin section into the Dump.
func (p *parser) collect(path string, msg proto.Message) error {
	wrap := func(err error) error {
		if err == nil {
			return nil
		}
		return p.fail(-1, "", err)
	}
	switch m := msg.(type) {
	case *adminv3.BootstrapConfigDump:
		return wrap(p.bootstrap(path, m))
	case *adminv3.ListenersConfigDump:
		return wrap(p.listeners(path, m))
	case *adminv3.ClustersConfigDump:
		return wrap(p.clusters(path, m))
	case *adminv3.RoutesConfigDump:
		return wrap(p.routes(path, m))
	case *adminv3.ScopedRoutesConfigDump:
		return wrap(p.scopedRoutes(path, m))
	case *adminv3.SecretsConfigDump:
		return wrap(p.secrets(path, m))
	case *adminv3.EndpointsConfigDump:
		p.dump.HasEndpoints = true
		return wrap(p.endpoints(path, m))
	}
	return nil
}

func (p *parser) bootstrap(path string, m *adminv3.BootstrapConfigDump) error {
	if m.GetBootstrap() == nil {
		return nil
	}
	p.dump.Bootstrap = m.GetBootstrap()
	p.dump.Node = m.GetBootstrap().GetNode()
	_ = path
	return nil
}

// fromAny unpacks an Any into a new T, or returns nil for a nil Any.
func fromAny[T proto.Message](a *anypb.Any, newT func() T, path string) (T, error) {
	var zero T
	if a == nil {
		return zero, nil
	}
	t := newT()
	if err := unpack(a, t, path); err != nil {
		return zero, err
	}
	return t, nil
}

func (p *parser) listeners(path string, m *adminv3.ListenersConfigDump) error {
	newL := func() *listenerv3.Listener { return &listenerv3.Listener{} }
	for i, s := range m.GetStaticListeners() {
		ep := fmt.Sprintf("%s.static_listeners[%d]", path, i)
		l, err := fromAny(s.GetListener(), newL, ep+".listener")
		if err != nil {
			return err
		}
		p.dump.Listeners = append(p.dump.Listeners, &Listener{
			Meta:   Meta{Name: l.GetName(), LastUpdated: ts(s.GetLastUpdated()), State: StateStatic, Path: ep},
			Config: l,
		})
	}
	for i, d := range m.GetDynamicListeners() {
		ep := fmt.Sprintf("%s.dynamic_listeners[%d]", path, i)
		errState := updateError(d.GetErrorState())
		states := []struct {
			s     *adminv3.ListenersConfigDump_DynamicListenerState
			state State
			field string
		}{
			{d.GetActiveState(), StateActive, "active_state"},
			{d.GetWarmingState(), StateWarming, "warming_state"},
			{d.GetDrainingState(), StateDraining, "draining_state"},
		}
		seen := false
		for _, st := range states {
			if st.s == nil {
				continue
			}
			l, err := fromAny(st.s.GetListener(), newL, ep+"."+st.field+".listener")
			if err != nil {
				return err
			}
			seen = true
			meta := Meta{Name: d.GetName(), Version: st.s.GetVersionInfo(), LastUpdated: ts(st.s.GetLastUpdated()), State: st.state, Path: ep + "." + st.field}
			if st.state == StateActive {
				meta.Error = errState
			}
			p.dump.Listeners = append(p.dump.Listeners, &Listener{Meta: meta, Config: l})
		}
		if !seen && errState != nil {
			p.dump.Listeners = append(p.dump.Listeners, &Listener{
				Meta: Meta{Name: d.GetName(), State: StateRejected, Error: errState, Path: ep + ".error_state"},
			})
		}
	}
	return nil
}

func (p *parser) clusters(path string, m *adminv3.ClustersConfigDump) error {
	newC := func() *clusterv3.Cluster { return &clusterv3.Cluster{} }
	for i, s := range m.GetStaticClusters() {
		ep := fmt.Sprintf("%s.static_clusters[%d]", path, i)
		c, err := fromAny(s.GetCluster(), newC, ep+".cluster")
		if err != nil {
			return err
		}
		p.dump.Clusters = append(p.dump.Clusters, &Cluster{
			Meta:   Meta{Name: c.GetName(), LastUpdated: ts(s.GetLastUpdated()), State: StateStatic, Path: ep},
			Config: c,
		})
	}
	lists := []struct {
		items []*adminv3.ClustersConfigDump_DynamicCluster
		state State
		field string
	}{
		{m.GetDynamicActiveClusters(), StateActive, "dynamic_active_clusters"},
		{m.GetDynamicWarmingClusters(), StateWarming, "dynamic_warming_clusters"},
	}
	for _, list := range lists {
		for i, d := range list.items {
			ep := fmt.Sprintf("%s.%s[%d]", path, list.field, i)
			c, err := fromAny(d.GetCluster(), newC, ep+".cluster")
			if err != nil {
				return err
			}
			meta := Meta{Name: c.GetName(), Version: d.GetVersionInfo(), LastUpdated: ts(d.GetLastUpdated()), State: list.state,
				Error: updateError(d.GetErrorState()), Path: ep}
			if c == nil {
				meta.State = StateRejected
			}
			p.dump.Clusters = append(p.dump.Clusters, &Cluster{Meta: meta, Config: c})
		}
	}
	return nil
}

func (p *parser) routes(path string, m *adminv3.RoutesConfigDump) error {
	newR := func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} }
	for i, s := range m.GetStaticRouteConfigs() {
		ep := fmt.Sprintf("%s.static_route_configs[%d]", path, i)
		r, err := fromAny(s.GetRouteConfig(), newR, ep+".route_config")
		if err != nil {
			return err
		}
		p.dump.Routes = append(p.dump.Routes, &RouteConfig{
			Meta:   Meta{Name: r.GetName(), LastUpdated: ts(s.GetLastUpdated()), State: StateStatic, Path: ep},
			Config: r,
		})
	}
	for i, d := range m.GetDynamicRouteConfigs() {
		ep := fmt.Sprintf("%s.dynamic_route_configs[%d]", path, i)
		r, err := fromAny(d.GetRouteConfig(), newR, ep+".route_config")
		if err != nil {
			return err
		}
		meta := Meta{Name: r.GetName(), Version: d.GetVersionInfo(), LastUpdated: ts(d.GetLastUpdated()), State: StateActive,
			Error: updateError(d.GetErrorState()), Path: ep}
		if r == nil {
			meta.State = StateRejected
		}
		p.dump.Routes = append(p.dump.Routes, &RouteConfig{Meta: meta, Config: r})
	}
	return nil
}

func (p *parser) scopedRoutes(path string, m *adminv3.ScopedRoutesConfigDump) error {
	newS := func() *routev3.ScopedRouteConfiguration { return &routev3.ScopedRouteConfiguration{} }
	for i, in := range m.GetInlineScopedRouteConfigs() {
		for j, a := range in.GetScopedRouteConfigs() {
			ep := fmt.Sprintf("%s.inline_scoped_route_configs[%d].scoped_route_configs[%d]", path, i, j)
			s, err := fromAny(a, newS, ep)
			if err != nil {
				return err
			}
			p.dump.ScopedRoutes = append(p.dump.ScopedRoutes, &ScopedRoute{
				Meta:   Meta{Name: s.GetName(), LastUpdated: ts(in.GetLastUpdated()), State: StateStatic, Path: ep},
				Config: s,
			})
		}
	}
	for i, d := range m.GetDynamicScopedRouteConfigs() {
		for j, a := range d.GetScopedRouteConfigs() {
			ep := fmt.Sprintf("%s.dynamic_scoped_route_configs[%d].scoped_route_configs[%d]", path, i, j)
			s, err := fromAny(a, newS, ep)
			if err != nil {
				return err
			}
			p.dump.ScopedRoutes = append(p.dump.ScopedRoutes, &ScopedRoute{
				Meta: Meta{Name: s.GetName(), Version: d.GetVersionInfo(), LastUpdated: ts(d.GetLastUpdated()), State: StateActive,
					Error: updateError(d.GetErrorState()), Path: ep},
				Config: s,
			})
		}
	}
	return nil
}

func (p *parser) secrets(path string, m *adminv3.SecretsConfigDump) error {
	newS := func() *tlsv3.Secret { return &tlsv3.Secret{} }
	for i, s := range m.GetStaticSecrets() {
		ep := fmt.Sprintf("%s.static_secrets[%d]", path, i)
		sec, err := fromAny(s.GetSecret(), newS, ep+".secret")
		if err != nil {
			return err
		}
		p.dump.Secrets = append(p.dump.Secrets, &Secret{
			Meta:   Meta{Name: s.GetName(), LastUpdated: ts(s.GetLastUpdated()), State: StateStatic, Path: ep},
			Config: sec,
		})
	}
	lists := []struct {
		items []*adminv3.SecretsConfigDump_DynamicSecret
		state State
		field string
	}{
		{m.GetDynamicActiveSecrets(), StateActive, "dynamic_active_secrets"},
		{m.GetDynamicWarmingSecrets(), StateWarming, "dynamic_warming_secrets"},
	}
	for _, list := range lists {
		for i, d := range list.items {
			ep := fmt.Sprintf("%s.%s[%d]", path, list.field, i)
			sec, err := fromAny(d.GetSecret(), newS, ep+".secret")
			if err != nil {
				return err
			}
			p.dump.Secrets = append(p.dump.Secrets, &Secret{
				Meta: Meta{Name: d.GetName(), Version: d.GetVersionInfo(), LastUpdated: ts(d.GetLastUpdated()), State: list.state,
					Error: updateError(d.GetErrorState()), Path: ep},
				Config: sec,
			})
		}
	}
	return nil
}

func (p *parser) endpoints(path string, m *adminv3.EndpointsConfigDump) error {
	newE := func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} }
	for i, s := range m.GetStaticEndpointConfigs() {
		ep := fmt.Sprintf("%s.static_endpoint_configs[%d]", path, i)
		e, err := fromAny(s.GetEndpointConfig(), newE, ep+".endpoint_config")
		if err != nil {
			return err
		}
		p.dump.Endpoints = append(p.dump.Endpoints, &Endpoints{
			Meta:   Meta{Name: e.GetClusterName(), LastUpdated: ts(s.GetLastUpdated()), State: StateStatic, Path: ep},
			Config: e,
		})
	}
	for i, d := range m.GetDynamicEndpointConfigs() {
		ep := fmt.Sprintf("%s.dynamic_endpoint_configs[%d]", path, i)
		e, err := fromAny(d.GetEndpointConfig(), newE, ep+".endpoint_config")
		if err != nil {
			return err
		}
		p.dump.Endpoints = append(p.dump.Endpoints, &Endpoints{
			Meta: Meta{Name: e.GetClusterName(), Version: d.GetVersionInfo(), LastUpdated: ts(d.GetLastUpdated()), State: StateActive,
				Error: updateError(d.GetErrorState()), Path: ep},
			Config: e,
		})
	}
	return nil
}
