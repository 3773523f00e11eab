package trace

import (
	"net/netip"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// connScheme is the scheme of the downstream connection: https when the
// filter chain terminates TLS.
func (t *tracer) connScheme() string {
	if t.connTLS {
		return "https"
	}
	return "http"
}

// requestHeaders computes what the HTTP connection manager makes of the
// request before routing, as Envoy's ConnectionManagerUtility does:
// x-forwarded-proto (trusted from the client only when use_remote_address
// is off or xff_num_trusted_hops > 0, else the connection's scheme), the
// :scheme (the client's if it sent one, else x-forwarded-proto when that is
// http or https, else the connection's), scheme_header_transformation, and
// the host port stripping.
func (t *tracer) requestHeaders(hcm *hcmv3.HttpConnectionManager) {
	xfp, has := t.clientHeader("x-forwarded-proto")
	if !has || (hcm.GetUseRemoteAddress().GetValue() && hcm.GetXffNumTrustedHops() == 0) {
		if has && xfp != t.connScheme() {
			t.res.step("http", "x-forwarded-proto %q from the client is not trusted (use_remote_address, no trusted hops): Envoy sets %q", xfp, t.connScheme())
		}
		xfp = t.connScheme()
	}
	scheme := t.req.Scheme
	if scheme == "" {
		scheme = t.connScheme()
		if l := strings.ToLower(xfp); l == "http" || l == "https" {
			scheme = xfp
		}
	}
	if s := hcm.GetSchemeHeaderTransformation().GetSchemeToOverwrite(); s != "" {
		t.res.step("http", "scheme_header_transformation sets :scheme and x-forwarded-proto to %q", s)
		scheme, xfp = s, s
	}
	t.scheme, t.xfp = scheme, xfp
	t.host = t.req.Host
	if hcm.GetStripTrailingHostDot() {
		if h, p, ok := splitHostPort(t.host); ok && strings.HasSuffix(h, ".") {
			t.host = strings.TrimSuffix(h, ".") + ":" + p
		} else {
			t.host = strings.TrimSuffix(t.host, ".")
		}
	}
	if h, p, ok := splitHostPort(t.host); ok {
		if hcm.GetStripAnyHostPort() || (hcm.GetStripMatchingHostPort() && p == itoa(t.req.Port)) {
			t.res.step("http", "the connection manager strips the port from host %q", t.host)
			t.host = h
		}
	}
}

// clientHeader is a header as the client sent it, unless the connection
// manager removed it.
func (t *tracer) clientHeader(name string) (string, bool) {
	if t.dropped[strings.ToLower(name)] {
		return "", false
	}
	for k, v := range t.req.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// requireTLS applies the virtual host's require_tls: Envoy answers a
// request whose x-forwarded-proto is not https with a 301 to
// https://<host><path>. It reports whether the request was redirected or
// the trace is undecided.
func (t *tracer) requireTLS(vh *routev3.VirtualHost) bool {
	req := vh.GetRequireTls()
	if req == routev3.VirtualHost_NONE || strings.EqualFold(t.xfp, "https") {
		return false
	}
	if strings.EqualFold(t.req.Scheme, "https") && !t.connTLS {
		// Envoy decides on x-forwarded-proto, which a plaintext connection
		// makes http whatever :scheme says: the request as given is
		// contradictory (an https request is usually a TLS connection).
		t.res.unsupported("vhost", "virtual host %q requires TLS; the request's scheme is https but its connection is not TLS, so Envoy's x-forwarded-proto is %q (give --tls for a TLS connection, or an x-forwarded-proto header Envoy trusts)", vh.GetName(), t.xfp)
		return true
	}
	if req == routev3.VirtualHost_EXTERNAL_ONLY {
		internal, undecided := t.internalRequest()
		if undecided != "" {
			t.res.unsupported("vhost", "virtual host %q requires TLS for external requests (EXTERNAL_ONLY) and x-forwarded-proto is %q: %s", vh.GetName(), t.xfp, undecided)
			return true
		}
		if internal {
			t.res.step("vhost", "require_tls EXTERNAL_ONLY: the request is internal, no redirect")
			return false
		}
	}
	loc := "https://" + t.host + t.path
	t.res.Redirect = &Redirect{Location: loc, ResponseCode: 301}
	t.res.step("vhost", "require_tls %s and x-forwarded-proto is %q: Envoy redirects 301 to %s", req, t.xfp, loc)
	return true
}

// internalRequest decides whether Envoy marks the request internal
// (x-envoy-internal: true), as ConnectionManagerUtility does: only with
// use_remote_address, no x-forwarded-for from the client, and a source
// address inside internal_address_config's ranges.
func (t *tracer) internalRequest() (bool, string) {
	hcm := t.hcm
	if _, ok := t.clientHeader("x-envoy-internal"); ok {
		// Envoy removes a client's x-envoy-internal and decides anew, but
		// a request that carries one was marked internal by an Envoy that
		// did know: the tracer cannot tell which of the two the caller means.
		return false, "the request carries x-envoy-internal, which this Envoy removes and decides anew from the connection (give --source and no x-envoy-internal)"
	}
	if !hcm.GetUseRemoteAddress().GetValue() {
		if len(hcm.GetOriginalIpDetectionExtensions()) > 0 {
			return false, "original_ip_detection_extensions decide whether the request is internal"
		}
		return false, ""
	}
	if _, ok := t.clientHeader("x-forwarded-for"); ok {
		return false, ""
	}
	cfg := hcm.GetInternalAddressConfig()
	if len(cfg.GetCidrRanges()) == 0 {
		// Since Envoy 1.36 no address is internal unless configured (older
		// versions trusted RFC 1918 and loopback addresses).
		t.res.step("http", "no internal_address_config: Envoy (1.36 and later) marks no request internal")
		return false, ""
	}
	if t.req.SourceAddress == "" {
		return false, "whether it is internal depends on the source address (give --source)"
	}
	src, _ := netip.ParseAddr(t.req.SourceAddress)
	return cidrRank(cfg.GetCidrRanges(), src) >= 0, ""
}
