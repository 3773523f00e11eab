package kindmesh

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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/decoder"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/timeouts"
)

// Options configure a kind backend. Cluster and Install are the cluster's
// and istioctl's options; the rest is how this backend runs them.
type Options struct {
	// Cluster is the kind cluster (Name, NodeImage, Workers, ports).
	Cluster kindcluster.Options
	// Install is what istioctl installs; Install.IngressNodePort must equal
	// Cluster.IngressNodePort.
	Install istioinstall.Options
	// Istioctl is the istioctl binary (from istiorelease, or built from
	// source for air-gapped runs). Required.
	Istioctl string
	// Images are local Docker images loaded into every node before Istio is
	// installed (hub/tag images, fixture images); nothing is pulled for them.
	Images []string
	// FixtureVars are passed to every fixture (image registries and tags).
	FixtureVars map[string]string
	// VMImage runs the VM container; VMCommand is its command (the app
	// serving on the port the fixture's WorkloadEntry names).
	VMImage   string
	VMCommand []string
	// Keep leaves the cluster (and the VM container) running at Down, for
	// debugging; Down then prints how to reach and delete it.
	Keep bool
	// Reuse takes a running cluster of the same name instead of creating one.
	Reuse bool
	// WorkDir holds the kubeconfig and the istioctl overlay (required; the
	// reports directory is a good place).
	WorkDir string
	// Log receives progress lines (nil: discarded).
	Log io.Writer
	// Timeouts bound every wait (zero fields take the defaults).
	Timeouts timeouts.Timeouts
}

