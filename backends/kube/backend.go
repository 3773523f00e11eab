package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/klient/decoder"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/internal/progress"
	"github.com/meshcheck/meshcheck/timeouts"
)

// IstioMode says whether the backend installs Istio or uses the one the
// cluster runs.
type IstioMode string

// The Istio modes.
const (
	// Install runs istioctl install with Options.Install (the kind
	// backend always does).
	Install IstioMode = "install"
	// Existing detects the control plane the cluster runs and adapts to
	// it; it refuses, before creating anything, when the suites' needs
	// are missing (see Detect).
	Existing IstioMode = "existing"
)

// Options configure a Kubernetes backend.
type Options struct {
	// Kubeconfig is the kubeconfig file (required); Context one of its
	// contexts ("" takes its current context).
	Kubeconfig, Context string
	// Name is what Name returns (default "kube"; the kind backend says
	// "kind").
	Name string
	// Istio is Install (default) or Existing.
	Istio IstioMode
	// Detect says where the control plane is (Istio Existing only).
	Detect DetectOptions
	// Install is what istioctl installs (Istio Install only).
	Install istioinstall.Options
	// Istioctl is the istioctl binary (Istio Install only).
	Istioctl string
	// IngressAddress is host:port of the ingress gateway's HTTP port as
	// the host reaches it; "" reads it from the gateway's Service (its
	// LoadBalancer address, or a node's address and the NodePort).
	IngressAddress string
	// FixtureVars are passed to every fixture (image registries and tags).
	FixtureVars map[string]string
	// NamespaceSuffix puts the fixtures in namespaces of the run's own,
	// <namespace>-<RunID> (Namespace), refuses anything else, and deletes
	// them at Down; the kind backend, whose cluster is the run's, leaves
	// it off.
	NamespaceSuffix bool
	// SpreadOverNodes spreads every fixture Deployment's pods over the
	// nodes (a multi-node cluster).
	SpreadOverNodes bool
	// RunID labels everything the run creates (RunLabel=RunID) and
	// suffixes its namespaces; "" takes a fresh one (NewRunID).
	RunID string
	// WorkDir holds the istioctl overlay (required with Istio Install).
	WorkDir string
	// NodeRules, when set, reads a pod's interception rules from its node
	// (the kind backend); nil reads the istio-init (or istio-validation)
	// container's log.
	NodeRules func(ctx context.Context, pod *corev1.Pod) ([]byte, error)
	// Log receives progress lines (nil: discarded).
	Log io.Writer
	// Timeouts bound every wait (zero fields take the defaults).
	Timeouts timeouts.Timeouts
}

// Backend is a Kubernetes cluster reached through a kubeconfig, with Istio
// installed by istioctl or found there.
type Backend struct {
	opts Options
	tmo  timeouts.Timeouts
	log  io.Writer
	kube *client
	mesh Mesh

	mu      sync.Mutex
	applied []*fixtures.Set
	istiod  *forwarded
}

// forwarded is a live port-forward.
type forwarded struct {
	pod, addr string
	stop      func()
}

var _ backend.Backend = (*Backend)(nil)

