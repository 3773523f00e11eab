package xds

import (
	"encoding/json"
	"fmt"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
)

// parseArray reads istioctl's per-type output: a JSON array of listeners,
// route configurations, clusters, or endpoint statuses.
func (p *parser) parseArray(start int64) error {
	dec := json.NewDecoder(bytesReader(p.data))
	elems, err := p.readArray(dec, "")
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return p.fail(dec.InputOffset(), "", fmt.Errorf("invalid JSON: data after the array"))
	}
	if len(elems) == 0 {
		p.dump.Warnings = append(p.dump.Warnings, "the document is an empty array: nothing to read")
		return nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(elems[0].raw, &keys); err != nil {
		return p.fail(elems[0].offset, elems[0].path, fmt.Errorf("%w: array elements must be objects", ErrNotConfigDump))
	}
	shape := arrayShape(keys)
	if shape == "" {
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		return p.fail(start, "[0]", fmt.Errorf("%w: cannot tell what the array holds (keys of its first element: %s); expected istioctl proxy-config listeners|routes|clusters|endpoints -o json",
			ErrNotConfigDump, strings.Join(names, ", ")))
	}
	p.dump.Shape = shape
	for _, e := range elems {
		meta := Meta{State: StateActive, Path: e.path}
		switch shape {
		case ShapeIstioctlListeners:
			l := &listenerv3.Listener{}
			if err := p.unmarshal(e, l); err != nil {
				return err
			}
			meta.Name = l.GetName()
			p.dump.Listeners = append(p.dump.Listeners, &Listener{Meta: meta, Config: l})
		case ShapeIstioctlRoutes:
			r := &routev3.RouteConfiguration{}
			if err := p.unmarshal(e, r); err != nil {
				return err
			}
			meta.Name = r.GetName()
			p.dump.Routes = append(p.dump.Routes, &RouteConfig{Meta: meta, Config: r})
		case ShapeIstioctlClusters:
			c := &clusterv3.Cluster{}
			if err := p.unmarshal(e, c); err != nil {
				return err
			}
			meta.Name = c.GetName()
			p.dump.Clusters = append(p.dump.Clusters, &Cluster{Meta: meta, Config: c})
		case ShapeIstioctlEndpoints:
			p.dump.HasEndpoints = true
			var msg proto.Message
			if _, ok := hasAny(keys, "hostStatuses", "host_statuses", "addedViaApi", "added_via_api"); ok {
				msg = &adminv3.ClusterStatus{}
			} else {
				msg = &endpointv3.ClusterLoadAssignment{}
			}
			if err := p.unmarshal(e, msg); err != nil {
				return err
			}
			cla, ok := msg.(*endpointv3.ClusterLoadAssignment)
			if !ok {
				cla = statusToAssignment(msg.(*adminv3.ClusterStatus))
			}
			meta.Name = cla.GetClusterName()
			p.dump.Endpoints = append(p.dump.Endpoints, &Endpoints{Meta: meta, Config: cla})
		}
	}
	return nil
}

func hasAny(keys map[string]json.RawMessage, names ...string) (string, bool) {
	for _, n := range names {
		if _, ok := keys[n]; ok {
			return n, true
		}
	}
	return "", false
}

// arrayShape guesses the element type from the first element's keys.
func arrayShape(keys map[string]json.RawMessage) Shape {
	if _, ok := hasAny(keys, "hostStatuses", "host_statuses", "addedViaApi", "added_via_api"); ok {
		return ShapeIstioctlEndpoints
	}
	if _, ok := hasAny(keys, "clusterName", "cluster_name"); ok {
		if _, ok := keys["endpoints"]; ok {
			return ShapeIstioctlEndpoints
		}
	}
	if _, ok := hasAny(keys, "virtualHosts", "virtual_hosts", "validateClusters", "validate_clusters"); ok {
		return ShapeIstioctlRoutes
	}
	if _, ok := hasAny(keys, "filterChains", "filter_chains", "listenerFilters", "listener_filters", "address", "trafficDirection", "traffic_direction", "defaultFilterChain", "default_filter_chain"); ok {
		return ShapeIstioctlListeners
	}
	if _, ok := hasAny(keys, "type", "edsClusterConfig", "eds_cluster_config", "connectTimeout", "connect_timeout", "clusterType", "cluster_type", "loadAssignment", "load_assignment", "lbPolicy", "lb_policy"); ok {
		return ShapeIstioctlClusters
	}
	return ""
}

// statusToAssignment turns admin /clusters host statuses (what istioctl
// proxy-config endpoints prints) into a load assignment with health.
func statusToAssignment(s *adminv3.ClusterStatus) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: s.GetName()}
	byLocality := map[string]*endpointv3.LocalityLbEndpoints{}
	for _, h := range s.GetHostStatuses() {
		key := h.GetLocality().String()
		le := byLocality[key]
		if le == nil {
			le = &endpointv3.LocalityLbEndpoints{Locality: h.GetLocality()}
			byLocality[key] = le
			cla.Endpoints = append(cla.Endpoints, le)
		}
		health := corev3.HealthStatus_HEALTHY
		hs := h.GetHealthStatus()
		switch {
		case hs.GetEdsHealthStatus() != corev3.HealthStatus_UNKNOWN:
			health = hs.GetEdsHealthStatus()
		case hs.GetFailedActiveHealthCheck() || hs.GetFailedOutlierCheck() || hs.GetFailedActiveDegradedCheck():
			health = corev3.HealthStatus_UNHEALTHY
		}
		if hs.GetPendingDynamicRemoval() {
			health = corev3.HealthStatus_DRAINING
		}
		le.LbEndpoints = append(le.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier:      &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: h.GetAddress(), Hostname: h.GetHostname()}},
			HealthStatus:        health,
			LoadBalancingWeight: wrapU32(h.GetWeight()),
		})
	}
	return cla
}
