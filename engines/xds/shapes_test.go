package xds_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/meshcheck/meshcheck/engines/xds"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Envoy's proto names and istioctl's camelCase, for every section a dump
// can hold: bootstrap, static and dynamic (active, warming, draining,
// rejected) listeners, clusters, routes, scoped routes, secrets, endpoints.
func TestEverySectionBothSpellings(t *testing.T) {
	ts := timestamppb.New(time.Date(2026, 11, 21, 1, 2, 3, 0, time.UTC))
	l := func(name string, port uint32) *listenerv3.Listener {
		return &listenerv3.Listener{Name: name, Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}}
	}
	dump := &adminv3.ConfigDump{Configs: []*anypb.Any{
		mustAny(t, &adminv3.BootstrapConfigDump{Bootstrap: &bootstrapv3.Bootstrap{Node: &corev3.Node{Id: "sidecar~10.0.0.1~pp.default~default.svc.cluster.local"}}, LastUpdated: ts}),
		mustAny(t, &adminv3.ListenersConfigDump{
			StaticListeners: []*adminv3.ListenersConfigDump_StaticListener{{Listener: mustAny(t, l("stats", 15090)), LastUpdated: ts}},
			DynamicListeners: []*adminv3.ListenersConfigDump_DynamicListener{
				{Name: "a", ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: "v1", Listener: mustAny(t, l("a", 80)), LastUpdated: ts},
					WarmingState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: "v2", Listener: mustAny(t, l("a", 80))}},
				{Name: "b", DrainingState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: mustAny(t, l("b", 81))}},
				{Name: "c", ErrorState: &adminv3.UpdateFailureState{Details: "bad port", VersionInfo: "v3", LastUpdateAttempt: ts}},
			},
		}),
		mustAny(t, &adminv3.ClustersConfigDump{
			StaticClusters:         []*adminv3.ClustersConfigDump_StaticCluster{{Cluster: mustAny(t, &clusterv3.Cluster{Name: "xds-grpc"})}},
			DynamicActiveClusters:  []*adminv3.ClustersConfigDump_DynamicCluster{{VersionInfo: "v1", Cluster: mustAny(t, &clusterv3.Cluster{Name: "x"})}},
			DynamicWarmingClusters: []*adminv3.ClustersConfigDump_DynamicCluster{{Cluster: mustAny(t, &clusterv3.Cluster{Name: "y"})}},
		}),
		mustAny(t, &adminv3.RoutesConfigDump{
			StaticRouteConfigs:  []*adminv3.RoutesConfigDump_StaticRouteConfig{{RouteConfig: mustAny(t, &routev3.RouteConfiguration{Name: "s"})}},
			DynamicRouteConfigs: []*adminv3.RoutesConfigDump_DynamicRouteConfig{{RouteConfig: mustAny(t, &routev3.RouteConfiguration{Name: "r"})}},
		}),
		mustAny(t, &adminv3.ScopedRoutesConfigDump{DynamicScopedRouteConfigs: []*adminv3.ScopedRoutesConfigDump_DynamicScopedRouteConfigs{
			{Name: "srds", ScopedRouteConfigs: []*anypb.Any{mustAny(t, &routev3.ScopedRouteConfiguration{Name: "scope", RouteConfigurationName: "r"})}}}}),
		mustAny(t, &adminv3.SecretsConfigDump{DynamicActiveSecrets: []*adminv3.SecretsConfigDump_DynamicSecret{
			{Name: "default", Secret: mustAny(t, &tlsv3.Secret{Name: "default"})}}}),
		mustAny(t, &adminv3.EndpointsConfigDump{}),
	}}
	for name, mo := range map[string]protojson.MarshalOptions{"proto names": {UseProtoNames: true}, "camelCase": {}} {
		t.Run(name, func(t *testing.T) {
			b, err := mo.Marshal(dump)
			if err != nil {
				t.Fatal(err)
			}
			d, err := xds.Parse(b, xds.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Node.GetId() != "sidecar~10.0.0.1~pp.default~default.svc.cluster.local" {
				t.Errorf("node = %v", d.Node)
			}
			states := map[string]xds.State{}
			for _, x := range d.Listeners {
				states[x.Name+"/"+x.Version] = x.State
			}
			want := map[string]xds.State{"stats/": xds.StateStatic, "a/v1": xds.StateActive, "a/v2": xds.StateWarming, "b/": xds.StateDraining, "c/": xds.StateRejected}
			if len(states) != len(want) {
				t.Errorf("listener states = %v, want %v", states, want)
			}
			for k, v := range want {
				if states[k] != v {
					t.Errorf("listener %s state = %q, want %q", k, states[k], v)
				}
			}
			if a, _ := d.Listener("a"); a.State != xds.StateActive || !a.LastUpdated.Equal(ts.AsTime()) {
				t.Errorf("Listener(a) = %+v, want the active one with its timestamp", a.Meta)
			}
			for _, x := range d.Listeners {
				if x.Name == "c" && (x.Error == nil || x.Error.Details != "bad port" || x.Error.Version != "v3") {
					t.Errorf("rejected listener error = %+v", x.Error)
				}
			}
			if len(d.Clusters) != 3 || len(d.Routes) != 2 || len(d.ScopedRoutes) != 1 || len(d.Secrets) != 1 || !d.HasEndpoints {
				t.Errorf("clusters %d routes %d scoped %d secrets %d endpoints %v", len(d.Clusters), len(d.Routes), len(d.ScopedRoutes), len(d.Secrets), d.HasEndpoints)
			}
			if _, ok := d.Secret("default"); !ok {
				t.Error("secret default not indexed")
			}
			if len(d.Warnings) > 0 || len(d.Unknown) > 0 {
				t.Errorf("warnings %v unknown %v", d.Warnings, d.Unknown)
			}
		})
	}
}

