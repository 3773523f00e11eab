package expect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"
)

// Spec is a set of expectations for one dump.
type Spec struct {
	// Vars are defaults for ${name} substitution; the caller's win.
	Vars         map[string]string `yaml:"vars"`
	Listeners    []Listener        `yaml:"listeners"`
	RouteConfigs []RouteConfig     `yaml:"routeConfigs"`
	Clusters     []Cluster         `yaml:"clusters"`
	Flows        []Flow            `yaml:"flows"`

	source string
}

// Item is what every expectation has: a version constraint and its line.
type Item struct {
	// Istio is a version constraint such as ">=1.23" or ">=1.11, <1.19".
	Istio string `yaml:"istio"`
	line  int
	cons  *semver.Constraints
}

// Listener expects a listener (or its absence).
type Listener struct {
	Item    `yaml:",inline"`
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Absent  bool   `yaml:"absent"`
}

// RouteConfig expects a route configuration and, optionally, its virtual hosts.
type RouteConfig struct {
	Item         `yaml:",inline"`
	Name         string        `yaml:"name"`
	Absent       bool          `yaml:"absent"`
	VirtualHosts []VirtualHost `yaml:"virtualHosts"`
}

// VirtualHost expects a virtual host with at least these domains and routes.
type VirtualHost struct {
	Item    `yaml:",inline"`
	Name    string   `yaml:"name"`
	Domains []string `yaml:"domains"`
	Routes  []Route  `yaml:"routes"`
}

// Route expects a route, found by name, or else by its match.
type Route struct {
	Item `yaml:",inline"`
	Name string `yaml:"name"`
	// Match finds the route by its path match, e.g. "prefix /" or "path /productpage".
	Match string `yaml:"match"`
	// Cluster is the single cluster; Clusters the weighted clusters.
	Cluster  string            `yaml:"cluster"`
	Clusters map[string]uint32 `yaml:"clusters"`
}

// Cluster expects a cluster, its discovery type and endpoint counts.
type Cluster struct {
	Item   `yaml:",inline"`
	Name   string `yaml:"name"`
	Absent bool   `yaml:"absent"`
	Type   string `yaml:"type"`
	// Endpoints and HealthyEndpoints are exact counts (nil: not checked).
	Endpoints        *int `yaml:"endpoints"`
	HealthyEndpoints *int `yaml:"healthyEndpoints"`
}

// Flow expects where a request goes.
type Flow struct {
	Item        `yaml:",inline"`
	Name        string            `yaml:"name"`
	Request     FlowRequest       `yaml:"request"`
	Listener    string            `yaml:"listener"`
	RouteConfig string            `yaml:"routeConfig"`
	VirtualHost string            `yaml:"virtualHost"`
	Route       string            `yaml:"route"`
	Clusters    map[string]uint32 `yaml:"clusters"`
	// Endpoints maps a cluster to its expected endpoint count.
	Endpoints map[string]int `yaml:"endpoints"`
	// NoRoute expects Envoy to find no route for the request.
	NoRoute bool `yaml:"noRoute"`
	// Upstream is the request the upstream receives after the route's
	// rewrites, as "scheme://host/path?query".
	Upstream string `yaml:"upstream"`
	// Redirect is the Location Envoy answers with (a route's redirect or a
	// virtual host's require_tls); RedirectCode its status (default: not
	// checked).
	Redirect     string `yaml:"redirect"`
	RedirectCode int    `yaml:"redirectCode"`
	// Policy maps a field of the route's policy, by its JSON path
	// ("timeout", "retry.numRetries", "mirrors[0].cluster",
	// "fault.abortPercent", "virtualCluster"), to its expected value: a
	// string as it is, anything else as JSON.
	Policy map[string]string `yaml:"policy"`
}

