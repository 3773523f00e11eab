package lint_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/lint"
)

// A cluster with no healthy endpoint: Envoy answers 503 (UH) only with no
// endpoint or with panic routing off; below its panic threshold it balances
// over every endpoint, and the warning says so.
func TestNoHealthyEndpointFollowsThePanicThreshold(t *testing.T) {
	cases := []struct {
		name, lbConfig, lbEndpoints, want string
	}{
		{"default threshold", "", `{"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}}, "health_status": "UNHEALTHY"}`,
			"below the panic threshold Envoy balances over all of them"},
		{"panic routing off", `, "common_lb_config": {"healthy_panic_threshold": {}}`, `{"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}}, "health_status": "UNHEALTHY"}`,
			"panic routing off (healthy_panic_threshold 0): requests to it get 503 (UH)"},
		{"no endpoint", "", "", "0 endpoints in all): requests to it get 503 (UH)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"configs": [
 {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump", "dynamic_active_clusters": [{"cluster": {
   "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "c", "type": "EDS", "eds_cluster_config": {"eds_config": {"ads": {}}}%s}}]},
 {"@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump", "dynamic_endpoint_configs": [{"endpoint_config": {
   "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name": "c", "endpoints": [{"lb_endpoints": [%s]}]}}]}
]}`, tc.lbConfig, tc.lbEndpoints)
			d, err := xds.Parse([]byte(doc), xds.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range lint.Lint(d) {
				if f.Rule == lint.NoHealthyEndpoint {
					got = append(got, f.String())
				}
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("no-healthy-endpoint findings %q, want one saying %q", got, tc.want)
			}
		})
	}
}
