package xds

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshcheck/meshcheck/engines/xds/internal/registry"
)

type kind int

const (
	kindListener kind = iota
	kindCluster
	kindRoute
	kindScoped
	kindSecret
	kindEndpoints
	kindBootstrap
)

func (k kind) newMessage() proto.Message {
	switch k {
	case kindListener:
		return &listenerv3.Listener{}
	case kindCluster:
		return &clusterv3.Cluster{}
	case kindRoute:
		return &routev3.RouteConfiguration{}
	case kindScoped:
		return &routev3.ScopedRouteConfiguration{}
	case kindSecret:
		return &tlsv3.Secret{}
	case kindEndpoints:
		return &endpointv3.ClusterLoadAssignment{}
	default:
		return &bootstrapv3.Bootstrap{}
	}
}

// job is one resource to decode: its extent in the document and what the
// wrapper said about it.
type job struct {
	kind       kind
	start, end int
	path       string
	meta       Meta
	// any is true when the value is an Any (a leading "@type").
	any bool

	msg      proto.Message
	unknown  []Unknown
	warnings []string
	err      error
}

// run decodes every job, in parallel, and adds the results in order.
func (p *parser) run() error {
	if p.opts.Lazy {
		store := &lazyStore{p: p, jobs: map[kind]map[string]*job{}}
		eager := p.jobs[:0]
		for _, j := range p.jobs {
			if lazyKind(j.kind) {
				if err := store.put(j); err != nil {
					return err
				}
				continue
			}
			eager = append(eager, j)
		}
		p.jobs = eager
		p.dump.lazy = store
	}
	workers := p.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(1, len(p.jobs)))
	var wg sync.WaitGroup
	next := make(chan *job)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				p.decode(j)
			}
		}()
	}
	for _, j := range p.jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, j := range p.jobs {
		if j.err != nil {
			return j.err
		}
		p.dump.Unknown = append(p.dump.Unknown, j.unknown...)
		p.dump.Warnings = append(p.dump.Warnings, j.warnings...)
		p.add(j)
	}
	p.jobs = nil
	return nil
}

func (p *parser) add(j *job) {
	m := j.meta
	switch msg := j.msg.(type) {
	case *listenerv3.Listener:
		if m.Name == "" {
			m.Name = msg.GetName()
		}
		p.dump.Listeners = append(p.dump.Listeners, &Listener{Meta: m, Config: msg})
	case *clusterv3.Cluster:
		m.Name = msg.GetName()
		p.dump.Clusters = append(p.dump.Clusters, &Cluster{Meta: m, Config: msg})
	case *routev3.RouteConfiguration:
		m.Name = msg.GetName()
		p.dump.Routes = append(p.dump.Routes, &RouteConfig{Meta: m, Config: msg})
	case *routev3.ScopedRouteConfiguration:
		m.Name = msg.GetName()
		p.dump.ScopedRoutes = append(p.dump.ScopedRoutes, &ScopedRoute{Meta: m, Config: msg})
	case *tlsv3.Secret:
		if m.Name == "" {
			m.Name = msg.GetName()
		}
		p.dump.Secrets = append(p.dump.Secrets, &Secret{Meta: m, Config: msg})
	case *endpointv3.ClusterLoadAssignment:
		m.Name = msg.GetClusterName()
		p.dump.Endpoints = append(p.dump.Endpoints, &Endpoints{Meta: m, Config: msg})
	case *bootstrapv3.Bootstrap:
		p.dump.Bootstrap = msg
		p.dump.Node = msg.GetNode()
	}
}

