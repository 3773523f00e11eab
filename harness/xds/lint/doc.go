// Package lint flags broken and suspicious configuration in a config dump.
//
// Severity error: what makes Envoy fail requests or what it refused: a route
// configuration a listener references but the dump lacks, a cluster a route or
// TCP proxy references but CDS lacks, an EDS cluster with no load assignment at
// all (judged only when the dump includes endpoints), a resource Envoy
// rejected (error_state, a NACK). Severity warning: legal but suspicious: an
// EDS cluster whose assignment has no healthy endpoint (common for a subset
// with no pods), warming resources, a domain served by two virtual hosts of one
// route configuration. Severity info: payloads of unknown types.
package lint
