// Package synth generates large synthetic config dumps shaped like the ones
// Istio's pilot produces for a sidecar (see ../../testdata/samples): N
// services, each with an HTTP port, a virtual host with a two-subset weighted
// route, an outbound cluster plus two subset clusters with Istio's mTLS
// transport socket matches, and their endpoints. It feeds the benchmarks.
package synth

import (
	"fmt"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Ports are the service ports the generator spreads services over; each
// gets a 0.0.0.0_<port> listener and an RDS route config "<port>".
var Ports = []uint32{80, 8080, 9080, 3000, 5000}

// Service returns the FQDN of service i.
func Service(i int) string { return fmt.Sprintf("svc-%d.ns-%d.svc.cluster.local", i, i%50) }

// Port returns the port of service i.
func Port(i int) uint32 { return Ports[i%len(Ports)] }

// Dump returns an admin config dump (proto field names) for n services.
func Dump(n int) ([]byte, error) {
	var (
		cds adminv3.ClustersConfigDump
		lds adminv3.ListenersConfigDump
		rds adminv3.RoutesConfigDump
		eds adminv3.EndpointsConfigDump
	)
	const version = "2026-11-21T00:00:00Z/42"
	vhosts := map[uint32][]*routev3.VirtualHost{}
	for i := 0; i < n; i++ {
		svc, port := Service(i), Port(i)
		short := fmt.Sprintf("svc-%d", i)
		base := fmt.Sprintf("outbound|%d||%s", port, svc)
		v1 := fmt.Sprintf("outbound|%d|v1|%s", port, svc)
		v2 := fmt.Sprintf("outbound|%d|v2|%s", port, svc)
		vhosts[port] = append(vhosts[port], &routev3.VirtualHost{
			Name:    fmt.Sprintf("%s:%d", svc, port),
			Domains: []string{svc, fmt.Sprintf("%s:%d", svc, port), short, fmt.Sprintf("%s.ns-%d", short, i%50), fmt.Sprintf("10.96.%d.%d", i/250, i%250)},
			Routes: []*routev3.Route{{
				Name:  "default",
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
						Clusters: []*routev3.WeightedCluster_ClusterWeight{
							{Name: v1, Weight: wrapperspb.UInt32(90)},
							{Name: v2, Weight: wrapperspb.UInt32(10)},
						},
					}},
					Timeout: durationpb.New(0),
				}},
				Decorator: &routev3.Decorator{Operation: fmt.Sprintf("%s:%d/*", svc, port)},
			}},
			IncludeRequestAttemptCount: true,
		})
		for j, name := range []string{base, v1, v2} {
			c, err := cluster(name, svc, port)
			if err != nil {
				return nil, err
			}
			cds.DynamicActiveClusters = append(cds.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{VersionInfo: version, Cluster: c})
			eps := 3
			if j > 0 {
				eps = 1 + j%2
			}
			cla, err := anypb.New(assignment(name, i, eps))
			if err != nil {
				return nil, err
			}
			eds.DynamicEndpointConfigs = append(eds.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{VersionInfo: version, EndpointConfig: cla})
		}
	}
	for _, port := range Ports {
		rc := &routev3.RouteConfiguration{Name: fmt.Sprint(port), VirtualHosts: append(vhosts[port], &routev3.VirtualHost{
			Name: "allow_any", Domains: []string{"*"},
			Routes: []*routev3.Route{{Name: "allow_any", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "PassthroughCluster"}}}}},
		}), ValidateClusters: wrapperspb.Bool(false)}
		a, err := anypb.New(rc)
		if err != nil {
			return nil, err
		}
		rds.DynamicRouteConfigs = append(rds.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{VersionInfo: version, RouteConfig: a})
		l, err := httpListener(port)
		if err != nil {
			return nil, err
		}
		lds.DynamicListeners = append(lds.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: fmt.Sprintf("0.0.0.0_%d", port), ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: version, Listener: l}})
	}
	vo, err := virtualOutbound()
	if err != nil {
		return nil, err
	}
	lds.DynamicListeners = append(lds.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
		Name: "virtualOutbound", ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: version, Listener: vo}})
	pass, err := anypb.New(&clusterv3.Cluster{Name: "PassthroughCluster", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		ConnectTimeout: durationpb.New(10e9), LbPolicy: clusterv3.Cluster_CLUSTER_PROVIDED})
	if err != nil {
		return nil, err
	}
	cds.DynamicActiveClusters = append(cds.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{VersionInfo: version, Cluster: pass})
	var configs []*anypb.Any
	for _, m := range []proto.Message{&cds, &lds, &rds, &eds} {
		a, err := anypb.New(m)
		if err != nil {
			return nil, err
		}
		configs = append(configs, a)
	}
	return protojson.MarshalOptions{UseProtoNames: true, Indent: " "}.Marshal(&adminv3.ConfigDump{Configs: configs})
}

