package trace

import (
	"fmt"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// TraceRouteConfig follows req through one route configuration of the dump
// alone, the way Envoy's router_check_tool judges a route table: behind an
// HTTP connection manager with Envoy's defaults (no use_remote_address, so a
// client's x-forwarded-proto is trusted; no path normalization; no HTTP
// filter but the router). The listener and filter chain are not traced, so
// req.Role, Port and Address are not needed. routeConfig may be empty when
// the dump holds exactly one route configuration.
func TraceRouteConfig(d *xds.Dump, routeConfig string, req Request) (*Result, error) {
	if why := d.Lacking(xds.TypeRoutes); why != "" {
		return nil, fmt.Errorf("trace: %s: there is no route configuration to trace", why)
	}
	if routeConfig == "" {
		names := d.RouteConfigNames()
		if len(names) != 1 {
			return nil, fmt.Errorf("trace: the dump holds %d route configurations (%s): name one", len(names), xds.HaveList(names))
		}
		routeConfig = names[0]
	}
	t := newTracer(d, req, fmt.Sprintf("%s %s%s (route configuration %q alone)", req.method(), req.Host, req.path(), routeConfig))
	t.connTLS = req.transport() == "tls"
	t.res.Protocol = "http"
	t.res.step("http", "route configuration alone, behind a connection manager with Envoy's defaults (listener and filter chain not traced)")
	t.http(&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: routeConfig}}})
	return t.res, nil
}
