package xds_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/internal/xdstest"
)

// fullDumps are the committed pilot dumps every shape is made from.
var fullDumps = []string{
	"samples/gateway-config_dump.json", "samples/gateway-config_dump.minimal.json",
	"samples/productpage-config_dump.json", "samples/productpage-config_dump.minimal.json",
	"pilot/gateway-config_dump.json", "pilot/sleep-config_dump.json",
	"envoy/config_dump.eds.json",
}

// Every shape made from the committed dumps states the types it holds, and
// no more.
func TestTypesOfEachShape(t *testing.T) {
	for _, f := range fullDumps {
		for _, s := range xdstest.Shapes(t, filepath.Join("testdata", f)) {
			t.Run(f+"/"+s.Name, func(t *testing.T) {
				d, err := xds.Parse(s.Doc, xds.Options{Source: s.Name})
				if err != nil {
					t.Fatal(err)
				}
				if got := d.Types(); !slices.Equal(got, s.Types) {
					t.Errorf("Types() = %v, want %v (shape %s)", got, s.Types, d.Shape)
				}
				for _, typ := range xds.AllTypes {
					if d.Has(typ) == slices.Contains(d.Lacks(), typ) {
						t.Errorf("Has(%s) = %v and Lacks() = %v disagree", typ, d.Has(typ), d.Lacks())
					}
				}
				if d.HasEndpoints != d.Has(xds.TypeEndpoints) {
					t.Errorf("HasEndpoints = %v, Has(endpoints) = %v", d.HasEndpoints, d.Has(xds.TypeEndpoints))
				}
			})
		}
	}
}

// istioctl proxy-config secret|bootstrap -o json print one section object,
// camelCase and without "@type"; a lone configs element has its "@type".
func TestLoneSections(t *testing.T) {
	ts := timestamppb.New(time.Date(2026, 11, 21, 1, 2, 3, 0, time.UTC))
	secrets := &adminv3.SecretsConfigDump{DynamicActiveSecrets: []*adminv3.SecretsConfigDump_DynamicSecret{
		{Name: "default", VersionInfo: "v1", LastUpdated: ts, Secret: mustAny(t, &tlsv3.Secret{Name: "default"})},
		{Name: "ROOTCA", Secret: mustAny(t, &tlsv3.Secret{Name: "ROOTCA"})}}}
	boot := &adminv3.BootstrapConfigDump{LastUpdated: ts, Bootstrap: &bootstrapv3.Bootstrap{Node: &corev3.Node{Id: "sidecar~10.0.0.1~pp.default~default.svc.cluster.local"}}}
	marshal := func(m proto.Message, mo protojson.MarshalOptions) []byte {
		b, err := mo.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	camel, names := protojson.MarshalOptions{}, protojson.MarshalOptions{UseProtoNames: true}
	cases := []struct {
		name  string
		doc   []byte
		shape xds.Shape
		types []xds.Type
		check func(d *xds.Dump) bool
	}{
		{"secret -o json", marshal(secrets, camel), xds.ShapeIstioctlSecrets, []xds.Type{xds.TypeSecrets},
			func(d *xds.Dump) bool {
				s, ok := d.Secret("default")
				return ok && s.Version == "v1" && len(d.Secrets) == 2
			}},
		{"bootstrap -o json", marshal(boot, camel), xds.ShapeIstioctlBootstrap, []xds.Type{xds.TypeBootstrap},
			func(d *xds.Dump) bool { return d.Node.GetId() == boot.GetBootstrap().GetNode().GetId() }},
		{"one configs element", marshal(mustAny(t, secrets), names), xds.ShapeSection, []xds.Type{xds.TypeSecrets},
			func(d *xds.Dump) bool { _, ok := d.Secret("ROOTCA"); return ok }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := xds.Parse(tc.doc, xds.Options{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			if d.Shape != tc.shape || !slices.Equal(d.Types(), tc.types) || !tc.check(d) {
				t.Errorf("shape %s types %v, %d secrets, node %v; want shape %s types %v", d.Shape, d.Types(), len(d.Secrets), d.Node, tc.shape, tc.types)
			}
			if len(d.Warnings) > 0 {
				t.Errorf("warnings: %v", d.Warnings)
			}
		})
	}
}

// A real Envoy's admin dump (testdata/envoy, Envoy 1.40 fed by file-based
// xDS) holds every section; without include_eds it lacks only EDS.
func TestRealEnvoyTypes(t *testing.T) {
	all := []xds.Type{xds.TypeBootstrap, xds.TypeListeners, xds.TypeRoutes, xds.TypeScopedRoutes, xds.TypeClusters, xds.TypeEndpoints, xds.TypeSecrets}
	for _, tc := range []struct {
		file  string
		types []xds.Type
	}{
		{"envoy/config_dump.eds.json", all},
		{"envoy/config_dump.json", slices.DeleteFunc(slices.Clone(all), func(t xds.Type) bool { return t == xds.TypeEndpoints })},
	} {
		d, err := xds.ParseFile(filepath.Join("testdata", tc.file), xds.Options{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Types(), tc.types) || len(d.Listeners) != 2 || len(d.Clusters) != 4 {
			t.Errorf("%s: types %v (want %v), %d listeners, %d clusters", tc.file, d.Types(), tc.types, len(d.Listeners), len(d.Clusters))
		}
	}
}
