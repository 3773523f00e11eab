package xds

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Upstream TLS modes of a cluster as Istio's DestinationRule tls modes
// produce them (UpstreamTLS).
const (
	// TLSIstioMutual: the cluster's transport socket is TLS with the
	// workload certificate (SDS "default") and Istio's root (SDS
	// "ROOTCA"): a DestinationRule's ISTIO_MUTUAL.
	TLSIstioMutual = "ISTIO_MUTUAL"
	// TLSAuto: Istio's auto mTLS: ISTIO_MUTUAL to endpoints labelled
	// tlsMode=istio (transport_socket_matches), plaintext to the others.
	TLSAuto = "AUTO"
	// TLSDisable: no TLS at all, plaintext (a DestinationRule's DISABLE).
	TLSDisable = "DISABLE"
	// TLSSimple and TLSMutual: TLS origination with other certificates,
	// without and with a client certificate.
	TLSSimple = "SIMPLE"
	TLSMutual = "MUTUAL"
)

// Istio's SDS secret names for the workload certificate and its root.
const (
	sdsWorkload = "default"
	sdsRoot     = "ROOTCA"
)

const transportTLS = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"

// UpstreamTLS is the TLS mode a cluster's connections use (TLS* above),
// read from its transport socket and transport socket matches; an error
// names what it cannot decide (a socket type it does not model, an
// undecodable context).
func UpstreamTLS(c *clusterv3.Cluster) (string, error) {
	if len(c.GetTransportSocketMatches()) > 0 {
		return autoTLS(c)
	}
	return socketTLS(c.GetTransportSocket())
}

// autoTLS: Istio's auto mTLS is a tlsMode=istio match with ISTIO_MUTUAL
// and a plaintext fallback; any other set of matches is undecided.
func autoTLS(c *clusterv3.Cluster) (string, error) {
	modes := map[string]string{}
	for _, m := range c.GetTransportSocketMatches() {
		mode, err := socketTLS(m.GetTransportSocket())
		if err != nil {
			return "", fmt.Errorf("transport_socket_matches %s: %w", m.GetName(), err)
		}
		key := "default"
		if f := m.GetMatch().GetFields(); len(f) > 0 {
			key = ""
			if v, ok := f["tlsMode"]; ok && len(f) == 1 {
				key = "tlsMode=" + v.GetStringValue()
			}
		}
		modes[key] = mode
	}
	if len(modes) == 2 && modes["tlsMode=istio"] == TLSIstioMutual && modes["default"] == TLSDisable {
		return TLSAuto, nil
	}
	return "", fmt.Errorf("transport_socket_matches %v: not Istio's auto mTLS (ISTIO_MUTUAL to tlsMode=istio, else plaintext)", modes)
}

// socketTLS is the mode of one transport socket (nil: plaintext).
func socketTLS(ts *corev3.TransportSocket) (string, error) {
	if ts == nil || ts.GetName() == "envoy.transport_sockets.raw_buffer" {
		return TLSDisable, nil
	}
	if ts.GetTypedConfig().GetTypeUrl() != transportTLS {
		return "", fmt.Errorf("transport socket %s (%s): not modelled", ts.GetName(), ts.GetTypedConfig().GetTypeUrl())
	}
	var ctx tlsv3.UpstreamTlsContext
	if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
		return "", fmt.Errorf("transport socket %s: %w", ts.GetName(), err)
	}
	common := ctx.GetCommonTlsContext()
	certs := common.GetTlsCertificateSdsSecretConfigs()
	root := common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName()
	if root == "" {
		root = common.GetValidationContextSdsSecretConfig().GetName()
	}
	switch {
	case len(certs) == 1 && certs[0].GetName() == sdsWorkload && root == sdsRoot:
		return TLSIstioMutual, nil
	case len(certs) > 0 || len(common.GetTlsCertificates()) > 0:
		return TLSMutual, nil
	}
	return TLSSimple, nil
}
