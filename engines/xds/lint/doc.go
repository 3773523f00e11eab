// Package lint flags broken and suspicious configuration in a config dump.
//
// Severity error: what makes Envoy fail requests or what it refused: a route
// configuration a listener references but the dump lacks, a cluster a route or
// TCP proxy references but CDS lacks, an EDS cluster with no load assignment at
// all (judged only when the dump includes endpoints), a resource Envoy
// rejected (error_state, a NACK). Severity warning: legal but suspicious: an
// EDS cluster whose assignment has no healthy endpoint (common for a subset
// with no pods), warming resources, a domain served by two virtual hosts of one
// route configuration. Severity info: payloads of unknown types, and
// references not checked.
//
// A reference is judged only when the dump holds the type it points into
// (xds.Dump.Has): istioctl's `proxy-config routes -o json` has no clusters,
// so the clusters its routes name are neither missing nor present; for each
// type the dump lacks and that something references, one info finding
// (rule not-checked) names the type, how many names were not checked and a
// few of them. The same holds for endpoints: an admin dump taken without
// include_eds gets no eds-no-assignment error.
package lint
