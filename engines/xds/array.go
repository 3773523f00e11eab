package xds

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// parseArray reads istioctl's per-type output: a JSON array of listeners,
// route configurations, clusters, or endpoint statuses.
func (p *parser) parseArray(start int) error {
	elems, end, err := arrayElements(p.data, start)
	if err != nil {
		return p.scanErr(err, "")
	}
	if err := p.endOfDocument(end); err != nil {
		return err
	}
	if len(elems) == 0 {
		p.dump.Warnings = append(p.dump.Warnings, "the document is an empty array: nothing to read")
		return nil
	}
	if p.data[elems[0][0]] != '{' {
		return p.fail(elems[0][0], "[0]", fmt.Errorf("%w: array elements must be objects", ErrNotConfigDump))
	}
	first, err := p.fields(elems[0][0], "[0]")
	if err != nil {
		return err
	}
	keys := make(map[string]json.RawMessage, len(first))
	for k := range first {
		keys[k] = nil
	}
	shape := arrayShape(keys)
	if shape == "" {
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		return p.fail(start, "[0]", fmt.Errorf("%w: cannot tell what the array holds (keys of its first element: %s); expected istioctl proxy-config listeners|routes|clusters|endpoints -o json",
			ErrNotConfigDump, strings.Join(names, ", ")))
	}
	p.dump.Shape = shape
	p.dump.holds(arrayTypes[shape])
	if shape == ShapeIstioctlEndpoints {
		if _, ok := hasAny(keys, "host_statuses", "added_via_api"); ok {
			return p.clusterStatuses(elems)
		}
	}
	k := arrayKinds[shape]
	for i, e := range elems {
		path := fmt.Sprintf("[%d]", i)
		_, _, isAny := leadingType(p.data[e[0]:e[1]])
		p.jobs = append(p.jobs, &job{kind: k, start: e[0], end: e[1], path: path, meta: Meta{State: StateActive, Path: path}, any: isAny})
	}
	return nil
}

// arrayTypes and arrayKinds say what each istioctl per-type array holds.
var (
	arrayTypes = map[Shape]Type{ShapeIstioctlListeners: TypeListeners, ShapeIstioctlRoutes: TypeRoutes,
		ShapeIstioctlClusters: TypeClusters, ShapeIstioctlEndpoints: TypeEndpoints}
	arrayKinds = map[Shape]kind{ShapeIstioctlListeners: kindListener, ShapeIstioctlRoutes: kindRoute,
		ShapeIstioctlClusters: kindCluster, ShapeIstioctlEndpoints: kindEndpoints}
)

// clusterStatuses reads admin /clusters host statuses, what istioctl
// proxy-config endpoints prints.
func (p *parser) clusterStatuses(elems [][2]int) error {
	for i, e := range elems {
		path := fmt.Sprintf("[%d]", i)
		cs := &adminv3.ClusterStatus{}
		j := &job{start: e[0], end: e[1], path: path}
		if err := p.protoUnmarshal(j, p.data[e[0]:e[1]], cs); err != nil {
			return err
		}
		p.dump.Unknown = append(p.dump.Unknown, j.unknown...)
		p.dump.Warnings = append(p.dump.Warnings, j.warnings...)
		cla := statusToAssignment(cs)
		p.dump.Endpoints = append(p.dump.Endpoints, &Endpoints{Meta: Meta{Name: cla.GetClusterName(), State: StateActive, Path: path}, Config: cla})
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

// arrayShape guesses the element type from the first element's keys
// (snake_case; camelCase keys are converted before).
func arrayShape(keys map[string]json.RawMessage) Shape {
	if _, ok := hasAny(keys, "host_statuses", "added_via_api"); ok {
		return ShapeIstioctlEndpoints
	}
	if _, ok := hasAny(keys, "cluster_name"); ok {
		if _, ok := keys["endpoints"]; ok {
			return ShapeIstioctlEndpoints
		}
	}
	if _, ok := hasAny(keys, "virtual_hosts", "validate_clusters"); ok {
		return ShapeIstioctlRoutes
	}
	if _, ok := hasAny(keys, "filter_chains", "listener_filters", "address", "traffic_direction", "default_filter_chain"); ok {
		return ShapeIstioctlListeners
	}
	if _, ok := hasAny(keys, "type", "eds_cluster_config", "connect_timeout", "cluster_type", "load_assignment", "lb_policy"); ok {
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
