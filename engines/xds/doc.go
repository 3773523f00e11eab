// Package xds reads Envoy admin config dumps and indexes what a proxy holds.
//
// A dump comes from Envoy's admin /config_dump (with or without include_eds),
// from pilot-agent's "request GET config_dump", or from istioctl
// (`proxy-config all -o json`, the per-type arrays of
// `proxy-config listeners|routes|clusters|endpoints -o json`, or the single
// sections of `proxy-config secret|bootstrap -o json`). Proto field names
// (Envoy) and camelCase (istioctl) are both accepted.
//
// A dump knows which resource types it holds (Dump.Has, Types, Lacks): a
// section it has, even an empty one, is a type it holds. A reference into a
// type the dump lacks (a route's cluster in istioctl's routes output) is
// neither dangling nor resolved, and the sub-packages do not judge it.
//
// Parse turns the document into a Dump: typed go-control-plane messages for
// listeners, clusters, route configurations, scoped routes, secrets and
// endpoints, each with its state (static, active, warming, draining), version,
// last update and, when Envoy refused an update, the error it reported. Any
// payloads resolve through go-control-plane's registry and the Istio types
// with Go definitions; a payload of a type the binary does not know never fails
// the parse: it is kept as JSON (a google.protobuf.Struct in its place) and
// listed in Dump.Unknown with its type URL and path.
//
// The Dump answers lookups by name and by address (Listener, ListenerAt,
// RouteConfig, Cluster, Endpoints, Secret), and every miss comes with the
// closest names it does hold (Closest). Tracing a request, linting,
// expectations and goldens live in the sub-packages trace, lint, expect and
// golden; Gomega matchers for suites in xdsmatchers.
package xds