func cluster(name, svc string, port uint32) (*anypb.Any, error) {
	tls, err := anypb.New(&tlsv3.UpstreamTlsContext{
		CommonTlsContext: &tlsv3.CommonTlsContext{
			AlpnProtocols:                  []string{"istio-peer-exchange", "istio"},
			TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{{Name: "default", SdsConfig: sds()}},
			ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         &tlsv3.CertificateValidationContext{},
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: "ROOTCA", SdsConfig: sds()},
			}},
		},
		Sni: fmt.Sprintf("outbound_.%d_._.%s", port, svc),
	})
	if err != nil {
		return nil, err
	}
	meta, err := structpb.NewStruct(map[string]any{"services": []any{map[string]any{"host": svc, "name": svc, "namespace": "ns"}}})
	if err != nil {
		return nil, err
	}
	return anypb.New(&clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}, ResourceApiVersion: corev3.ApiVersion_V3}, ServiceName: name},
		ConnectTimeout:       durationpb.New(10e9),
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxConnections: wrapperspb.UInt32(4294967295), MaxPendingRequests: wrapperspb.UInt32(4294967295),
			MaxRequests: wrapperspb.UInt32(4294967295), MaxRetries: wrapperspb.UInt32(4294967295), TrackRemaining: true,
		}}},
		Metadata: &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{"istio": meta}},
		TransportSocketMatches: []*clusterv3.Cluster_TransportSocketMatch{
			{Name: "tlsMode-istio", Match: mustStruct(map[string]any{"tlsMode": "istio"}), TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: tls}}},
			{Name: "tlsMode-disabled", Match: &structpb.Struct{}, TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.raw_buffer"}},
		},
	})
}

func sds() *corev3.ConfigSource {
	return &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_ApiConfigSource{ApiConfigSource: &corev3.ApiConfigSource{
		ApiType: corev3.ApiConfigSource_GRPC, TransportApiVersion: corev3.ApiVersion_V3,
		GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "sds-grpc"}}}},
	}}, ResourceApiVersion: corev3.ApiVersion_V3}
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err) // constant input
	}
	return s
}

func assignment(name string, i, n int) *endpointv3.ClusterLoadAssignment {
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	le := &endpointv3.LocalityLbEndpoints{Locality: &corev3.Locality{Region: "r1", Zone: "z1"}, LoadBalancingWeight: wrapperspb.UInt32(uint32(n))}
	for k := 0; k < n; k++ {
		le.LbEndpoints = append(le.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: fmt.Sprintf("10.%d.%d.%d", 1+k, (i/250)%250, i%250), PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8000},
			}}}}},
			HealthStatus:        corev3.HealthStatus_HEALTHY,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		})
	}
	cla.Endpoints = []*endpointv3.LocalityLbEndpoints{le}
	return cla
}

func httpListener(port uint32) (*anypb.Any, error) {
	router, err := anypb.New(&routerv3.Router{})
	if err != nil {
		return nil, err
	}
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{
		StatPrefix: "outbound_0.0.0.0_" + fmt.Sprint(port),
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: fmt.Sprint(port),
			ConfigSource: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}, ResourceApiVersion: corev3.ApiVersion_V3}}},
		HttpFilters:      []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}},
		UseRemoteAddress: wrapperspb.Bool(false),
	})
	if err != nil {
		return nil, err
	}
	return anypb.New(&listenerv3.Listener{
		Name:             fmt.Sprintf("0.0.0.0_%d", port),
		Address:          &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}},
		BindToPort:       wrapperspb.Bool(false),
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		FilterChains: []*listenerv3.FilterChain{{
			FilterChainMatch: &listenerv3.FilterChainMatch{TransportProtocol: "raw_buffer", ApplicationProtocols: []string{"http/1.1", "h2c"}},
			Filters:          []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm}}},
		}},
	})
}

func virtualOutbound() (*anypb.Any, error) {
	tp, err := anypb.New(&tcpv3.TcpProxy{StatPrefix: "PassthroughCluster", ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: "PassthroughCluster"}})
	if err != nil {
		return nil, err
	}
	return anypb.New(&listenerv3.Listener{
		Name:           "virtualOutbound",
		Address:        &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 15001}}}},
		UseOriginalDst: wrapperspb.Bool(true),
		FilterChains: []*listenerv3.FilterChain{{Name: "PassthroughFilterChain",
			Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tp}}}}},
	})
}
