package review

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/meshcheck/meshcheck/engines/xds/golden"
)

// Category is what a change is about, for a reviewer.
type Category string

// Categories, in the order a summary lists them.
const (
	Weights      Category = "weights"
	RouteTarget  Category = "route targets"
	Routes       Category = "routes"
	Timeouts     Category = "timeouts and retries"
	TLS          Category = "TLS"
	Filters      Category = "filters"
	Endpoints    Category = "endpoints and health"
	Listeners    Category = "listeners and ports"
	Clusters     Category = "clusters"
	OtherChanges Category = "other"
)

// Categories lists every category in summary order.
var Categories = []Category{Weights, RouteTarget, Routes, Timeouts, TLS, Filters, Endpoints, Listeners, Clusters, OtherChanges}

// rule puts a change whose field path matches re (or, with no re, any
// change of the kind) in a category; the first rule that matches wins.
type rule struct {
	kind string // "" any
	re   *regexp.Regexp
	cat  Category
}

var rules = []rule{
	{re: regexp.MustCompile(`(^|\.)(weight|total_weight|load_balancing_weight)$|weighted_clusters\.clusters\[[^\]]*\]\.weight$`), cat: Weights},
	{kind: "routes", re: regexp.MustCompile(`\.route\.(cluster|cluster_header|weighted_clusters\.clusters(\[[^\]]*\])?)$|\.(redirect|direct_response)(\.|$)`), cat: RouteTarget},
	{re: regexp.MustCompile(`timeout|retry_policy|retry_on|num_retries|per_try|hedge_policy`), cat: Timeouts},
	{re: regexp.MustCompile(`transport_socket|tls_context|common_tls_context|subject_alt_name|match_typed_subject_alt_names|tls_params|alpn_protocols`), cat: TLS},
	{re: regexp.MustCompile(`(^|\.)(http_filters|filters|listener_filters)(\[|\.|$)|typed_per_filter_config`), cat: Filters},
	{kind: "endpoints", cat: Endpoints},
	{re: regexp.MustCompile(`health_status|lb_endpoints|outlier_detection|health_checks|healthy_panic_threshold`), cat: Endpoints},
	{kind: "listeners", re: regexp.MustCompile(`(^|\.)(address|port_value|socket_address|additional_addresses|bind_to_port|use_original_dst)(\.|$)`), cat: Listeners},
	{kind: "listeners", re: regexp.MustCompile(`^$`), cat: Listeners},
	{kind: "routes", cat: Routes},
	{kind: "clusters", cat: Clusters},
}

// Classify puts a change in its category.
func Classify(c golden.Change) Category {
	for _, r := range rules {
		if r.kind != "" && r.kind != c.Kind {
			continue
		}
		if r.re == nil || r.re.MatchString(c.Field) {
			return r.cat
		}
	}
	return OtherChanges
}

var (
	keyedStep   = regexp.MustCompile(`([a-z_]+)\[([^\]]*)\]`)
	singularFor = map[string]string{
		"virtual_hosts": "virtual host", "routes": "route", "clusters": "cluster", "http_filters": "HTTP filter",
		"filters": "filter", "filter_chains": "filter chain", "lb_endpoints": "endpoint", "endpoints": "locality",
		"listener_filters": "listener filter", "domains": "domain",
	}
	kindSingular = map[string]string{"listeners": "listener", "routes": "route configuration", "clusters": "cluster",
		"endpoints": "endpoints of", "secrets": "secret", "scopedRoutes": "scoped route configuration"}
)

// Where words a change's resource and field ("route configuration http.8080,
// virtual host whoami.example.com:8080, route 0, route.timeout").
func Where(c golden.Change) string {
	res := kindSingular[c.Kind]
	if res == "" {
		res = c.Kind
	}
	res += " " + c.Name
	if c.Field == "" {
		return res
	}
	return res + ", " + humanPath(c.Field)
}

// humanPath words a field path: a keyed or indexed list element is named
// ("route 0", "cluster outbound|80|v1|..."), the plain fields between them
// are kept as a dotted path.
func humanPath(path string) string {
	var parts []string
	plain := ""
	for path != "" {
		loc := keyedStep.FindStringSubmatchIndex(path)
		if loc == nil || loc[0] > 0 && path[loc[0]-1] != '.' {
			plain += path
			break
		}
		plain += path[:loc[0]]
		list, key := path[loc[2]:loc[3]], path[loc[4]:loc[5]]
		path = strings.TrimPrefix(path[loc[1]:], ".")
		w, ok := singularFor[list]
		if !ok {
			plain += list + "[" + key + "]."
			continue
		}
		if p := strings.TrimSuffix(plain, "."); p != "" {
			parts = append(parts, p)
		}
		plain = ""
		parts = append(parts, w+" "+key)
	}
	if p := strings.TrimSuffix(plain, "."); p != "" {
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// Word is one sentence for a reviewer: the category, where, and the values.
func Word(c golden.Change) string {
	where := Where(c)
	var what string
	switch {
	case c.Field == "" && c.Op == golden.Added:
		what = "added"
	case c.Field == "" && c.Op == golden.Removed:
		what = "removed"
	case c.Op == golden.Added && c.Default != nil:
		what = fmt.Sprintf("unset (Envoy's default %s) → %s", short(c.Default), short(c.New))
	case c.Op == golden.Removed && c.Default != nil:
		what = fmt.Sprintf("%s → unset (Envoy's default %s)", short(c.Old), short(c.Default))
	case c.Op == golden.Added:
		what = "added " + short(c.New)
	case c.Op == golden.Removed:
		what = "removed (was " + short(c.Old) + ")"
	default:
		what = short(c.Old) + " → " + short(c.New)
	}
	return fmt.Sprintf("%s: %s: %s", Classify(c), where, what)
}

func short(b []byte) string {
	s := string(b)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
