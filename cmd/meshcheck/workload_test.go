package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/harness/traffic"
)

// syncBuffer is a bytes.Buffer safe for a server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// workload is one "meshcheck workload run" in the background.
type workload struct {
	addr   string // host:port it listens on
	stderr *syncBuffer
	stop   context.CancelFunc
	code   chan int
}

var listening = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startWorkload runs "workload run ARGS --listen 127.0.0.1:0" and waits for
// its listening line.
func startWorkload(t *testing.T, args ...string) *workload {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &workload{stderr: &syncBuffer{}, stop: cancel, code: make(chan int, 1)}
	all := append([]string{"workload", "run", "--listen", "127.0.0.1:0"}, args...)
	go func() {
		w.code <- run(ctx, all, streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: w.stderr})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(w.stderr.String()); m != nil {
			w.addr = m[1]
			t.Cleanup(func() { w.halt(t) })
			return w
		}
		select {
		case code := <-w.code:
			t.Fatalf("meshcheck %q exited %d before listening: %s", all, code, w.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("meshcheck %q did not say where it listens: %s", all, w.stderr.String())
	return nil
}

// halt cancels the run (as SIGTERM does through main's context) and
// checks it exits 0; a second call does nothing.
func (w *workload) halt(t *testing.T) {
	t.Helper()
	if w.code == nil {
		return
	}
	w.stop()
	select {
	case code := <-w.code:
		if code != exitOK {
			t.Errorf("workload on %s exited %d after the signal, want 0: %s", w.addr, code, w.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("workload on %s did not stop: %s", w.addr, w.stderr.String())
	}
	w.code = nil
}

// fetch runs "meshcheck workload fetch" and returns the exit code and
// output.
func fetch(args ...string) (int, string, string) {
	return runCLI("", append([]string{"workload", "fetch"}, args...)...)
}

// parseFetch reads fetch's text output back into a response.
func parseFetch(t *testing.T, out string) traffic.Response {
	t.Helper()
	head, body, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("fetch output has no empty line: %q", out)
	}
	lines := strings.Split(head, "\n")
	var r traffic.Response
	r.Header = http.Header{}
	m := statusLine.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("status line %q: want HTTP/x.y NNN ...", lines[0])
	}
	r.Status, _ = strconv.Atoi(m[1])
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ": ")
		r.Header.Add(k, v)
	}
	r.Body = []byte(body)
	return r
}

var statusLine = regexp.MustCompile(`^HTTP/\d\.\d (\d{3}) `)

func TestWorkloadRunBookinfoChain(t *testing.T) {
	ratings := startWorkload(t, "--app", "bookinfo-ratings", "--name", "ratings-v1-6c8d9-aaaaa")
	details := startWorkload(t, "--app", "bookinfo-details", "--name", "details-v1-5f7b8-bbbbb")
	reviews := startWorkload(t, "--app", "bookinfo-reviews", "--version", "v3", "--name", "reviews-v3-7d9f6-ccccc", "--ratings", "http://"+ratings.addr)
	page := startWorkload(t, "--app", "bookinfo-productpage", "--name", "productpage-v1-9a8b7-ddddd",
		"--details", "http://"+details.addr, "--reviews", "http://"+reviews.addr, "--ratings", "http://"+ratings.addr)

	code, out, errs := fetch("http://"+page.addr+"/productpage", "--header", "x-request-id=chain-42", "--header", "x-b3-traceid=abc123")
	if code != exitOK {
		t.Fatalf("fetch: exit %d: %s", code, errs)
	}
	resp := parseFetch(t, out)
	if got, err := (traffic.BookinfoPage{}).Classify(resp); got != "v3" || err != nil || resp.Status != 200 {
		t.Errorf("productpage through the CLI: status %d, BookinfoPage = %q, %v; want 200, v3\n%s", resp.Status, got, err, out)
	}
	if !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("Content-Type %q, want text/html", resp.Header.Get("Content-Type"))
	}

	// Every hop logged the request id; stopping exits 0 and says so.
	for _, w := range []*workload{page, details, reviews, ratings} {
		w.halt(t)
		logs := w.stderr.String()
		if !regexp.MustCompile(`: "GET /\S+ HTTP/1\.1" 200 \d+ \S+ 127\.0\.0\.1:\d+ x-request-id=chain-42\n`).MatchString(logs) || !strings.Contains(logs, " stopped\n") {
			t.Errorf("workload on %s: want a request line with x-request-id=chain-42 and a stop line in\n%s", w.addr, logs)
		}
	}
}

func TestWorkloadRunWhoami(t *testing.T) {
	w := startWorkload(t, "--app", "whoami", "--name", "whoami-v2-5d4956f4c7-cnb9j")
	code, out, errs := fetch("http://"+w.addr+"/x", "--header", "Host=whoami.example.com", "--header", "X-Multi=a", "--header", "X-Multi=b")
	if code != exitOK {
		t.Fatalf("fetch: exit %d: %s", code, errs)
	}
	resp := parseFetch(t, out)
	if got, err := (traffic.Whoami{}).Classify(resp); got != "v2" || err != nil {
		t.Errorf("traffic.Whoami = %q, %v; want v2\n%s", got, err, out)
	}
	for _, want := range []string{"GET /x HTTP/1.1\r\nHost: whoami.example.com\r\n", "X-Multi: a\r\nX-Multi: b\r\n", "\nIP: 127.0.0.1\n"} {
		if !strings.Contains(string(resp.Body), want) {
			t.Errorf("whoami body lacks %q:\n%s", want, resp.Body)
		}
	}

	code, out, _ = fetch("-o", "json", "http://"+w.addr+"/health")
	var res fetchResult
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || res.Status != 200 || res.Proto != "HTTP/1.1" || res.URL != "http://"+w.addr+"/health" {
		t.Errorf("fetch -o json: exit %d, %+v, %v\n%s", code, res, err, out)
	}
	code, out, _ = fetch("http://"+w.addr+"/api", "-o", "json", "--header", "x-request-id=j1")
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || !strings.Contains(res.Body, `"X-Request-Id":["j1"]`) || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("fetch /api -o json: exit %d, %+v, %v", code, res, err)
	}
}

