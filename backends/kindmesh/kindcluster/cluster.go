package kindcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	kindlog "sigs.k8s.io/kind/pkg/log"
)

// Cluster is a kind cluster this run created (or reuses), driven through
// kind's Go API: no kind binary is needed, only a Docker CLI and daemon.
type Cluster struct {
	name       string
	kubeconfig string
	provider   *cluster.Provider
	log        io.Writer
}

// CreateOptions are what Create needs besides the cluster config.
type CreateOptions struct {
	// Kubeconfig is the file kind writes the cluster's credentials to (it
	// is created; default: <dir of the reports>/<name>.kubeconfig is the
	// caller's choice, so required).
	Kubeconfig string
	// WaitReady is how long kind waits for the control plane to be Ready
	// (timeouts.ClusterReady).
	WaitReady time.Duration
	// Reuse takes an existing cluster of the same name instead of failing.
	Reuse bool
	// Log receives kind's progress lines (nil: discarded).
	Log io.Writer
}

// Create creates the cluster opts describes, or with Reuse takes the
// running one of that name. On a failed create, kind has already removed
// the half-made nodes.
func Create(opts Options, co CreateOptions) (*Cluster, error) {
	cfg, err := Config(opts)
	if err != nil {
		return nil, err
	}
	if co.Kubeconfig == "" {
		return nil, fmt.Errorf("kindcluster: %w: no kubeconfig path", ErrBadOption)
	}
	c := open(opts.Name, co.Kubeconfig, co.Log)
	existing, err := c.provider.List()
	if err != nil {
		return nil, fmt.Errorf("kindcluster: listing kind clusters: %w", err)
	}
	for _, n := range existing {
		if n != opts.Name {
			continue
		}
		if !co.Reuse {
			return nil, fmt.Errorf("kindcluster: cluster %q exists already (delete it, or reuse it)", opts.Name)
		}
		if err := c.provider.ExportKubeConfig(opts.Name, co.Kubeconfig, false); err != nil {
			return nil, fmt.Errorf("kindcluster: kubeconfig of existing cluster %q: %w", opts.Name, runError(err))
		}
		return c, nil
	}
	err = c.provider.Create(opts.Name,
		cluster.CreateWithV1Alpha4Config(cfg),
		cluster.CreateWithKubeconfigPath(co.Kubeconfig),
		cluster.CreateWithWaitForReady(co.WaitReady),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	)
	if err != nil {
		return nil, fmt.Errorf("kindcluster: creating cluster %q from %s: %w", opts.Name, opts.NodeImage, runError(err))
	}
	return c, nil
}

// Open returns a handle on an existing cluster (for delete and log export
// from another process, such as after an interrupted run).
func Open(name, kubeconfig string, log io.Writer) *Cluster {
	return open(name, kubeconfig, log)
}

func open(name, kubeconfig string, log io.Writer) *Cluster {
	if log == nil {
		log = io.Discard
	}
	return &Cluster{
		name:       name,
		kubeconfig: kubeconfig,
		log:        log,
		provider:   cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(writerLogger{log})),
	}
}

// Name is the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Kubeconfig is the path of the cluster's kubeconfig.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// OwnerLabel marks containers a run starts beside its cluster (the VMs):
// OwnerLabel=<cluster name>. Delete removes them with the cluster.
const OwnerLabel = "meshcheck.cluster"

// Delete removes the cluster's nodes, its kubeconfig entry and the
// containers labelled OwnerLabel=<name>. Deleting a cluster that is gone is
// not an error.
func (c *Cluster) Delete() error {
	if err := c.provider.Delete(c.name, c.kubeconfig); err != nil {
		return fmt.Errorf("kindcluster: deleting cluster %q: %w", c.name, runError(err))
	}
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+OwnerLabel+"="+c.name).Output()
	if err != nil {
		return fmt.Errorf("kindcluster: listing the containers of cluster %q: %w", c.name, err)
	}
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		if b, err := exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("kindcluster: removing the containers of cluster %q: %w: %s", c.name, err, strings.TrimSpace(string(b)))
		}
	}
	return nil
}

