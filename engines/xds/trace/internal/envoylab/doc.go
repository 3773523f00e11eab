// Package envoylab runs a real Envoy on 127.0.0.1 so the tracer can be
// compared with it: a Case (a YAML file) is a route configuration, the
// clusters it names and the requests to send. Start loads the route
// configuration inline into the HTTP connection manager of one listener
// (plaintext, or TLS with a throwaway certificate), makes every cluster a
// STATIC (or STRICT_DNS on localhost) cluster in front of a Go echo server
// that answers with the cluster it stands for and the request as it arrived
// (host, path with query, x-forwarded-proto, headers), and waits for the
// admin's /ready. Do sends a
// request with a client that does not follow redirects and returns the
// Outcome: the echo's answer, or the status with Location or body, with
// Envoy's own account from the access log (response code details, flags,
// route name). ConfigDump is Envoy's /config_dump?include_eds, which the
// tracer reads; Compare judges the tracer's Result against the Outcome
// (where the request went, the upstream host, path and scheme, the request
// header changes): agree, undecided (the tracer named what it cannot
// decide) or disagree. Random generates a case from a seed.
//
// Envoy runs with --disable-hot-restart, a unique --base-id, concurrency 1
// and its admin on 127.0.0.1:0; every wait is bounded by Timeouts. Nothing
// leaves 127.0.0.1.
package envoylab
