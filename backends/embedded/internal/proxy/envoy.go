package proxy

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/podnet"
	"github.com/meshcheck/meshcheck/timeouts"
)

// Spec identifies a proxy to pilot the way istio-agent does.
type Spec struct {
	// Kind is backend.Sidecar or backend.Gateway (a router in Istio's
	// node id).
	Kind           backend.ProxyKind
	Pod, Namespace string
	IP             string
	Labels         map[string]string
	ServiceAccount string
	WorkloadName   string
	IstioVersion   string
	ClusterID      string
	// Dir holds the proxy's sockets (admin, SDS) and logs.
	Dir string
}

// ID is the node id: type~ip~pod.namespace~namespace.svc.cluster.local,
// the type "sidecar" or, for a gateway, "router".
func (p Spec) ID() string {
	return fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", nodeType(p.Kind), p.IP, p.Pod, p.Namespace, p.Namespace)
}

// nodeType is the proxy type of Istio's node id for a proxy kind.
func nodeType(k backend.ProxyKind) string {
	if k == backend.Gateway {
		return "router"
	}
	return "sidecar"
}

// ProxyID is how pilot names the proxy: pod.namespace.
func (p Spec) ProxyID() string { return p.Pod + "." + p.Namespace }

// AdminSocket, SDSSocket, AccessLog and EnvoyLog are the proxy's files.
func (p Spec) AdminSocket() string { return filepath.Join(p.Dir, "admin.sock") }
func (p Spec) SDSSocket() string   { return filepath.Join(p.Dir, "sds.sock") }
func (p Spec) AccessLog() string   { return filepath.Join(p.Dir, "access.log") }
func (p Spec) EnvoyLog() string    { return filepath.Join(p.Dir, "envoy.log") }

// Bootstrap returns the Envoy bootstrap istio-agent would write: the node
// with Istio's metadata, ADS over the xds-grpc cluster and SDS over the
// sds-grpc cluster (both Unix sockets here), the admin on a Unix socket.
func (p Spec) Bootstrap(xdsSocket string) ([]byte, error) {
	labels := map[string]any{}
	for k, v := range p.Labels {
		labels[k] = v
	}
	meta, err := structpb.NewStruct(map[string]any{
		"NAMESPACE":         p.Namespace,
		"NAME":              p.Pod,
		"LABELS":            labels,
		"INSTANCE_IPS":      p.IP,
		"ISTIO_VERSION":     p.IstioVersion,
		"INTERCEPTION_MODE": "REDIRECT",
		"CLUSTER_ID":        p.ClusterID,
		"SERVICE_ACCOUNT":   p.ServiceAccount,
		"WORKLOAD_NAME":     p.WorkloadName,
		"MESH_ID":           "cluster.local",
	})
	if err != nil {
		return nil, fmt.Errorf("node metadata: %w", err)
	}
	h2, err := anypb.New(&httpv3.HttpProtocolOptions{UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
		ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
			Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}}}})
	if err != nil {
		return nil, err
	}
	pipeCluster := func(name, path string) *clusterv3.Cluster {
		return &clusterv3.Cluster{
			Name:                 name,
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
			ConnectTimeout:       durationpb.New(time.Second),
			TypedExtensionProtocolOptions: map[string]*anypb.Any{
				"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": h2,
			},
			LoadAssignment: &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
					Address: &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: path}}},
				}}}},
			}}},
		}
	}
	ads := &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}, ResourceApiVersion: corev3.ApiVersion_V3}
	b := &bootstrapv3.Bootstrap{
		Node:  &corev3.Node{Id: p.ID(), Cluster: p.WorkloadName + "." + p.Namespace, Metadata: meta},
		Admin: &bootstrapv3.Admin{Address: &corev3.Address{Address: &corev3.Address_Pipe{Pipe: &corev3.Pipe{Path: p.AdminSocket(), Mode: 0o666}}}},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType: corev3.ApiConfigSource_GRPC, TransportApiVersion: corev3.ApiVersion_V3,
				SetNodeOnFirstMessageOnly: true,
				GrpcServices:              []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "xds-grpc"}}}},
			},
			CdsConfig: ads,
			LdsConfig: ads,
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{
			pipeCluster("xds-grpc", xdsSocket),
			pipeCluster("sds-grpc", p.SDSSocket()),
		}},
	}
	return protojson.MarshalOptions{UseProtoNames: true, Indent: "  "}.Marshal(b)
}

