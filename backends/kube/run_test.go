package kube

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/meshcheck/meshcheck/fixtures"
)

func ns(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func TestCleanup(t *testing.T) {
	run := func(id string) map[string]string { return map[string]string{RunLabel: id} }
	objects := []runtime.Object{
		ns("default-abcd1234", run("abcd1234")),
		ns("whoami-abcd1234", run("abcd1234")),
		ns("default-ffff0000", run("ffff0000")),
		ns("default", run("abcd1234")),       // protected, whatever its label
		ns("team-a", run("abcd1234")),        // not named after the run
		ns("whoami-0000aaaa", nil),           // not labelled
		ns("istio-system", run("system")),    // protected, though named like run "system"s
		ns("prod-abcd1234", run("ABCD1234")), // not a run ID
		ns("bookinfo-1111", run("1111")),     // a short run ID
		ns("vm-ffff0000", run("ffff0000")),   // the other run's
		ns("kube-system", run("system")),
	}
	tests := []struct {
		name    string
		opts    CleanupOptions
		want    []string
		left    []string // namespaces that must remain
		wantErr string
	}{
		{name: "one run", opts: CleanupOptions{RunID: "abcd1234"}, want: []string{"default-abcd1234", "whoami-abcd1234"},
			left: []string{"default", "team-a", "default-ffff0000", "vm-ffff0000", "prod-abcd1234"}},
		{name: "every run", opts: CleanupOptions{AllRuns: true}, want: []string{"bookinfo-1111", "default-abcd1234", "default-ffff0000", "vm-ffff0000", "whoami-abcd1234"},
			left: []string{"default", "team-a", "whoami-0000aaaa", "istio-system", "kube-system", "prod-abcd1234"}},
		{name: "dry run", opts: CleanupOptions{RunID: "abcd1234", DryRun: true}, want: []string{"default-abcd1234", "whoami-abcd1234"},
			left: []string{"default-abcd1234", "whoami-abcd1234"}},
		{name: "neither", opts: CleanupOptions{}, wantErr: "kube: cleanup: name a run (--run ID) or --all-runs"},
		{name: "both", opts: CleanupOptions{RunID: "abcd1234", AllRuns: true}, wantErr: "exclude each other"},
		{name: "a bad run ID", opts: CleanupOptions{RunID: "Run 1"}, wantErr: `run ID "Run 1": want 4 to 12 lower-case letters or digits`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(objects...)
			var log bytes.Buffer
			tt.opts.Log = &log
			got, err := Cleanup(context.Background(), cs, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("%v, %v; want %v", got, err, tt.want)
			}
			for _, n := range tt.left {
				if _, err := cs.CoreV1().Namespaces().Get(context.Background(), n, metav1.GetOptions{}); err != nil {
					t.Errorf("namespace %s was deleted: %v", n, err)
				}
			}
			if !tt.opts.DryRun {
				for _, n := range got {
					if _, err := cs.CoreV1().Namespaces().Get(context.Background(), n, metav1.GetOptions{}); err == nil {
						t.Errorf("namespace %s is still there", n)
					}
				}
			}
			if lines := strings.Count(log.String(), "\n"); lines != len(tt.want) {
				t.Errorf("log %q: want one line per namespace", log.String())
			}
		})
	}
}

func TestOwnNamespaces(t *testing.T) {
	doc := func(kind, ns, name string) fixtures.Document {
		return fixtures.Document{Source: fixtures.Source{File: "whoami/whoami.yaml", Line: 3}, Kind: kind, Namespace: ns, Name: name}
	}
	tests := []struct {
		name    string
		suffix  bool
		docs    []fixtures.Document
		wantErr string
	}{
		{"the run's namespaces", true, []fixtures.Document{doc("Namespace", "", "whoami-abcd1234"), doc("Service", "whoami-abcd1234", "whoami")}, ""},
		{"a namespace of someone else's", true, []fixtures.Document{doc("Service", "whoami", "whoami")},
			"kube: fixtures/whoami/whoami.yaml:3: Service whoami/whoami is not in one of run abcd1234's namespaces (<namespace>-abcd1234): render the fixture with the backend's Namespace"},
		{"a cluster-scoped object", true, []fixtures.Document{doc("ClusterRole", "", "reader")},
			"kube: fixtures/whoami/whoami.yaml:3: ClusterRole reader is cluster-scoped: a run creates only its own namespaces and what goes in them"},
		{"the kind backend's own cluster", false, []fixtures.Document{doc("Service", "default", "x")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Backend{opts: Options{RunID: "abcd1234", NamespaceSuffix: tt.suffix}}
			err := b.ownNamespaces(&fixtures.Set{Documents: tt.docs})
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLabelRun(t *testing.T) {
	tests := []struct {
		name      string
		kind      string
		injection string
		want      map[string]string
	}{
		{"a Deployment", "Deployment", "istio-injection=enabled", map[string]string{"app": "x", RunLabel: "abcd1234"}},
		{"a Namespace, the default injector", "Namespace", "istio-injection=enabled", map[string]string{"app": "x", RunLabel: "abcd1234", "istio-injection": "enabled"}},
		{"a Namespace, a revision", "Namespace", "istio.io/rev=canary", map[string]string{"app": "x", RunLabel: "abcd1234", "istio.io/rev": "canary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{"kind": tt.kind, "metadata": map[string]any{"name": "x",
				"labels": map[string]any{"app": "x", fixtures.InjectionLabel: "enabled"}}}}
			if tt.kind != "Namespace" {
				delete(tt.want, fixtures.InjectionLabel)
				u.SetLabels(map[string]string{"app": "x"})
			}
			if err := labelRun("abcd1234", Mesh{InjectionLabel: tt.injection})(u); err != nil {
				t.Fatal(err)
			}
			got := u.GetLabels()
			if len(got) != len(tt.want) {
				t.Fatalf("labels %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("label %s=%q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	c, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Kubeconfig: "kubeconfig", Istio: Existing, NamespaceSuffix: true, RunID: "4f2a9c1e"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := c.Load("whoami", fixtures.Options{Namespace: b.Namespace("whoami")})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := b.Plan(set)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(set.Documents) || lines[0] != "apply Namespace whoami-4f2a9c1e ((generated), meshcheck.dev/run=4f2a9c1e)" {
		t.Errorf("plan %q", lines)
	}
	if up := b.PlanUp(); len(up) != 1 || !strings.HasPrefix(up[0], "detect the Istio in istio-system") {
		t.Errorf("plan of Up %q", up)
	}
	theirs, err := c.Load("whoami", fixtures.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Plan(theirs); err == nil || !strings.Contains(err.Error(), "is not in one of run 4f2a9c1e's namespaces") {
		t.Errorf("a plan into the fixture's own namespace: %v", err)
	}
}

func TestCleanupWaits(t *testing.T) {
	cs := fake.NewClientset(ns("default-abcd1234", map[string]string{RunLabel: "abcd1234"}))
	got, err := Cleanup(context.Background(), cs, CleanupOptions{RunID: "abcd1234", Wait: true})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %v", got, err)
	}
	if l, _ := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("left %v", l.Items)
	}
}