// Backend is the kind backend.
type Backend struct {
	opts    Options
	tmo     timeouts.Timeouts
	log     io.Writer
	cluster *kindcluster.Cluster
	kube    *kube
	vms     *vmSet

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

// New returns a kind backend for opts; Up creates the cluster.
func New(opts Options) (*Backend, error) {
	if opts.Istioctl == "" {
		return nil, errors.New("kindmesh: no istioctl binary (Options.Istioctl)")
	}
	if opts.WorkDir == "" {
		return nil, errors.New("kindmesh: no work directory (Options.WorkDir)")
	}
	if opts.Cluster.IngressNodePort == 0 {
		opts.Cluster.IngressNodePort = istioinstall.DefaultIngressNodePort
	}
	if opts.Install.IngressNodePort == 0 {
		opts.Install.IngressNodePort = opts.Cluster.IngressNodePort
	}
	if opts.Install.IngressNodePort != opts.Cluster.IngressNodePort {
		return nil, fmt.Errorf("kindmesh: the cluster maps NodePort %d but Istio would put the ingress on %d", opts.Cluster.IngressNodePort, opts.Install.IngressNodePort)
	}
	if _, err := kindcluster.Config(opts.Cluster); err != nil {
		return nil, err
	}
	if _, err := istioinstall.InstallArgs(opts.Install); err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	return &Backend{opts: opts, tmo: opts.Timeouts.WithDefaults(), log: log, vms: newVMSet()}, nil
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "kind" }

// ClusterName is the kind cluster's name.
func (b *Backend) ClusterName() string { return b.opts.Cluster.Name }

// FixtureVars are the variables every fixture gets on this backend.
func (b *Backend) FixtureVars() map[string]string { return b.opts.FixtureVars }

func (b *Backend) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[kind %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Up implements backend.Backend: the cluster, the images, Istio.
func (b *Backend) Up(ctx context.Context) error {
	if err := os.MkdirAll(b.opts.WorkDir, 0o755); err != nil {
		return fmt.Errorf("kindmesh: %w", err)
	}
	start := time.Now()
	b.logf("creating cluster %s from %s (%d worker(s))", b.opts.Cluster.Name, b.opts.Cluster.NodeImage, b.opts.Cluster.Workers)
	c, err := kindcluster.Create(b.opts.Cluster, kindcluster.CreateOptions{
		Kubeconfig: kindcluster.KubeconfigPath(b.opts.WorkDir, b.opts.Cluster.Name),
		WaitReady:  b.tmo.ClusterReady,
		Reuse:      b.opts.Reuse,
		Log:        b.log,
	})
	if err != nil {
		return err
	}
	b.cluster = c
	b.logf("cluster Ready in %.1fs; kubeconfig %s", time.Since(start).Seconds(), c.Kubeconfig())
	if b.kube, err = newKube(c.Kubeconfig()); err != nil {
		return err
	}
	if b.opts.Cluster.Workers > 0 {
		// kind waits for the control plane only; a worker joins a few
		// seconds later. And kind keeps the control plane tainted when it
		// has workers; the fixtures' pods are to spread over every node.
		if err := b.waitNodesReady(ctx); err != nil {
			return err
		}
		if err := b.untaintControlPlane(ctx); err != nil {
			return err
		}
	}
	if len(b.opts.Images) > 0 {
		t := time.Now()
		if err := c.LoadImages(ctx, b.opts.Images...); err != nil {
			return err
		}
		b.logf("loaded %d images in %.1fs", len(b.opts.Images), time.Since(t).Seconds())
	}
	t := time.Now()
	if err := b.installIstio(ctx); err != nil {
		return err
	}
	b.logf("Istio installed and ready in %.1fs", time.Since(t).Seconds())
	return nil
}

func (b *Backend) installIstio(ctx context.Context) error {
	overlay, err := istioinstall.Overlay(b.opts.Install)
	if err != nil {
		return err
	}
	o := b.opts.Install
	o.OverlayPath = filepath.Join(b.opts.WorkDir, b.opts.Cluster.Name+".istio-overlay.yaml")
	if err := os.WriteFile(o.OverlayPath, overlay, 0o644); err != nil {
		return fmt.Errorf("kindmesh: %w", err)
	}
	args, err := istioinstall.InstallArgs(o)
	if err != nil {
		return err
	}
	args = append(args, "--kubeconfig", b.cluster.Kubeconfig())
	ctx, cancel := context.WithTimeout(ctx, b.tmo.IstioInstall)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, b.opts.Istioctl, args...)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, b.log), io.MultiWriter(&out, b.log)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kindmesh: %s %s: %w\n%s", b.opts.Istioctl, strings.Join(args, " "), err, tail(out.String(), 4000))
	}
	return b.waitDeployments(ctx, istioinstall.Namespace)
}

// Down implements backend.Backend: the VM containers and the cluster go,
// unless Keep.
func (b *Backend) Down(ctx context.Context) error {
	b.mu.Lock()
	if b.istiod != nil {
		b.istiod.stop()
		b.istiod = nil
	}
	b.mu.Unlock()
	if b.opts.Keep {
		if b.cluster != nil {
			b.logf("keeping cluster %s: KUBECONFIG=%s kubectl get pods -A; delete it with: meshcheck kind delete --name %s", b.cluster.Name(), b.cluster.Kubeconfig(), b.cluster.Name())
		}
		return nil
	}
	errVM := b.vms.stopAll(ctx)
	if b.cluster == nil {
		return errVM
	}
	b.logf("deleting cluster %s", b.cluster.Name())
	return errors.Join(errVM, b.cluster.Delete())
}

