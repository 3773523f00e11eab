package bookinfo

import "net/http"

// PropagatedHeaders returns the request headers the upstream Bookinfo apps
// copy from the request they serve to the requests they make: the request
// id, the trace contexts of every tracer Istio supports (B3, W3C, Lightstep,
// Datadog, Cloud Trace, gRPC, SkyWalking), the end user, and the session
// headers. productpage takes end-user from its login session instead of
// the request (see NewProductpage).
func PropagatedHeaders() []string {
	return []string{
		"x-request-id",
		"x-ot-span-context",
		"x-datadog-trace-id",
		"x-datadog-parent-id",
		"x-datadog-sampling-priority",
		"traceparent",
		"tracestate",
		"x-cloud-trace-context",
		"grpc-trace-bin",
		"x-b3-traceid",
		"x-b3-spanid",
		"x-b3-parentspanid",
		"x-b3-sampled",
		"x-b3-flags",
		"sw8",
		"end-user",
		"user-agent",
		"cookie",
		"authorization",
		"jwt",
	}
}

// endUserHeader carries the signed-in user; Bookinfo's request-routing
// examples match on it.
const endUserHeader = "end-user"

// forwardHeaders returns the propagated headers of in, every value kept.
// With endUser false the incoming end-user header is left out.
func forwardHeaders(in http.Header, endUser bool) http.Header {
	out := http.Header{}
	for _, name := range PropagatedHeaders() {
		if !endUser && name == endUserHeader {
			continue
		}
		for _, v := range in.Values(name) {
			out.Add(name, v)
		}
	}
	return out
}