// New returns a backend for opts; Up connects to the cluster.
func New(opts Options) (*Backend, error) {
	if opts.Kubeconfig == "" {
		return nil, errors.New("kube: no kubeconfig (--kubeconfig)")
	}
	if opts.Name == "" {
		opts.Name = "kube"
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if err := ValidRunID(opts.RunID); err != nil {
		return nil, err
	}
	switch opts.Istio {
	case "":
		opts.Istio = Install
	case Install, Existing:
	default:
		return nil, fmt.Errorf("kube: --istio %q: want install or existing", opts.Istio)
	}
	if opts.Istio == Install {
		if err := checkInstall(opts); err != nil {
			return nil, err
		}
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	return &Backend{opts: opts, tmo: opts.Timeouts.WithDefaults(), log: log, mesh: installedMesh(opts.Install)}, nil
}

// checkInstall checks what Istio Install needs.
func checkInstall(opts Options) error {
	if opts.Istioctl == "" {
		return errors.New("kube: no istioctl binary (Options.Istioctl, --istioctl)")
	}
	if opts.WorkDir == "" {
		return errors.New("kube: no work directory (Options.WorkDir)")
	}
	if _, err := istioinstall.InstallArgs(opts.Install); err != nil {
		return err
	}
	return nil
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return b.opts.Name }

// RunID is the run's identity: the value of RunLabel on what it creates.
func (b *Backend) RunID() string { return b.opts.RunID }

// Mesh is what the backend knows of the control plane (after Up: what it
// installed, or what it detected).
func (b *Backend) Mesh() Mesh { return b.mesh }

// FixtureVars are the variables every fixture gets on this backend.
func (b *Backend) FixtureVars() map[string]string { return b.opts.FixtureVars }

func (b *Backend) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[%s %s] %s\n", b.opts.Name, time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Connect opens the client to the cluster (Up does; the kind backend calls
// it earlier to wait for its nodes). Calling it again is a no-op.
func (b *Backend) Connect() error {
	if b.kube != nil {
		return nil
	}
	k, err := newClient(b.opts.Kubeconfig, b.opts.Context)
	if err != nil {
		return err
	}
	b.kube = k
	return nil
}

// Up implements backend.Backend: it connects, then installs Istio with
// istioctl (Install) or detects the one the cluster runs and refuses when
// it lacks what the suites need (Existing).
func (b *Backend) Up(ctx context.Context) error {
	if err := b.Connect(); err != nil {
		return err
	}
	b.logf("run %s on %s (context %q); Istio: %s", b.opts.RunID, b.opts.Kubeconfig, b.opts.Context, b.opts.Istio)
	if b.opts.Istio == Existing {
		do := b.opts.Detect
		do.BuildInfo = b.istiodBuild
		m, err := Detect(ctx, b.kube.cs, do)
		if err != nil {
			return err
		}
		b.mesh = m
		b.logf("found %s", m)
		return nil
	}
	t := time.Now()
	if err := progress.Step(ctx, "Istio", func() error { return b.installIstio(ctx) }); err != nil {
		return err
	}
	b.logf("Istio installed and ready in %.1fs", time.Since(t).Seconds())
	return nil
}

func (b *Backend) installIstio(ctx context.Context) error {
	if err := os.MkdirAll(b.opts.WorkDir, 0o755); err != nil {
		return fmt.Errorf("kube: %w", err)
	}
	overlay, err := istioinstall.Overlay(b.opts.Install)
	if err != nil {
		return err
	}
	o := b.opts.Install
	o.OverlayPath = filepath.Join(b.opts.WorkDir, b.opts.RunID+".istio-overlay.yaml")
	if err := os.WriteFile(o.OverlayPath, overlay, 0o644); err != nil {
		return fmt.Errorf("kube: %w", err)
	}
	args, err := istioinstall.InstallArgs(o)
	if err != nil {
		return err
	}
	args = append(args, "--kubeconfig", b.opts.Kubeconfig)
	if b.opts.Context != "" {
		args = append(args, "--context", b.opts.Context)
	}
	ctx, cancel := context.WithTimeout(ctx, b.tmo.IstioInstall)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, b.opts.Istioctl, args...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, b.log), io.MultiWriter(&out, b.log)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kube: %s %s: %w\n%s", b.opts.Istioctl, strings.Join(args, " "), err, tail(out.String(), 4000))
	}
	return b.waitDeployments(ctx, istioinstall.Namespace)
}

// Down implements backend.Backend: the port-forward closes and everything
// the run created (what carries its RunLabel) is deleted; Istio, when the
// backend installed it, stays (the kind backend deletes the cluster).
func (b *Backend) Down(ctx context.Context) error {
	b.dropForward()
	if b.kube == nil {
		return nil
	}
	return b.Cleanup(ctx)
}

