package xds

import (
	"os"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func tlsSocket(t *testing.T, certs []string, root string) *corev3.TransportSocket {
	t.Helper()
	common := &tlsv3.CommonTlsContext{}
	for _, c := range certs {
		common.TlsCertificateSdsSecretConfigs = append(common.TlsCertificateSdsSecretConfigs, &tlsv3.SdsSecretConfig{Name: c})
	}
	if root != "" {
		common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
			DefaultValidationContext: &tlsv3.CertificateValidationContext{}, ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: root}}}
	}
	a, err := anypb.New(&tlsv3.UpstreamTlsContext{CommonTlsContext: common})
	if err != nil {
		t.Fatal(err)
	}
	return &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}
}

func match(name string, fields map[string]string, ts *corev3.TransportSocket) *clusterv3.Cluster_TransportSocketMatch {
	m := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	for k, v := range fields {
		m.Fields[k] = structpb.NewStringValue(v)
	}
	return &clusterv3.Cluster_TransportSocketMatch{Name: name, Match: m, TransportSocket: ts}
}

func TestUpstreamTLS(t *testing.T) {
	istio := tlsSocket(t, []string{"default"}, "ROOTCA")
	raw := &corev3.TransportSocket{Name: "envoy.transport_sockets.raw_buffer"}
	cases := []struct {
		name string
		c    *clusterv3.Cluster
		want string
		err  string
	}{
		{"plaintext", &clusterv3.Cluster{}, TLSDisable, ""},
		{"raw buffer", &clusterv3.Cluster{TransportSocket: raw}, TLSDisable, ""},
		{"ISTIO_MUTUAL", &clusterv3.Cluster{TransportSocket: istio}, TLSIstioMutual, ""},
		{"MUTUAL", &clusterv3.Cluster{TransportSocket: tlsSocket(t, []string{"file-cert:/etc/certs/cert.pem"}, "file-root:/etc/certs/root.pem")}, TLSMutual, ""},
		{"SIMPLE", &clusterv3.Cluster{TransportSocket: tlsSocket(t, nil, "file-root:/etc/certs/root.pem")}, TLSSimple, ""},
		{"auto", &clusterv3.Cluster{TransportSocketMatches: []*clusterv3.Cluster_TransportSocketMatch{
			match("tlsMode-istio", map[string]string{"tlsMode": "istio"}, istio), match("tlsMode-disabled", nil, raw)}}, TLSAuto, ""},
		{"matches that are not auto mTLS", &clusterv3.Cluster{TransportSocketMatches: []*clusterv3.Cluster_TransportSocketMatch{
			match("a", map[string]string{"zone": "a"}, istio), match("b", nil, raw)}}, "", "not Istio's auto mTLS"},
		{"another socket", &clusterv3.Cluster{TransportSocket: &corev3.TransportSocket{Name: "envoy.transport_sockets.alts",
			ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: &anypb.Any{TypeUrl: "type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts"}}}}, "", "not modelled"},
	}
	for _, c := range cases {
		got, err := UpstreamTLS(c.c)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %q, %v; want an error holding %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// A cluster of a real pilot's dump (auto mTLS to whoami's subset).
func TestUpstreamTLSOfPilotDump(t *testing.T) {
	b, err := os.ReadFile("testdata/pilot/sleep-config_dump.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"outbound|80|v1|whoami.default.svc.cluster.local": TLSAuto, "PassthroughCluster": TLSDisable} {
		c, ok := d.Cluster(name)
		if !ok {
			t.Fatalf("no cluster %s", name)
		}
		if got, err := UpstreamTLS(c.Config); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}