// Apply implements backend.Backend: a server-side apply of every document.
func (b *Backend) Apply(ctx context.Context, set *fixtures.Set) error {
	if b.kube == nil {
		return errors.New("kindmesh: Apply before Up")
	}
	var mutate []decoder.MutateFunc
	if b.opts.Cluster.Workers > 0 {
		mutate = append(mutate, spreadOverNodes)
	}
	if err := b.kube.apply(ctx, set.Documents, mutate...); err != nil {
		return fmt.Errorf("kindmesh: fixture %s: %w", set.Fixture.Name, err)
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
		return errors.New("kindmesh: Delete before Up")
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
// or as a native sidecar init container) or is the ingress gateway.
func proxyKind(p *corev1.Pod) backend.ProxyKind {
	if p.Namespace == istioinstall.Namespace && p.Labels["istio"] == "ingressgateway" {
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
		return nil, errors.New("kindmesh: Workloads before Up")
	}
	var out []backend.Workload
	for _, ns := range append([]string{istioinstall.Namespace}, b.namespaces()...) {
		pods, err := b.kube.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("kindmesh: pods in %s: %w", ns, err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
				continue
			}
			kind := proxyKind(p)
			if ns == istioinstall.Namespace && kind != backend.Gateway {
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
	out = append(out, b.vms.workloads()...)
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
		return nil, fmt.Errorf("kindmesh: config dump of %s: %w", p, err)
	}
	return res.Stdout, nil
}

// InterceptionRules implements backend.Backend: the rules the pod's network
// namespace holds, read from its node; the istio-init log when the node
// cannot show them.
func (b *Backend) InterceptionRules(ctx context.Context, w backend.Workload) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterCommand)
	defer cancel()
	pod, err := b.kube.cs.CoreV1().Pods(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("kindmesh: rules of %s: %w", w, err)
	}
	var tried []string
	node, err := b.cluster.Node(pod.Spec.NodeName)
	if err == nil {
		var pid int
		pid, err = sandboxPID(ctx, node, w.Namespace, w.Name)
		if err == nil {
			outs := make([][]byte, len(ruleSources))
			for i, src := range ruleSources {
				args := append([]string{"-t", strconv.Itoa(pid), "-n"}, src...)
				out, err := kindcluster.NodeExec(ctx, node, nil, "nsenter", args...)
				if err != nil {
					tried = append(tried, err.Error())
					continue
				}
				outs[i] = out
			}
			if rules, _, ok := pickRules(outs); ok {
				return rules, nil
			}
			tried = append(tried, fmt.Sprintf("no ISTIO_ chains in the output of %v in pid %d's network namespace", ruleSources, pid))
		}
	}
	if err != nil {
		tried = append(tried, err.Error())
	}
	log, lerr := b.kube.podLog(ctx, w.Namespace, w.Name, corev1.PodLogOptions{Container: "istio-init"})
	if lerr == nil && bytes.Contains(log, []byte("ISTIO_")) {
		return log, nil
	}
	if lerr != nil {
		tried = append(tried, lerr.Error())
	}
	return nil, fmt.Errorf("kindmesh: no interception rules for %s: %s", w, strings.Join(tried, "; "))
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
		return nil, fmt.Errorf("kindmesh: access log of %s: %w", p, err)
	}
	out, err := sinceMark(log, since.At)
	if err != nil {
		return nil, fmt.Errorf("kindmesh: access log of %s: %w", p, err)
	}
	return out, nil
}

