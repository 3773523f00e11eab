package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	apimachinerywait "k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/e2e-framework/klient/decoder"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/fixtures"
)

// script returns a check that answers with each step in turn, then with
// the last one forever, and counts its calls.
type step struct {
	pending string
	err     error
}

func script(calls *int, steps ...step) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		s := steps[min(*calls, len(steps)-1)]
		*calls++
		return s.pending, s.err
	}
}

func TestWaitForPending(t *testing.T) {
	tests := []struct {
		name      string
		steps     []step
		wantCalls int    // 0: any number
		wantErr   string // "" means no error
	}{
		{"done at the third poll", []step{{err: errors.New("apiserver not up")}, {pending: "reviews-v1: 0/1 available"}, {}}, 3, ""},
		{"done at once", []step{{}}, 1, ""},
		{"times out with the pending state", []step{{pending: "reviews-v1: 0/1 available"}}, 0,
			"kube: Deployments in default not available within 30ms: context deadline exceeded (last state: reviews-v1: 0/1 available)"},
		{"times out with the last error", []step{{pending: "x"}, {err: errors.New("connection refused")}}, 0,
			"(last state: connection refused)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st lastState
			calls := 0
			err := waitFor(context.Background(), "Deployments in default not available", 30*time.Millisecond, time.Millisecond, st.pending(script(&calls, tt.steps...)), &st)
			if tt.wantCalls != 0 && calls != tt.wantCalls {
				t.Errorf("%d polls, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v\nwant one containing %q that wraps the deadline", err, tt.wantErr)
			}
		})
	}
}

func TestWaitForStreak(t *testing.T) {
	nack := &backend.NACKError{Proxy: "reviews-v1.bookinfo", TypeURL: rdsType, Text: "invalid route"}
	isNack := func(err error) bool { var n *backend.NACKError; return errors.As(err, &n) }
	tests := []struct {
		name      string
		results   []error
		wantCalls int
		wantErr   string
	}{
		{"three in a row", []error{nil, nil, nil}, 3, ""},
		{"a failure restarts the count", []error{nil, errors.New("1 of 2 proxies not synced"), nil, nil, nil}, 5, ""},
		{"a NACK ends the wait at once", []error{errors.New("behind"), nack}, 2, "proxy reviews-v1.bookinfo NACKed " + rdsType + ": invalid route"},
		{"times out with the last failure", []error{nil, errors.New("1 of 2 proxies not synced: productpage (not connected to istiod)")}, 0,
			"kube: proxies not synced within 30ms: context deadline exceeded (last state: 1 of 2 proxies not synced: productpage (not connected to istiod))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st lastState
			calls := 0
			check := func(context.Context) error {
				err := tt.results[min(calls, len(tt.results)-1)]
				calls++
				return err
			}
			err := waitFor(context.Background(), "proxies not synced", 30*time.Millisecond, time.Millisecond, st.streak(3, check, isNack), &st)
			if tt.wantCalls != 0 && calls != tt.wantCalls {
				t.Errorf("%d polls, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v\nwant one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestWaitForCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var st lastState
	never := apimachinerywait.ConditionWithContextFunc(func(context.Context) (bool, error) { return false, nil })
	err := waitFor(ctx, "nodes not Ready", time.Minute, time.Millisecond, never, &st)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nodes not Ready within 1m0s") || !strings.Contains(err.Error(), "(last state: nothing seen yet)") {
		t.Errorf("error %v, want the cancellation with what was awaited", err)
	}
}

func TestNotAvailable(t *testing.T) {
	two := int32(2)
	dep := func(gen, observed int64, replicas, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "reviews-v1", Generation: gen},
			Spec:       appsv1.DeploymentSpec{Replicas: &two},
			Status:     appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated, AvailableReplicas: available},
		}
	}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want string
	}{
		{"rolled out", dep(2, 2, 2, 2, 2), ""},
		{"generation not observed", dep(3, 2, 2, 2, 2), "reviews-v1: 2/2 available, 2 updated, generation 3 observed 2"},
		{"an old pod left", dep(2, 2, 3, 2, 2), "reviews-v1: 2/2 available, 2 updated, generation 2 observed 2"},
		{"one not available", dep(2, 2, 2, 2, 1), "reviews-v1: 1/2 available, 2 updated, generation 2 observed 2"},
	}
	for _, tt := range tests {
		if got := notAvailable(tt.d); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestNodesState(t *testing.T) {
	node := func(name string, ready corev1.ConditionStatus) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: ready}}}}
	}
	tests := []struct {
		name  string
		nodes []corev1.Node
		want  string
	}{
		{"nothing listed", nil, "0 of 2 nodes registered, not Ready: []"},
		{"worker not Ready", []corev1.Node{node("cp", corev1.ConditionTrue), node("worker", corev1.ConditionFalse)}, "2 of 2 nodes registered, not Ready: [worker]"},
		{"worker missing", []corev1.Node{node("cp", corev1.ConditionTrue)}, "1 of 2 nodes registered, not Ready: []"},
	}
	for _, tt := range tests {
		if got := (nodesState{&corev1.NodeList{Items: tt.nodes}, 2}).String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDecodeDocument(t *testing.T) {
	src := fixtures.Source{File: "bookinfo/bookinfo.yaml", Line: 12}
	dep := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: reviews-v1\n  namespace: bookinfo\nspec:\n  replicas: 1\n"
	tests := []struct {
		name    string
		yaml    string
		spread  bool
		wantErr string
		check   func(*unstructured.Unstructured) string
	}{
		{name: "a Deployment as written", yaml: dep, check: func(u *unstructured.Unstructured) string {
			if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, "status"); found || u.GetNamespace() != "bookinfo" {
				return "want only the document's fields"
			}
			return ""
		}},
		{name: "spread over the nodes", yaml: dep, spread: true, check: func(u *unstructured.Unstructured) string {
			if l, _, _ := unstructured.NestedString(u.Object, "spec", "template", "metadata", "labels", SpreadLabel); l != "bookinfo" {
				return "want the spread label"
			}
			return ""
		}},
		{name: "an Istio kind stays unstructured", yaml: "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n"},
		{name: "no name", yaml: "apiVersion: v1\nkind: Service\nmetadata: {}\n", wantErr: "fixtures/bookinfo/bookinfo.yaml:12: document has no kind or metadata.name"},
		{name: "no kind", yaml: "apiVersion: v1\nmetadata:\n  name: x\n", wantErr: "fixtures/bookinfo/bookinfo.yaml:12: /x: "},
		{name: "not YAML", yaml: "kind: [\n", wantErr: "fixtures/bookinfo/bookinfo.yaml:12: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []decoder.MutateFunc
			if tt.spread {
				mutate = append(mutate, spreadOverNodes)
			}
			u, err := decodeDocument(fixtures.Document{Source: src, Name: "x", YAML: []byte(tt.yaml)}, mutate...)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				if why := tt.check(u); why != "" {
					t.Errorf("%s: %v", why, u.Object)
				}
			}
		})
	}
}
