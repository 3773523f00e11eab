package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apimachinerywait "k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/e2e-framework/klient/wait"
)

// lastState is what a wait's condition saw on its last poll, kept so that a
// wait that runs out of time reports it instead of only the deadline.
type lastState struct{ text string }

func (s *lastState) String() string {
	if s.text == "" {
		return "nothing seen yet"
	}
	return s.text
}

// pending adapts a check that describes what is still pending ("" when
// nothing is) to the condition wait.For polls. A check's error is taken as
// transient (an API server restarting): it becomes the last state and the
// polling goes on.
func (s *lastState) pending(check func(context.Context) (string, error)) apimachinerywait.ConditionWithContextFunc {
	return func(ctx context.Context) (bool, error) {
		p, err := check(ctx)
		switch {
		case isForbidden(err):
			return false, needs(err)
		case err != nil:
			s.text = err.Error()
		case p != "":
			s.text = p
		default:
			return true, nil
		}
		return false, nil
	}
}

// streak adapts a check that must pass n polls in a row: a failed poll
// restarts the count and becomes the last state; an error for which fatal
// is true ends the wait at once with that error.
func (s *lastState) streak(n int, check func(context.Context) error, fatal func(error) bool) apimachinerywait.ConditionWithContextFunc {
	passed := 0
	return func(ctx context.Context) (bool, error) {
		err := check(ctx)
		switch {
		case err == nil:
			passed++
			return passed >= n, nil
		case fatal(err):
			return false, err
		case isForbidden(err):
			return false, needs(err)
		}
		passed, s.text = 0, err.Error()
		return false, nil
	}
}

// waitFor polls cond with e2e-framework's wait.For, at once and then every
// interval, until it is done, returns an error, or timeout passes. A
// timeout (or a cancelled ctx) is an error that names what was awaited and
// carries the last state seen; a condition's own error is returned as it is.
func waitFor(ctx context.Context, what string, timeout, interval time.Duration, cond apimachinerywait.ConditionWithContextFunc, last fmt.Stringer) error {
	err := wait.For(cond, wait.WithContext(ctx), wait.WithTimeout(timeout), wait.WithInterval(interval), wait.WithImmediate())
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("kube: %s within %v: %w (last state: %s)", what, timeout, err, last)
}

// waitDeployments waits until every Deployment in namespace is available
// at its current generation, listing them anew on each poll. On timeout the
// error lists each one that was not, with its pods' waiting reasons.
func (b *Backend) waitDeployments(ctx context.Context, namespace string) error {
	var st lastState
	cond := st.pending(func(ctx context.Context) (string, error) {
		var list appsv1.DeploymentList
		if err := b.kube.inNamespace(namespace).List(ctx, &list); err != nil {
			return "", fmt.Errorf("listing Deployments: %w", err)
		}
		var pending []string
		for i := range list.Items {
			if why := notAvailable(&list.Items[i]); why != "" {
				pending = append(pending, why)
			}
		}
		return strings.Join(pending, "; "), nil
	})
	err := waitFor(ctx, "Deployments in "+namespace+" not available", b.tmo.Rollout, b.tmo.ConvergenceInterval*4, cond, &st)
	if err != nil {
		return fmt.Errorf("%w; pods: %s", err, b.podStates(namespace))
	}
	return nil
}

// notAvailable says why a Deployment's rollout is not complete ("" when it
// is): every replica updated and available at the observed generation, and
// no old one left.
func notAvailable(d *appsv1.Deployment) string {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	if s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want {
		return ""
	}
	return fmt.Sprintf("%s: %d/%d available, %d updated, generation %d observed %d", d.Name, s.AvailableReplicas, want, s.UpdatedReplicas, d.Generation, s.ObservedGeneration)
}

// nodesState describes a node list as last listed. ResourceListMatchN
// ignores a failed List, which leaves the previous list in place.
type nodesState struct {
	list *corev1.NodeList
	want int
}

func (s nodesState) String() string {
	var notReady []string
	for i := range s.list.Items {
		if !nodeReady(&s.list.Items[i]) {
			notReady = append(notReady, s.list.Items[i].Name)
		}
	}
	return fmt.Sprintf("%d of %d nodes registered, not Ready: %v", len(s.list.Items), s.want, notReady)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
