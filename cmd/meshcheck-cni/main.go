package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/meshcheck/meshcheck/build/cni"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  meshcheck-cni run [flags]          the per-node daemon
  meshcheck-cni manifest --image REF the DaemonSet manifest for kind
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 64
	}
	switch args[0] {
	case "manifest":
		fs := flag.NewFlagSet("meshcheck-cni manifest", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var o cni.ManifestOptions
		fs.StringVar(&o.Image, "image", "", "meshcheck-cni image reference (required)")
		fs.StringVar(&o.PullPolicy, "pull-policy", "IfNotPresent", "imagePullPolicy: IfNotPresent or Never")
		if err := fs.Parse(args[1:]); err != nil {
			return 64
		}
		b, err := cni.Manifest(o)
		if err != nil {
			fmt.Fprintf(stderr, "meshcheck-cni manifest: %v\n", err)
			return 64
		}
		stdout.Write(b)
		return 0
	case "run":
		o, err := parseRun(args[1:], stderr)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "meshcheck-cni run: %v\n", err)
			return 64
		}
		log := slog.New(slog.NewTextHandler(stderr, nil))
		if err := runDaemon(ctx, o, log); err != nil {
			log.Error("exiting", "err", err)
			return 1
		}
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "meshcheck-cni: unknown command %q\n%s", args[0], usage)
	return 64
}

// daemonOptions are the flags of meshcheck-cni run.
type daemonOptions struct {
	NodeName    string
	ConfDir     string
	ConfFile    string
	HostRoot    string
	Kubeconfig  string
	ClusterCIDR string
	Resync      time.Duration
	MTU         int
}

func parseRun(args []string, stderr io.Writer) (daemonOptions, error) {
	fs := flag.NewFlagSet("meshcheck-cni run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o daemonOptions
	fs.StringVar(&o.NodeName, "node-name", os.Getenv("NODE_NAME"), "this node's name (default $NODE_NAME)")
	fs.StringVar(&o.ConfDir, "conf-dir", "/etc/cni/net.d", "CNI configuration directory")
	fs.StringVar(&o.ConfFile, "conf-file", "10-meshcheck.conflist", "CNI configuration file name")
	fs.StringVar(&o.HostRoot, "host-root", "", "run the node's iptables through chroot into this directory (the host's / mounted in the pod); empty runs iptables directly")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig (default: in-cluster config)")
	fs.StringVar(&o.ClusterCIDR, "cluster-cidr", os.Getenv("POD_SUBNET"), "cluster pod subnets, comma-separated, never masqueraded (default $POD_SUBNET)")
	fs.DurationVar(&o.Resync, "resync", 30*time.Second, "re-sync interval besides Node events")
	fs.IntVar(&o.MTU, "mtu", 0, "pod veth MTU (0: the ptp plugin's default)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.NodeName == "" {
		return o, errors.New("no node name: set --node-name or $NODE_NAME")
	}
	if o.Resync <= 0 {
		return o, errors.New("--resync must be positive")
	}
	return o, nil
}
