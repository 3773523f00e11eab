package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/istiorelease"
	"github.com/meshcheck/meshcheck/backends/kindmesh"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/timeouts"
)

// The kind group holds what runs before and around a kind cluster; the
// backend itself is backends/kindmesh, run by the suites (make e2e).
func newKindCmd(s streams) *cobra.Command {
	return newGroupCmd("kind", "kind backend: preflight, cluster config, versions, releases, delete, logs, host compatibility",
		newKindPreflightCmd(s),
		newKindConfigCmd(s),
		newKindVersionsCmd(s),
		newKindReleaseCmd(s),
		newKindDeleteCmd(s),
		newKindExportLogsCmd(s),
		newKindHostCompatCmd(s),
	)
}

// preflightOptions are the flags of kind preflight.
type preflightOptions struct {
	version, dockerHost, mirror string
	timeout                     time.Duration
	dockerOnly                  bool
	output                      outputFormat
}

// preflightJSON is the JSON output of kind preflight when every check passed.
type preflightJSON struct {
	IstioVersion string `json:"istioVersion,omitempty"`
	DockerHost   string `json:"dockerHost,omitempty"`
	ReleaseURL   string `json:"releaseURL,omitempty"`
	Elapsed      string `json:"elapsed"`
}

func newKindPreflightCmd(s streams) *cobra.Command {
	o := &preflightOptions{}
	c := &cobra.Command{
		Use:   "preflight --istio-version X.Y.Z [flags]",
		Short: "check that a kind run can start: Docker daemon, then the Istio release download",
		Long: `Checks, in this order, and stops at the first that fails:
  1. a Docker daemon answers /_ping at --docker-host ($DOCKER_HOST, or
     unix:///var/run/docker.sock);
  2. a HEAD request on the release's istioctl archive succeeds, at
     --mirror ($MESHCHECK_ISTIO_MIRROR) or GitHub's release downloads.
Each failure says which check failed and what to do. make e2e runs this
first.

Exit codes: 0 ready, 1 a precondition is missing, 64 usage (including an
unsupported Istio version).`,
		Example: `  meshcheck kind preflight --istio-version 1.30.4
  meshcheck kind preflight --istio-version 1.31.1 --mirror https://mirror.example/istio --timeout 2s
  meshcheck kind preflight --docker-only`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), s) },
	}
	f := c.Flags()
	f.StringVar(&o.version, "istio-version", "", "Istio release X.Y.Z under test (required)")
	f.StringVar(&o.dockerHost, "docker-host", os.Getenv("DOCKER_HOST"), "Docker daemon address (default $DOCKER_HOST or "+kindcluster.DefaultDockerHost+")")
	addMirrorFlag(c, &o.mirror)
	f.DurationVar(&o.timeout, "timeout", timeouts.Default().Preflight, "bound of each check")
	f.BoolVar(&o.dockerOnly, "docker-only", false, "check the Docker daemon only (air-gapped runs download nothing)")
	addOutputFlag(c, &o.output)
	return c
}

func addMirrorFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "mirror", os.Getenv("MESHCHECK_ISTIO_MIRROR"), "release download base URL (default $MESHCHECK_ISTIO_MIRROR or "+istiorelease.DefaultBaseURL+")")
}

func (o *preflightOptions) run(ctx context.Context, s streams) error {
	if o.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	po := kindcluster.PreflightOptions{DockerHost: o.dockerHost, Timeouts: timeouts.Timeouts{Preflight: o.timeout}}
	if o.dockerOnly {
		if o.version != "" {
			return usageErr("--docker-only checks no release: drop --istio-version")
		}
	} else {
		url, err := o.releaseURL()
		if err != nil {
			return err
		}
		po.ReleaseURL = url
	}
	start := time.Now()
	if err := kindcluster.Preflight(ctx, po); err != nil {
		return exitWith(exitFail, err)
	}
	res := preflightJSON{IstioVersion: o.version, DockerHost: o.dockerHost, ReleaseURL: po.ReleaseURL, Elapsed: time.Since(start).Round(time.Millisecond).String()}
	switch {
	case o.output.json():
		return writeJSON(s.Out, res)
	case o.dockerOnly:
		fmt.Fprintln(s.Out, "preflight ok: Docker daemon answers")
	default:
		fmt.Fprintf(s.Out, "preflight ok for Istio %s: Docker daemon answers, %s reachable (%s)\n", o.version, res.ReleaseURL, res.Elapsed)
	}
	return nil
}

// releaseURL checks --istio-version and returns its istioctl archive's URL.
func (o *preflightOptions) releaseURL() (string, error) {
	if o.version == "" {
		return "", usageErr("--istio-version is required (supported minors: %s)", istioinstall.SupportedMinors())
	}
	if err := istiorelease.CheckVersion(o.version); err != nil {
		return "", usageErr("%w", err)
	}
	if _, err := istioinstall.Lookup(o.version); err != nil {
		return "", usageErr("%w", err)
	}
	names, err := istiorelease.ArtifactNames(o.version, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return "", usageErr("%w", err)
	}
	base := o.mirror
	if base == "" {
		base = istiorelease.DefaultBaseURL
	}
	return istiorelease.URL(base, o.version, names.Istioctl), nil
}