// Ingress implements backend.Backend: the NodePort mapped to the host.
func (b *Backend) Ingress(context.Context) (traffic.Transport, error) {
	host := b.opts.Cluster.ListenAddress
	if host == "" {
		host = "127.0.0.1"
	}
	port := b.opts.Cluster.HostPort
	if port == 0 {
		port = b.opts.Cluster.IngressNodePort
	}
	return &traffic.HTTPTransport{Address: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// InWorkload implements backend.Backend: curl exec'd in the workload's
// first app container, so the request leaves through its sidecar.
func (b *Backend) InWorkload(ctx context.Context, w backend.Workload, addr string) (traffic.Transport, error) {
	pod, err := b.kube.cs.CoreV1().Pods(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("kindmesh: %w", err)
	}
	container := ""
	for _, c := range pod.Spec.Containers {
		if c.Name != "istio-proxy" {
			container = c.Name
			break
		}
	}
	if container == "" {
		return nil, fmt.Errorf("kindmesh: pod %s has no app container to send from", w)
	}
	return &traffic.ExecTransport{Exec: &podExecer{k: b.kube, ns: w.Namespace, pod: w.Name, container: container}, Address: addr}, nil
}

// podExecer runs commands in one container (traffic.Execer).
type podExecer struct {
	k                  *kube
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
			return "", fmt.Errorf("kindmesh: service %s/%s: %w", namespace, name, err)
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
		return nil, errors.New("kindmesh: istiod before Up")
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
		return nil, fmt.Errorf("kindmesh: istiod %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kindmesh: istiod %s: status %d: %v %s", path, resp.StatusCode, err, prefix(string(body), 300))
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
	pods, err := b.kube.cs.CoreV1().Pods(istioinstall.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=istiod"})
	if err != nil {
		return "", fmt.Errorf("kindmesh: istiod pods: %w", err)
	}
	for _, p := range pods.Items {
		if !podReady(&p) {
			continue
		}
		addr, stop, err := b.kube.forward(ctx, p.Namespace, p.Name, 8080)
		if err != nil {
			return "", fmt.Errorf("kindmesh: %w", err)
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
	return "", fmt.Errorf("kindmesh: no ready istiod pod in %s (%d pods)", istioinstall.Namespace, len(pods.Items))
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
// the cluster assigns VIPs at random, so goldens rename them.
func (b *Backend) ServiceVIPs(ctx context.Context) (map[string]string, error) {
	svcs, err := b.kube.cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("kindmesh: services: %w", err)
	}
	out := map[string]string{}
	for _, s := range svcs.Items {
		for _, ip := range s.Spec.ClusterIPs {
			if ip != "" && ip != corev1.ClusterIPNone {
				out[ip] = "<vip " + s.Name + "." + s.Namespace + ">"
			}
		}
	}
	return out, nil
}

// SpreadLabel is the pod label the kind backend adds, with the namespace as
// value, to spread a fixture's pods over the nodes of a multi-node cluster.
const SpreadLabel = "meshcheck.io/spread"

// spreadOverNodes makes a Deployment's pods spread over the nodes, with the
// other pods of its namespace (at most one more on any node): Bookinfo's
// six Deployments land three and three on two nodes, so its calls cross
// nodes.
func spreadOverNodes(o k8s.Object) error {
	obj, ok := o.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("spreading %s over the nodes: a %T, not an unstructured object", o.GetName(), o)
	}
	if obj.GetKind() != "Deployment" {
		return nil
	}
	ns := obj.GetNamespace()
	if err := unstructured.SetNestedField(obj.Object, ns, "spec", "template", "metadata", "labels", SpreadLabel); err != nil {
		return fmt.Errorf("deployment %s/%s: %w", ns, obj.GetName(), err)
	}
	constraint := map[string]any{
		"maxSkew":           int64(1),
		"topologyKey":       "kubernetes.io/hostname",
		"whenUnsatisfiable": "DoNotSchedule",
		"labelSelector":     map[string]any{"matchLabels": map[string]any{SpreadLabel: ns}},
	}
	if err := unstructured.SetNestedSlice(obj.Object, []any{constraint}, "spec", "template", "spec", "topologySpreadConstraints"); err != nil {
		return fmt.Errorf("deployment %s/%s: %w", ns, obj.GetName(), err)
	}
	return nil
}

// untaintControlPlane removes the control-plane NoSchedule taint.
func (b *Backend) untaintControlPlane(ctx context.Context) error {
	nodes, err := b.kube.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("kindmesh: nodes: %w", err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		var keep []corev1.Taint
		for _, t := range n.Spec.Taints {
			if t.Key != "node-role.kubernetes.io/control-plane" {
				keep = append(keep, t)
			}
		}
		if len(keep) == len(n.Spec.Taints) {
			continue
		}
		n.Spec.Taints = keep
		if _, err := b.kube.cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("kindmesh: untainting node %s: %w", n.Name, err)
		}
	}
	return nil
}