// istioctl proxy-config listeners|routes|clusters|endpoints -o json print
// camelCase arrays; endpoints print admin /clusters host statuses.
func TestIstioctlArrays(t *testing.T) {
	src, err := xds.ParseFile(filepath.Join("testdata", "samples", "productpage-config_dump.json"), xds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	array := func(msgs []proto.Message) []byte {
		var parts [][]byte
		for _, m := range msgs {
			b, err := protojson.Marshal(m) // camelCase, as istioctl prints
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, b)
		}
		return append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']')
	}
	var ls, rs, cs []proto.Message
	for _, x := range src.Listeners {
		ls = append(ls, x.Config)
	}
	for _, x := range src.Routes {
		rs = append(rs, x.Config)
	}
	for _, x := range src.Clusters {
		cs = append(cs, x.Config)
	}
	status := []proto.Message{&adminv3.ClusterStatus{Name: "outbound|9080||reviews.default.svc.cluster.local", AddedViaApi: true,
		HostStatuses: []*adminv3.HostStatus{
			{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.244.0.7", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 9080}}}},
				HealthStatus: &adminv3.HostHealthStatus{EdsHealthStatus: corev3.HealthStatus_HEALTHY}},
			{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "10.244.0.8", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 9080}}}},
				HealthStatus: &adminv3.HostHealthStatus{FailedOutlierCheck: true}},
		}}}
	cases := []struct {
		name  string
		doc   []byte
		shape xds.Shape
		check func(d *xds.Dump) bool
	}{
		{"listeners", array(ls), xds.ShapeIstioctlListeners, func(d *xds.Dump) bool { _, ok := d.Listener("virtualInbound"); return ok && len(d.Listeners) == 3 }},
		{"routes", array(rs), xds.ShapeIstioctlRoutes, func(d *xds.Dump) bool { _, ok := d.RouteConfig("9080"); return ok }},
		{"clusters", array(cs), xds.ShapeIstioctlClusters, func(d *xds.Dump) bool { return len(d.Clusters) == 18 }},
		{"endpoints", array(status), xds.ShapeIstioctlEndpoints, func(d *xds.Dump) bool {
			e, ok := d.EndpointsFor("outbound|9080||reviews.default.svc.cluster.local")
			if !ok || !d.HasEndpoints {
				return false
			}
			lbs := e.Config.GetEndpoints()[0].GetLbEndpoints()
			return len(lbs) == 2 && lbs[0].GetHealthStatus() == corev3.HealthStatus_HEALTHY && lbs[1].GetHealthStatus() == corev3.HealthStatus_UNHEALTHY
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid(tc.doc) {
				t.Fatal("test document is not JSON")
			}
			d, err := xds.Parse(tc.doc, xds.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Shape != tc.shape {
				t.Errorf("shape = %s, want %s", d.Shape, tc.shape)
			}
			if !tc.check(d) {
				t.Errorf("the %s were not read: %d listeners, %d routes, %d clusters, %d endpoints", tc.name, len(d.Listeners), len(d.Routes), len(d.Clusters), len(d.Endpoints))
			}
		})
	}
}