// Apply implements backend.Backend: a server-side apply of every document.
func (b *Backend) Apply(ctx context.Context, set *fixtures.Set) error {
	if b.kube == nil {
		return errors.New("kube: Apply before Up")
	}
	if err := b.ownNamespaces(set); err != nil {
		return err
	}
	mutate := []decoder.MutateFunc{labelRun(b.opts.RunID, b.mesh)}
	if b.opts.SpreadOverNodes {
		mutate = append(mutate, spreadOverNodes)
	}
	if err := b.kube.apply(ctx, set.Documents, mutate...); err != nil {
		return fmt.Errorf("kube: fixture %s: %w", set.Fixture.Name, err)
	}
	b.mu.Lock()
	b.applied = append(b.applied, set)
	b.mu.Unlock()
	return nil
}

// Delete implements backend.Backend: the set's Istio configuration is
// deleted (workloads stay, as in the embedded mesh).
func (b *Backend) Delete(ctx context.Context, set *fixtures.Set) error {
	if b.kube == nil {
		return errors.New("kube: Delete before Up")
	}
	var docs []fixtures.Document
	for _, d := range set.Documents {
		if strings.Contains(d.APIVersion, "istio.io/") {
			docs = append(docs, d)
		}
	}
	return b.kube.deleteDocs(ctx, docs)
}

// namespaces are the namespaces fixtures were applied to, sorted.
func (b *Backend) namespaces() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range b.applied {
		for _, n := range s.Namespaces {
			seen[n.Name] = true
		}
		for _, d := range s.Deployments {
			seen[d.Namespace] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// WaitReady implements backend.Backend: every Deployment in the fixtures'
// namespaces is available, then every proxy is in istiod's syncz and has
// ACKed everything sent to it, in three polls in a row spread over at
// least PilotEvent (so a push still debouncing in istiod is not missed). A
// NACK fails at once with Envoy's message.
func (b *Backend) WaitReady(ctx context.Context) error {
	for _, ns := range b.namespaces() {
		if err := b.waitDeployments(ctx, ns); err != nil {
			return err
		}
	}
	var st lastState
	cond := st.streak(3, b.syncedOnce, func(err error) bool {
		var nack *backend.NACKError
		return errors.As(err, &nack)
	})
	return waitFor(ctx, "proxies not synced", b.tmo.ProxySync, b.tmo.PilotEvent/2, cond, &st)
}

// syncedOnce checks syncz once against the meshed pods.
func (b *Backend) syncedOnce(ctx context.Context) error {
	proxies, err := b.Proxies(ctx)
	if err != nil {
		return err
	}
	syncs, err := b.Sync(ctx)
	if err != nil {
		return err
	}
	if len(proxies) == 0 {
		return errors.New("no proxies running")
	}
	names := make([]string, len(proxies))
	for i, p := range proxies {
		names[i] = p.String()
	}
	behind, err := backend.Unsynced(names, syncs)
	if err != nil {
		return err
	}
	if len(behind) > 0 {
		return fmt.Errorf("%d of %d proxies not synced: %s", len(behind), len(proxies), strings.Join(behind, "; "))
	}
	return nil
}

// podStates describes the pods of a namespace that are not ready.
func (b *Backend) podStates(namespace string) string {
	ctx, cancel := context.WithTimeout(context.Background(), b.tmo.ClusterCommand)
	defer cancel()
	pods, err := b.kube.cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, p := range pods.Items {
		if podReady(&p) {
			continue
		}
		var why []string
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			switch {
			case cs.State.Waiting != nil:
				why = append(why, fmt.Sprintf("%s waiting: %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message))
			case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
				why = append(why, fmt.Sprintf("%s exited %d: %s %s", cs.Name, cs.State.Terminated.ExitCode, cs.State.Terminated.Reason, cs.State.Terminated.Message))
			case !cs.Ready:
				why = append(why, cs.Name+" not ready")
			}
		}
		out = append(out, fmt.Sprintf("%s (%s; %s)", p.Name, p.Status.Phase, strings.Join(why, ", ")))
	}
	if len(out) == 0 {
		return "all ready"
	}
	return strings.Join(out, "; ")
}

func podReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// proxyKind tells whether a pod runs a sidecar (istio-proxy as a container
// or as a native sidecar init container) or is the ingress gateway (its
// Service's namespace, its selector's labels).
func (g Ingress) proxyKind(p *corev1.Pod) backend.ProxyKind {
	if g.isGateway(p) {
		return backend.Gateway
	}
	for _, c := range p.Spec.Containers {
		if c.Name == "istio-proxy" {
			return backend.Sidecar
		}
	}
	for _, c := range p.Spec.InitContainers {
		if c.Name == "istio-proxy" && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			return backend.Sidecar
		}
	}
	return ""
}

// Workloads implements backend.Backend: running pods of the fixtures'
// namespaces, the ingress gateway, and the VMs.
func (b *Backend) Workloads(ctx context.Context) ([]backend.Workload, error) {
	if b.kube == nil {
		return nil, errors.New("kube: Workloads before Up")
	}
	var out []backend.Workload
	gw := b.mesh.Ingress
	for _, ns := range append([]string{gw.Namespace}, b.namespaces()...) {
		pods, err := b.kube.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("kube: pods in %s: %w", ns, needs(err))
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
				continue
			}
			kind := gw.proxyKind(p)
			if ns == gw.Namespace && kind != backend.Gateway {
				continue
			}
			w := backend.Workload{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, Annotations: p.Annotations, IP: p.Status.PodIP, Proxy: kind, Node: p.Spec.NodeName}
			for _, c := range p.Spec.Containers {
				if c.Name == "istio-proxy" {
					continue
				}
				for _, port := range c.Ports {
					w.Ports = append(w.Ports, int(port.ContainerPort))
				}
			}
			out = append(out, w)
		}
	}
	return out, nil
}

