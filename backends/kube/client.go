package kube

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"sigs.k8s.io/e2e-framework/klient/decoder"
	"sigs.k8s.io/e2e-framework/klient/k8s"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"

	"github.com/meshcheck/meshcheck/fixtures"
)

// fieldManager owns every field meshcheck applies.
const fieldManager = "meshcheck"

// client is the cluster's API: e2e-framework's klient resources client
// (controller-runtime underneath) for server-side apply, delete and the
// waits' lists; client-go's clientset for exec, port-forward, logs and the
// other typed reads.
type client struct {
	cfg *rest.Config
	cs  kubernetes.Interface
	res *resources.Resources
}

// newClient reads kubeconfig (its current context, or context when set).
func newClient(kubeconfig, context string) (*client, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kube: kubeconfig %s (context %q): %w", kubeconfig, context, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	res, err := resources.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("kube: %w", err)
	}
	return &client{cfg: cfg, cs: cs, res: res}, nil
}

// inNamespace is a resources client whose List is limited to namespace.
// klient's WithNamespace sets the namespace on its receiver, so it is
// called on a copy: the shared client stays unscoped and free of races.
func (k *client) inNamespace(namespace string) *resources.Resources {
	r := *k.res
	return r.WithNamespace(namespace)
}

// decodeDocument decodes one fixture document with e2e-framework's decoder
// into an unstructured object (so that apply sends exactly the fields the
// document sets), then runs mutate.
func decodeDocument(d fixtures.Document, mutate ...decoder.MutateFunc) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	opts := make([]decoder.DecodeOption, 0, len(mutate))
	for _, m := range mutate {
		opts = append(opts, decoder.MutateOption(m))
	}
	if err := decoder.Decode(bytes.NewReader(d.YAML), obj, opts...); err != nil {
		return nil, fmt.Errorf("%s: %s/%s: %w", d.Source, d.Kind, d.Name, err)
	}
	if obj.GetName() == "" || obj.GetKind() == "" {
		return nil, fmt.Errorf("%s: document has no kind or metadata.name", d.Source)
	}
	return obj, nil
}

// apply server-side applies every document in order (namespaces first, as
// the fixture lists them), forcing ownership of the fields it sets; mutate,
// when set, may change each object first.
func (k *client) apply(ctx context.Context, docs []fixtures.Document, mutate ...decoder.MutateFunc) error {
	for _, d := range docs {
		obj, err := decodeDocument(d, mutate...)
		if err != nil {
			return err
		}
		if err := k.serverSideApply(ctx, obj); err != nil {
			return fmt.Errorf("%s: applying %s %s/%s: %w", d.Source, d.Kind, d.Namespace, d.Name, needs(notServed(err)))
		}
	}
	return nil
}

// serverSideApply sends obj as an apply patch with field manager meshcheck,
// forced. klient has no apply helper (decoder's handlers create, update or
// delete), so this is its Patch with the apply patch type.
func (k *client) serverSideApply(ctx context.Context, obj *unstructured.Unstructured) error {
	data, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	return k.res.Patch(ctx, obj, k8s.Patch{PatchType: types.ApplyPatchType, Data: data}, func(o *metav1.PatchOptions) {
		o.FieldManager, o.Force = fieldManager, &force
	})
}

// notServed says so when the cluster does not serve a document's kind (an
// Istio CRD before install); the client's REST mapper has already
// rediscovered the group once.
func notServed(err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("the cluster does not serve this kind: %w", err)
	}
	return err
}

// deleteDocs deletes the documents in reverse order with decoder's
// DeleteIgnoreNotFound handler: a document that is already gone is not an
// error.
func (k *client) deleteDocs(ctx context.Context, docs []fixtures.Document) error {
	del := decoder.DeleteIgnoreNotFound(k.res)
	for i := len(docs) - 1; i >= 0; i-- {
		d := docs[i]
		obj, err := decodeDocument(d)
		if err != nil {
			return err
		}
		if err := del(ctx, obj); err != nil {
			return fmt.Errorf("%s: deleting %s %s/%s: %w", d.Source, d.Kind, d.Namespace, d.Name, needs(notServed(err)))
		}
	}
	return nil
}

// execResult is what a command in a container printed.
type execResult struct {
	Stdout, Stderr []byte
}

// exec runs cmd in a pod's container and waits for it. A non-zero exit is
// an error that carries the command and its standard error.
func (k *client) exec(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader) (execResult, error) {
	req := k.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(k.cfg, http.MethodPost, req.URL())
	if err != nil {
		return execResult{}, fmt.Errorf("exec in %s/%s (%s): %w", namespace, pod, container, err)
	}
	var out, errb bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: &out, Stderr: &errb})
	res := execResult{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	if err != nil {
		return res, fmt.Errorf("exec in %s/%s (%s): %s: %w; stderr: %s", namespace, pod, container, strings.Join(cmd, " "), needs(err), tail(errb.String(), 2000))
	}
	return res, nil
}

// forward opens a port-forward to a pod's port on 127.0.0.1 and returns
// the local address; stop closes it.
func (k *client) forward(ctx context.Context, namespace, pod string, port int) (addr string, stop func(), err error) {
	u := k.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	rt, upgrader, err := spdy.RoundTripperFor(k.cfg)
	if err != nil {
		return "", nil, fmt.Errorf("port-forward to %s/%s: %w", namespace, pod, err)
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path})
	stopCh, ready := make(chan struct{}), make(chan struct{})
	var errb bytes.Buffer
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)}, stopCh, ready, io.Discard, &errb)
	if err != nil {
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d: %w", namespace, pod, port, err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	select {
	case <-ready:
	case err := <-done:
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d: %w (%s)", namespace, pod, port, needs(err), strings.TrimSpace(errb.String()))
	case <-ctx.Done():
		close(stopCh)
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d: %w", namespace, pod, port, ctx.Err())
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) != 1 {
		close(stopCh)
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d: no local port: %v", namespace, pod, port, err)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0].Local), func() { close(stopCh) }, nil
}

// podLog reads a container's log (with Kubernetes' timestamps when asked).
func (k *client) podLog(ctx context.Context, namespace, pod string, opts corev1.PodLogOptions) ([]byte, error) {
	b, err := k.cs.CoreV1().Pods(namespace).GetLogs(pod, &opts).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("log of %s/%s (%s): %w", namespace, pod, opts.Container, needs(err))
	}
	return b, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Clientset is a client-go clientset for kubeconfig (and context, "" its
// current one): meshcheck cleanup's.
func Clientset(kubeconfig, context string) (kubernetes.Interface, error) {
	c, err := newClient(kubeconfig, context)
	if err != nil {
		return nil, err
	}
	return c.cs, nil
}