// lookupVersion looks up a kind command's --istio-version.
func lookupVersion(version string) (istioinstall.Compat, error) {
	compat, err := istioinstall.Lookup(version)
	if err != nil {
		return compat, usageErr("%w", err)
	}
	return compat, nil
}

// kindConfigOptions are the flags of kind config.
type kindConfigOptions struct {
	version, name, image string
	workers, nodePort    int
}

func newKindConfigCmd(s streams) *cobra.Command {
	o := &kindConfigOptions{}
	c := &cobra.Command{
		Use:   "config --istio-version X.Y.Z [flags]",
		Short: "print the kind cluster config a run of an Istio version uses",
		Long: `Prints the kind cluster config (kind.x-k8s.io/v1alpha4) for an Istio
version: its node image, the ingress NodePort mapped to the host on
127.0.0.1, a fresh cluster name unless --name is given. The output is the
config file itself (YAML), so there is no -o.

Exit codes: 0 printed, 64 usage.`,
		Example: `  meshcheck kind config --istio-version 1.30.4 --workers 1`,
		Args:    noArgs,
		RunE:    func(*cobra.Command, []string) error { return o.run(s) },
	}
	f := c.Flags()
	f.StringVar(&o.version, "istio-version", "", "Istio release X.Y.Z (required)")
	f.StringVar(&o.name, "name", "", "cluster name (default: a fresh meshcheck-X-Y-<random>)")
	f.IntVar(&o.workers, "workers", 0, "worker nodes besides the control plane: 0 or 1")
	f.IntVar(&o.nodePort, "ingress-nodeport", istioinstall.DefaultIngressNodePort, "ingress gateway NodePort, mapped to the same host port")
	f.StringVar(&o.image, "node-image", "", "kind node image (default: the one for the Istio minor)")
	return c
}

func (o *kindConfigOptions) run(s streams) error {
	compat, err := lookupVersion(o.version)
	if err != nil {
		return err
	}
	image, name := o.image, o.name
	if image == "" {
		image = compat.NodeImage
	}
	if name == "" {
		if name, err = kindcluster.NewName(o.version, nil); err != nil {
			return usageErr("%w", err)
		}
	}
	b, err := kindcluster.Render(kindcluster.Options{Name: name, NodeImage: image, Workers: o.workers, IngressNodePort: o.nodePort})
	if err != nil {
		return usageErr("%w", err)
	}
	_, err = s.Out.Write(b)
	return err
}

// versionJSON is one row of kind versions -o json.
type versionJSON struct {
	Minor       string `json:"minor"`
	LatestPatch string `json:"latestPatch"`
	K8sMin      string `json:"kubernetesMin"`
	K8sMax      string `json:"kubernetesMax"`
	K8sVersion  string `json:"nodeKubernetes"`
	NodeImage   string `json:"nodeImage"`
}

func newKindVersionsCmd(s streams) *cobra.Command {
	var out outputFormat
	c := &cobra.Command{
		Use:     "versions",
		Short:   "list the supported Istio minors with their kind node images",
		Example: "  meshcheck kind versions\n  meshcheck kind versions -o json",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			var rows []versionJSON
			for _, c := range istioinstall.Supported() {
				rows = append(rows, versionJSON{c.Minor, c.LatestPatch, c.K8sMin, c.K8sMax, c.K8sVersion, c.NodeImage})
			}
			if out.json() {
				return writeJSON(s.Out, rows)
			}
			fmt.Fprintf(s.Out, "%-6s %-8s %-11s %-9s %s\n", "ISTIO", "LATEST", "KUBERNETES", "NODE", "IMAGE")
			for _, r := range rows {
				fmt.Fprintf(s.Out, "%-6s %-8s %-11s %-9s %s\n", r.Minor, r.LatestPatch, r.K8sMin+"-"+r.K8sMax, r.K8sVersion, r.NodeImage)
			}
			return nil
		},
	}
	addOutputFlag(c, &out)
	return c
}

// releaseOptions are the flags of kind release.
type releaseOptions struct {
	version, mirror string
	samples         bool
}

func newKindReleaseCmd(s streams) *cobra.Command {
	o := &releaseOptions{}
	c := &cobra.Command{
		Use:   "release --istio-version X.Y.Z [flags]",
		Short: "download (or take from the cache) an Istio release's istioctl and print what a run uses",
		Long: `Downloads the release's istioctl archive and the full release (for its
samples), each with its .sha256 (from --mirror, $MESHCHECK_ISTIO_MIRROR or
GitHub), verifies and caches them, and prints KEY=VALUE lines: ISTIOCTL,
NODE_IMAGE (the kind node image of the Istio minor), RELEASE_DIR, and
BOOKINFO_REGISTRY and BOOKINFO_TAG as the release's samples/bookinfo names
them. make e2e resolves the same in Go (kindmesh.Resolve); this command
shows it, or warms the cache.

Exit codes: 0 printed, 1 download or checksum failed, 64 usage.`,
		Example: `  meshcheck kind release --istio-version 1.30.4`,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd.Context(), s) },
	}
	f := c.Flags()
	f.StringVar(&o.version, "istio-version", "", "Istio release X.Y.Z (required)")
	addMirrorFlag(c, &o.mirror)
	f.BoolVar(&o.samples, "samples", true, "also fetch the full release and take Bookinfo's image registry and tag from its samples (false: the registry from the version table, the fixture's default tag)")
	return c
}