// Proxies implements backend.Backend.
func (b *Backend) Proxies(ctx context.Context) ([]backend.Proxy, error) {
	ws, err := b.Workloads(ctx)
	if err != nil {
		return nil, err
	}
	var out []backend.Proxy
	for _, w := range ws {
		if w.Proxy != "" {
			out = append(out, backend.Proxy{Workload: w})
		}
	}
	return out, nil
}

// ConfigDump implements backend.Backend: pilot-agent asks its Envoy's admin
// API from inside istio-proxy.
func (b *Backend) ConfigDump(ctx context.Context, p backend.Proxy) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	res, err := b.kube.exec(ctx, p.Namespace, p.Name, "istio-proxy", []string{"pilot-agent", "request", "GET", "config_dump?include_eds"}, nil)
	if err != nil {
		return nil, fmt.Errorf("kube: config dump of %s: %w", p, err)
	}
	return res.Stdout, nil
}

// InterceptionRules implements backend.Backend: the rules the pod's network
// namespace holds, read from its node where Options.NodeRules can; else
// the rules istio-iptables printed in the pod's istio-init container's
// log (or, with Istio's CNI plugin, istio-validation's).
func (b *Backend) InterceptionRules(ctx context.Context, w backend.Workload) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	pod, err := b.kube.cs.CoreV1().Pods(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("kube: rules of %s: %w", w, needs(err))
	}
	var tried []string
	if b.opts.NodeRules != nil {
		rules, err := b.opts.NodeRules(ctx, pod)
		if err == nil {
			return rules, nil
		}
		tried = append(tried, err.Error())
	}
	for _, c := range []string{"istio-init", "istio-validation"} {
		if !hasInitContainer(pod, c) {
			continue
		}
		log, err := b.kube.podLog(ctx, w.Namespace, w.Name, corev1.PodLogOptions{Container: c})
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if rules, ok := initLogRules(log); ok {
			return rules, nil
		}
		tried = append(tried, fmt.Sprintf("the %s log holds no iptables-restore input with ISTIO_ chains (%d bytes, starting %q)", c, len(log), prefix(string(log), 200)))
	}
	if len(tried) == 0 {
		tried = append(tried, "the pod has no istio-init or istio-validation container")
	}
	return nil, fmt.Errorf("kube: no interception rules for %s: %s", w, strings.Join(tried, "; "))
}

