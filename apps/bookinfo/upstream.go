package bookinfo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds how much of a dependency's answer or a request body is
// read.
const maxBody = 1 << 20

// caller makes the requests from one app to its dependencies.
type caller struct {
	client *http.Client
	log    *log.Logger
}

// newCaller returns a caller that does not pool connections (upstream
// productpage deliberately opens a connection per request, so every call
// is balanced on its own) and never uses a proxy from the environment:
// inside a pod the sidecar is the only proxy.
func newCaller(l *log.Logger) caller {
	if l == nil {
		l = log.New(io.Discard, "", 0)
	}
	tr := &http.Transport{
		Proxy:             nil,
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: true,
	}
	return caller{client: &http.Client{Transport: tr}, log: l}
}

// answer is what one call to a dependency gave.
type answer struct {
	// Status is the response's status code, 0 when none came.
	Status int
	Body   []byte
	// Err is set unless the status is 200 and the body was read; it carries
	// the URL and the status or the transport error.
	Err error
}

// get sends GET url with the headers h, bounded by timeout, and logs a
// failure.
func (c caller) get(ctx context.Context, u string, h http.Header, timeout time.Duration) answer {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return c.failed(answer{Err: fmt.Errorf("GET %s: %w", u, err)})
	}
	for k, vs := range h {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return c.failed(answer{Err: fmt.Errorf("GET %s: %w", u, err)})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	a := answer{Status: resp.StatusCode, Body: body}
	switch {
	case err != nil:
		a.Err = fmt.Errorf("GET %s: status %d, reading the body: %w", u, resp.StatusCode, err)
	case resp.StatusCode != http.StatusOK:
		a.Err = fmt.Errorf("GET %s: status %d, body %q", u, resp.StatusCode, excerpt(body))
	case !json.Valid(body):
		a.Err = fmt.Errorf("GET %s: status 200 but the body is not JSON: %q", u, excerpt(body))
	}
	return c.failed(a)
}

func (c caller) failed(a answer) answer {
	if a.Err != nil {
		c.log.Printf("error: %v", a.Err)
	}
	return a
}

// excerpt shortens a body for messages.
func excerpt(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// serviceURL checks a dependency's base URL (such as http://reviews:9080),
// defaulting to def, and returns it without a trailing slash.
func serviceURL(name, u, def string) (string, error) {
	if u == "" {
		u = def
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("%s URL %q: %w", name, u, err)
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return "", fmt.Errorf("%s URL %q: want an http:// or https:// URL", name, u)
	}
	if p.Host == "" {
		return "", fmt.Errorf("%s URL %q: no host", name, u)
	}
	return strings.TrimRight(u, "/"), nil
}

// writeJSON writes v as compact JSON with HTML characters left alone, as
// the upstream apps do.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, fmt.Sprintf("encoding JSON: %v", err), http.StatusInternalServerError)
		return
	}
	writeRawJSON(w, status, bytes.TrimRight(b.Bytes(), "\n"))
}

// writeRawJSON writes a JSON document as it is.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
