package kindmesh

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

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// CollectEvidence writes what a failed spec or setup needs to be debugged
// into dir: pods and events of every namespace, istiod's logs and syncz,
// each proxy's config dump and istio-proxy log, and kind's node logs
// (journal, containerd, kubelet, every container's log). It carries on past
// a piece that fails and returns every failure joined; what was written
// stays written.
func (b *Backend) CollectEvidence(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("kindmesh: evidence: %w", err)
	}
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	write := func(name string, b []byte) { keep(os.WriteFile(filepath.Join(dir, name), b, 0o644)) }
	if b.kube != nil {
		ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterDelete)
		defer cancel()
		if pods, err := b.kube.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err == nil {
			write("pods.txt", []byte(podTable(pods.Items)))
			write("pods.json", mustJSON(pods))
		} else {
			keep(fmt.Errorf("pods: %w", err))
		}
		if ev, err := b.kube.cs.CoreV1().Events("").List(ctx, metav1.ListOptions{}); err == nil {
			write("events.txt", []byte(eventTable(ev.Items)))
		} else {
			keep(fmt.Errorf("events: %w", err))
		}
		if pods, err := b.kube.cs.CoreV1().Pods(istioinstall.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=istiod"}); err == nil {
			for _, p := range pods.Items {
				log, err := b.kube.podLog(ctx, p.Namespace, p.Name, corev1.PodLogOptions{Container: "discovery"})
				keep(err)
				write("istiod."+p.Name+".log", log)
			}
		}
		if body, err := b.istiodGet(ctx, "/debug/syncz"); err == nil {
			write("syncz.json", body)
		} else {
			keep(err)
		}
		if proxies, err := b.Proxies(ctx); err == nil {
			for _, p := range proxies {
				name := p.Namespace + "." + p.Name
				d, err := b.ConfigDump(ctx, p)
				keep(err)
				if err == nil {
					write(name+".config_dump.json", d)
				}
				log, err := b.kube.podLog(ctx, p.Namespace, p.Name, corev1.PodLogOptions{Container: "istio-proxy"})
				keep(err)
				write(name+".istio-proxy.log", log)
			}
		} else {
			keep(err)
		}
	}
	if b.cluster != nil {
		keep(b.cluster.ExportLogs(filepath.Join(dir, "kind")))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kindmesh: evidence into %s was partial: %w", dir, err)
	}
	return nil
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
