package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/meshcheck/meshcheck/engines/xds/internal/registry"
)

// Options tune Parse.
type Options struct {
	// Source names the document in errors and reports (a file name).
	Source string
	// Strict makes fields unknown to the binary's go-control-plane an error.
	// By default they are dropped and named in Dump.Warnings (a dump from an
	// Envoy newer than meshcheck's types still parses).
	Strict bool
	// Workers decode resources in parallel; 0 means GOMAXPROCS.
	Workers int
	// Lazy decodes clusters, route configs, endpoints and secrets only when
	// a lookup asks for them (see Dump.Lazy): a trace through a dump of
	// thousands of services then decodes a handful of resources.
	Lazy bool
}

// ParseFile reads and parses a config dump file.
func ParseFile(path string, opts Options) (*Dump, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config dump: %w", err)
	}
	if opts.Source == "" {
		opts.Source = path
	}
	return Parse(data, opts)
}

// Parse reads a config dump document (see the package doc for the shapes it
// accepts) and indexes it. It does not modify data. Errors are *ParseError
// and wrap ErrNotConfigDump, ErrV2, or the underlying JSON or proto error.
func Parse(data []byte, opts Options) (*Dump, error) {
	p := &parser{data: data, opts: opts, dump: &Dump{Source: opts.Source}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	p.dump.buildIndex()
	return p.dump, nil
}

type parser struct {
	data []byte
	opts Options
	dump *Dump
	jobs []*job
}

func (p *parser) fail(offset int, path string, err error) error {
	return newParseError(p.opts.Source, p.data, int64(offset), path, err)
}

// scanErr turns a scanner error into a ParseError.
func (p *parser) scanErr(err error, path string) error {
	var se *syntaxErr
	if errors.As(err, &se) {
		return p.fail(se.off, path, fmt.Errorf("invalid JSON: %s", se.msg))
	}
	return p.fail(-1, path, err)
}

func (p *parser) parse() error {
	start := skipWS(p.data, 0)
	if bytes.HasPrefix(p.data[start:], []byte("\ufeff")) {
		start = skipWS(p.data, start+3)
	}
	if start >= len(p.data) {
		return p.fail(-1, "", fmt.Errorf("%w: the document is empty", ErrNotConfigDump))
	}
	if i := v2Marker(p.data); i >= 0 {
		return p.fail(i, "", ErrV2)
	}
	var err error
	switch p.data[start] {
	case '{':
		err = p.parseAdmin(start)
	case '[':
		err = p.parseArray(start)
	default:
		hint := "it does not start with { or ["
		if looksLikeYAML(p.data[start:]) {
			hint = "it looks like YAML; give the JSON of /config_dump or of istioctl ... -o json"
		}
		return p.fail(start, "", fmt.Errorf("%w: not JSON: %s", ErrNotConfigDump, hint))
	}
	if err != nil {
		return err
	}
	return p.run()
}

// v2Marker finds a v2 API type URL, the sign of an Envoy 1.17-or-earlier dump.
func v2Marker(data []byte) int {
	for _, m := range []string{"type.googleapis.com/envoy.admin.v2alpha.", "type.googleapis.com/envoy.api.v2."} {
		if i := bytes.Index(data, []byte(m)); i >= 0 {
			return i
		}
	}
	return -1
}

func looksLikeYAML(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	line = bytes.TrimSpace(line)
	return bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("#")) ||
		bytes.HasPrefix(line, []byte("- ")) || bytes.Contains(line, []byte(": ")) || bytes.HasSuffix(line, []byte(":"))
}

// endOfDocument checks that nothing but white space follows the value.
func (p *parser) endOfDocument(end int) error {
	if i := skipWS(p.data, end); i < len(p.data) {
		return p.fail(i, "", fmt.Errorf("invalid JSON: data after the document"))
	}
	return nil
}