// ExportLogs writes kind's logs of every node (journal, containerd,
// kubelet, pods) under dir, as `kind export logs` does.
func (c *Cluster) ExportLogs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kindcluster: %w", err)
	}
	if err := c.provider.CollectLogs(c.name, dir); err != nil {
		return fmt.Errorf("kindcluster: exporting logs of %q into %s: %w", c.name, dir, runError(err))
	}
	return nil
}

// Nodes lists the cluster's node containers.
func (c *Cluster) Nodes() ([]nodes.Node, error) {
	ns, err := c.provider.ListInternalNodes(c.name)
	if err != nil {
		return nil, fmt.Errorf("kindcluster: nodes of %q: %w", c.name, runError(err))
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("kindcluster: cluster %q has no nodes (deleted?)", c.name)
	}
	return ns, nil
}

// Node returns the node container of that name (a pod's spec.nodeName).
func (c *Cluster) Node(name string) (nodes.Node, error) {
	ns, err := c.Nodes()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range ns {
		if n.String() == name {
			return n, nil
		}
		names = append(names, n.String())
	}
	return nil, fmt.Errorf("kindcluster: no node %q in cluster %q (nodes: %s)", name, c.name, strings.Join(names, ", "))
}

// LoadImages copies local Docker images into every node's containerd, as
// `kind load docker-image` does: one `docker save` per call, imported on
// each node.
func (c *Cluster) LoadImages(ctx context.Context, images ...string) error {
	if len(images) == 0 {
		return nil
	}
	ns, err := c.Nodes()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "meshcheck-images-*.tar")
	if err != nil {
		return fmt.Errorf("kindcluster: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var stderr bytes.Buffer
	save := exec.CommandContext(ctx, "docker", append([]string{"save"}, images...)...)
	save.Stdout, save.Stderr = tmp, &stderr
	if err := save.Run(); err != nil {
		return fmt.Errorf("kindcluster: docker save %s: %w: %s", strings.Join(images, " "), err, strings.TrimSpace(stderr.String()))
	}
	for _, n := range ns {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("kindcluster: %w", err)
		}
		if err := nodeutils.LoadImageArchive(n, tmp); err != nil {
			return fmt.Errorf("kindcluster: loading %s into node %s: %w", strings.Join(images, " "), n, runError(err))
		}
	}
	return nil
}

// NodeExec runs a command in a node container and returns its standard
// output; a failure carries the command and its combined output.
func NodeExec(ctx context.Context, n nodes.Node, stdin io.Reader, name string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := n.CommandContext(ctx, name, args...).SetStdout(&out).SetStderr(&errb)
	if stdin != nil {
		cmd.SetStdin(stdin)
	}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("node %s: %s %s: %w: %s", n, name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// runError makes kind's *exec.RunError show the command's output, which
// its Error() leaves out.
func runError(err error) error {
	var re *kindexec.RunError
	if errors.As(err, &re) && len(re.Output) > 0 {
		out := strings.TrimSpace(string(re.Output))
		if len(out) > 4000 {
			out = "…" + out[len(out)-4000:]
		}
		return fmt.Errorf("%w; its output:\n%s", err, out)
	}
	return err
}

// KubeconfigPath is where a run keeps its cluster's kubeconfig.
func KubeconfigPath(dir, name string) string {
	return filepath.Join(dir, name+".kubeconfig")
}

// writerLogger is kind's logger over a writer: warnings and info lines,
// verbosity 0 only (kind's V(1) lines are per-step noise).
type writerLogger struct{ w io.Writer }

func (l writerLogger) Warn(m string)                        { fmt.Fprintln(l.w, "kind: WARNING:", m) }
func (l writerLogger) Warnf(f string, a ...any)             { l.Warn(fmt.Sprintf(f, a...)) }
func (l writerLogger) Error(m string)                       { fmt.Fprintln(l.w, "kind: ERROR:", m) }
func (l writerLogger) Errorf(f string, a ...any)            { l.Error(fmt.Sprintf(f, a...)) }
func (l writerLogger) V(v kindlog.Level) kindlog.InfoLogger { return infoLogger{l.w, v == 0} }

type infoLogger struct {
	w  io.Writer
	on bool
}

func (l infoLogger) Info(m string) {
	if l.on {
		fmt.Fprintln(l.w, "kind:", m)
	}
}
func (l infoLogger) Infof(f string, a ...any) { l.Info(fmt.Sprintf(f, a...)) }
func (l infoLogger) Enabled() bool            { return l.on }
