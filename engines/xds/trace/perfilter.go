package trace

import (
	"fmt"
	"sort"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	faultFilter = "envoy.filters.http.fault"
	corsFilter  = "envoy.filters.http.cors"
)

// perFilterLevel is one level's typed_per_filter_config, most specific
// first.
type perFilterLevel struct {
	level string
	cfgs  map[string]*anypb.Any
	// undecided: which configs apply depends on the weighted cluster picked.
	undecided bool
}

// perFilterHandlers decide, per HTTP filter, what its per-route config does
// to the request. A filter with no handler makes the trace undecided.
var perFilterHandlers = map[string]func(t *tracer, level string, cfg *anypb.Any, p *RoutePolicy) string{
	faultFilter: (*tracer).faultConfig,
	corsFilter:  (*tracer).corsConfig,
}

// perFilterConfigs applies the typed_per_filter_config of the weighted
// clusters, route, virtual host and route configuration (most specific
// first: a filter's first config wins). Configs for filters the connection
// manager does not run are ignored, as Envoy ignores them; a disabled filter
// changes nothing. It reports whether the trace can go on.
func (t *tracer) perFilterConfigs(levels []perFilterLevel, p *RoutePolicy) bool {
	running := map[string]bool{}
	for _, f := range t.hcm.GetHttpFilters() {
		running[f.GetName()] = true
	}
	done := map[string]bool{}
	for _, l := range levels {
		if l.undecided {
			t.res.unsupported("filter", "the %s set typed_per_filter_config: which applies depends on the cluster picked", l.level)
			return false
		}
		names := make([]string, 0, len(l.cfgs))
		for n := range l.cfgs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			if done[name] {
				continue
			}
			done[name] = true
			if msg := t.perFilterConfig(l.level, name, l.cfgs[name], running[name], p); msg != "" {
				t.res.unsupported("filter", "%s", msg)
				return false
			}
		}
	}
	return true
}

func (t *tracer) perFilterConfig(level, name string, cfg *anypb.Any, running bool, p *RoutePolicy) string {
	if !running {
		t.res.step("filter", "%s typed_per_filter_config for %s: the connection manager runs no such filter, so Envoy ignores it", level, name)
		return ""
	}
	if cfg.GetTypeUrl() == "type.googleapis.com/envoy.config.route.v3.FilterConfig" {
		fc := &routev3.FilterConfig{}
		if err := cfg.UnmarshalTo(fc); err != nil {
			return fmt.Sprintf("%s typed_per_filter_config for %s: %v", level, name, err)
		}
		if fc.GetDisabled() {
			t.res.step("filter", "%s disables %s for this request", level, name)
			return ""
		}
		cfg = fc.GetConfig()
	}
	h, ok := perFilterHandlers[name]
	if !ok {
		return fmt.Sprintf("%s typed_per_filter_config for %s (%s): meshcheck does not know what that filter does to the request", level, name, cfg.GetTypeUrl())
	}
	return h(t, level, cfg, p)
}

// faultConfig reads Istio's VirtualService fault (HTTPFault) into the policy.
func (t *tracer) faultConfig(level string, cfg *anypb.Any, p *RoutePolicy) string {
	hf := &faultv3.HTTPFault{}
	if err := cfg.UnmarshalTo(hf); err != nil {
		return fmt.Sprintf("%s fault config: %v", level, err)
	}
	for _, h := range hf.GetHeaders() {
		ok, u := t.headerMatches(h)
		if u != "" {
			return "fault " + u
		}
		if !ok {
			t.res.step("filter", "%s fault injection does not apply: header %s does not match", level, h.GetName())
			return ""
		}
	}
	if hf.GetUpstreamCluster() != "" || len(hf.GetDownstreamNodes()) > 0 {
		return fmt.Sprintf("%s fault applies only to upstream cluster %q / downstream nodes %v", level, hf.GetUpstreamCluster(), hf.GetDownstreamNodes())
	}
	f := &Fault{From: level}
	if d := hf.GetDelay(); d != nil {
		f.DelayPercent, f.Delay = percent(d.GetPercentage()), duration(d.GetFixedDelay())
		f.HeaderControlled = d.GetHeaderDelay() != nil
	}
	if a := hf.GetAbort(); a != nil {
		f.AbortPercent, f.AbortStatus, f.AbortGrpcStatus = percent(a.GetPercentage()), a.GetHttpStatus(), a.GetGrpcStatus()
		f.HeaderControlled = f.HeaderControlled || a.GetHeaderAbort() != nil
	}
	p.Fault = f
	t.res.step("filter", "%s fault injection: delay %v%% %s, abort %v%% status %d", level, f.DelayPercent, f.Delay, f.AbortPercent, f.AbortStatus)
	return ""
}

// corsConfig: the CORS filter answers preflight requests itself; other
// requests pass (it only adds response headers).
func (t *tracer) corsConfig(level string, _ *anypb.Any, _ *RoutePolicy) string {
	if t.isPreflight() {
		return fmt.Sprintf("%s CORS policy: the CORS filter answers this preflight request itself, depending on the origin", level)
	}
	return ""
}

func (t *tracer) isPreflight() bool {
	_, origin := t.clientHeader("origin")
	_, method := t.clientHeader("access-control-request-method")
	return t.req.method() == "OPTIONS" && origin && method
}
