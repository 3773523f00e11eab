package review

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/meshcheck/meshcheck/engines/xds/golden"
	"github.com/meshcheck/meshcheck/internal/strictyaml"
)

// APIVersion and Kind head an accepted-changes file.
const (
	APIVersion   = "meshcheck.dev/v1alpha1"
	AcceptedKind = "AcceptedChanges"
)

// Accepted is an accepted-changes file:
//
//	apiVersion: meshcheck.dev/v1alpha1
//	kind: AcceptedChanges
//	changes:
//	  - proxy: istio-system/istio-ingressgateway-*
//	    type: routes
//	    name: http.8080
//	    path: "*weighted_clusters*weight"
//	    reason: the whoami split moves to 50/50 in this change
//
// Globs take * (any run of characters, dots and brackets included) and ?;
// an omitted selector matches everything. Every rule needs a reason.
type Accepted struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Changes    []Rule `yaml:"changes"`
	source     string
}

// Rule accepts the changes it selects.
type Rule struct {
	// Proxy selects proxies by namespace/name.
	Proxy string `yaml:"proxy"`
	// Type is a resource type: listeners, routes, clusters, endpoints,
	// secrets or scopedRoutes.
	Type string `yaml:"type"`
	// Name selects resources by name, Path fields by their path
	// (golden.Change.Field; "" is the resource as a whole).
	Name string `yaml:"name"`
	Path string `yaml:"path"`
	// Reason says why the change is meant.
	Reason string `yaml:"reason"`
	line   int
}

// SetLine checks a rule as it is read (strictyaml.Liner).
func (r *Rule) SetLine(line int) error {
	r.line = line
	if strings.TrimSpace(r.Reason) == "" {
		return fmt.Errorf("reason is required: say why the change is meant")
	}
	if r.Type != "" && !slices.Contains(golden.Kinds, r.Type) {
		return fmt.Errorf("type %q: want one of %s", r.Type, strings.Join(golden.Kinds, ", "))
	}
	return nil
}

// SetLine checks the file's header (strictyaml.Liner).
func (a *Accepted) SetLine(int) error {
	if a.APIVersion != APIVersion || a.Kind != AcceptedKind {
		return fmt.Errorf("apiVersion %q, kind %q: want %s, %s", a.APIVersion, a.Kind, APIVersion, AcceptedKind)
	}
	return nil
}

// LoadAccepted reads an accepted-changes file.
func LoadAccepted(path string) (*Accepted, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("accepted changes: %w", err)
	}
	return ParseAccepted(b, path)
}

// ParseAccepted reads an accepted-changes file's content; errors name the
// source, line and field.
func ParseAccepted(data []byte, source string) (*Accepted, error) {
	a := &Accepted{source: source}
	if err := strictyaml.DecodeDocument(data, a, "accepted changes"); err != nil {
		if errors.Is(err, strictyaml.ErrEmpty) {
			err = errors.New("the accepted changes file is empty")
		}
		if line := strictyaml.LineOf(err); line > 0 {
			return nil, fmt.Errorf("%s:%d: %w", source, line, err)
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return a, nil
}

// Match returns the first rule that accepts a proxy's change, and where
// it is written ("accepted.yaml:7").
func (a *Accepted) Match(proxy string, c golden.Change) (Rule, string, bool) {
	if a == nil {
		return Rule{}, "", false
	}
	for _, r := range a.Changes {
		if glob(r.Proxy, proxy) && (r.Type == "" || r.Type == c.Kind) && glob(r.Name, c.Name) && globPath(r.Path, c.Field) {
			return r, fmt.Sprintf("%s:%d", a.source, r.line), true
		}
	}
	return Rule{}, "", false
}

// globPath matches a field path; an omitted path matches every field and
// the resource as a whole.
func globPath(pattern, path string) bool { return pattern == "" || glob(pattern, path) }

// glob matches s against a pattern of literal characters, * (any run,
// possibly empty) and ? (one character); "" matches everything.
func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	p, t := []rune(pattern), []rune(s)
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
