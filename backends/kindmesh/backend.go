package kindmesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
	"github.com/meshcheck/meshcheck/backends/kube"
	"github.com/meshcheck/meshcheck/internal/progress"
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

// Backend is the kind backend: a kind cluster it creates, then the
// Kubernetes backend (package kube) on it, with Istio installed by
// istioctl. It adds what only kind has: the cluster's lifetime, images
// loaded into the nodes, interception rules read from the node, the VM
// container on the kind network and the nodes' logs as evidence.
type Backend struct {
	*kube.Backend
	opts    Options
	tmo     timeouts.Timeouts
	log     io.Writer
	cluster *kindcluster.Cluster
	vms     *vmSet
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
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	b := &Backend{opts: opts, tmo: opts.Timeouts.WithDefaults(), log: log, vms: newVMSet()}
	k, err := kube.New(kube.Options{
		Kubeconfig: kindcluster.KubeconfigPath(opts.WorkDir, opts.Cluster.Name),
		Name:       "kind", Istio: kube.Install, Install: opts.Install, Istioctl: opts.Istioctl,
		IngressAddress: ingressAddress(opts.Cluster), FixtureVars: opts.FixtureVars,
		SpreadOverNodes: opts.Cluster.Workers > 0, RunID: runID(opts.Cluster.Name), WorkDir: opts.WorkDir,
		NodeRules: b.nodeRules, Log: log, Timeouts: opts.Timeouts,
	})
	if err != nil {
		return nil, err
	}
	b.Backend = k
	return b, nil
}

// runID is the run label's value on a kind cluster: the cluster's name
// without its dashes, cut to a run ID's length.
func runID(cluster string) string {
	id := strings.ToLower(strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, strings.ToLower(cluster)))
	if len(id) > 12 {
		id = id[len(id)-12:]
	}
	if kube.ValidRunID(id) != nil {
		return kube.NewRunID()
	}
	return id
}

// ingressAddress is the host address kind maps to the ingress NodePort.
func ingressAddress(c kindcluster.Options) string {
	host := c.ListenAddress
	if host == "" {
		host = "127.0.0.1"
	}
	port := c.HostPort
	if port == 0 {
		port = c.IngressNodePort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Name implements backend.Backend.
func (b *Backend) Name() string { return "kind" }

// ClusterName is the kind cluster's name.
func (b *Backend) ClusterName() string { return b.opts.Cluster.Name }

func (b *Backend) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[kind %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Up implements backend.Backend: the cluster, the images, then the kube
// backend's Up (istioctl install).
func (b *Backend) Up(ctx context.Context) error {
	if err := os.MkdirAll(b.opts.WorkDir, 0o755); err != nil {
		return fmt.Errorf("kindmesh: %w", err)
	}
	start := time.Now()
	b.logf("creating cluster %s from %s (%d worker(s))", b.opts.Cluster.Name, b.opts.Cluster.NodeImage, b.opts.Cluster.Workers)
	cluster := progress.FromContext(ctx).Start("cluster")
	c, err := kindcluster.Create(b.opts.Cluster, kindcluster.CreateOptions{
		Kubeconfig: kindcluster.KubeconfigPath(b.opts.WorkDir, b.opts.Cluster.Name),
		WaitReady:  b.tmo.ClusterReady,
		Reuse:      b.opts.Reuse,
		Log:        b.log,
	})
	cluster.Done(err)
	if err != nil {
		return err
	}
	b.cluster = c
	b.logf("cluster Ready in %.1fs; kubeconfig %s", time.Since(start).Seconds(), c.Kubeconfig())
	if err := b.Connect(); err != nil {
		return err
	}
	if b.opts.Cluster.Workers > 0 {
		// kind waits for the control plane only; a worker joins a few
		// seconds later. And kind keeps the control plane tainted when it
		// has workers; the fixtures' pods are to spread over every node.
		if err := b.WaitNodesReady(ctx, b.opts.Cluster.Workers+1); err != nil {
			return err
		}
		if err := b.UntaintControlPlane(ctx); err != nil {
			return err
		}
	}
	if len(b.opts.Images) > 0 {
		t := time.Now()
		if err := progress.Step(ctx, "images", func() error { return c.LoadImages(ctx, b.opts.Images...) }); err != nil {
			return err
		}
		b.logf("loaded %d images in %.1fs", len(b.opts.Images), time.Since(t).Seconds())
	}
	return b.Backend.Up(ctx)
}

// Down implements backend.Backend: the VM containers and the cluster go,
// unless Keep.
func (b *Backend) Down(ctx context.Context) error {
	errKube := b.Backend.Down(ctx)
	if b.opts.Keep {
		if b.cluster != nil {
			b.logf("keeping cluster %s: KUBECONFIG=%s kubectl get pods -A; delete it with: meshcheck kind delete --name %s", b.cluster.Name(), b.cluster.Kubeconfig(), b.cluster.Name())
		}
		return errKube
	}
	errVM := b.vms.stopAll(ctx)
	if b.cluster == nil {
		return errors.Join(errKube, errVM)
	}
	b.logf("deleting cluster %s", b.cluster.Name())
	return errors.Join(errKube, errVM, b.cluster.Delete())
}

// Features implements backend.Backend: the kube backend's, and a VM (a
// container on the kind network).
func (b *Backend) Features() []backend.Feature {
	return append([]backend.Feature{backend.FeatureVM}, b.Backend.Features()...)
}

// Workloads implements backend.Backend: the cluster's, and the VMs.
func (b *Backend) Workloads(ctx context.Context) ([]backend.Workload, error) {
	ws, err := b.Backend.Workloads(ctx)
	if err != nil {
		return nil, err
	}
	return append(ws, b.vms.workloads()...), nil
}

// CollectEvidence implements backend.Backend: the kube backend's evidence
// and kind's node logs (journal, containerd, kubelet, every container's
// log).
func (b *Backend) CollectEvidence(ctx context.Context, dir string) error {
	err := b.Backend.CollectEvidence(ctx, dir)
	if b.cluster == nil {
		return err
	}
	return errors.Join(err, b.cluster.ExportLogs(dir+"/kind"))
}

// nodeRules reads the rules a pod's network namespace holds from its node:
// the sandbox's pid from crictl, then each of ruleSources under nsenter.
func (b *Backend) nodeRules(ctx context.Context, pod *corev1.Pod) ([]byte, error) {
	if b.cluster == nil {
		return nil, errors.New("kindmesh: rules before Up")
	}
	node, err := b.cluster.Node(pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	pid, err := sandboxPID(ctx, node, pod.Namespace, pod.Name)
	if err != nil {
		return nil, err
	}
	var tried []string
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
	return nil, errors.New(strings.Join(tried, "; "))
}
