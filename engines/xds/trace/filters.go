package trace

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// httpFilterKind says what an HTTP filter of the connection manager can do
// to a request before the router forwards it.
type httpFilterKind int

const (
	// passive: observes or changes only bodies, stats, metadata or the
	// response; the route and the upstream request are unaffected.
	passive httpFilterKind = iota
	// gate: may answer the request itself (401, 403, 429, 503) instead of
	// routing it; when it lets the request through, the route is unaffected.
	// The trace reports where an admitted request goes and notes the gate.
	gate
	// rerouting: may change the headers the route is chosen on, or the
	// route itself: the trace is undecided.
	rerouting
	// routed: the tracer models it (router, fault, cors).
	routed
)

type httpFilterRule struct {
	kind httpFilterKind
	why  string
}

const (
	mayReject  = "may reject the request before routing"
	mayReroute = "may change the request's headers or route before the router"
	observes   = "stats, metadata or bodies only"
)

// httpFilterRules classifies HTTP filters by the type of their config
// (for a TypedStruct, the type it wraps), without "type.googleapis.com/".
var httpFilterRules = map[string]httpFilterRule{
	"envoy.extensions.filters.http.router.v3.Router":                           {routed, "the router"},
	"envoy.extensions.filters.http.fault.v3.HTTPFault":                         {routed, "fault injection, reported in Result.Policy"},
	"envoy.extensions.filters.http.cors.v3.Cors":                               {routed, "CORS: answers preflights itself"},
	"envoy.extensions.filters.http.grpc_stats.v3.FilterConfig":                 {passive, observes},
	"io.istio.http.peer_metadata.Config":                                       {passive, observes},
	"istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig":                {passive, "sets the upstream ALPN"},
	"stats.PluginConfig":                                                       {passive, observes},
	"envoy.extensions.filters.http.compressor.v3.Compressor":                   {passive, observes},
	"envoy.extensions.filters.http.decompressor.v3.Decompressor":               {passive, observes},
	"envoy.extensions.filters.http.buffer.v3.Buffer":                           {passive, observes},
	"envoy.extensions.filters.http.grpc_web.v3.GrpcWeb":                        {passive, "translates gRPC-Web bodies"},
	"envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder": {rerouting, mayReroute},
	"envoy.extensions.filters.http.rbac.v3.RBAC":                               {gate, mayReject},
	"envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication":             {gate, mayReject},
	"envoy.extensions.filters.http.ext_authz.v3.ExtAuthz":                      {gate, mayReject},
	"envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit":          {gate, mayReject},
	"envoy.extensions.filters.http.ratelimit.v3.RateLimit":                     {gate, mayReject},
	"envoy.extensions.filters.http.basic_auth.v3.BasicAuth":                    {gate, mayReject},
	"envoy.extensions.filters.http.oauth2.v3.OAuth2":                           {gate, mayReject},
	"envoy.extensions.filters.http.lua.v3.Lua":                                 {rerouting, mayReroute},
	"envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor":              {rerouting, mayReroute},
	"envoy.extensions.filters.http.wasm.v3.Wasm":                               {rerouting, mayReroute},
	"envoy.extensions.filters.http.header_to_metadata.v3.Config":               {rerouting, mayReroute},
	"envoy.extensions.filters.http.header_mutation.v3.HeaderMutation":          {rerouting, mayReroute},
	"envoy.extensions.filters.http.health_check.v3.HealthCheck":                {rerouting, "answers health checks itself"},
}

// istioWasm are the names older Istio versions give their Wasm (or
// Wasm-typed native) telemetry filters.
var istioWasm = map[string]bool{
	"istio.stats": true, "istio.metadata_exchange": true, "envoy.wasm.stats": true, "envoy.wasm.metadata_exchange": true,
}

// httpFilters checks the connection manager's HTTP filters that run for the
// matched route: a filter that may re-route makes the trace undecided; a
// gate is noted. It reports whether the trace can go on.
func (t *tracer) httpFilters(levels []perFilterLevel) bool {
	var gates []string
	for _, f := range t.hcm.GetHttpFilters() {
		if !filterEnabled(f, levels) {
			continue
		}
		typ := filterType(f)
		r, ok := httpFilterRules[typ]
		if istioWasm[f.GetName()] {
			r, ok = httpFilterRule{passive, observes}, true
		}
		switch {
		case !ok:
			t.res.unsupported("http", "HTTP filter %s (%s): meshcheck does not know whether it changes the request's route", f.GetName(), orUnknown(typ))
			return false
		case r.kind == rerouting:
			t.res.unsupported("http", "HTTP filter %s (%s) %s", f.GetName(), typ, r.why)
			return false
		case r.kind == gate:
			gates = append(gates, f.GetName())
		}
	}
	if len(gates) > 0 {
		t.res.step("http", "note: %s %s; the trace follows a request they let through", strings.Join(gates, ", "), mayReject)
	}
	return true
}

// filterEnabled: an HTTP filter runs for the route unless it is disabled by
// default and no per-route config enables it, or the most specific per-route
// config disables it (FilterConfig disabled).
func filterEnabled(f *hcmv3.HttpFilter, levels []perFilterLevel) bool {
	for _, l := range levels {
		cfg, ok := l.cfgs[f.GetName()]
		if !ok {
			continue
		}
		if cfg.GetTypeUrl() == "type.googleapis.com/envoy.config.route.v3.FilterConfig" {
			fc := &routev3.FilterConfig{}
			if err := cfg.UnmarshalTo(fc); err == nil && fc.GetDisabled() {
				return false
			}
		}
		return true
	}
	return !f.GetDisabled()
}

// filterType is the type of an HTTP filter's config without its prefix: a
// TypedStruct's wrapped type; "" for a config from discovery (ECDS).
func filterType(f *hcmv3.HttpFilter) string {
	tc := f.GetTypedConfig()
	typ := strings.TrimPrefix(tc.GetTypeUrl(), "type.googleapis.com/")
	if strings.HasSuffix(typ, ".TypedStruct") {
		if m, err := tc.UnmarshalNew(); err == nil {
			r := m.ProtoReflect()
			if fd := r.Descriptor().Fields().ByName("type_url"); fd != nil {
				typ = strings.TrimPrefix(r.Get(fd).String(), "type.googleapis.com/")
			}
		}
	}
	return typ
}

func orUnknown(s string) string {
	if s == "" {
		return "config from discovery"
	}
	return s
}