func (o *releaseOptions) run(ctx context.Context, s streams) error {
	compat, err := lookupVersion(o.version)
	if err != nil {
		return err
	}
	ro := istiorelease.Options{BaseURL: o.mirror, Logf: func(f string, a ...any) { fmt.Fprintf(s.Err, f+"\n", a...) }}
	if !o.samples {
		bin, err := istiorelease.Istioctl(ctx, o.version, ro)
		if err != nil {
			return exitWith(exitFail, err)
		}
		registry, err := fixtures.BookinfoRegistry(o.version)
		if err != nil {
			return usageErr("%w", err)
		}
		fmt.Fprintf(s.Out, "ISTIOCTL=%s\nNODE_IMAGE=%s\nBOOKINFO_REGISTRY=%s\n", bin, compat.NodeImage, registry)
		return nil
	}
	rel, err := kindmesh.ResolveRelease(ctx, o.version, "", ro)
	if err != nil {
		return exitWith(exitFail, err)
	}
	fmt.Fprintf(s.Out, "ISTIOCTL=%s\nNODE_IMAGE=%s\nRELEASE_DIR=%s\nBOOKINFO_REGISTRY=%s\nBOOKINFO_TAG=%s\n",
		rel.Istioctl, rel.NodeImage, rel.Dir, rel.BookinfoRegistry, rel.BookinfoTag)
	return nil
}

// addClusterNameFlag registers --name (a run prints its cluster's name:
// "kind cluster: NAME").
func addClusterNameFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "name", "", "cluster name (required)")
}

func newKindDeleteCmd(s streams) *cobra.Command {
	var name, kubeconfig string
	var out outputFormat
	c := &cobra.Command{
		Use:   "delete --name NAME [flags]",
		Short: "delete a kind cluster (one kept with KEEP_CLUSTER=1, or left by a killed run)",
		Long: `Deletes the kind cluster's node containers and its kubeconfig entry.
Deleting a cluster that does not exist is not an error.

Exit codes: 0 deleted, 1 failed, 64 usage.`,
		Example: `  meshcheck kind delete --name meshcheck-1-31-a1b2c3
  meshcheck kind delete --name meshcheck-1-31-a1b2c3 -o json`,
		Args: clusterArgs,
		RunE: func(*cobra.Command, []string) error {
			if name == "" {
				return usageErr("want --name and no arguments")
			}
			if err := kindcluster.Open(name, kubeconfig, s.Err).Delete(); err != nil {
				return exitWith(exitFail, err)
			}
			return writeDone(s, out, map[string]string{"deleted": name}, "deleted cluster %s\n", name)
		},
	}
	addClusterNameFlag(c, &name)
	c.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file to remove the cluster's entry from (default: kind's default)")
	addOutputFlag(c, &out)
	return c
}

// writeDone prints what a command did: the JSON object, or the text line.
func writeDone(s streams, out outputFormat, obj map[string]string, format string, a ...any) error {
	if out.json() {
		return writeJSON(s.Out, obj)
	}
	_, err := fmt.Fprintf(s.Out, format, a...)
	return err
}

// clusterArgs rejects arguments of kind delete and export-logs.
func clusterArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("want --name and no arguments; got %q", args)
	}
	return nil
}

func newKindExportLogsCmd(s streams) *cobra.Command {
	var name, dir string
	var out outputFormat
	c := &cobra.Command{
		Use:   "export-logs --name NAME --dir DIR",
		Short: "write a kind cluster's node logs (journal, kubelet, containers) into a directory",
		Long: `Writes what kind export logs writes: every node's journal, containerd and
kubelet logs, and every container's log.

Exit codes: 0 written, 1 failed, 64 usage.`,
		Example: `  meshcheck kind export-logs --name meshcheck-1-31-a1b2c3 --dir reports/kind-logs`,
		Args:    clusterArgs,
		RunE: func(*cobra.Command, []string) error {
			if name == "" || dir == "" {
				return usageErr("want --name, --dir and no arguments")
			}
			if err := kindcluster.Open(name, "", s.Err).ExportLogs(dir); err != nil {
				return exitWith(exitFail, err)
			}
			return writeDone(s, out, map[string]string{"cluster": name, "dir": dir}, "logs of %s in %s\n", name, dir)
		},
	}
	addClusterNameFlag(c, &name)
	c.Flags().StringVar(&dir, "dir", "", "directory to write into (required)")
	_ = c.MarkFlagDirname("dir")
	addOutputFlag(c, &out)
	return c
}
