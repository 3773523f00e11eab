package tests

import (
	"context"
	"net"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/suite"
)

// istioIngress marks a test written for the fixtures' Istio ingress
// (Gateway and VirtualService on istio-ingressgateway): a Gateway API run
// (make e2e-local INGRESS=gateway-api) skips it, saying so.
var istioIngress = map[string]string{"ingress": "istio"}

// The helpers turn the suite's (value, error) finders into assertions;
// their failures point at the test's line.

func proxy(ctx context.Context, s *suite.Suite, namespace, prefix string) backend.Proxy {
	p, err := s.Proxy(ctx, namespace, prefix)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return p
}

func workload(ctx context.Context, s *suite.Suite, namespace, prefix string) backend.Workload {
	w, err := s.Workload(ctx, namespace, prefix)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return w
}

// dump is the config dump of the proxy in namespace whose name starts with
// prefix.
func dump(ctx context.Context, s *suite.Suite, namespace, prefix string) *xds.Dump {
	d, err := s.Dump(ctx, proxy(ctx, s, namespace, prefix))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return d
}

// fqdn is a fixture Service's name in the cluster: NAME.<the run's
// namespace for the fixture's NAMESPACE>.svc.cluster.local.
func fqdn(s *suite.Suite, name, namespace string) string {
	return name + "." + s.NS(namespace) + ".svc.cluster.local"
}

// serviceIP is the address in-mesh clients use for a service, without
// the port.
func serviceIP(ctx context.Context, s *suite.Suite, namespace, name string, port int) string {
	addr, err := s.Backend.ServiceAddress(ctx, s.NS(namespace), name, port)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	ip, _, err := net.SplitHostPort(addr)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "service address of %s/%s", namespace, name)
	return ip
}