// decode fills j.msg from the document; safe to run concurrently.
func (p *parser) decode(j *job) {
	raw := p.data[j.start:j.end]
	if len(raw) == 0 || raw[0] != '{' {
		j.err = p.fail(j.start, j.path, fmt.Errorf("expected an object"))
		return
	}
	want := j.kind.newMessage()
	body := raw
	shift := 0
	if j.any {
		typeURL, rest, ok := leadingType(raw)
		switch {
		case !ok:
			// "@type" is not the first member: decode as an Any.
			a := &anypb.Any{}
			if err := p.protoUnmarshal(j, raw, a); err != nil {
				j.err = err
				return
			}
			if err := a.UnmarshalTo(want); err != nil {
				j.err = p.fail(j.start, j.path, fmt.Errorf("expected %s, found %s: %w", want.ProtoReflect().Descriptor().FullName(), a.GetTypeUrl(), err))
				return
			}
			j.msg = want
			return
		case protoreflect.FullName(registry.MessageName(typeURL)) != want.ProtoReflect().Descriptor().FullName():
			j.err = p.fail(j.start, j.path, fmt.Errorf("expected %s, found %s", want.ProtoReflect().Descriptor().FullName(), typeURL))
			return
		}
		body, shift = rest, len(raw)-len(rest)
	}
	if err := p.protoUnmarshalAt(j, body, shift, want); err != nil {
		j.err = err
		return
	}
	j.msg = want
}

func (p *parser) protoUnmarshal(j *job, body []byte, msg proto.Message) error {
	return p.protoUnmarshalAt(j, body, 0, msg)
}

// protoUnmarshalAt decodes body (the document's bytes from j.start, less
// shift bytes removed after the opening brace) into msg: Any payloads of
// unknown types are replaced first, and unknown fields are dropped with a
// warning unless Strict.
func (p *parser) protoUnmarshalAt(j *job, body []byte, shift int, msg proto.Message) error {
	rewritten := false
	if hasUnknownType(body) {
		fixed, unknown, err := replaceUnknownAnys(body, j.path)
		if err != nil {
			return p.fail(j.start, j.path, err)
		}
		body, rewritten = fixed, true
		j.unknown = append(j.unknown, unknown...)
	}
	err := protojson.Unmarshal(body, msg)
	if err != nil && !p.opts.Strict && strings.Contains(err.Error(), "unknown field") {
		first := err
		proto.Reset(msg)
		if err = (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, msg); err == nil {
			j.warnings = append(j.warnings, fmt.Sprintf("%s: dropped a field unknown to meshcheck's Envoy API (%s), a newer Envoy?: %s",
				j.path, msg.ProtoReflect().Descriptor().FullName(), trimProtoErr(first)))
		}
	}
	if err != nil {
		off := j.start
		if !rewritten {
			if k := protoErrOffset(body, err); k > 0 {
				off = j.start + k + shift
			}
		}
		return p.fail(off, j.path, fmt.Errorf("not a valid %s: %s", msg.ProtoReflect().Descriptor().FullName(), trimProtoErr(err)))
	}
	return nil
}

// protoErrOffset maps protojson's "(line L:C)" to an offset in text; -1 when
// absent.
func protoErrOffset(text []byte, err error) int {
	m := protojsonPos.FindStringSubmatch(err.Error())
	if m == nil {
		return -1
	}
	var line, col int
	fmt.Sscan(m[1], &line)
	fmt.Sscan(m[2], &col)
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(text[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	off += col - 1
	if off > len(text) {
		return -1
	}
	return off
}

func trimProtoErr(err error) string {
	s := protojsonPos.ReplaceAllString(err.Error(), "")
	s = strings.TrimPrefix(s, "proto:")
	return strings.TrimLeft(s, " :\u00a0")
}

// leadingType reads an object's first member when it is "@type" and returns
// its value and a copy of the object without it. ok is false otherwise.
func leadingType(raw []byte) (typeURL string, rest []byte, ok bool) {
	i := skipWS(raw, 1)
	if !bytes.HasPrefix(raw[i:], atType) {
		return "", nil, false
	}
	k := skipWS(raw, i+len(atType))
	if k >= len(raw) || raw[k] != ':' {
		return "", nil, false
	}
	k = skipWS(raw, k+1)
	if k >= len(raw) || raw[k] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(raw[k+1:], '"')
	if end < 0 || bytes.IndexByte(raw[k+1:k+1+end], '\\') >= 0 {
		return "", nil, false
	}
	typeURL = string(raw[k+1 : k+1+end])
	k = skipWS(raw, k+1+end+1)
	if k < len(raw) && raw[k] == ',' {
		k++
	}
	rest = make([]byte, 0, len(raw)-k+1)
	rest = append(rest, '{')
	return typeURL, append(rest, raw[k:]...), true
}
