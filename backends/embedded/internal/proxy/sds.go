package proxy

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	secretv3 "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// Names of the secrets Istio's generated config asks for.
const (
	SecretWorkload = "default"
	SecretRoot     = "ROOTCA"
)

const secretTypeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"

// sdsServer serves one proxy's secrets over SDS, as istio-agent does over
// its UDS: the workload certificate as "default", the root as "ROOTCA".
type sdsServer struct {
	secretv3.UnimplementedSecretDiscoveryServiceServer
	cert, key, root []byte
	nonce           atomic.Int64
}

func (s *sdsServer) secret(name string) (*tlsv3.Secret, error) {
	inline := func(b []byte) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
	}
	switch name {
	case SecretWorkload:
		return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: inline(s.cert), PrivateKey: inline(s.key)}}}, nil
	case SecretRoot:
		return &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: inline(s.root)}}}, nil
	}
	return nil, fmt.Errorf("unknown secret %q (serving %s and %s)", name, SecretWorkload, SecretRoot)
}

// StreamSecrets answers each new request for secret names; ACKs (a request
// carrying the nonce just sent and no new names) get no answer.
func (s *sdsServer) StreamSecrets(stream secretv3.SecretDiscoveryService_StreamSecretsServer) error {
	sent := map[string]bool{}
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if req.GetErrorDetail() != nil {
			return status.Errorf(codes.InvalidArgument, "Envoy rejected a secret: %s", req.GetErrorDetail().GetMessage())
		}
		var resources []*anypb.Any
		fresh := false
		for _, name := range req.GetResourceNames() {
			if !sent[name] {
				fresh = true
			}
		}
		if !fresh {
			continue
		}
		for _, name := range req.GetResourceNames() {
			sec, err := s.secret(name)
			if err != nil {
				return status.Error(codes.NotFound, err.Error())
			}
			a, err := anypb.New(sec)
			if err != nil {
				return err
			}
			resources = append(resources, a)
			sent[name] = true
		}
		n := strconv.FormatInt(s.nonce.Add(1), 10)
		if err := stream.Send(&discoveryv3.DiscoveryResponse{VersionInfo: "1", Nonce: n, TypeUrl: secretTypeURL, Resources: resources}); err != nil {
			return err
		}
	}
}

// ServeSDS serves a proxy's secrets (its workload certificate and key, and
// the root) on its SDS socket until the returned server stops.
func ServeSDS(spec Spec, cert, key, root []byte) (*grpc.Server, error) {
	_ = os.Remove(spec.SDSSocket())
	ln, err := net.Listen("unix", spec.SDSSocket())
	if err != nil {
		return nil, fmt.Errorf("proxy %s: SDS socket: %w", spec.ProxyID(), err)
	}
	if err := os.Chmod(spec.SDSSocket(), 0o666); err != nil {
		ln.Close()
		return nil, err
	}
	s := grpc.NewServer()
	secretv3.RegisterSecretDiscoveryServiceServer(s, &sdsServer{cert: cert, key: key, root: root})
	go func() { _ = s.Serve(ln) }()
	return s, nil
}
