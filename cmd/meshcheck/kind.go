package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/meshcheck/meshcheck/fixtures"
	"github.com/meshcheck/meshcheck/harness/istioinstall"
	"github.com/meshcheck/meshcheck/harness/istiorelease"
	"github.com/meshcheck/meshcheck/harness/kindcluster"
	"github.com/meshcheck/meshcheck/harness/timeouts"
)

// The kind group holds what runs before and around a kind cluster; the
// backend itself is harness/kindmesh, run by the suites (make e2e).
func kindGroup() group {
	return group{name: "kind", summary: "kind backend: preflight, cluster config, versions, releases, delete, logs, host compatibility", commands: []command{
		{name: "preflight", summary: "check that a kind run can start: Docker daemon, then the Istio release download", usage: kindPreflightUsage, run: runKindPreflight},
		{name: "config", summary: "print the kind cluster config a run of an Istio version uses", usage: kindConfigUsage, run: runKindConfig},
		{name: "versions", summary: "list the supported Istio minors with their kind node images", run: runKindVersions},
		{name: "release", summary: "download (or take from the cache) an Istio release's istioctl and print what a run uses", usage: kindReleaseUsage, run: runKindRelease},
		{name: "delete", summary: "delete a kind cluster (one kept with KEEP_CLUSTER=1, or left by a killed run)", usage: kindDeleteUsage, run: runKindDelete},
		{name: "export-logs", summary: "write a kind cluster's node logs (journal, kubelet, containers) into a directory", usage: kindExportUsage, run: runKindExportLogs},
		{name: "host-compat", summary: "status|enable|disable: the runc wrapper for hosts without CAP_SYS_RESOURCE", usage: kindHostCompatUsage, run: runKindHostCompat},
	}}
}

const kindPreflightUsage = `
Checks, in this order, and stops at the first that fails:
  1. a Docker daemon answers /_ping at --docker-host ($DOCKER_HOST, or
     unix:///var/run/docker.sock);
  2. a HEAD request on the release's istioctl archive succeeds, at
     --mirror ($MESHCHECK_ISTIO_MIRROR) or GitHub's release downloads.
Each failure says which check failed and what to do. make e2e runs this
first.

Examples:
  meshcheck kind preflight --istio-version 1.30.4
  meshcheck kind preflight --istio-version 1.31.1 --mirror https://mirror.example/istio --timeout 2s
Exit codes: 0 ready, 1 a precondition is missing, 64 usage (including an
unsupported Istio version).
`

const kindConfigUsage = `
Prints the kind cluster config (kind.x-k8s.io/v1alpha4) for an Istio
version: its node image, the ingress NodePort mapped to the host on
127.0.0.1, a fresh cluster name unless --name is given.

Example:
  meshcheck kind config --istio-version 1.30.4 --workers 1
Exit codes: 0 printed, 64 usage.
`

