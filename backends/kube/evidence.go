package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshcheck/meshcheck/backends/backend"
)

// CollectEvidence writes what a failed spec or setup needs to be debugged
// into dir: pods and events of the run's namespaces and the control
// plane's, istiod's logs and syncz, each proxy's config dump (with
// endpoints), istio-proxy log and interception rules. It carries on past a
// piece that fails and returns every failure joined; what was written stays
// written.
func (b *Backend) CollectEvidence(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kube: evidence: %w", err)
	}
	if b.kube == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterDelete)
	defer cancel()
	ev := &evidence{dir: dir}
	b.evidenceObjects(ctx, ev)
	b.evidenceIstiod(ctx, ev)
	b.evidenceProxies(ctx, ev)
	if err := errors.Join(ev.errs...); err != nil {
		return fmt.Errorf("kube: evidence into %s was partial: %w", dir, err)
	}
	return nil
}

// evidence collects files into dir and the errors met on the way.
type evidence struct {
	dir  string
	errs []error
}

func (e *evidence) keep(err error) {
	if err != nil {
		e.errs = append(e.errs, err)
	}
}

func (e *evidence) write(name string, b []byte) {
	e.keep(os.WriteFile(filepath.Join(e.dir, name), b, 0o644))
}

// evidenceNamespaces are the namespaces evidence is read from: the control
// plane's, the ingress gateway's and the run's.
func (b *Backend) evidenceNamespaces() []string {
	seen := map[string]bool{}
	var out []string
	istiod, _ := b.mesh.istiodPods()
	for _, ns := range append([]string{istiod, b.mesh.Ingress.Namespace}, b.namespaces()...) {
		if ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out
}

// evidenceObjects writes the pods and events of evidenceNamespaces.
func (b *Backend) evidenceObjects(ctx context.Context, ev *evidence) {
	var pods []corev1.Pod
	var events []corev1.Event
	for _, ns := range b.evidenceNamespaces() {
		if l, err := b.kube.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
			pods = append(pods, l.Items...)
		} else {
			ev.keep(fmt.Errorf("pods in %s: %w", ns, err))
		}
		if l, err := b.kube.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
			events = append(events, l.Items...)
		} else {
			ev.keep(fmt.Errorf("events in %s: %w", ns, err))
		}
	}
	ev.write("pods.txt", []byte(podTable(pods)))
	ev.write("pods.json", mustJSON(pods))
	ev.write("events.txt", []byte(eventTable(events)))
}

// evidenceIstiod writes istiod's logs and syncz.
func (b *Backend) evidenceIstiod(ctx context.Context, ev *evidence) {
	ns, sel := b.mesh.istiodPods()
	if pods, err := b.kube.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel}); err == nil {
		for _, p := range pods.Items {
			log, err := b.kube.podLog(ctx, p.Namespace, p.Name, corev1.PodLogOptions{Container: "discovery"})
			ev.keep(err)
			ev.write("istiod."+p.Name+".log", log)
		}
	} else {
		ev.keep(fmt.Errorf("istiod pods: %w", err))
	}
	if body, err := b.istiodGet(ctx, "/debug/syncz"); err == nil {
		ev.write("syncz.json", body)
	} else {
		ev.keep(err)
	}
}

// evidenceProxies writes every proxy's config dump, istio-proxy log and,
// for sidecars, interception rules.
func (b *Backend) evidenceProxies(ctx context.Context, ev *evidence) {
	proxies, err := b.Proxies(ctx)
	if err != nil {
		ev.keep(err)
		return
	}
	for _, p := range proxies {
		name := p.Namespace + "." + p.Name
		if d, err := b.ConfigDump(ctx, p); err == nil {
			ev.write(name+".config_dump.json", d)
		} else {
			ev.keep(err)
		}
		log, err := b.kube.podLog(ctx, p.Namespace, p.Name, corev1.PodLogOptions{Container: "istio-proxy"})
		ev.keep(err)
		ev.write(name+".istio-proxy.log", log)
		if p.Proxy != backend.Sidecar {
			continue
		}
		if rules, err := b.InterceptionRules(ctx, p.Workload); err == nil {
			ev.write(name+".rules.txt", rules)
		} else {
			ev.keep(err)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

// podTable is `kubectl get pods -A -o wide` in short.
func podTable(pods []corev1.Pod) string {
	sort.Slice(pods, func(i, j int) bool {
		return pods[i].Namespace+"/"+pods[i].Name < pods[j].Namespace+"/"+pods[j].Name
	})
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-16s %-52s %-10s %-6s %-8s %-16s %s\n", "NAMESPACE", "NAME", "PHASE", "READY", "RESTARTS", "IP", "NODE")
	for _, p := range pods {
		ready, restarts := 0, int32(0)
		for _, c := range p.Status.ContainerStatuses {
			if c.Ready {
				ready++
			}
			restarts += c.RestartCount
		}
		fmt.Fprintf(&sb, "%-16s %-52s %-10s %d/%-4d %-8d %-16s %s\n", p.Namespace, p.Name, p.Status.Phase, ready, len(p.Spec.Containers), restarts, p.Status.PodIP, p.Spec.NodeName)
	}
	return sb.String()
}

// eventTable lists events oldest first.
func eventTable(evs []corev1.Event) string {
	sort.Slice(evs, func(i, j int) bool { return evs[i].LastTimestamp.Before(&evs[j].LastTimestamp) })
	var sb strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&sb, "%s %-8s %-24s %s/%s: %s\n", e.LastTimestamp.Format("15:04:05"), e.Type, e.Reason, e.InvolvedObject.Namespace, e.InvolvedObject.Name, strings.TrimSpace(e.Message))
	}
	return sb.String()
}
