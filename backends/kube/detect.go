package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// DetectOptions say where to look for the control plane.
type DetectOptions struct {
	// Namespace is istiod's namespace (default istio-system); Revision,
	// when set, picks istiod's istio.io/rev among several.
	Namespace, Revision string
	// IngressNamespace is the ingress gateway's namespace (default
	// Namespace); IngressSelector the label its Service carries (default
	// istio=ingressgateway).
	IngressNamespace, IngressSelector string
	// Version is the Istio version to assume when istiod's /version is not
	// a release X.Y.Z (a build of one's own); "" refuses then.
	Version string
	// BuildInfo reads istiod's /version from one of its pods (Detect's
	// caller port-forwards to its port 15014).
	BuildInfo func(ctx context.Context, pod *corev1.Pod) (string, error)
}

// NeedError is a refusal: the cluster's Istio lacks what the suites need.
// Each need names the setting and how to turn it on.
type NeedError struct{ Needs []string }

func (e *NeedError) Error() string {
	return fmt.Sprintf("kube: the cluster's Istio lacks %d thing(s) the suites need; nothing was created:\n  - %s", len(e.Needs), strings.Join(e.Needs, "\n  - "))
}

// detection is one step of Detect: it fills in part of m, or says what is
// missing (need) or failed (err).
type detection struct {
	what string
	run  func(d *detector, ctx context.Context, m *Mesh) (need string, err error)
}

// detections run in order; a step may use what the ones before found.
var detections = []detection{
	{"istiod", (*detector).findIstiod},
	{"mesh config", (*detector).meshConfig},
	{"sidecar injector", (*detector).injector},
	{"ingress gateway", (*detector).ingress},
	{"version", (*detector).version},
}

// detector holds what the detections share.
type detector struct {
	cs     kubernetes.Interface
	opts   DetectOptions
	istiod *corev1.Pod
}

// Detect reads the control plane the cluster runs: istiod (namespace,
// revision, version), the mesh config (access log file, encoding and
// format, DNS capture, interception mode), native sidecars and CNI, the
// sidecar injector's namespace label and the ingress gateway Service. What
// the suites need and the cluster lacks is returned as one *NeedError
// listing every need; an API error is returned as it is.
func Detect(ctx context.Context, cs kubernetes.Interface, opts DetectOptions) (Mesh, error) {
	if opts.Namespace == "" {
		opts.Namespace = istioinstall.Namespace
	}
	if opts.IngressNamespace == "" {
		opts.IngressNamespace = opts.Namespace
	}
	if opts.IngressSelector == "" {
		opts.IngressSelector = "istio=ingressgateway"
	}
	d := &detector{cs: cs, opts: opts}
	m := Mesh{Namespace: opts.Namespace, InterceptionMode: "REDIRECT"}
	var missing []string
	for _, step := range detections {
		need, err := step.run(d, ctx, &m)
		if err != nil {
			return m, fmt.Errorf("kube: detecting the %s: %w", step.what, needs(err))
		}
		if need != "" {
			missing = append(missing, need)
		}
		if step.what == "istiod" && need != "" {
			break // nothing else can be read without istiod
		}
	}
	if len(missing) > 0 {
		return m, &NeedError{Needs: missing}
	}
	return m, nil
}

// findIstiod finds a ready istiod pod and its revision and native-sidecar
// setting.
func (d *detector) findIstiod(ctx context.Context, m *Mesh) (string, error) {
	sel := "app=istiod"
	if d.opts.Revision != "" {
		sel += ",istio.io/rev=" + d.opts.Revision
	}
	pods, err := d.cs.CoreV1().Pods(d.opts.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return "", err
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; podReady(p) {
			d.istiod = p
			m.Revision = p.Labels["istio.io/rev"]
			m.NativeSidecars = containerEnv(p, "discovery", "ENABLE_NATIVE_SIDECARS")
			return "", nil
		}
	}
	return fmt.Sprintf("no ready istiod: no running pod labelled %s in namespace %s (%d not ready); install Istio (istioctl install), or name its namespace and revision (--istio-namespace, --istio-revision)", sel, d.opts.Namespace, len(pods.Items)), nil
}

