package envoylab

import (
	"maps"
)

const (
	hcmType    = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
	fileLog    = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"
	// ListenerName is the lab's one listener.
	ListenerName = "envoylab"
	// idHeader carries the lab's request id into the access log.
	idHeader = "x-envoylab-id"
)

// accessLogFormat is what the lab reads back for each request: Envoy's own
// account of the response (route_not_found, cluster_not_found,
// no_healthy_upstream, direct_response, via_upstream, ...).
var accessLogFormat = map[string]any{
	"id":      "%REQ(X-ENVOYLAB-ID)%",
	"status":  "%RESPONSE_CODE%",
	"details": "%RESPONSE_CODE_DETAILS%",
	"flags":   "%RESPONSE_FLAGS%",
	"route":   "%ROUTE_NAME%",
	"cluster": "%UPSTREAM_CLUSTER_RAW%",
}

func sockAddr(host string, port int) map[string]any {
	return map[string]any{"socket_address": map[string]any{"address": host, "port_value": port}}
}

// bootstrap is Envoy's configuration for a case: one listener (plaintext,
// or TLS with tlsSocket) holding the case's route configuration inline, and
// its clusters.
func bootstrap(c *Case, listenPort int, logPath string, echoes map[string]*echoServer, tlsSocket map[string]any) map[string]any {
	rc := maps.Clone(c.RouteConfig)
	if rc["name"] == nil {
		rc["name"] = "envoylab"
	}
	clusters := []any{}
	for _, cs := range c.clusterSpecs() {
		if cs.Kind == KindMissing {
			rc["validate_clusters"] = false
			continue
		}
		clusters = append(clusters, clusterConfig(cs, echoes[cs.Name]))
	}
	hcm := map[string]any{
		"@type":        hcmType,
		"stat_prefix":  ListenerName,
		"route_config": rc,
		"http_filters": []any{map[string]any{"name": "envoy.filters.http.router", "typed_config": map[string]any{"@type": routerType}}},
		"access_log": []any{map[string]any{"name": "envoy.access_loggers.file", "typed_config": map[string]any{
			"@type": fileLog, "path": logPath, "log_format": map[string]any{"json_format": accessLogFormat}}}},
	}
	maps.Copy(hcm, c.HCM)
	chain := map[string]any{"filters": []any{map[string]any{
		"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}}}
	if tlsSocket != nil {
		chain["transport_socket"] = tlsSocket
	}
	listener := map[string]any{
		"name":          ListenerName,
		"address":       sockAddr("127.0.0.1", listenPort),
		"filter_chains": []any{chain},
	}
	return map[string]any{
		"node":             map[string]any{"id": "envoylab", "cluster": "envoylab"},
		"admin":            map[string]any{"address": sockAddr("127.0.0.1", 0)},
		"static_resources": map[string]any{"listeners": []any{listener}, "clusters": clusters},
	}
}

// localResolver is c-ares reading /etc/hosts, with a name server on
// 127.0.0.1 port 9 (discard, nothing listens): no DNS query leaves the
// machine.
var localResolver = map[string]any{
	"name": "envoy.network.dns_resolver.cares",
	"typed_config": map[string]any{
		"@type":     "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
		"resolvers": []any{sockAddr("127.0.0.1", 9)},
	},
}

// clusterConfig is one cluster: STATIC on its echo server, STRICT_DNS on
// localhost, or without endpoints.
func clusterConfig(cs ClusterSpec, e *echoServer) map[string]any {
	c := map[string]any{"name": cs.Name, "connect_timeout": "1s", "type": "STATIC"}
	lbs := []any{}
	if cs.Kind != KindEmpty {
		host := "127.0.0.1"
		if cs.Kind == KindDNS {
			c["type"], c["dns_lookup_family"] = "STRICT_DNS", "V4_ONLY"
			c["typed_dns_resolver_config"] = localResolver
			host = "localhost"
		}
		ep := map[string]any{"address": sockAddr(host, e.port)}
		if cs.Hostname != "" {
			ep["hostname"] = cs.Hostname
		}
		lb := map[string]any{"endpoint": ep}
		if cs.Health != "" {
			lb["health_status"] = cs.Health
		}
		lbs = append(lbs, lb)
	}
	c["load_assignment"] = map[string]any{"cluster_name": cs.Name, "endpoints": []any{map[string]any{"lb_endpoints": lbs}}}
	if cs.PanicThreshold != nil {
		c["common_lb_config"] = map[string]any{"healthy_panic_threshold": map[string]any{"value": *cs.PanicThreshold}}
	}
	return c
}