func hasInitContainer(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Mark implements backend.Backend: access logs are read by time.
func (b *Backend) Mark(context.Context) (backend.Mark, error) {
	return backend.Mark{At: time.Now()}, nil
}

// AccessLogs implements backend.Backend: istio-proxy's log lines written
// after the mark.
func (b *Backend) AccessLogs(ctx context.Context, p backend.Proxy, since backend.Mark) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	st := metav1.NewTime(since.At.Add(-time.Second))
	log, err := b.kube.podLog(ctx, p.Namespace, p.Name, corev1.PodLogOptions{Container: "istio-proxy", Timestamps: true, SinceTime: &st})
	if err != nil {
		return nil, fmt.Errorf("kube: access log of %s: %w", p, err)
	}
	out, err := sinceMark(log, since.At)
	if err != nil {
		return nil, fmt.Errorf("kube: access log of %s: %w", p, err)
	}
	return out, nil
}

// Ingress implements backend.Backend: Options.IngressAddress, or the
// address the gateway's Service gives (IngressAddress).
func (b *Backend) Ingress(ctx context.Context) (traffic.Transport, error) {
	addr := b.opts.IngressAddress
	if addr == "" {
		if b.kube == nil {
			return nil, errors.New("kube: Ingress before Up")
		}
		var err error
		if addr, err = b.IngressAddress(ctx); err != nil {
			return nil, err
		}
	}
	return &traffic.HTTPTransport{Address: addr}, nil
}

// InWorkload implements backend.Backend: curl exec'd in the workload's
// first app container, so the request leaves through its sidecar.
func (b *Backend) InWorkload(ctx context.Context, w backend.Workload, addr string) (traffic.Transport, error) {
	pod, err := b.kube.cs.CoreV1().Pods(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	container := ""
	for _, c := range pod.Spec.Containers {
		if c.Name != "istio-proxy" {
			container = c.Name
			break
		}
	}
	if container == "" {
		return nil, fmt.Errorf("kube: pod %s has no app container to send from", w)
	}
	return &traffic.ExecTransport{Exec: &podExecer{k: b.kube, ns: w.Namespace, pod: w.Name, container: container}, Address: addr}, nil
}

// podExecer runs commands in one container (traffic.Execer).
type podExecer struct {
	k                  *client
	ns, pod, container string
}

func (e *podExecer) Exec(ctx context.Context, argv []string) ([]byte, []byte, error) {
	res, err := e.k.exec(ctx, e.ns, e.pod, e.container, argv, nil)
	return res.Stdout, res.Stderr, err
}

func (e *podExecer) String() string {
	return "exec in " + e.ns + "/" + e.pod + " (" + e.container + ")"
}

// ServiceAddress implements backend.Backend: a Service's ClusterIP:port,
// or for a ServiceEntry host the entry's first address, or else an
// address in Istio's auto-allocation range (the sidecar's wildcard
// listener on the port routes it by Host).
func (b *Backend) ServiceAddress(ctx context.Context, namespace, name string, port int) (string, error) {
	if !strings.Contains(name, ".") {
		svc, err := b.kube.cs.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("kube: service %s/%s: %w", namespace, name, needs(err))
		}
		return net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(port)), nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.applied {
		for _, c := range s.Configs {
			if c.Kind != "ServiceEntry" || c.Namespace != namespace {
				continue
			}
			if !containsAny(c.Spec["hosts"], name) {
				continue
			}
			if addrs, ok := c.Spec["addresses"].([]any); ok && len(addrs) > 0 {
				if a, ok := addrs[0].(string); ok {
					return net.JoinHostPort(strings.Split(a, "/")[0], strconv.Itoa(port)), nil
				}
			}
		}
	}
	return net.JoinHostPort("240.240.0.1", strconv.Itoa(port)), nil
}

