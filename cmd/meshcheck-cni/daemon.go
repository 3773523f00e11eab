package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/meshcheck/meshcheck/build/cni"
)

// daemon holds what one sync needs and what the previous one did.
type daemon struct {
	o           daemonOptions
	log         *slog.Logger
	nodes       listersv1.NodeLister
	clusterCIDR []netip.Prefix
	lastProblem string // logged once per change
	lastSummary string
}

func runDaemon(ctx context.Context, o daemonOptions, log *slog.Logger) error {
	cfg, err := restConfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	d := &daemon{o: o, log: log}
	if o.ClusterCIDR != "" {
		if d.clusterCIDR, err = cni.ParseCIDRList("cluster CIDR", o.ClusterCIDR); err != nil {
			// Applied without kind's templating the value is "{{ .PodSubnet }}":
			// the nodes' own pod CIDRs still keep pod traffic unmasqueraded.
			log.Warn("ignoring the cluster CIDR", "err", err)
		}
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	inf := factory.Core().V1().Nodes()
	d.nodes = inf.Lister()
	poke := make(chan struct{}, 1)
	kick := func(any) {
		select {
		case poke <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    kick,
		UpdateFunc: func(_, n any) { kick(n) },
		DeleteFunc: kick,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	log.Info("starting", "node", o.NodeName, "apiserver", cfg.Host, "conf", filepath.Join(o.ConfDir, o.ConfFile), "resync", o.Resync)
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return fmt.Errorf("node informer did not sync from %s: %w", cfg.Host, ctx.Err())
	}
	tick := time.NewTicker(o.Resync)
	defer tick.Stop()
	for {
		if err := d.sync(ctx); err != nil {
			log.Error("sync failed", "err", err)
		}
		select {
		case <-ctx.Done():
			log.Info("stopping; configuration, routes and rules stay in place")
			return nil
		case <-poke:
		case <-tick.C:
		}
	}
}

// restConfig is the kubeconfig's, else the in-cluster one, with the API
// server at $CONTROL_PLANE_ENDPOINT when kind set it.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	if ep := os.Getenv("CONTROL_PLANE_ENDPOINT"); ep != "" {
		cfg.Host = "https://" + ep
	}
	return cfg, nil
}

// sync makes the node match the plan: conflist, routes, masquerade chain.
func (d *daemon) sync(ctx context.Context) error {
	list, err := d.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	plan, err := cni.NewPlan(d.o.NodeName, list)
	if err != nil {
		if errors.Is(err, cni.ErrNoPodCIDR) {
			d.log.Info("waiting for a pod CIDR", "err", err)
			return nil
		}
		return err
	}
	if p := errors.Join(plan.Problems...); p != nil && p.Error() != d.lastProblem {
		d.log.Warn("skipping nodes", "problems", p.Error())
		d.lastProblem = p.Error()
	} else if p == nil {
		d.lastProblem = ""
	}
	var errs []error
	wrote, err := d.writeConflist(plan)
	if err != nil {
		errs = append(errs, err)
	}
	added, deleted, err := d.syncRoutes(plan)
	if err != nil {
		errs = append(errs, err)
	}
	if err := d.syncMasq(ctx, plan); err != nil {
		errs = append(errs, err)
	}
	summary := fmt.Sprintf("pod CIDRs %v, %d routes, no-masquerade %v", plan.Self.PodCIDRs, len(plan.Routes), plan.PodCIDRs)
	if wrote || len(added)+len(deleted) > 0 || summary != d.lastSummary {
		d.log.Info("synced", "summary", summary, "conflistWritten", wrote, "routesAdded", fmt.Sprint(added), "routesDeleted", fmt.Sprint(deleted))
		d.lastSummary = summary
	}
	return errors.Join(errs...)
}

func (d *daemon) writeConflist(plan cni.Plan) (bool, error) {
	b, err := cni.Conflist(cni.ConfOptions{PodCIDRs: plan.Self.PodCIDRs, MTU: d.o.MTU})
	if err != nil {
		return false, fmt.Errorf("node %q: %w", plan.Self.Name, err)
	}
	path := filepath.Join(d.o.ConfDir, d.o.ConfFile)
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, b) {
		return false, nil
	}
	if err := os.MkdirAll(d.o.ConfDir, 0o755); err != nil {
		return false, err
	}
	// A temporary name without a CNI extension, so containerd never loads a half file.
	tmp := filepath.Join(d.o.ConfDir, "."+d.o.ConfFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}