func runKindPreflight(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[0]
	fs := newFlagSet("kind", c, s)
	version := fs.String("istio-version", "", "Istio release X.Y.Z under test (required)")
	dockerHost := fs.String("docker-host", os.Getenv("DOCKER_HOST"), "Docker daemon address (default $DOCKER_HOST or "+kindcluster.DefaultDockerHost+")")
	mirror := fs.String("mirror", os.Getenv("MESHCHECK_ISTIO_MIRROR"), "release download base URL (default $MESHCHECK_ISTIO_MIRROR or "+istiorelease.DefaultBaseURL+")")
	timeout := fs.Duration("timeout", timeouts.Default().Preflight, "bound of each check")
	dockerOnly := fs.Bool("docker-only", false, "check the Docker daemon only (air-gapped runs download nothing)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected arguments %q", fs.Args())
	}
	if *dockerOnly {
		if *version != "" {
			return usageError(s, fs, "--docker-only checks no release: drop --istio-version")
		}
		if err := kindcluster.Preflight(ctx, kindcluster.PreflightOptions{DockerHost: *dockerHost, Timeouts: timeouts.Timeouts{Preflight: *timeout}}); err != nil {
			fmt.Fprintf(s.Err, "meshcheck kind preflight: %v\n", err)
			return exitFail
		}
		fmt.Fprintln(s.Out, "preflight ok: Docker daemon answers")
		return exitOK
	}
	if *version == "" {
		return usageError(s, fs, "--istio-version is required (supported minors: %s)", istioinstall.SupportedMinors())
	}
	if err := istiorelease.CheckVersion(*version); err != nil {
		return usageError(s, fs, "%v", err)
	}
	if _, err := istioinstall.Lookup(*version); err != nil {
		return usageError(s, fs, "%v", err)
	}
	if *timeout <= 0 {
		return usageError(s, fs, "--timeout must be positive")
	}
	names, err := istiorelease.ArtifactNames(*version, runtime.GOOS, runtime.GOARCH)
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	base := *mirror
	if base == "" {
		base = istiorelease.DefaultBaseURL
	}
	url := istiorelease.URL(base, *version, names.Istioctl)
	start := time.Now()
	err = kindcluster.Preflight(ctx, kindcluster.PreflightOptions{
		DockerHost: *dockerHost,
		ReleaseURL: url,
		Timeouts:   timeouts.Timeouts{Preflight: *timeout},
	})
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck kind preflight: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(s.Out, "preflight ok for Istio %s: Docker daemon answers, %s reachable (%v)\n", *version, url, time.Since(start).Round(time.Millisecond))
	return exitOK
}

// parseVersioned parses a kind command's flags, which take no arguments, and
// looks up its --istio-version.
func parseVersioned(s streams, fs *flag.FlagSet, args []string) (istioinstall.Compat, int, bool) {
	if code, ok := parseFlags(fs, args); !ok {
		return istioinstall.Compat{}, code, false
	}
	if fs.NArg() > 0 {
		return istioinstall.Compat{}, usageError(s, fs, "unexpected arguments %q", fs.Args()), false
	}
	compat, err := istioinstall.Lookup(fs.Lookup("istio-version").Value.String())
	if err != nil {
		return istioinstall.Compat{}, usageError(s, fs, "%v", err), false
	}
	return compat, 0, true
}

func runKindConfig(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[1]
	fs := newFlagSet("kind", c, s)
	version := fs.String("istio-version", "", "Istio release X.Y.Z (required)")
	name := fs.String("name", "", "cluster name (default: a fresh meshcheck-X-Y-<random>)")
	workers := fs.Int("workers", 0, "worker nodes besides the control plane: 0 or 1")
	nodePort := fs.Int("ingress-nodeport", istioinstall.DefaultIngressNodePort, "ingress gateway NodePort, mapped to the same host port")
	image := fs.String("node-image", "", "kind node image (default: the one for the Istio minor)")
	compat, code, ok := parseVersioned(s, fs, args)
	if !ok {
		return code
	}
	if *image == "" {
		*image = compat.NodeImage
	}
	if *name == "" {
		var err error
		if *name, err = kindcluster.NewName(*version, nil); err != nil {
			return usageError(s, fs, "%v", err)
		}
	}
	b, err := kindcluster.Render(kindcluster.Options{Name: *name, NodeImage: *image, Workers: *workers, IngressNodePort: *nodePort})
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	s.Out.Write(b)
	return exitOK
}

func runKindVersions(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[2]
	fs := newFlagSet("kind", c, s)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	fmt.Fprintf(s.Out, "%-6s %-8s %-11s %-9s %s\n", "ISTIO", "LATEST", "KUBERNETES", "NODE", "IMAGE")
	for _, c := range istioinstall.Supported() {
		fmt.Fprintf(s.Out, "%-6s %-8s %-11s %-9s %s\n", c.Minor, c.LatestPatch, c.K8sMin+"-"+c.K8sMax, c.K8sVersion, c.NodeImage)
	}
	return exitOK
}

const kindReleaseUsage = `
Downloads the release's istioctl archive and the full release (for its
samples), each with its .sha256 (from --mirror, $MESHCHECK_ISTIO_MIRROR or
GitHub), verifies and caches them, and prints KEY=VALUE lines a shell can
eval: ISTIOCTL, NODE_IMAGE (the kind node image of the Istio minor),
RELEASE_DIR, and BOOKINFO_REGISTRY and BOOKINFO_TAG as the release's
samples/bookinfo names them.

Example:
  eval "$(meshcheck kind release --istio-version 1.30.4)"
Exit codes: 0 printed, 1 download or checksum failed, 64 usage.
`

