package whoami

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/engines/traffic"
)

// serve starts h on 127.0.0.1:0 until the test ends and returns host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return ln.Addr().String()
}

// do sends one request over a fresh connection and returns the response
// and the local address it came from.
func do(t *testing.T, method, u, body string, h http.Header) (traffic.Response, string) {
	t.Helper()
	var local string
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			local = c.LocalAddr().String()
		}
		return c, err
	}}
	defer tr.CloseIdleConnections()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return traffic.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, local
}

func TestWhoamiText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		version string // from traffic.Whoami; "" means it must fail
	}{
		{"pod v1", Options{Hostname: "whoami-v1-79f555c9bf-xlxcw", IPs: []string{"10.10.0.5", "fe80::1"}}, "v1"},
		{"pod v2 with a name", Options{Hostname: "whoami-v2-5d4956f4c7-cnb9j", Name: "iamfoo", IPs: []string{"10.10.0.6"}}, "v2"},
		{"VM", Options{Hostname: "vm1", IPs: []string{"10.10.1.2"}}, ""},
	} {
		addr := serve(t, New(tc.o))
		resp, local := do(t, "GET", "http://"+addr+"/some/path?x=1", "", http.Header{"X-Request-Id": {"req-1"}, "X-B3-Sampled": {"0"}})
		var want strings.Builder
		if tc.o.Name != "" {
			want.WriteString("Name: " + tc.o.Name + "\n")
		}
		want.WriteString("Hostname: " + tc.o.Hostname + "\n")
		for _, ip := range tc.o.IPs {
			want.WriteString("IP: " + ip + "\n")
		}
		want.WriteString("RemoteAddr: " + local + "\n")
		want.WriteString("GET /some/path?x=1 HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: Go-http-client/1.1\r\n" +
			"Accept-Encoding: gzip\r\nX-B3-Sampled: 0\r\nX-Request-Id: req-1\r\n\r\n")
		if resp.Status != 200 || string(resp.Body) != want.String() {
			t.Errorf("%s: status %d, body\n%q\nwant\n%q", tc.name, resp.Status, resp.Body, want.String())
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("%s: Content-Type %q, want text/plain; charset=utf-8", tc.name, ct)
		}
		got, err := (traffic.Whoami{}).Classify(resp)
		if tc.version == "" {
			if err == nil {
				t.Errorf("%s: traffic.Whoami = %q, want an error (no version in %q)", tc.name, got, tc.o.Hostname)
			}
		} else if got != tc.version || err != nil {
			t.Errorf("%s: traffic.Whoami = %q, %v; want %s", tc.name, got, err, tc.version)
		}
	}
}

func TestWhoamiDefaults(t *testing.T) {
	addr := serve(t, New(Options{}))
	resp, _ := do(t, "POST", "http://"+addr+"/", "hello body", nil)
	body := string(resp.Body)
	for _, want := range []string{"\nIP: 127.0.0.1\n", "POST / HTTP/1.1\r\n", "Content-Length: 10\r\n", "\r\n\r\nhello body"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %q lacks %q", body, want)
		}
	}
	if !strings.HasPrefix(body, "Hostname: ") || strings.HasPrefix(body, "Hostname: \n") {
		t.Errorf("body %q: want the host's name on the first line", body)
	}
	if ips := InterfaceIPs(); !slices.Contains(ips, "127.0.0.1") {
		t.Errorf("InterfaceIPs() = %q, want 127.0.0.1 among them", ips)
	}
}

func TestWhoamiWait(t *testing.T) {
	addr := serve(t, New(Options{Hostname: "h", IPs: []string{}}))
	start := time.Now()
	resp, _ := do(t, "GET", "http://"+addr+"/?wait=150ms", "", nil)
	if d := time.Since(start); d < 150*time.Millisecond || !strings.HasPrefix(string(resp.Body), "Hostname: h\nRemoteAddr: ") {
		t.Errorf("wait=150ms answered after %v with %q", d, resp.Body)
	}
	start = time.Now()
	do(t, "GET", "http://"+addr+"/?wait=bogus", "", nil)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("wait=bogus took %v, want no wait", d)
	}
}

func TestAPI(t *testing.T) {
	addr := serve(t, New(Options{Hostname: "whoami-v2-x", Name: "n", IPs: []string{"10.0.0.1"}}))
	resp, local := do(t, "GET", "http://"+addr+"/api?q=1", "", http.Header{"X-Request-Id": {"r"}})
	var got Info
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatalf("/api: %v in %s", err, resp.Body)
	}
	want := Info{Hostname: "whoami-v2-x", IP: []string{"10.0.0.1"}, URL: "/api?q=1", Host: addr, Method: "GET", Name: "n", RemoteAddr: local}
	gotHeaders := got.Headers
	got.Headers = nil
	if !equalInfo(got, want) || gotHeaders.Get("X-Request-Id") != "r" {
		t.Errorf("/api = %+v (headers %v), want %+v with X-Request-Id r", got, gotHeaders, want)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/api headers %v, want CORS * and application/json", resp.Header)
	}
	if !strings.Contains(string(resp.Body), `"remoteAddr":`) {
		t.Errorf("/api body %s: want upstream's key remoteAddr", resp.Body)
	}
}

func equalInfo(a, b Info) bool {
	return a.Hostname == b.Hostname && slices.Equal(a.IP, b.IP) && a.URL == b.URL && a.Host == b.Host &&
		a.Method == b.Method && a.Name == b.Name && a.RemoteAddr == b.RemoteAddr
}

func TestHealthAndBench(t *testing.T) {
	u := "http://" + serve(t, New(Options{Hostname: "h"}))
	for _, step := range []struct {
		method, path, body string
		status             int
		bodyHas            string
	}{
		{"GET", "/health", "", 200, ""},
		{"POST", "/health", "503", 200, ""},
		{"GET", "/health", "", 503, ""},
		{"HEAD", "/health", "", 503, ""},
		{"POST", "/health", "abc", 400, "want a status code"},
		{"POST", "/health", "42", 400, "status code 42: want 200 to 599"},
		{"POST", "/health", "1000", 400, "status code 1000"},
		{"GET", "/health", "", 503, ""},
		{"POST", "/health", "200", 200, ""},
		{"GET", "/health", "", 200, ""},
		{"GET", "/bench", "", 200, "1"},
	} {
		resp, _ := do(t, step.method, u+step.path, step.body, nil)
		if resp.Status != step.status || !strings.Contains(string(resp.Body), step.bodyHas) {
			t.Errorf("%s %s %q: %d %q, want %d with %q", step.method, step.path, step.body, resp.Status, resp.Body, step.status, step.bodyHas)
		}
	}
}