func TestWorkloadFetch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		default:
			w.Header().Set("X-B", "2")
			w.Header().Add("X-A", "1")
			w.Header().Add("X-A", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("no upstream\n" + r.Header.Get("Accept-Encoding")))
		}
	}))
	defer srv.Close()

	code, out, errs := fetch(srv.URL + "/x")
	want := "HTTP/1.1 503 Service Unavailable\nContent-Length: 12\nContent-Type: text/plain; charset=utf-8\nDate: "
	if code != exitOK || !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "\nX-A: 1\nX-A: 0\nX-B: 2\n\nno upstream\n") {
		t.Errorf("fetch 503: exit %d, stdout %q, stderr %q; want exit 0 with\n%s...X-A: 1\\nX-A: 0\\nX-B: 2\\n\\nno upstream\\n", code, out, errs, want)
	}
	code, out, _ = fetch(srv.URL + "/redirect")
	if code != exitOK || !strings.HasPrefix(out, "HTTP/1.1 302 Found\n") || !strings.Contains(out, "\nLocation: /elsewhere\n") {
		t.Errorf("fetch redirect: exit %d, %q; want the 302 itself", code, out)
	}
	start := time.Now()
	code, _, errs = fetch(srv.URL+"/slow", "--timeout", "100ms")
	if code != exitFail || !strings.Contains(errs, "/slow") || !strings.Contains(errs, "deadline exceeded") || time.Since(start) > 3*time.Second {
		t.Errorf("fetch --timeout 100ms: exit %d after %v, stderr %q; want 1 naming the URL and the deadline", code, time.Since(start), errs)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	code, _, errs = fetch(dead.URL + "/")
	if code != exitFail || !strings.Contains(errs, "connection refused") {
		t.Errorf("fetch to a closed port: exit %d, stderr %q; want 1 with connection refused", code, errs)
	}
}

func TestWorkloadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"workload"}, exitUsage, "run "},
		{[]string{"workload", "run"}, exitUsage, "--app, --listen and --name are required"},
		{[]string{"workload", "run", "--app", "whoami", "--listen", "127.0.0.1:0"}, exitUsage, "are required"},
		{[]string{"workload", "run", "--app", "nginx", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, `--app "nginx": want one of bookinfo-productpage, bookinfo-details, bookinfo-reviews, bookinfo-ratings, whoami`},
		{[]string{"workload", "run", "--app", "bookinfo-reviews", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, "bookinfo-reviews needs --version v1, v2 or v3"},
		{[]string{"workload", "run", "--app", "bookinfo-reviews", "--version", "v9", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, `reviews version "v9": want v1, v2 or v3`},
		{[]string{"workload", "run", "--app", "whoami", "--version", "v1", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, "--version applies to bookinfo-reviews only, not whoami"},
		{[]string{"workload", "run", "--app", "bookinfo-reviews", "--version", "v1", "--details", "http://d", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, "--details and --reviews apply to bookinfo-productpage only"},
		{[]string{"workload", "run", "--app", "bookinfo-details", "--ratings", "http://r", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, "--ratings applies to bookinfo-productpage and bookinfo-reviews only"},
		{[]string{"workload", "run", "--app", "bookinfo-productpage", "--details", "details:9080", "--listen", "127.0.0.1:0", "--name", "p"}, exitUsage, `details URL "details:9080": want an http:// or https:// URL`},
		{[]string{"workload", "run", "--app", "whoami", "--listen", "127.0.0.1:99999", "--name", "p"}, exitFail, "invalid port"},
		{[]string{"workload", "run", "--app", "whoami", "--listen", "127.0.0.1:0", "--name", "p", "extra"}, exitUsage, `unexpected arguments ["extra"]`},
		{[]string{"workload", "run", "-h"}, exitOK, "Exit codes: 0 stopped by a signal"},
		{[]string{"workload", "fetch"}, exitUsage, "want exactly one URL"},
		{[]string{"workload", "fetch", "http://a", "http://b"}, exitUsage, "want exactly one URL"},
		{[]string{"workload", "fetch", "reviews:9080/x"}, exitUsage, `URL "reviews:9080/x": want http://host[:port]/path`},
		{[]string{"workload", "fetch", "http://a", "--header", "novalue"}, exitUsage, `--header "novalue": want KEY=VALUE`},
		{[]string{"workload", "fetch", "http://a", "--timeout", "0s"}, exitUsage, "--timeout 0s: want a positive duration"},
		{[]string{"workload", "fetch", "http://a", "-o", "yaml"}, exitUsage, `-o "yaml": want text or json`},
		{[]string{"workload", "fetch", "http://a", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
		{[]string{"workload", "fetch", "-h"}, exitOK, "--header Host=NAME sets"},
	} {
		code, _, errs := runCLI("", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("meshcheck %q: exit %d, stderr %q; want %d with %q", tc.args, code, errs, tc.code, tc.err)
		}
	}
}
