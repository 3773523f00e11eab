package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/e2e-framework/klient/decoder"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/fixtures"
)

// RunLabel marks everything a run creates: RunLabel=<run ID>. Cleanup
// deletes exactly what carries it.
const RunLabel = "meshcheck.dev/run"

// runIDRE is a run ID: short enough that <namespace>-<ID> stays a DNS
// label, lower-case letters and digits.
var runIDRE = regexp.MustCompile(`^[a-z0-9]{4,12}$`)

// NewRunID returns a fresh run ID (8 hex digits).
func NewRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidRunID checks a run ID.
func ValidRunID(id string) error {
	if !runIDRE.MatchString(id) {
		return fmt.Errorf("kube: run ID %q: want 4 to 12 lower-case letters or digits", id)
	}
	return nil
}

// protected namespaces are never deleted, whatever their labels say.
var protected = []string{"default", "kube-system", "kube-public", "kube-node-lease", "istio-system"}

// RunNamespace is the namespace a fixture's namespace becomes in run id:
// <namespace>-<id>.
func RunNamespace(namespace, id string) string { return namespace + "-" + id }

// Namespace maps a fixture's namespace to the run's (the suite renders
// fixtures with it): <namespace>-<run ID> on a cluster meshcheck does not
// own; unchanged on the kind backend's own cluster.
func (b *Backend) Namespace(fixture string) string {
	if !b.opts.NamespaceSuffix {
		return fixture
	}
	return RunNamespace(fixture, b.opts.RunID)
}

// ownNamespaces refuses a set that would write outside the run's own
// namespaces: on a cluster meshcheck does not own, every object goes into
// a namespace named <namespace>-<run ID>, and nothing cluster-scoped but
// those namespaces is created.
func (b *Backend) ownNamespaces(set *fixtures.Set) error {
	if !b.opts.NamespaceSuffix {
		return nil
	}
	suffix := "-" + b.opts.RunID
	for _, d := range set.Documents {
		ns := d.Namespace
		if d.Kind == "Namespace" {
			ns = d.Name
		}
		if ns == "" {
			return fmt.Errorf("kube: %s: %s %s is cluster-scoped: a run creates only its own namespaces and what goes in them", d.Source, d.Kind, d.Name)
		}
		if !strings.HasSuffix(ns, suffix) {
			return fmt.Errorf("kube: %s: %s %s/%s is not in one of run %s's namespaces (<namespace>%s): render the fixture with the backend's Namespace", d.Source, d.Kind, ns, d.Name, b.opts.RunID, suffix)
		}
	}
	return nil
}

// labelRun labels every object with RunLabel=id, and gives a Namespace the
// sidecar injector's label the mesh selects (istio-injection=enabled or
// istio.io/rev=<revision>) in place of the fixture's.
func labelRun(id string, m Mesh) decoder.MutateFunc {
	return func(o k8s.Object) error {
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		l[RunLabel] = id
		if u, ok := o.(*unstructured.Unstructured); ok && u.GetKind() == "Namespace" && m.InjectionLabel != "" {
			delete(l, fixtures.InjectionLabel)
			k, v, _ := strings.Cut(m.InjectionLabel, "=")
			l[k] = v
		}
		o.SetLabels(l)
		return nil
	}
}

// Cleanup deletes what the run created: every namespace labelled with its
// run ID (and named <namespace>-<run ID>), and waits until they are gone.
func (b *Backend) Cleanup(ctx context.Context) error {
	if !b.opts.NamespaceSuffix {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.tmo.ClusterDelete)
	defer cancel()
	_, err := Cleanup(ctx, b.kube.cs, CleanupOptions{RunID: b.opts.RunID, Wait: true, Timeout: b.tmo.ClusterDelete, Log: b.log})
	return err
}

// CleanupOptions say which runs' leftovers Cleanup deletes.
type CleanupOptions struct {
	// RunID is one run; AllRuns every run (RunID empty).
	RunID   string
	AllRuns bool
	// DryRun lists what would be deleted and deletes nothing.
	DryRun bool
	// Wait waits, up to Timeout (default two minutes), until the
	// namespaces are gone.
	Wait    bool
	Timeout time.Duration
	// Log receives one line per namespace.
	Log io.Writer
}

