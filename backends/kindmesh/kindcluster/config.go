package kindcluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

// ErrBadOption: an option cannot make a kind cluster config.
var ErrBadOption = errors.New("bad cluster option")

// Options describe one run's cluster.
type Options struct {
	// Name is the cluster's name (see NewName): one per run, so parallel
	// runs and a kept cluster never collide.
	Name string
	// NodeImage is the kind node image (istioinstall.Lookup gives one per
	// Istio minor); required.
	NodeImage string
	// Workers is 0 (one control-plane node that also runs pods) or 1
	// (control plane plus a worker, so traffic crosses nodes).
	Workers int
	// IngressNodePort is the ingress gateway's NodePort; it is mapped from
	// the control-plane node container (containerPort equal to it) to the
	// host. Required.
	IngressNodePort int
	// HostPort is the host side of that mapping (default IngressNodePort).
	HostPort int
	// ListenAddress is the host address of the mapping (default 127.0.0.1:
	// the ingress is not exposed beyond the machine).
	ListenAddress string
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// NewName returns a cluster name for one run of Istio istioVersion:
// "meshcheck-1-30-" and 6 random hex digits (a DNS label, as kind's node
// container names and kubeconfig contexts need). rnd nil means crypto/rand.
func NewName(istioVersion string, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	parts := strings.SplitN(strings.TrimPrefix(istioVersion, "v"), ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("kindcluster: %w: Istio version %q", ErrBadOption, istioVersion)
	}
	b := make([]byte, 3)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("kindcluster: random name: %w", err)
	}
	name := fmt.Sprintf("meshcheck-%s-%s-%s", parts[0], parts[1], hex.EncodeToString(b))
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("kindcluster: %w: Istio version %q gives cluster name %q, not a DNS label", ErrBadOption, istioVersion, name)
	}
	return name, nil
}

// Config returns the kind cluster config for opts.
func Config(opts Options) (*v1alpha4.Cluster, error) {
	if !nameRE.MatchString(opts.Name) {
		return nil, fmt.Errorf("kindcluster: %w: cluster name %q: want a lower-case DNS label of at most 40 characters", ErrBadOption, opts.Name)
	}
	if opts.NodeImage == "" || strings.ContainsAny(opts.NodeImage, " \t\n") {
		return nil, fmt.Errorf("kindcluster: %w: node image %q", ErrBadOption, opts.NodeImage)
	}
	if opts.Workers < 0 || opts.Workers > 1 {
		return nil, fmt.Errorf("kindcluster: %w: %d workers: want 0 or 1", ErrBadOption, opts.Workers)
	}
	if opts.IngressNodePort < 30000 || opts.IngressNodePort > 32767 {
		return nil, fmt.Errorf("kindcluster: %w: ingress NodePort %d is outside Kubernetes' default range 30000-32767", ErrBadOption, opts.IngressNodePort)
	}
	host := opts.HostPort
	if host == 0 {
		host = opts.IngressNodePort
	}
	if host < 1 || host > 65535 {
		return nil, fmt.Errorf("kindcluster: %w: host port %d", ErrBadOption, host)
	}
	listen := opts.ListenAddress
	if listen == "" {
		listen = "127.0.0.1"
	}
	c := &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Name:     opts.Name,
		Nodes: []v1alpha4.Node{{
			Role:  v1alpha4.ControlPlaneRole,
			Image: opts.NodeImage,
			ExtraPortMappings: []v1alpha4.PortMapping{{
				ContainerPort: int32(opts.IngressNodePort),
				HostPort:      int32(host),
				ListenAddress: listen,
				Protocol:      v1alpha4.PortMappingProtocolTCP,
			}},
		}},
	}
	for i := 0; i < opts.Workers; i++ {
		c.Nodes = append(c.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: opts.NodeImage})
	}
	return c, nil
}

// Render returns the config for opts as the YAML kind reads.
func Render(opts Options) ([]byte, error) {
	c, err := Config(opts)
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("kindcluster: rendering the config: %w", err)
	}
	return b, nil
}
