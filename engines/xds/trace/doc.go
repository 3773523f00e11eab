// Package trace answers "where does this request go, and why" from a config
// dump, matching the way Envoy does and explaining each hop.
//
// For a gateway the trace starts at the listener on the request's port; for a
// sidecar's outbound traffic at virtualOutbound, which hands the connection
// off (use_original_dst) to the listener bound to the original destination,
// else serves it with its own chains; for a sidecar's inbound traffic at
// virtualInbound. Then: filter-chain match (destination port, destination
// prefix ranges, server names, transport protocol, application protocols,
// direct source, source type, source prefix ranges, source ports; at each level
// the most specific wins and Envoy does not backtrack), the HTTP connection
// manager with its RDS or inline route configuration, the virtual host by
// Envoy's domain order (exact, longest suffix wildcard, longest prefix
// wildcard, "*"), the first route whose match holds (prefix, path, safe_regex,
// path_separated_prefix, URI templates, headers, query parameters, case
// sensitivity), its
// action (cluster, weighted clusters, cluster header, redirect, direct
// response), and the clusters' endpoints with their health. A TCP proxy chain
// ends at its cluster or weighted clusters.
//
// Before routing the connection manager sets the request's headers the way
// Envoy's does (scheme.go): x-forwarded-proto is the client's only when
// use_remote_address is off or xff_num_trusted_hops is set, else the
// connection's scheme (https when the request is TLS); :scheme is the
// client's (Request.Scheme), else x-forwarded-proto when it is http or https,
// else the connection's; scheme_header_transformation overrides both; ports
// are stripped from the host as configured. A virtual host's require_tls
// redirects (301) a request whose x-forwarded-proto is not https (for
// EXTERNAL_ONLY, one Envoy does not mark internal). A redirect's Location is
// built as Envoy's newUri builds it (rewrite.go). A forwarded request gets
// Result.UpstreamRequest, the scheme, host and path after the route's
// rewrites; every matched route gets Result.Policy (policy.go,
// perfilter.go).
//
// The connection manager's HTTP filters that run for the matched route
// (filters.go) are classified by their config type: passive ones pass, a
// gate that may reject is noted, one that may re-route, or an unknown one,
// makes the trace undecided.
//
// Every field of the route configuration messages is in fieldRules
// (fields.go): modelled, irrelevant to routing with the reason, or
// undecidable. The tracer audits each message it uses, so a set field that
// is undecidable or unknown (a newer go-control-plane) makes the trace
// undecided; a test walks the protobuf descriptors so no field is missing
// from the table.
//
// What the tracer cannot decide, it names in Result.Unsupported and stops; it
// never guesses. That includes a dump that lacks what the trace needs
// (istioctl's per-type output): without listeners, or without the route
// configurations an RDS reference needs, the trace is undecided; without
// clusters, the clusters a route names are "not checked", never Missing.
package trace