func (p *parser) parseAdmin(start int) error {
	p.dump.Shape = ShapeAdmin
	members, end, err := objectMembers(p.data, start)
	if err != nil {
		return p.scanErr(err, "")
	}
	if err := p.endOfDocument(end); err != nil {
		return err
	}
	var configs *member
	keys := make([]string, 0, len(members))
	for i := range members {
		keys = append(keys, members[i].key)
		if members[i].key == "configs" {
			configs = &members[i]
		}
	}
	if configs == nil {
		if ok, err := p.loneSection(start, end); ok || err != nil {
			return err
		}
		if len(keys) > 8 {
			keys = append(keys[:8], "...")
		}
		return p.fail(start, "", fmt.Errorf("%w: no \"configs\" array (top-level keys: %s); expected the JSON of Envoy's /config_dump, istioctl proxy-config all -o json, or an istioctl per-type array",
			ErrNotConfigDump, strings.Join(keys, ", ")))
	}
	if p.data[configs.start] != '[' {
		return p.fail(configs.start, "configs", fmt.Errorf("%w: \"configs\" is not an array", ErrNotConfigDump))
	}
	elems, _, err := arrayElements(p.data, configs.start)
	if err != nil {
		return p.scanErr(err, "configs")
	}
	for i, e := range elems {
		if err := p.section(e[0], e[1], fmt.Sprintf("configs[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// stringAt decodes the JSON string value at [s, e).
func (p *parser) stringAt(s, e int, path string) (string, error) {
	var out string
	if err := json.Unmarshal(p.data[s:e], &out); err != nil {
		return "", p.fail(s, path, fmt.Errorf("expected a string: %v", err))
	}
	return out, nil
}

// timeAt decodes a timestamp value; a bad one is a warning, not an error.
func (p *parser) timeAt(m member, path string) time.Time {
	s, err := p.stringAt(m.start, m.end, path)
	if err != nil {
		p.dump.Warnings = append(p.dump.Warnings, fmt.Sprintf("%s: %v", path, err))
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.dump.Warnings = append(p.dump.Warnings, fmt.Sprintf("%s: %q is not a timestamp", path, s))
	}
	return t
}

// fields reads an object's members keyed by snake_case name.
func (p *parser) fields(s int, path string) (map[string]member, error) {
	ms, _, err := objectMembers(p.data, s)
	if err != nil {
		return nil, p.scanErr(err, path)
	}
	out := make(map[string]member, len(ms))
	for _, m := range ms {
		out[snake(m.key)] = m
	}
	return out, nil
}

// list returns the elements of an array member, or none when absent.
func (p *parser) list(f map[string]member, key, path string) ([][2]int, error) {
	m, ok := f[key]
	if !ok {
		return nil, nil
	}
	if p.data[m.start] == 'n' { // null
		return nil, nil
	}
	els, _, err := arrayElements(p.data, m.start)
	if err != nil {
		return nil, p.scanErr(err, path+"."+key)
	}
	return els, nil
}

// meta reads the common wrapper fields of a resource entry.
func (p *parser) meta(f map[string]member, path string, state State) (Meta, error) {
	m := Meta{State: state, Path: path}
	if v, ok := f["version_info"]; ok {
		s, err := p.stringAt(v.start, v.end, path+".version_info")
		if err != nil {
			return m, err
		}
		m.Version = s
	}
	if v, ok := f["name"]; ok {
		s, err := p.stringAt(v.start, v.end, path+".name")
		if err != nil {
			return m, err
		}
		m.Name = s
	}
	if v, ok := f["last_updated"]; ok {
		m.LastUpdated = p.timeAt(v, path+".last_updated")
	}
	if v, ok := f["error_state"]; ok && p.data[v.start] == '{' {
		e, err := p.errorState(v.start, path+".error_state")
		if err != nil {
			return m, err
		}
		m.Error = e
	}
	return m, nil
}

func (p *parser) errorState(s int, path string) (*UpdateError, error) {
	f, err := p.fields(s, path)
	if err != nil {
		return nil, err
	}
	e := &UpdateError{}
	if v, ok := f["details"]; ok {
		if e.Details, err = p.stringAt(v.start, v.end, path+".details"); err != nil {
			return nil, err
		}
	}
	if v, ok := f["version_info"]; ok {
		if e.Version, err = p.stringAt(v.start, v.end, path+".version_info"); err != nil {
			return nil, err
		}
	}
	if v, ok := f["last_update_attempt"]; ok {
		e.LastAttempt = p.timeAt(v, path+".last_update_attempt")
	}
	return e, nil
}

// section reads one element of "configs".
func (p *parser) section(s, e int, path string) error {
	if p.data[s] != '{' {
		return p.fail(s, path, fmt.Errorf("%w: each element of \"configs\" must be an object with an \"@type\"", ErrNotConfigDump))
	}
	f, err := p.fields(s, path)
	if err != nil {
		return err
	}
	t, ok := f["@type"]
	if !ok {
		return p.fail(s, path, fmt.Errorf("%w: element has no \"@type\"", ErrNotConfigDump))
	}
	typeURL, err := p.stringAt(t.start, t.end, path+".@type")
	if err != nil {
		return err
	}
	sec, ok := sections[registry.MessageName(typeURL)]
	switch {
	case !ok && registry.Resolves(typeURL):
		p.dump.Warnings = append(p.dump.Warnings, fmt.Sprintf("%s: section %s not read (meshcheck does not model it)", path, typeURL))
		return nil
	case !ok:
		p.dump.Unknown = append(p.dump.Unknown, Unknown{TypeURL: typeURL, Path: path, Raw: json.RawMessage(bytes.Clone(p.data[s:e]))})
		return nil
	}
	p.dump.holds(sec.typ)
	if err := sec.read(p, f, path); err != nil {
		return err
	}
	if v, ok := f["version_info"]; ok {
		if _, err := p.stringAt(v.start, v.end, path+".version_info"); err != nil {
			return err
		}
	}
	return p.unknownKeys(f, path, typeURL)
}

// section is how one admin config dump section is read.
type section struct {
	typ  Type
	read func(p *parser, f map[string]member, path string) error
}

// resources reads a section whose lists hold one resource per entry under
// field.
func resources(k kind, field string, lists ...listField) func(*parser, map[string]member, string) error {
	return func(p *parser, f map[string]member, path string) error {
		return p.resourceSection(f, path, k, field, lists)
	}
}

// sections maps each admin section message to the type it holds and its
// reader.
var sections = map[string]section{
	"envoy.admin.v3.BootstrapConfigDump": {TypeBootstrap, (*parser).bootstrapSection},
	"envoy.admin.v3.ListenersConfigDump": {TypeListeners, (*parser).listenerSection},
	"envoy.admin.v3.ClustersConfigDump": {TypeClusters, resources(kindCluster, "cluster",
		listField{"static_clusters", StateStatic}, listField{"dynamic_active_clusters", StateActive}, listField{"dynamic_warming_clusters", StateWarming})},
	"envoy.admin.v3.RoutesConfigDump": {TypeRoutes, resources(kindRoute, "route_config",
		listField{"static_route_configs", StateStatic}, listField{"dynamic_route_configs", StateActive})},
	"envoy.admin.v3.EndpointsConfigDump": {TypeEndpoints, resources(kindEndpoints, "endpoint_config",
		listField{"static_endpoint_configs", StateStatic}, listField{"dynamic_endpoint_configs", StateActive})},
	"envoy.admin.v3.SecretsConfigDump": {TypeSecrets, resources(kindSecret, "secret",
		listField{"static_secrets", StateStatic}, listField{"dynamic_active_secrets", StateActive}, listField{"dynamic_warming_secrets", StateWarming})},
	"envoy.admin.v3.ScopedRoutesConfigDump": {TypeScopedRoutes, (*parser).scopedSection},
}

// unknownKeys reports section fields that the section's message type does
// not have (a newer Envoy's additions).
func (p *parser) unknownKeys(f map[string]member, path, typeURL string) error {
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	if err != nil {
		return nil
	}
	fields := mt.Descriptor().Fields()
	for k, m := range f {
		if k == "@type" || fields.ByName(protoreflect.Name(k)) != nil {
			continue
		}
		err := fmt.Errorf("unknown field %q in %s", k, registry.MessageName(typeURL))
		if p.opts.Strict {
			return p.fail(m.start, path, err)
		}
		p.dump.Warnings = append(p.dump.Warnings, fmt.Sprintf("%s: %v (a newer Envoy?): not read", path, err))
	}
	return nil
}

// entries calls each for every element of a section's list field, with the
// element's fields and its wrapper metadata (version, last update, error).
func (p *parser) entries(f map[string]member, path string, lf listField, each func(w map[string]member, meta Meta, ep string, start int) error) error {
	els, err := p.list(f, lf.key, path)
	if err != nil {
		return err
	}
	for i, el := range els {
		ep := fmt.Sprintf("%s[%d]", joinPath(path, lf.key), i)
		w, err := p.fields(el[0], ep)
		if err != nil {
			return err
		}
		meta, err := p.meta(w, ep, lf.state)
		if err != nil {
			return err
		}
		if err := each(w, meta, ep, el[0]); err != nil {
			return err
		}
	}
	return nil
}

type listField struct {
	key   string
	state State
}

func (p *parser) resourceSection(f map[string]member, path string, k kind, field string, lists []listField) error {
	for _, lf := range lists {
		err := p.entries(f, path, lf, func(w map[string]member, meta Meta, ep string, start int) error {
			r, ok := w[field]
			switch {
			case ok:
				p.jobs = append(p.jobs, &job{kind: k, start: r.start, end: r.end, path: ep + "." + field, meta: meta, any: true})
			case meta.Error != nil:
				meta.State = StateRejected
				p.addRejected(k, meta)
			default:
				return p.fail(start, ep, fmt.Errorf("entry has no %q", field))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) listenerSection(f map[string]member, path string) error {
	err := p.entries(f, path, listField{"static_listeners", StateStatic}, func(w map[string]member, meta Meta, ep string, _ int) error {
		if r, ok := w["listener"]; ok {
			p.jobs = append(p.jobs, &job{kind: kindListener, start: r.start, end: r.end, path: ep + ".listener", meta: meta, any: true})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.entries(f, path, listField{"dynamic_listeners", StateActive}, func(w map[string]member, top Meta, ep string, _ int) error {
		seen := false
		for _, st := range []struct {
			key   string
			state State
		}{{"active_state", StateActive}, {"warming_state", StateWarming}, {"draining_state", StateDraining}} {
			m, ok := w[st.key]
			if !ok || p.data[m.start] != '{' {
				continue
			}
			sp := ep + "." + st.key
			sw, err := p.fields(m.start, sp)
			if err != nil {
				return err
			}
			meta, err := p.meta(sw, sp, st.state)
			if err != nil {
				return err
			}
			meta.Name = top.Name
			if st.state == StateActive {
				meta.Error = top.Error
			}
			r, ok := sw["listener"]
			if !ok {
				continue
			}
			seen = true
			p.jobs = append(p.jobs, &job{kind: kindListener, start: r.start, end: r.end, path: sp + ".listener", meta: meta, any: true})
		}
		if !seen && top.Error != nil {
			top.State, top.Path = StateRejected, ep+".error_state"
			p.addRejected(kindListener, top)
		}
		return nil
	})
}

func (p *parser) bootstrapSection(f map[string]member, path string) error {
	b, ok := f["bootstrap"]
	if !ok {
		return nil
	}
	p.jobs = append(p.jobs, &job{kind: kindBootstrap, start: b.start, end: b.end, path: joinPath(path, "bootstrap")})
	return nil
}

func (p *parser) scopedSection(f map[string]member, path string) error {
	for _, lf := range []listField{{"inline_scoped_route_configs", StateStatic}, {"dynamic_scoped_route_configs", StateActive}} {
		err := p.entries(f, path, lf, func(w map[string]member, meta Meta, ep string, _ int) error {
			inner, err := p.list(w, "scoped_route_configs", ep)
			if err != nil {
				return err
			}
			for j, r := range inner {
				m := meta
				m.Path = fmt.Sprintf("%s.scoped_route_configs[%d]", ep, j)
				p.jobs = append(p.jobs, &job{kind: kindScoped, start: r[0], end: r[1], path: m.Path, meta: m, any: true})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) addRejected(k kind, meta Meta) {
	switch k {
	case kindListener:
		p.dump.Listeners = append(p.dump.Listeners, &Listener{Meta: meta})
	case kindCluster:
		p.dump.Clusters = append(p.dump.Clusters, &Cluster{Meta: meta})
	case kindRoute:
		p.dump.Routes = append(p.dump.Routes, &RouteConfig{Meta: meta})
	case kindSecret:
		p.dump.Secrets = append(p.dump.Secrets, &Secret{Meta: meta})
	case kindEndpoints:
		p.dump.Endpoints = append(p.dump.Endpoints, &Endpoints{Meta: meta})
	}
}
