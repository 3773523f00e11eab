package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/wait/conditions"
)

// WaitNodesReady waits, with e2e-framework's ResourceListMatchN condition,
// until want nodes are registered and report Ready (Connect first).
func (b *Backend) WaitNodesReady(ctx context.Context, want int) error {
	var nodes corev1.NodeList
	cond := conditions.New(b.kube.res).ResourceListMatchN(&nodes, want, func(o k8s.Object) bool {
		n, ok := o.(*corev1.Node)
		return ok && nodeReady(n)
	})
	return waitFor(ctx, "nodes not Ready", b.tmo.ClusterReady, b.tmo.ConvergenceInterval*4, cond, nodesState{&nodes, want})
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

// UntaintControlPlane removes the control-plane NoSchedule taint from
// every node (the kind backend's multi-node cluster).
func (b *Backend) UntaintControlPlane(ctx context.Context) error {
	nodes, err := b.kube.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("kube: nodes: %w", err)
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
			return fmt.Errorf("kube: untainting node %s: %w", n.Name, err)
		}
	}
	return nil
}