func (d *daemon) syncRoutes(plan cni.Plan) (added, deleted []cni.Route, err error) {
	nl, err := netlink.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Protocol: cni.RouteProtocol}, netlink.RT_FILTER_PROTOCOL)
	if err != nil {
		return nil, nil, fmt.Errorf("listing routes with proto %d: %w", cni.RouteProtocol, err)
	}
	var have []cni.Route
	for _, r := range nl {
		if r.Dst == nil || r.Gw == nil {
			continue
		}
		dst, ok1 := prefixOf(r.Dst)
		via, ok2 := netip.AddrFromSlice(r.Gw)
		if ok1 && ok2 {
			have = append(have, cni.Route{Dst: dst, Via: via.Unmap()})
		}
	}
	add, del := cni.Diff(plan.Routes, have)
	var errs []error
	for _, r := range add {
		if e := netlink.RouteReplace(toNetlink(r)); e != nil {
			errs = append(errs, fmt.Errorf("ip route replace %s: %w", r, e))
			continue
		}
		added = append(added, r)
	}
	for _, r := range del {
		if e := netlink.RouteDel(toNetlink(r)); e != nil && !errors.Is(e, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("ip route del %s: %w", r, e))
			continue
		}
		deleted = append(deleted, r)
	}
	return added, deleted, errors.Join(errs...)
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), true
}

func toNetlink(r cni.Route) *netlink.Route {
	return &netlink.Route{
		Dst:      &net.IPNet{IP: r.Dst.Addr().AsSlice(), Mask: net.CIDRMask(r.Dst.Bits(), r.Dst.Addr().BitLen())},
		Gw:       r.Via.AsSlice(),
		Protocol: cni.RouteProtocol,
	}
}

// syncMasq rewrites the masquerade chain of each family the node has and
// makes sure POSTROUTING jumps to it.
func (d *daemon) syncMasq(ctx context.Context, plan cni.Plan) error {
	noMasq := append(append([]netip.Prefix{}, d.clusterCIDR...), plan.PodCIDRs...)
	var errs []error
	for _, v6 := range []bool{false, true} {
		rules := cni.MasqRules(v6, plan.Self.PodCIDRs, noMasq)
		if rules == "" {
			continue
		}
		bin := "iptables"
		if v6 {
			bin = "ip6tables"
		}
		if _, err := d.iptables(ctx, bin+"-restore", strings.NewReader(rules), "-w", "5", "--noflush"); err != nil {
			errs = append(errs, err)
			continue
		}
		check := append([]string{"-w", "5", "-t", "nat", "-C"}, cni.MasqJump...)
		if _, err := d.iptables(ctx, bin, nil, check...); err != nil {
			add := append([]string{"-w", "5", "-t", "nat", "-A"}, cni.MasqJump...)
			if _, err := d.iptables(ctx, bin, nil, add...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// iptables runs an iptables tool of the node (chroot into HostRoot when set);
// its error carries the command line and output.
func (d *daemon) iptables(ctx context.Context, name string, stdin *strings.Reader, args ...string) ([]byte, error) {
	argv := append([]string{name}, args...)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if d.o.HostRoot == "" {
		cmd = exec.CommandContext(ctx, name, args...)
	} else {
		// chroot(2) in the child: the image has no chroot binary, and the
		// tool is looked up in the node's root, not in the image's.
		path, err := hostTool(d.o.HostRoot, name)
		if err != nil {
			return nil, err
		}
		argv = append([]string{"chroot", d.o.HostRoot}, path)
		argv = append(argv, args...)
		cmd = exec.CommandContext(ctx, path, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: d.o.HostRoot}
		cmd.Dir = "/"
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// hostTool finds an executable in the usual directories under root and
// returns its path as seen inside root.
func hostTool(root, name string) (string, error) {
	dirs := []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"}
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		// Lstat: Debian's tools are links into /etc/alternatives, which
		// only resolve inside root.
		if fi, err := os.Lstat(filepath.Join(root, p)); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s under %s", name, strings.Join(dirs, ", "), root)
}