// suffix is "" for the default revision, else "-<revision>": the names of
// the revision's ConfigMaps.
func (m Mesh) suffix() string {
	if m.Revision == "" || m.Revision == "default" {
		return ""
	}
	return "-" + m.Revision
}

// meshConfig reads the mesh config ConfigMap (istio or istio-<rev>, key
// mesh) and the injector's values (CNI).
func (d *detector) meshConfig(ctx context.Context, m *Mesh) (string, error) {
	name := "istio" + m.suffix()
	cm, err := d.cs.CoreV1().ConfigMaps(m.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("ConfigMap %s/%s: %w", m.Namespace, name, err)
	}
	var mc struct {
		AccessLogFile     string `json:"accessLogFile"`
		AccessLogEncoding string `json:"accessLogEncoding"`
		AccessLogFormat   string `json:"accessLogFormat"`
		DefaultConfig     struct {
			InterceptionMode string            `json:"interceptionMode"`
			ProxyMetadata    map[string]string `json:"proxyMetadata"`
		} `json:"defaultConfig"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["mesh"]), &mc); err != nil {
		return "", fmt.Errorf("ConfigMap %s/%s, key mesh: %w", m.Namespace, name, err)
	}
	m.AccessLog = AccessLog{File: mc.AccessLogFile, Encoding: mc.AccessLogEncoding, Format: mc.AccessLogFormat}
	if m.AccessLog.Encoding == "" {
		m.AccessLog.Encoding = string(istioinstall.AccessLogText)
	}
	if mc.DefaultConfig.InterceptionMode != "" {
		m.InterceptionMode = mc.DefaultConfig.InterceptionMode
	}
	m.DNSCapture = mc.DefaultConfig.ProxyMetadata["ISTIO_META_DNS_CAPTURE"] == "true"
	m.CNI = d.cniEnabled(ctx, m)
	switch {
	case m.AccessLog.File == "":
		return fmt.Sprintf("access logging is off: meshConfig.accessLogFile is empty in ConfigMap %s/%s; turn it on: istioctl install --set meshConfig.accessLogFile=/dev/stdout (or meshConfig.accessLogFile: /dev/stdout in the IstioOperator or Helm values)", m.Namespace, name), nil
	case m.AccessLog.File != "/dev/stdout":
		return fmt.Sprintf("access logs go to %q (meshConfig.accessLogFile in ConfigMap %s/%s); meshcheck reads them from the istio-proxy container's log: set meshConfig.accessLogFile=/dev/stdout", m.AccessLog.File, m.Namespace, name), nil
	}
	return "", nil
}

// cniEnabled reads the injector's values: Istio's CNI plugin is on when
// istio_cni.enabled or pilot.cni.enabled is true.
func (d *detector) cniEnabled(ctx context.Context, m *Mesh) bool {
	cm, err := d.cs.CoreV1().ConfigMaps(m.Namespace).Get(ctx, "istio-sidecar-injector"+m.suffix(), metav1.GetOptions{})
	if err != nil {
		return false
	}
	var v struct {
		IstioCNI struct {
			Enabled bool `json:"enabled"`
		} `json:"istio_cni"`
		Pilot struct {
			CNI struct {
				Enabled bool `json:"enabled"`
			} `json:"cni"`
		} `json:"pilot"`
	}
	if json.Unmarshal([]byte(cm.Data["values"]), &v) != nil {
		return false
	}
	return v.IstioCNI.Enabled || v.Pilot.CNI.Enabled
}

// injector finds the namespace label that a sidecar injector webhook
// selects: istio-injection=enabled, else istio.io/rev=<revision>.
func (d *detector) injector(ctx context.Context, m *Mesh) (string, error) {
	hooks, err := d.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{LabelSelector: "app=sidecar-injector"})
	if err != nil {
		return "", err
	}
	candidates := []string{"istio-injection=enabled"}
	rev := m.Revision
	if rev == "" {
		rev = "default"
	}
	candidates = append(candidates, "istio.io/rev="+rev)
	var seen []string
	for _, c := range candidates {
		k, v, _ := strings.Cut(c, "=")
		ns := labels.Set{k: v}
		for _, h := range hooks.Items {
			for _, w := range h.Webhooks {
				if w.NamespaceSelector == nil {
					continue
				}
				sel, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
				if err != nil {
					continue
				}
				seen = append(seen, h.Name+"/"+w.Name+" selects "+sel.String())
				if sel.Matches(ns) && hookForRevision(h.Labels, m.Revision) {
					m.InjectionLabel = c
					return "", nil
				}
			}
		}
	}
	return fmt.Sprintf("no sidecar injector enabled for labelled namespaces: no MutatingWebhookConfiguration labelled app=sidecar-injector selects a namespace labelled %s (webhooks: %s); install Istio with its injector (the default), or tag a revision as default: istioctl tag set default --revision %s",
		strings.Join(candidates, " or "), orNone(seen), rev), nil
}

// hookForRevision tells whether a webhook configuration (by its labels)
// injects the revision found.
func hookForRevision(l map[string]string, revision string) bool {
	r := l["istio.io/rev"]
	return r == "" || r == revision || (revision == "" && r == "default")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

// ingress finds the ingress gateway Service and its HTTP port.
func (d *detector) ingress(ctx context.Context, m *Mesh) (string, error) {
	svcs, err := d.cs.CoreV1().Services(d.opts.IngressNamespace).List(ctx, metav1.ListOptions{LabelSelector: d.opts.IngressSelector})
	if err != nil {
		return "", err
	}
	if len(svcs.Items) == 0 {
		return fmt.Sprintf("no ingress gateway: no Service labelled %s in namespace %s; install one (istioctl install --set components.ingressGateways[0].name=istio-ingressgateway --set components.ingressGateways[0].enabled=true, or the istio/gateway Helm chart), or name yours (--ingress-namespace, --ingress-selector)", d.opts.IngressSelector, d.opts.IngressNamespace), nil
	}
	g, err := ingressFromService(&svcs.Items[0])
	if err != nil {
		return err.Error(), nil
	}
	m.Ingress = g
	return "", nil
}

// releaseRE is an Istio release at the start of a build string.
var releaseRE = regexp.MustCompile(`^(\d+\.\d+\.\d+)(-|$)`)

// version asks istiod its build (X.Y.Z-<git revision>-<status>).
func (d *detector) version(ctx context.Context, m *Mesh) (string, error) {
	if d.opts.BuildInfo == nil {
		m.Version = d.opts.Version
		return "", nil
	}
	build, err := d.opts.BuildInfo(ctx, d.istiod)
	if err != nil {
		return "", fmt.Errorf("istiod %s/%s /version: %w", d.istiod.Namespace, d.istiod.Name, err)
	}
	m.Build = strings.TrimSpace(build)
	if v := releaseRE.FindStringSubmatch(m.Build); v != nil {
		m.Version = v[1]
		return "", nil
	}
	if d.opts.Version != "" {
		m.Version = d.opts.Version
		return "", nil
	}
	return fmt.Sprintf("istiod %s/%s says its version is %q, not a release X.Y.Z (a build of one's own): give the release it is built from with --istio-version X.Y.Z", d.istiod.Namespace, d.istiod.Name, m.Build), nil
}

// containerEnv is the value of a container's environment variable ("" if
// unset).
func containerEnv(p *corev1.Pod, container, name string) string {
	for _, c := range p.Spec.Containers {
		if c.Name != container {
			continue
		}
		for _, e := range c.Env {
			if e.Name == name {
				return e.Value
			}
		}
	}
	return ""
}
