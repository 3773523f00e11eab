package istioinstall

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrBadOption: an option cannot be turned into install arguments.
var ErrBadOption = errors.New("bad install option")

// AccessLogEncoding is meshConfig.accessLogEncoding.
type AccessLogEncoding string

// The encodings Istio knows.
const (
	AccessLogText AccessLogEncoding = "TEXT"
	AccessLogJSON AccessLogEncoding = "JSON"
)

// DefaultIngressNodePort is the NodePort of the ingress gateway's HTTP port
// (Service port 80, targetPort 8080) unless Options says otherwise; the kind
// cluster maps the same container port to the host.
const DefaultIngressNodePort = 30080

// Options are the choices meshcheck makes when it installs Istio. The zero
// value is the default install: demo profile, JSON access logs to stdout,
// applications held until their proxy starts, the ingress gateway on
// NodePort 30080.
type Options struct {
	// Version is the Istio release being installed (X.Y.Z); it must be a
	// supported minor (see Supported).
	Version string
	// Profile is the istioctl profile (default "demo").
	Profile string
	// AccessLogEncoding is TEXT or JSON (default JSON); the log always goes
	// to /dev/stdout, where meshcheck reads it from the pod logs.
	AccessLogEncoding AccessLogEncoding
	// NoHoldApplication leaves holdApplicationUntilProxyStarts off (it is on
	// by default: an app that sends before its proxy is up fails at random).
	NoHoldApplication bool
	// IngressNodePort is the NodePort of the ingress gateway's port 80
	// (default DefaultIngressNodePort, within 30000-32767).
	IngressNodePort int
	// DNSCapture turns on the sidecar DNS proxy (ISTIO_META_DNS_CAPTURE):
	// DNS to the nameserver is redirected to 15053.
	DNSCapture bool
	// DNSAutoAllocate gives ServiceEntries without addresses one from
	// 240.240.0.0/16; proxies use it only with DNSCapture, so it requires
	// it. Since 1.25 the control plane allocates (PILOT_ENABLE_IP_AUTOALLOCATE).
	DNSAutoAllocate bool
	// Hub and Tag install locally built istiod and proxyv2 images (loaded
	// into the cluster with kind load) instead of the release's; both or
	// neither. Images are then never pulled.
	Hub, Tag string
	// EmbeddedParity installs with Parity, as the embedded mesh runs: pilot
	// then emits only upstream Envoy types, which a stock Envoy (the
	// air-gapped proxyv2 image) accepts, and config dumps from kind and
	// from the embedded mesh can be compared.
	EmbeddedParity bool
	// OverlayPath is where the caller writes Overlay's output; the
	// arguments pass it with -f (default "meshcheck-overlay.yaml").
	OverlayPath string
}

var (
	hubRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._:/-]*[a-z0-9])?$`)
	tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

func (o Options) withDefaults() (Options, error) {
	if _, err := Lookup(o.Version); err != nil {
		return o, err
	}
	if o.Profile == "" {
		o.Profile = "demo"
	}
	if strings.ContainsAny(o.Profile, " =,/") {
		return o, fmt.Errorf("istioinstall: %w: profile %q", ErrBadOption, o.Profile)
	}
	switch o.AccessLogEncoding {
	case "":
		o.AccessLogEncoding = AccessLogJSON
	case AccessLogText, AccessLogJSON:
	default:
		return o, fmt.Errorf("istioinstall: %w: access log encoding %q: want TEXT or JSON", ErrBadOption, o.AccessLogEncoding)
	}
	if o.IngressNodePort == 0 {
		o.IngressNodePort = DefaultIngressNodePort
	}
	if o.IngressNodePort < 30000 || o.IngressNodePort > 32767 {
		return o, fmt.Errorf("istioinstall: %w: ingress NodePort %d is outside Kubernetes' default range 30000-32767", ErrBadOption, o.IngressNodePort)
	}
	if o.DNSAutoAllocate && !o.DNSCapture {
		return o, fmt.Errorf("istioinstall: %w: DNSAutoAllocate needs DNSCapture (proxies only use allocated addresses through the DNS proxy)", ErrBadOption)
	}
	if (o.Hub == "") != (o.Tag == "") {
		return o, fmt.Errorf("istioinstall: %w: hub %q and tag %q: set both or neither", ErrBadOption, o.Hub, o.Tag)
	}
	if o.Hub != "" && (!hubRE.MatchString(o.Hub) || !tagRE.MatchString(o.Tag)) {
		return o, fmt.Errorf("istioinstall: %w: hub %q or tag %q is not an image reference part", ErrBadOption, o.Hub, o.Tag)
	}
	if o.OverlayPath == "" {
		o.OverlayPath = "meshcheck-overlay.yaml"
	}
	return o, nil
}

// InstallArgs returns the istioctl arguments (without "istioctl") that
// install Istio for opts. They refer to the overlay file at
// opts.OverlayPath, whose content Overlay returns.
func InstallArgs(opts Options) ([]string, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	args := []string{"install", "-y", "-f", o.OverlayPath}
	set := func(kv string) { args = append(args, "--set", kv) }
	set("profile=" + o.Profile)
	set("meshConfig.accessLogFile=/dev/stdout")
	set("meshConfig.accessLogEncoding=" + string(o.AccessLogEncoding))
	set(fmt.Sprintf("meshConfig.defaultConfig.holdApplicationUntilProxyStarts=%t", !o.NoHoldApplication))
	if o.DNSCapture {
		set("meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE=true")
	}
	if o.DNSAutoAllocate {
		set("meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE=true")
		set("values.pilot.env.PILOT_ENABLE_IP_AUTOALLOCATE=true")
	}
	if o.EmbeddedParity {
		for _, kv := range Parity.installSets() {
			set(kv)
		}
	}
	if o.Hub != "" {
		set("hub=" + o.Hub)
		set("tag=" + o.Tag)
		set("values.global.imagePullPolicy=Never")
	}
	return args, nil
}

// Overlay returns the IstioOperator overlay InstallArgs refers to: the
// ingress gateway's Service as NodePort, its port 80 (targetPort 8080, the
// listener 0.0.0.0_8080) on opts.IngressNodePort. The chart replaces the
// whole port list, so the status and HTTPS ports are listed too.
func Overlay(opts Options) ([]byte, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf(`# Written by meshcheck for Istio %s: the ingress gateway as a NodePort
# Service, reached from the host through kind's extraPortMappings.
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  values:
    gateways:
      istio-ingressgateway:
        type: NodePort
        ports:
        - name: status-port
          port: 15021
          targetPort: 15021
          protocol: TCP
        - name: http2
          port: 80
          targetPort: 8080
          nodePort: %d
          protocol: TCP
        - name: https
          port: 443
          targetPort: 8443
          protocol: TCP
`, o.Version, o.IngressNodePort)), nil
}

// UninstallArgs returns the istioctl arguments that remove everything
// InstallArgs installed.
func UninstallArgs() []string {
	return []string{"uninstall", "--purge", "-y"}
}

// Namespace is where istioctl installs istiod and the gateways.
const Namespace = "istio-system"
