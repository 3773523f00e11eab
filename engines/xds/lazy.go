package xds

import (
	"fmt"
	"sort"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// lazyStore holds the resources of a lazily parsed dump that have not been
// decoded yet, by kind and name. Lookups decode on first use.
type lazyStore struct {
	mu     sync.Mutex
	p      *parser
	jobs   map[kind]map[string]*job
	errors []error
}

// lazyKinds are decoded on demand; listeners, scoped routes and the
// bootstrap are few and always decoded.
func lazyKind(k kind) bool {
	return k == kindCluster || k == kindRoute || k == kindEndpoints || k == kindSecret
}

// resourceName reads a resource's name without decoding it: "name", or
// "cluster_name" for a load assignment.
func resourceName(data []byte, j *job) (string, error) {
	ms, _, err := objectMembers(data, j.start)
	if err != nil {
		return "", err
	}
	want := "name"
	if j.kind == kindEndpoints {
		want = "cluster_name"
	}
	for _, m := range ms {
		if snake(m.key) == want && data[m.start] == '"' {
			var p parser
			p.data = data
			return p.stringAt(m.start, m.end, "")
		}
	}
	return "", nil
}

// defer keeps the job for later; false when the job must be decoded now.
func (s *lazyStore) put(j *job) error {
	if !lazyKind(j.kind) {
		return fmt.Errorf("not lazy")
	}
	name, err := resourceName(s.p.data, j)
	if err != nil {
		return s.p.scanErr(err, j.path)
	}
	if name == "" && j.meta.Name != "" {
		name = j.meta.Name
	}
	byName := s.jobs[j.kind]
	if byName == nil {
		byName = map[string]*job{}
		s.jobs[j.kind] = byName
	}
	if old, ok := byName[name]; !ok || keep(old.meta.State, j.meta.State) {
		byName[name] = j
	}
	return nil
}

// lookup returns m[name], decoding a pending resource of kind k first in a
// lazy dump. The lock makes a lazy dump safe for concurrent lookups.
func lookup[V any](d *Dump, k kind, m map[string]V, name string) (V, bool) {
	if d.lazy == nil {
		v, ok := m[name]
		return v, ok
	}
	d.lazy.mu.Lock()
	defer d.lazy.mu.Unlock()
	d.loadLocked(k, name)
	v, ok := m[name]
	return v, ok
}

// loadLocked decodes the named resource of a kind, if the dump has one
// pending, and adds it to the index. The caller holds d.lazy.mu.
func (d *Dump) loadLocked(k kind, name string) {
	s := d.lazy
	j, ok := s.jobs[k][name]
	if !ok {
		return
	}
	delete(s.jobs[k], name)
	s.p.decode(j)
	if j.err != nil {
		s.errors = append(s.errors, j.err)
		return
	}
	m := j.meta
	switch msg := j.msg.(type) {
	case *clusterv3.Cluster:
		m.Name = msg.GetName()
		d.idx.clusters[m.Name] = &Cluster{Meta: m, Config: msg}
	case *routev3.RouteConfiguration:
		m.Name = msg.GetName()
		d.idx.routes[m.Name] = &RouteConfig{Meta: m, Config: msg}
	case *endpointv3.ClusterLoadAssignment:
		m.Name = msg.GetClusterName()
		d.idx.endpoints[m.Name] = &Endpoints{Meta: m, Config: msg}
	case *tlsv3.Secret:
		if m.Name == "" {
			m.Name = msg.GetName()
		}
		d.idx.secrets[m.Name] = &Secret{Meta: m, Config: msg}
	}
}

// names lists the names of a kind, decoded or pending, sorted.
func names[V any](d *Dump, k kind, m map[string]V) []string {
	if d.lazy != nil {
		d.lazy.mu.Lock()
		defer d.lazy.mu.Unlock()
	}
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	if d.lazy != nil {
		for n := range d.lazy.jobs[k] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Lazy reports whether the dump decodes clusters, routes, endpoints and
// secrets on first lookup (Options.Lazy). Such a dump answers lookups and
// traces; its Clusters, Routes, Endpoints and Secrets slices stay empty, so
// lint, expectations and goldens need a full parse.
func (d *Dump) Lazy() bool { return d.lazy != nil }

// LoadErrors returns the errors met decoding resources on demand in a lazy
// dump (a resource that does not decode is then not found).
func (d *Dump) LoadErrors() []error {
	if d.lazy == nil {
		return nil
	}
	d.lazy.mu.Lock()
	defer d.lazy.mu.Unlock()
	return append([]error(nil), d.lazy.errors...)
}
