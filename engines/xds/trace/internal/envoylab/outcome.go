package envoylab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Outcome is what Envoy did with one request.
type Outcome struct {
	Status int `json:"status"`
	// Details, Flags and Route are Envoy's access-log account:
	// %RESPONSE_CODE_DETAILS% (via_upstream, route_not_found,
	// cluster_not_found, no_healthy_upstream, direct_response, ...),
	// %RESPONSE_FLAGS% and %ROUTE_NAME%.
	Details string `json:"details"`
	Flags   string `json:"flags,omitempty"`
	Route   string `json:"route,omitempty"`
	// Received is set when an echo server answered: which cluster, and the
	// request as it arrived upstream.
	Received *Received `json:"received,omitempty"`
	Location string    `json:"location,omitempty"`
	Body     string    `json:"body,omitempty"`
}

// Summary is the outcome in a few words: "cluster a host/path",
// "redirect 301 https://x/y", "direct 403 body", or "404 route_not_found".
func (o Outcome) Summary() string {
	switch {
	case o.Received != nil:
		return fmt.Sprintf("cluster %s %s%s", o.Received.Cluster, o.Received.Host, o.Received.Path)
	case o.Location != "" && o.Status >= 300 && o.Status < 400:
		return fmt.Sprintf("redirect %d %s", o.Status, o.Location)
	case o.Details == "direct_response":
		return directSummary(o.Status, o.Body, o.Location)
	}
	return fmt.Sprintf("%d %s", o.Status, o.Details)
}

// directSummary is a direct response in Summary's words: a 3xx with a
// Location reads as a redirect; another Location is named after the body.
func directSummary(status int, body, location string) string {
	switch {
	case location != "" && status >= 300 && status < 400:
		return fmt.Sprintf("redirect %d %s", status, location)
	case location != "":
		return strings.TrimSpace(fmt.Sprintf("direct %d %s", status, body)) + " (location " + location + ")"
	}
	return strings.TrimSpace(fmt.Sprintf("direct %d %s", status, body))
}

// String is the outcome with Envoy's evidence.
func (o Outcome) String() string {
	s := o.Summary()
	if o.Received != nil {
		s += fmt.Sprintf(" (x-forwarded-proto %s)", o.Received.ForwardedProto)
	}
	return s + fmt.Sprintf(" [status %d, details %s, flags %s, route %q]", o.Status, o.Details, o.Flags, o.Route)
}

// Wanted reports whether the outcome is what want describes: its Summary,
// or the Summary's leading words.
func (o Outcome) Wanted(want string) bool {
	s := o.Summary()
	return s == want || strings.HasPrefix(s, want+" ")
}

// WantFor is Want with "${port}" replaced by the lab's port.
func (r Request) WantFor(port int) string {
	return strings.ReplaceAll(r.Want, "${port}", strconv.Itoa(port))
}

// SentTo is the request as the lab sends it to a listener on port: the
// method (GET when unset), HostFor's host, the path ("/" when unset) and the
// headers.
func (r Request) SentTo(port int) Sent {
	s := Sent{Method: r.Method, Host: r.HostFor(port), Path: r.Path, Headers: r.Headers}
	if s.Method == "" {
		s.Method = http.MethodGet
	}
	if s.Path == "" {
		s.Path = "/"
	}
	return s
}

// HostFor is the request's Host header for a lab listening on port: Host
// with "${port}" replaced, or 127.0.0.1:port when Host is empty.
func (r Request) HostFor(port int) string {
	if r.Host == "" {
		return "127.0.0.1:" + strconv.Itoa(port)
	}
	return strings.ReplaceAll(r.Host, "${port}", strconv.Itoa(port))
}

// Do sends r to Envoy and returns what happened, with its access-log line.
func (l *Lab) Do(ctx context.Context, r Request) (Outcome, error) {
	id := fmt.Sprintf("req-%d", l.nextID.Add(1))
	req, err := l.httpRequest(ctx, r, id)
	if err != nil {
		return Outcome{}, err
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s %s: %w", req.Method, r.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return Outcome{}, fmt.Errorf("%s %s: body: %w", req.Method, r.Path, err)
	}
	o := Outcome{Status: resp.StatusCode, Location: resp.Header.Get("Location")}
	if echo := resp.Header.Get(echoHeader); echo != "" {
		o.Received = &Received{}
		if err := json.Unmarshal([]byte(echo), o.Received); err != nil {
			return Outcome{}, fmt.Errorf("%s %s: echo answer %q: %w", req.Method, r.Path, echo, err)
		}
	} else {
		o.Body = string(body)
	}
	line, err := l.accessLog(id)
	if err != nil {
		return o, err
	}
	o.Details, o.Flags, o.Route = line.Details, dash(line.Flags), dash(line.Route)
	return o, nil
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func (l *Lab) httpRequest(ctx context.Context, r Request, id string) (*http.Request, error) {
	sent := r.SentTo(l.Port)
	method := sent.Method
	path, query, hasQuery := strings.Cut(sent.Path, "?")
	scheme := "http"
	if l.Case.TLS {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: fmt.Sprintf("127.0.0.1:%d", l.Port), Opaque: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	req, err := http.NewRequestWithContext(ctx, method, "http://placeholder/", nil)
	if err != nil {
		return nil, fmt.Errorf("request %s %s: %w", method, r.Path, err)
	}
	req.URL = u
	req.Host = sent.Host
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set(idHeader, id)
	return req, nil
}
