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
// path_separated_prefix, headers, query parameters, case sensitivity), its
// action (cluster, weighted clusters, cluster header, redirect, direct
// response), and the clusters' endpoints with their health. A TCP proxy chain
// ends at its cluster or weighted clusters.
//
// What the tracer cannot decide, it names in Result.Unsupported and stops; it
// never guesses. That includes a dump that lacks what the trace needs
// (istioctl's per-type output): without listeners, or without the route
// configurations an RDS reference needs, the trace is undecided; without
// clusters, the clusters a route names are "not checked", never Missing.
package trace