// FlowRequest is the request of a flow (see trace.Request).
type FlowRequest struct {
	Role    string            `yaml:"role"`
	Port    uint32            `yaml:"port"`
	Address string            `yaml:"address"`
	Source  string            `yaml:"source"`
	Host    string            `yaml:"host"`
	Path    string            `yaml:"path"`
	Method  string            `yaml:"method"`
	Scheme  string            `yaml:"scheme"`
	Headers map[string]string `yaml:"headers"`
	TLS     bool              `yaml:"tls"`
	SNI     string            `yaml:"sni"`
}

// SpecError is a problem in a spec file, with its line.
type SpecError struct {
	Source string
	Line   int
	Err    error
}

func (e *SpecError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *SpecError) Unwrap() error { return e.Err }

// LoadFile reads a spec file.
func LoadFile(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read expectations: %w", err)
	}
	return Load(b, path)
}

// Load parses a spec. Unknown fields, bad constraints and malformed values
// are errors naming the line.
func Load(data []byte, source string) (*Spec, error) {
	if source == "" {
		source = "expectations"
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &SpecError{Source: source, Err: errors.New("the spec is empty")}
		}
		return nil, &SpecError{Source: source, Line: yamlErrLine(err), Err: fmt.Errorf("invalid YAML: %w", err)}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	spec := &Spec{source: source}
	if err := decodeStrict(doc, spec, "spec"); err != nil {
		return nil, &SpecError{Source: source, Line: lineOf(err), Err: err}
	}
	return spec, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrLine(err error) int {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// lineError carries a line through decodeStrict.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

func lineOf(err error) int {
	var le *lineError
	if errors.As(err, &le) {
		return le.line
	}
	return yamlErrLine(err)
}

// decodeStrict decodes a mapping node into a struct, rejecting keys the
// struct does not have, recursing into nested items to keep their lines.
func decodeStrict(n *yaml.Node, out any, what string) error {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return &lineError{n.Line, fmt.Errorf("%s must be a mapping, found %s", what, kindName(n))}
	}
	rv := reflect.ValueOf(out).Elem()
	fields := yamlFields(rv.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			names := make([]string, 0, len(fields))
			for name := range fields {
				names = append(names, name)
			}
			sort.Strings(names)
			return &lineError{k.Line, fmt.Errorf("unknown field %q in %s (allowed: %s)", k.Value, what, strings.Join(names, ", "))}
		}
		fv := rv.FieldByIndex(f)
		if err := decodeValue(v, fv, what+"."+k.Value); err != nil {
			return err
		}
	}
	if it, ok := rv.Addr().Interface().(interface{ setLine(int) error }); ok {
		if err := it.setLine(n.Line); err != nil {
			return &lineError{n.Line, fmt.Errorf("%s: %w", what, err)}
		}
	}
	return nil
}

func decodeValue(v *yaml.Node, fv reflect.Value, what string) error {
	switch {
	case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
		if v.Kind != yaml.SequenceNode {
			return &lineError{v.Line, fmt.Errorf("%s must be a list, found %s", what, kindName(v))}
		}
		s := reflect.MakeSlice(fv.Type(), len(v.Content), len(v.Content))
		for i, e := range v.Content {
			if err := decodeStrict(e, s.Index(i).Addr().Interface(), fmt.Sprintf("%s[%d]", what, i)); err != nil {
				return err
			}
		}
		fv.Set(s)
		return nil
	case fv.Kind() == reflect.Struct:
		return decodeStrict(v, fv.Addr().Interface(), what)
	}
	if err := v.Decode(fv.Addr().Interface()); err != nil {
		return &lineError{v.Line, fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "))}
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// yamlFields maps yaml keys to field indexes, flattening inline structs.
func yamlFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, idx := range yamlFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		out[name] = []int{i}
	}
	return out
}

func (it *Item) setLine(line int) error {
	it.line = line
	if it.Istio == "" {
		return nil
	}
	c, err := semver.NewConstraint(it.Istio)
	if err != nil {
		return fmt.Errorf("istio: %q is not a version constraint (e.g. \">=1.23\", \">=1.11, <1.19\"): %w", it.Istio, err)
	}
	it.cons = c
	return nil
}

// Line is the spec line the item starts on.
func (it Item) Line() int { return it.line }