// Envoy is a running Envoy process.
type Envoy struct {
	Spec Spec
	// StopGrace bounds the drain on Stop before the process is killed.
	StopGrace time.Duration
	cmd       *exec.Cmd
	done      chan error
	logs      []*os.File
}

// Start runs Envoy in the namespace as UID and GID 1337 (istio-proxy),
// with its access log (stdout) and its own log (stderr) in spec.Dir.
func Start(ctx context.Context, ns *podnet.NetNS, envoyPath string, spec Spec, xdsSocket string) (*Envoy, error) {
	boot, err := spec.Bootstrap(xdsSocket)
	if err != nil {
		return nil, err
	}
	bootPath := filepath.Join(spec.Dir, "envoy-rev0.json")
	if err := os.WriteFile(bootPath, boot, 0o644); err != nil {
		return nil, err
	}
	access, err := os.Create(spec.AccessLog())
	if err != nil {
		return nil, err
	}
	elog, err := os.Create(spec.EnvoyLog())
	if err != nil {
		access.Close()
		return nil, err
	}
	// Istio's access log is "/dev/stdout": Envoy, running as the proxy's
	// UID, reopens it, so the file behind it must be the proxy's.
	for _, f := range []*os.File{access, elog} {
		if err := f.Chown(1337, 1337); err != nil {
			access.Close()
			elog.Close()
			return nil, err
		}
	}
	args := []string{"--reuid", "1337", "--regid", "1337", "--clear-groups", "--",
		envoyPath, "-c", bootPath, "--disable-hot-restart", "--concurrency", "1", "--log-level", "warning",
		"--drain-time-s", "1", "--parent-shutdown-time-s", "2",
		// istio-agent shortens the access log flush too (Envoy flushes every 10 s by default).
		"--file-flush-interval-msec", "500"}
	cmd := ns.Exec(context.WithoutCancel(ctx), "setpriv", args...)
	cmd.Stdout, cmd.Stderr = access, elog
	if err := cmd.Start(); err != nil {
		access.Close()
		elog.Close()
		return nil, fmt.Errorf("start Envoy for %s: %w", spec.Pod, err)
	}
	e := &Envoy{Spec: spec, cmd: cmd, done: make(chan error, 1), logs: []*os.File{access, elog}}
	go func() { e.done <- cmd.Wait() }()
	return e, nil
}

// Exited returns the process's exit error if it has exited.
func (e *Envoy) Exited() (bool, error) {
	select {
	case err := <-e.done:
		e.done <- err
		return true, err
	default:
		return false, nil
	}
}

// Stop terminates Envoy and waits for it.
func (e *Envoy) Stop() {
	if e.cmd.Process != nil {
		_ = e.cmd.Process.Signal(os.Interrupt)
		select {
		case <-e.done:
		case <-time.After(cmp.Or(e.StopGrace, timeouts.Default().ProxyStop)):
			_ = e.cmd.Process.Kill()
			<-e.done
		}
	}
	for _, f := range e.logs {
		_ = f.Close()
	}
}

// Admin sends a GET to Envoy's admin interface (over its Unix socket).
func (e *Envoy) Admin(ctx context.Context, path string) ([]byte, error) {
	return AdminGet(ctx, e.Spec.AdminSocket(), path)
}

// AdminGet sends a GET to an Envoy admin Unix socket.
func AdminGet(ctx context.Context, socket, path string) ([]byte, error) {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://envoy-admin"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("Envoy admin %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("Envoy admin %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

// ConfigDump returns /config_dump?include_eds.
func (e *Envoy) ConfigDump(ctx context.Context) ([]byte, error) {
	return e.Admin(ctx, "/config_dump?include_eds")
}

// ServerState reads /server_info's state (LIVE once initialized).
func (e *Envoy) ServerState(ctx context.Context) (string, error) {
	b, err := e.Admin(ctx, "/server_info")
	if err != nil {
		return "", err
	}
	var info struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return "", err
	}
	return info.State, nil
}
