package envoylab

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBootstrap(t *testing.T) {
	c := &Case{
		RouteConfig: map[string]any{"virtual_hosts": []any{map[string]any{"routes": []any{
			map[string]any{"route": map[string]any{"cluster": "a"}},
			map[string]any{"route": map[string]any{"cluster": "ghost"}},
		}}}},
		HCM:      map[string]any{"strip_any_host_port": true},
		Clusters: []ClusterSpec{{Name: "ghost", Kind: KindMissing}, {Name: "d", Kind: KindDNS}, {Name: "e", Kind: KindEmpty}, {Name: "h", Hostname: "h.internal", Health: "UNHEALTHY"}},
	}
	echoes := map[string]*echoServer{"a": {port: 1001}, "d": {port: 1002}, "h": {port: 1003}}
	b, err := json.Marshal(bootstrap(c, 2000, "/tmp/log", echoes, tlsTransportSocket("CERT", "KEY")))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`"validate_clusters":false`,  // a missing cluster is allowed
		`"strip_any_host_port":true`, // the case's hcm fields
		`"port_value":2000`,          // the listener
		`"name":"a"`,                 // an echo cluster
		`"type":"STRICT_DNS"`,        // kind dns
		`"address":"localhost"`,      // on localhost
		`"lb_endpoints":[]`,          // kind empty
		`"hostname":"h.internal"`,
		`"health_status":"UNHEALTHY"`,       // the endpoint's hostname
		`"inline_string":"CERT"`,            // the TLS listener
		`"path":"/tmp/log"`,                 // the access log
		`CaresDnsResolverConfig`,            // no DNS query leaves the machine
		`"route_config":{"name":"envoylab"`, // the route configuration's default name
		`"%RESPONSE_CODE_DETAILS%"`,         // Envoy's account of each request
		`"envoy.filters.http.router"`,       // the router filter
		`"envoy.transport_sockets.tls"`,     // the TLS transport socket
		`"cluster_name":"e"`,                // the empty cluster is defined
		`"connect_timeout":"1s"`,            // every cluster
		`"admin":{"address":{"socket_address":{"address":"127.0.0.1","port_value":0}}}`, // admin on 127.0.0.1:0
	} {
		if !strings.Contains(got, want) {
			t.Errorf("bootstrap lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"name":"ghost"`) {
		t.Errorf("the missing cluster is defined:\n%s", got)
	}
	if _, ok := c.RouteConfig["name"]; ok {
		t.Error("bootstrap changed the case's route configuration")
	}
}
