package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/meshcheck/meshcheck/harness/istioinstall"
	"github.com/meshcheck/meshcheck/harness/istiorelease"
	"github.com/meshcheck/meshcheck/harness/kindcluster"
	"github.com/meshcheck/meshcheck/harness/timeouts"
)

// The kind group holds what runs before and around a kind cluster. The
// cluster backend itself arrives with issue 6.
func kindGroup() group {
	return group{name: "kind", summary: "kind backend: preflight checks, cluster config, supported versions", commands: []command{
		{name: "preflight", summary: "check that a kind run can start: Docker daemon, then the Istio release download", usage: kindPreflightUsage, run: runKindPreflight},
		{name: "config", summary: "print the kind cluster config a run of an Istio version uses", usage: kindConfigUsage, run: runKindConfig},
		{name: "versions", summary: "list the supported Istio minors with their kind node images", run: runKindVersions},
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
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected arguments %q", fs.Args())
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

func runKindConfig(ctx context.Context, s streams, args []string) int {
	c := kindGroup().commands[1]
	fs := newFlagSet("kind", c, s)
	version := fs.String("istio-version", "", "Istio release X.Y.Z (required)")
	name := fs.String("name", "", "cluster name (default: a fresh meshcheck-X-Y-<random>)")
	workers := fs.Int("workers", 0, "worker nodes besides the control plane: 0 or 1")
	nodePort := fs.Int("ingress-nodeport", istioinstall.DefaultIngressNodePort, "ingress gateway NodePort, mapped to the same host port")
	image := fs.String("node-image", "", "kind node image (default: the one for the Istio minor)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected arguments %q", fs.Args())
	}
	compat, err := istioinstall.Lookup(*version)
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	if *image == "" {
		*image = compat.NodeImage
	}
	if *name == "" {
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