func containsAny(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// Sync implements backend.Backend: istiod's /debug/syncz, read through a
// port-forward to istiod's debug port (8080 answers localhost without
// authentication; a port-forward arrives on the pod's localhost). Only the
// proxies Proxies reports are kept: the demo profile's egress gateway is
// not part of any fixture.
func (b *Backend) Sync(ctx context.Context) ([]backend.ProxySync, error) {
	body, err := b.istiodGet(ctx, "/debug/syncz")
	if err != nil {
		return nil, err
	}
	all, err := parseSyncz(body)
	if err != nil {
		return nil, err
	}
	proxies, err := b.Proxies(ctx)
	if err != nil {
		return nil, err
	}
	ours := map[string]bool{}
	for _, p := range proxies {
		ours[p.String()] = true
	}
	out := all[:0]
	for _, s := range all {
		if ours[s.Proxy] {
			out = append(out, s)
		}
	}
	return out, nil
}

func (b *Backend) istiodGet(ctx context.Context, path string) ([]byte, error) {
	if b.kube == nil {
		return nil, errors.New("kube: istiod before Up")
	}
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	addr, err := b.istiodAddr(ctx)
	if err != nil {
		return nil, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.dropForward()
		return nil, fmt.Errorf("kube: istiod %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kube: istiod %s: status %d: %v %s", path, resp.StatusCode, err, prefix(string(body), 300))
	}
	return body, nil
}

// istiodAddr returns a live port-forward to a running istiod's port 8080.
func (b *Backend) istiodAddr(ctx context.Context) (string, error) {
	b.mu.Lock()
	if f := b.istiod; f != nil {
		b.mu.Unlock()
		return f.addr, nil
	}
	b.mu.Unlock()
	ns, sel := b.mesh.istiodPods()
	pods, err := b.kube.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return "", fmt.Errorf("kube: istiod pods: %w", needs(err))
	}
	for _, p := range pods.Items {
		if !podReady(&p) {
			continue
		}
		addr, stop, err := b.kube.forward(ctx, p.Namespace, p.Name, 8080)
		if err != nil {
			return "", fmt.Errorf("kube: %w", err)
		}
		b.mu.Lock()
		if b.istiod != nil {
			stop()
			addr = b.istiod.addr
		} else {
			b.istiod = &forwarded{pod: p.Name, addr: addr, stop: stop}
		}
		b.mu.Unlock()
		return addr, nil
	}
	return "", fmt.Errorf("kube: no ready istiod pod in %s with labels %s (%d pods)", ns, sel, len(pods.Items))
}

func (b *Backend) dropForward() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.istiod != nil {
		b.istiod.stop()
		b.istiod = nil
	}
}

// ServiceVIPs maps every Service's ClusterIP to "<vip NAME.NAMESPACE>":
// the cluster assigns VIPs at random, so goldens rename them. Every
// namespace's on the run's own cluster (kind); on another, the run's and
// the control plane's only (what the run may read).
func (b *Backend) ServiceVIPs(ctx context.Context) (map[string]string, error) {
	namespaces := []string{""}
	if b.opts.NamespaceSuffix {
		namespaces = b.evidenceNamespaces()
	}
	out := map[string]string{}
	for _, ns := range namespaces {
		svcs, err := b.kube.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("kube: services: %w", needs(err))
		}
		for _, s := range svcs.Items {
			for _, ip := range s.Spec.ClusterIPs {
				if ip != "" && ip != corev1.ClusterIPNone {
					out[ip] = "<vip " + s.Name + "." + s.Namespace + ">"
				}
			}
		}
	}
	return out, nil
}

// istiodBuild reads istiod's /version (its monitoring port 15014) through
// a port-forward.
func (b *Backend) istiodBuild(ctx context.Context, pod *corev1.Pod) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	addr, stop, err := b.kube.forward(ctx, pod.Namespace, pod.Name, 15014)
	if err != nil {
		return "", err
	}
	defer stop()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/version", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %v %s", resp.StatusCode, err, prefix(string(body), 300))
	}
	return string(body), nil
}
