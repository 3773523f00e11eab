// Package expect checks a config dump against a YAML spec of expected xDS.
//
// Matching is partial: only what the spec writes is checked. A spec lists
// listeners, route configurations (with virtual hosts and routes), clusters
// (with endpoint counts) and flows (a request and where it must go, checked
// with package trace). Any item may carry an Istio version constraint
// (istio: ">=1.23") and is skipped, and reported as skipped, when the version
// under test does not satisfy it. An item that needs a resource type the dump
// lacks (istioctl's per-type output holds one; an admin dump without
// include_eds has no endpoints) is skipped too, with the reason: listeners
// need LDS, route configurations RDS, clusters CDS, endpoint counts EDS,
// flows LDS and RDS (and CDS and EDS for their endpoint counts). Strings may use ${namespace}, ${domain} and
// any other variable from the spec's vars or the caller's. Inside a YAML flow
// list or mapping ([...] or {...}) quote a value that holds ${...}: a bare
// "{" there starts a mapping.
//
//	vars: {namespace: default, domain: cluster.local}
//	listeners:
//	  - name: 0.0.0.0_8080
//	  - name: 0.0.0.0_80
//	    istio: "<1.11"
//	routeConfigs:
//	  - name: http.8080
//	    virtualHosts:
//	      - name: "*:8080"
//	        domains: ["*"]
//	clusters:
//	  - name: outbound|9080||reviews.${namespace}.svc.${domain}
//	    type: EDS
//	    endpoints: 3
//	    tls: ISTIO_MUTUAL
//	flows:
//	  - name: ingress to productpage
//	    request: {role: gateway, port: 8080, host: bookinfo.example.com, path: /productpage}
//	    routeConfig: http.8080
//	    clusters: {"outbound|9080||productpage.${namespace}.svc.${domain}": 1}
//	    upstream: http://bookinfo.example.com/productpage
//	    policy: {timeout: 0s, retry.numRetries: "2"}
//	  - name: plain http is sent to https
//	    request: {role: gateway, port: 8080, host: secure.example.com, path: /a}
//	    redirect: https://secure.example.com/a
//	    redirectCode: 301
//
// A flow's upstream is the request the upstream receives after the route's
// rewrites (scheme://host/path?query); redirect the Location Envoy answers
// with; policy maps fields of the route's policy by JSON path
// (trace.RoutePolicy.Field) to their values. A cluster's tls is the mode of
// the proxy's connections to it, read from its transport socket
// (xds.UpstreamTLS): ISTIO_MUTUAL, AUTO (Istio's auto mTLS), DISABLE, SIMPLE
// or MUTUAL; a socket it does not model is undecided.
//
// A failure names the element path and the spec line, the expected and the
// actual value, and the closest candidates the dump holds.
package expect
