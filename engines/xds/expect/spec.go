package expect

import (
	"errors"
	"fmt"
	"os"

	"github.com/Masterminds/semver/v3"

	"github.com/meshcheck/meshcheck/internal/strictyaml"
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
	// Addresses are the endpoints' addresses as "ip:port", in any order
	// (nil: not checked).
	Addresses []string `yaml:"addresses"`
	// TLS is the mode the proxy's connections to the cluster use, as its
	// transport socket says (xds.UpstreamTLS): ISTIO_MUTUAL, AUTO (Istio's
	// auto mTLS), DISABLE (plaintext), SIMPLE or MUTUAL ("": not checked).
	TLS string `yaml:"tls"`
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
	spec := &Spec{source: source}
	if err := strictyaml.DecodeDocument(data, spec, "spec"); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			err = errors.New("the spec is empty")
		}
		return nil, &SpecError{Source: source, Line: strictyaml.LineOf(err), Err: err}
	}
	return spec, nil
}

// SetLine records the item's line and parses its version constraint
// (strictyaml.Liner).
func (it *Item) SetLine(line int) error {
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

// SetSource names the spec in reports and errors (a spec decoded as part
// of another file, such as a fixture's expect.yaml).
func (s *Spec) SetSource(source string) { s.source = source }

// Line is the spec line the item starts on.
func (it Item) Line() int { return it.line }