const kindDeleteUsage = `
Deletes the kind cluster's node containers and its kubeconfig entry.
Deleting a cluster that does not exist is not an error.

Example:
  meshcheck kind delete --name meshcheck-1-31-a1b2c3
Exit codes: 0 deleted, 1 failed, 64 usage.
`

const kindExportUsage = `
Writes what kind export logs writes: every node's journal, containerd and
kubelet logs, and every container's log.

Example:
  meshcheck kind export-logs --name meshcheck-1-31-a1b2c3 --dir reports/kind-logs
Exit codes: 0 written, 1 failed, 64 usage.
`

func runKindRelease(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[3]
	fs := newFlagSet("kind", c, s)
	version := fs.String("istio-version", "", "Istio release X.Y.Z (required)")
	mirror := fs.String("mirror", os.Getenv("MESHCHECK_ISTIO_MIRROR"), "release download base URL (default $MESHCHECK_ISTIO_MIRROR or "+istiorelease.DefaultBaseURL+")")
	samples := fs.Bool("samples", true, "also fetch the full release and take Bookinfo's image registry and tag from its samples (false: the registry from the version table, the fixture's default tag)")
	compat, code, ok := parseVersioned(s, fs, args)
	if !ok {
		return code
	}
	ro := istiorelease.Options{BaseURL: *mirror, Logf: func(f string, a ...any) { fmt.Fprintf(s.Err, f+"\n", a...) }}
	bin, err := istiorelease.Istioctl(ctx, *version, ro)
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck kind release: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(s.Out, "ISTIOCTL=%s\nNODE_IMAGE=%s\n", bin, compat.NodeImage)
	if !*samples {
		registry, err := fixtures.BookinfoRegistry(*version)
		if err != nil {
			return usageError(s, fs, "%v", err)
		}
		fmt.Fprintf(s.Out, "BOOKINFO_REGISTRY=%s\n", registry)
		return exitOK
	}
	dir, err := istiorelease.Release(ctx, *version, ro)
	if err == nil {
		var registry, tag string
		if registry, tag, err = istiorelease.BookinfoImage(dir); err == nil {
			fmt.Fprintf(s.Out, "RELEASE_DIR=%s\nBOOKINFO_REGISTRY=%s\nBOOKINFO_TAG=%s\n", dir, registry, tag)
			return exitOK
		}
	}
	fmt.Fprintf(s.Err, "meshcheck kind release: %v\n", err)
	return exitFail
}

func clusterNameFlag(fs *flag.FlagSet) *string {
	return fs.String("name", os.Getenv("MESHCHECK_KIND_CLUSTER"), "cluster name (default $MESHCHECK_KIND_CLUSTER)")
}

func runKindDelete(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[4]
	fs := newFlagSet("kind", c, s)
	name := clusterNameFlag(fs)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file to remove the cluster's entry from (default: kind's default)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *name == "" || fs.NArg() > 0 {
		return usageError(s, fs, "want --name and no arguments")
	}
	if err := kindcluster.Open(*name, *kubeconfig, s.Err).Delete(); err != nil {
		fmt.Fprintf(s.Err, "meshcheck kind delete: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(s.Out, "deleted cluster %s\n", *name)
	return exitOK
}

func runKindExportLogs(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[5]
	fs := newFlagSet("kind", c, s)
	name := clusterNameFlag(fs)
	dir := fs.String("dir", "", "directory to write into (required)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *name == "" || *dir == "" || fs.NArg() > 0 {
		return usageError(s, fs, "want --name, --dir and no arguments")
	}
	if err := kindcluster.Open(*name, "", s.Err).ExportLogs(*dir); err != nil {
		fmt.Fprintf(s.Err, "meshcheck kind export-logs: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(s.Out, "logs of %s in %s\n", *name, *dir)
	return exitOK
}
