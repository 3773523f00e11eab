package envoylab

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Received is what an echo server got: the cluster it stands for and the
// request as the upstream saw it.
type Received struct {
	Cluster string `json:"cluster"`
	Host    string `json:"host"`
	// Path is the request target, query string included.
	Path string `json:"path"`
	// ForwardedProto is the x-forwarded-proto header.
	ForwardedProto string `json:"forwardedProto"`
	// Headers are the request headers by lower-case name, every value in
	// the order received.
	Headers map[string][]string `json:"headers"`
}

// echoServer answers every request with the Received it got, as JSON in
// echoHeader.
type echoServer struct {
	cluster string
	srv     *http.Server
	port    int
}

func startEcho(cluster string) (*echoServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("echo server for %s: %w", cluster, err)
	}
	e := &echoServer{cluster: cluster, port: l.Addr().(*net.TCPAddr).Port}
	e.srv = &http.Server{Handler: http.HandlerFunc(e.serve)}
	go func() { _ = e.srv.Serve(l) }() // returns when closed
	return e, nil
}

func (e *echoServer) serve(w http.ResponseWriter, r *http.Request) {
	rec := Received{Cluster: e.cluster, Host: r.Host, Path: r.RequestURI,
		ForwardedProto: r.Header.Get("X-Forwarded-Proto"), Headers: map[string][]string{}}
	for k, v := range r.Header {
		rec.Headers[strings.ToLower(k)] = v
	}
	b, _ := json.Marshal(rec)
	// In a header, so a HEAD request's answer carries it too.
	w.Header().Set(echoHeader, string(b))
}

func (e *echoServer) close() { _ = e.srv.Close() }

// echoHeader carries an echo server's Received as JSON; it also tells an
// echo's answer from one Envoy made itself.
const echoHeader = "X-Envoylab-Echo"
