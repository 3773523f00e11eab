package xdstest

import (
	"bytes"
	"slices"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// Shape is one document made from a full dump, as a tool other than Envoy's
// admin prints it, with the resource types it holds.
type Shape struct {
	Name  string
	Doc   []byte
	Types []xds.Type
}

// Shapes makes, from the full dump at path (an admin /config_dump with
// include_eds, proto field names), every shape meshcheck reads: istioctl
// proxy-config all (camelCase), listeners, routes, clusters and endpoints
// (-o json, camelCase arrays; endpoints both as istioctl prints them from a
// config dump file and from a live proxy's /clusters), and the admin dump
// taken without include_eds.
func Shapes(t testing.TB, path string) []Shape {
	t.Helper()
	doc := Load(t, path)
	full := doc.Parse(t)
	all := full.Types()
	noEDSTypes := slices.DeleteFunc(slices.Clone(all), func(t xds.Type) bool { return t == xds.TypeEndpoints })
	noEDS := Load(t, path)
	noEDS.Drop("EndpointsConfigDump")
	var ls, rs, cs, es, st []proto.Message
	for _, x := range full.Listeners {
		if x.Config != nil && x.State != xds.StateWarming && x.State != xds.StateDraining {
			ls = append(ls, x.Config)
		}
	}
	for _, x := range full.Routes {
		rs = append(rs, x.Config)
	}
	for _, x := range full.Clusters {
		cs = append(cs, x.Config)
	}
	for _, x := range full.Endpoints {
		if len(x.Config.GetEndpoints()) > 0 { // istioctl leaves out empty assignments
			es = append(es, x.Config)
		}
		st = append(st, Status(x.Config))
	}
	return []Shape{
		{"all -o json", camel(t, doc), all},
		{"admin without include_eds", noEDS.Bytes(t), noEDSTypes},
		{"listeners -o json", Array(t, ls), []xds.Type{xds.TypeListeners}},
		{"routes -o json", Array(t, rs), []xds.Type{xds.TypeRoutes}},
		{"clusters -o json", Array(t, cs), []xds.Type{xds.TypeClusters}},
		{"endpoints -o json (config dump file)", Array(t, es), []xds.Type{xds.TypeEndpoints}},
		{"endpoints -o json (live /clusters)", Array(t, st), []xds.Type{xds.TypeEndpoints}},
	}
}

// Array prints messages as istioctl's per-type output does: a JSON array of
// camelCase objects.
func Array(t testing.TB, msgs []proto.Message) []byte {
	t.Helper()
	parts := make([][]byte, 0, len(msgs))
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	return append(append([]byte("["), bytes.Join(parts, []byte(","))...), ']')
}

// camel prints the document in istioctl's camelCase through the proto types.
func camel(t testing.TB, d Doc) []byte {
	t.Helper()
	cd := &adminv3.ConfigDump{}
	if err := protojson.Unmarshal(d.Bytes(t), cd); err != nil {
		t.Fatalf("camelCase copy: %v", err)
	}
	b, err := protojson.Marshal(cd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Drop removes the configs element whose @type ends with kind.
func (d Doc) Drop(kind string) {
	var keep []any
	for _, c := range d["configs"].([]any) {
		if tu, _ := c.(map[string]any)["@type"].(string); !bytes.HasSuffix([]byte(tu), []byte("."+kind)) {
			keep = append(keep, c)
		}
	}
	d["configs"] = keep
}

// Status turns a load assignment into the admin /clusters entry a live
// proxy reports for it (what istioctl proxy-config endpoints prints).
func Status(cla *endpointv3.ClusterLoadAssignment) *adminv3.ClusterStatus {
	cs := &adminv3.ClusterStatus{Name: cla.GetClusterName(), AddedViaApi: true}
	for _, le := range cla.GetEndpoints() {
		for _, lb := range le.GetLbEndpoints() {
			cs.HostStatuses = append(cs.HostStatuses, &adminv3.HostStatus{
				Address: lb.GetEndpoint().GetAddress(), Locality: le.GetLocality(),
				HealthStatus: &adminv3.HostHealthStatus{EdsHealthStatus: lb.GetHealthStatus()},
				Weight:       lb.GetLoadBalancingWeight().GetValue(),
			})
		}
	}
	return cs
}
