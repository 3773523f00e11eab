package trace

import (
	"path/filepath"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// TestIstioRoutesStayDecided sends a request to every route of every route
// configuration in pilot's and the samples' dumps: none may be undecided,
// so the field audit does not turn Istio's ordinary output into "undecided".
func TestIstioRoutesStayDecided(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*", "*config_dump*.json"))
	if len(files) == 0 {
		t.Fatal("no dumps")
	}
	traced := 0
	for _, f := range files {
		d, err := xds.ParseFile(f, xds.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range d.RouteConfigNames() {
			rc, _ := d.RouteConfig(name)
			for _, vh := range rc.Config.GetVirtualHosts() {
				for _, r := range vh.GetRoutes() {
					req, ok := requestFor(vh, r)
					if !ok {
						continue
					}
					tr := &tracer{d: d, req: req, dropped: map[string]bool{}, res: &Result{Endpoints: map[string][]Endpoint{}}}
					tr.http(&hcmv3.HttpConnectionManager{RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: rc.Config}})
					traced++
					if len(tr.res.Unsupported) > 0 {
						t.Errorf("%s: route config %s, virtual host %s: %v\n%s", filepath.Base(f), name, vh.GetName(), tr.res.Unsupported, tr.res.Text())
					}
				}
			}
		}
	}
	if traced < 40 {
		t.Errorf("only %d routes traced", traced)
	}
}

// requestFor is a request the route matches: its virtual host's first
// domain, its prefix or path.
func requestFor(vh *routev3.VirtualHost, r *routev3.Route) (Request, bool) {
	host := "example.com"
	if ds := vh.GetDomains(); len(ds) > 0 && !strings.Contains(ds[0], "*") {
		host = ds[0]
	}
	path := r.GetMatch().GetPrefix()
	if p := r.GetMatch().GetPath(); p != "" {
		path = p
	}
	if path == "" {
		return Request{}, false
	}
	return Request{Role: RoleGateway, Port: 80, Host: host, Path: path}, true
}
