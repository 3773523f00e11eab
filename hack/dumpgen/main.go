// Command dumpgen produces Envoy admin config dumps from Istio's real pilot,
// compiled in-process, for the tests of engines/xds.
//
// It feeds the Kubernetes objects in fixtures.yaml and the Istio configuration
// in config.yaml to pilot's FakeDiscoveryServer, builds the listeners,
// clusters, routes and endpoints pilot would push to two proxies (the ingress
// gateway and the sleep sidecar), and writes each as /config_dump?include_eds
// would (admin.v3.ConfigDump, proto field names).
//
//	go run ./hack/dumpgen -out engines/xds/testdata/pilot
//
// With -minimal it runs pilot with the parity setting (istioinstall.Parity:
// re-executing itself with pilot's environment, which pilot reads at init)
// so the output holds only upstream Envoy types.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	admin "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/mesh"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

//go:embed fixtures.yaml
var kubeObjects string

//go:embed config.yaml
var istioConfig string

func main() {
	fs := flag.NewFlagSet("dumpgen", flag.ExitOnError)
	out := fs.String("out", "engines/xds/testdata/pilot", "output directory")
	minimal := fs.Bool("minimal", false, "disable Istio-only filters (ALPN, metadata exchange) for a stock Envoy")
	_ = fs.Parse(os.Args[1:])

	if *minimal {
		if err := istioinstall.Parity.Reexec(); err != nil {
			log.Fatal(err)
		}
	}
	suffix := ""
	if *minimal {
		suffix = ".minimal"
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}

	t := &failer{}
	defer t.cleanup()
	m := mesh.DefaultMeshConfig()
	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{
		KubernetesObjectString: kubeObjects,
		ConfigString:           istioConfig,
		MeshConfig:             m,
	})

	proxies := map[string]*model.Proxy{
		"gateway": {
			Type:            model.Router,
			ID:              "istio-ingressgateway-6b8d5c7f9-gw001.istio-system",
			ConfigNamespace: "istio-system",
			IPAddresses:     []string{"10.244.0.5"},
			Labels:          map[string]string{"istio": "ingressgateway", "app": "istio-ingressgateway"},
			Metadata: &model.NodeMetadata{
				Namespace:    "istio-system",
				Labels:       map[string]string{"istio": "ingressgateway", "app": "istio-ingressgateway"},
				IstioVersion: "1.31.0",
			},
		},
		"sleep": {
			Type:            model.SidecarProxy,
			ID:              "sleep-6d5b9f8c7-slp01.default",
			ConfigNamespace: "default",
			IPAddresses:     []string{"10.244.0.20"},
			Labels:          map[string]string{"app": "sleep"},
			Metadata: &model.NodeMetadata{
				Namespace:    "default",
				Labels:       map[string]string{"app": "sleep"},
				IstioVersion: "1.31.0",
			},
		},
	}
	stamp := timestamppb.New(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	for name, p := range proxies {
		p = s.SetupProxy(p)
		dump, err := configDump(s, p, stamp)
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(*out, name+"-config_dump"+suffix+".json")
		if err := os.WriteFile(path, dump, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Println("wrote", path)
	}
}

func configDump(s *xds.FakeDiscoveryServer, p *model.Proxy, stamp *timestamppb.Timestamp) ([]byte, error) {
	const version = "2026-11-21T00:00:00Z/1"
	var (
		cds admin.ClustersConfigDump
		lds admin.ListenersConfigDump
		rds admin.RoutesConfigDump
		eds admin.EndpointsConfigDump
	)
	cds.VersionInfo, lds.VersionInfo = version, version
	for _, c := range s.Clusters(p) {
		cds.DynamicActiveClusters = append(cds.DynamicActiveClusters, &admin.ClustersConfigDump_DynamicCluster{
			VersionInfo: version, Cluster: mustAny(c), LastUpdated: stamp,
		})
	}
	for _, l := range s.Listeners(p) {
		lds.DynamicListeners = append(lds.DynamicListeners, &admin.ListenersConfigDump_DynamicListener{
			Name: l.Name,
			ActiveState: &admin.ListenersConfigDump_DynamicListenerState{
				VersionInfo: version, Listener: mustAny(l), LastUpdated: stamp,
			},
		})
	}
	for _, r := range s.Routes(p) {
		rds.DynamicRouteConfigs = append(rds.DynamicRouteConfigs, &admin.RoutesConfigDump_DynamicRouteConfig{
			VersionInfo: version, RouteConfig: mustAny(r), LastUpdated: stamp,
		})
	}
	for _, e := range s.Endpoints(p) {
		eds.DynamicEndpointConfigs = append(eds.DynamicEndpointConfigs, &admin.EndpointsConfigDump_DynamicEndpointConfig{
			VersionInfo: version, EndpointConfig: mustAny(e), LastUpdated: stamp,
		})
	}
	dump := &admin.ConfigDump{Configs: []*anypb.Any{mustAny(&cds), mustAny(&lds), mustAny(&rds), mustAny(&eds)}}
	b, err := protojson.MarshalOptions{UseProtoNames: true, Indent: "  "}.Marshal(dump)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		log.Fatal(err)
	}
	return a
}

// failer satisfies Istio's test.Failer outside a test.
type failer struct{ cleanups []func() }

func (f *failer) Fail()                     { log.Fatal("failed") }
func (f *failer) FailNow()                  { log.Fatal("failed") }
func (f *failer) Fatal(a ...any)            { log.Fatal(a...) }
func (f *failer) Fatalf(s string, a ...any) { log.Fatalf(s, a...) }
func (f *failer) Log(a ...any)              {}
func (f *failer) Logf(s string, a ...any)   {}
func (f *failer) Helper()                   {}
func (f *failer) Skip(a ...any)             { log.Fatal(append([]any{"skip: "}, a...)...) }
func (f *failer) Cleanup(fn func())         { f.cleanups = append(f.cleanups, fn) }
func (f *failer) TempDir() string           { d, _ := os.MkdirTemp("", "dumpgen"); return d }
func (f *failer) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}