// Cleanup deletes the namespaces a run (or every run) created: those
// labelled RunLabel whose name ends in -<their run ID>; a protected
// namespace (default, kube-*, istio-system) never. It returns their names,
// sorted.
func Cleanup(ctx context.Context, cs kubernetes.Interface, o CleanupOptions) ([]string, error) {
	sel := RunLabel
	switch {
	case o.RunID != "" && o.AllRuns:
		return nil, errors.New("kube: cleanup: --run and --all-runs exclude each other")
	case o.RunID != "":
		if err := ValidRunID(o.RunID); err != nil {
			return nil, err
		}
		sel += "=" + o.RunID
	case !o.AllRuns:
		return nil, errors.New("kube: cleanup: name a run (--run ID) or --all-runs")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("kube: cleanup: namespaces labelled %s: %w", sel, needs(err))
	}
	var names []string
	for _, ns := range list.Items {
		if ownedByRun(ns) {
			names = append(names, ns.Name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		verb := "deleting"
		if o.DryRun {
			verb = "would delete"
		}
		fmt.Fprintf(o.Log, "%s namespace %s (%s=%s)\n", verb, n, RunLabel, runOf(list.Items, n))
		if o.DryRun {
			continue
		}
		err := cs.CoreV1().Namespaces().Delete(ctx, n, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return names, fmt.Errorf("kube: cleanup: deleting namespace %s: %w", n, needs(err))
		}
	}
	if o.Wait && !o.DryRun {
		if o.Timeout == 0 {
			o.Timeout = 2 * time.Minute
		}
		return names, waitGone(ctx, cs, names, o.Timeout)
	}
	return names, nil
}

// ownedByRun tells whether a namespace is a run's: labelled with a run ID
// and named after it, and not a protected one.
func ownedByRun(ns corev1.Namespace) bool {
	id := ns.Labels[RunLabel]
	return ValidRunID(id) == nil && strings.HasSuffix(ns.Name, "-"+id) && !slices.Contains(protected, ns.Name)
}

func runOf(nss []corev1.Namespace, name string) string {
	for _, ns := range nss {
		if ns.Name == name {
			return ns.Labels[RunLabel]
		}
	}
	return ""
}

// waitGone polls until none of the namespaces is left.
func waitGone(ctx context.Context, cs kubernetes.Interface, names []string, timeout time.Duration) error {
	var st lastState
	cond := st.pending(func(ctx context.Context) (string, error) {
		var left []string
		for _, n := range names {
			_, err := cs.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return "", err
			default:
				left = append(left, n)
			}
		}
		if len(left) > 0 {
			return "still terminating: " + strings.Join(left, ", "), nil
		}
		return "", nil
	})
	return waitFor(ctx, "namespaces not deleted", timeout, time.Second, cond, &st)
}

// PlanUp says what Up would do, and create, on the cluster (--dry-run).
func (b *Backend) PlanUp() []string {
	if b.opts.Istio == Existing {
		return []string{fmt.Sprintf("detect the Istio in %s (istiod, mesh config, injector, ingress gateway); create nothing, refuse if a need is missing", orDefault(b.opts.Detect.Namespace, "istio-system"))}
	}
	args, err := istioinstall.InstallArgs(b.opts.Install)
	if err != nil {
		return []string{"istioctl install: " + err.Error()}
	}
	return []string{fmt.Sprintf("install Istio %s: %s %s --kubeconfig %s (stays after the run: istioctl uninstall --purge removes it)", b.opts.Install.Version, b.opts.Istioctl, strings.Join(args, " "), b.opts.Kubeconfig)}
}

// Plan says what Apply would create or update for set (--dry-run): one
// line per object, in apply order, with the run's label.
func (b *Backend) Plan(set *fixtures.Set) ([]string, error) {
	if err := b.ownNamespaces(set); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set.Documents))
	for _, d := range set.Documents {
		name := d.Name
		if d.Namespace != "" {
			name = d.Namespace + "/" + d.Name
		}
		out = append(out, fmt.Sprintf("apply %s %s (%s, %s=%s)", d.Kind, name, d.Source, RunLabel, b.opts.RunID))
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
