package kindmesh

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
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"sigs.k8s.io/yaml"

	"github.com/meshcheck/meshcheck/fixtures"
)

// fieldManager owns every field meshcheck applies.
const fieldManager = "meshcheck"

// kube is the cluster's API through client-go.
type kube struct {
	cfg    *rest.Config
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newKube(kubeconfig string) (*kube, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kindmesh: kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kindmesh: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kindmesh: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kindmesh: %w", err)
	}
	return &kube{cfg: cfg, cs: cs, dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// resource maps a document to its API resource; a kind the server does not
// serve (an Istio CRD before install) is reported with the document's
// source, and the discovery cache is refreshed once in case the CRD is new.
func (k *kube) resource(d fixtures.Document, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil && meta.IsNoMatchError(err) {
		k.mapper.Reset()
		m, err = k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s/%s: the cluster does not serve this kind: %w", d.Source, d.APIVersion, d.Kind, d.Name, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return k.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return k.dyn.Resource(m.Resource), nil
}

func decodeDocument(d fixtures.Document) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(d.YAML, &obj.Object); err != nil {
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
func (k *kube) apply(ctx context.Context, docs []fixtures.Document, mutate func(*unstructured.Unstructured) error) error {
	for _, d := range docs {
		obj, err := decodeDocument(d)
		if err != nil {
			return err
		}
		if mutate != nil {
			if err := mutate(obj); err != nil {
				return fmt.Errorf("%s: %w", d.Source, err)
			}
		}
		ri, err := k.resource(d, obj)
		if err != nil {
			return err
		}
		if _, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
			return fmt.Errorf("%s: applying %s %s/%s: %w", d.Source, d.Kind, d.Namespace, d.Name, err)
		}
	}
	return nil
}

// deleteDocs deletes the documents in reverse order; a document that is
// already gone is not an error.
func (k *kube) deleteDocs(ctx context.Context, docs []fixtures.Document) error {
	for i := len(docs) - 1; i >= 0; i-- {
		d := docs[i]
		obj, err := decodeDocument(d)
		if err != nil {
			return err
		}
		ri, err := k.resource(d, obj)
		if err != nil {
			return err
		}
		if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil && !isNotFound(err) {
			return fmt.Errorf("%s: deleting %s %s/%s: %w", d.Source, d.Kind, d.Namespace, d.Name, err)
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
func (k *kube) exec(ctx context.Context, namespace, pod, container string, cmd []string, stdin io.Reader) (execResult, error) {
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
		return res, fmt.Errorf("exec in %s/%s (%s): %s: %w; stderr: %s", namespace, pod, container, strings.Join(cmd, " "), err, tail(errb.String(), 2000))
	}
	return res, nil
}

// forward opens a port-forward to a pod's port on 127.0.0.1 and returns
// the local address; stop closes it.
func (k *kube) forward(ctx context.Context, namespace, pod string, port int) (addr string, stop func(), err error) {
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
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d: %w (%s)", namespace, pod, port, err, strings.TrimSpace(errb.String()))
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
func (k *kube) podLog(ctx context.Context, namespace, pod string, opts corev1.PodLogOptions) ([]byte, error) {
	b, err := k.cs.CoreV1().Pods(namespace).GetLogs(pod, &opts).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("log of %s/%s (%s): %w", namespace, pod, opts.Container, err)
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
