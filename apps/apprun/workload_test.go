package apprun

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/engines/traffic"
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

// workload is one Run in the background.
type workload struct {
	addr   string // host:port it listens on
	stderr *syncBuffer
	stop   context.CancelFunc
	code   chan int
}

var listening = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startWorkload runs Run with "--listen 127.0.0.1:0 ARGS" and waits for its
// listening line.
func startWorkload(t *testing.T, args ...string) *workload {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &workload{stderr: &syncBuffer{}, stop: cancel, code: make(chan int, 1)}
	all := append([]string{"--listen", "127.0.0.1:0"}, args...)
	go func() { w.code <- Run(ctx, "test run", all, &bytes.Buffer{}, w.stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(w.stderr.String()); m != nil {
			w.addr = m[1]
			t.Cleanup(func() { w.halt(t) })
			return w
		}
		select {
		case code := <-w.code:
			t.Fatalf("run %q exited %d before listening: %s", all, code, w.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("run %q did not say where it listens: %s", all, w.stderr.String())
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
		if code != ExitOK {
			t.Errorf("workload on %s exited %d after the signal, want 0: %s", w.addr, code, w.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Errorf("workload on %s did not stop: %s", w.addr, w.stderr.String())
	}
	w.code = nil
}

// fetch runs Fetch and returns the exit code and output.
func fetch(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Fetch(context.Background(), "test fetch", args, &out, &errb)
	return code, out.String(), errb.String()
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

func TestRunBookinfoChain(t *testing.T) {
	ratings := startWorkload(t, "--app", "bookinfo-ratings", "--name", "ratings-v1-6c8d9-aaaaa")
	details := startWorkload(t, "--app", "bookinfo-details", "--name", "details-v1-5f7b8-bbbbb")
	reviews := startWorkload(t, "--app", "bookinfo-reviews", "--version", "v3", "--name", "reviews-v3-7d9f6-ccccc", "--ratings", "http://"+ratings.addr)
	page := startWorkload(t, "--app", "bookinfo-productpage", "--name", "productpage-v1-9a8b7-ddddd",
		"--details", "http://"+details.addr, "--reviews", "http://"+reviews.addr, "--ratings", "http://"+ratings.addr)

	code, out, errs := fetch("http://"+page.addr+"/productpage", "--header", "x-request-id=chain-42", "--header", "x-b3-traceid=abc123")
	if code != ExitOK {
		t.Fatalf("fetch: exit %d: %s", code, errs)
	}
	resp := parseFetch(t, out)
	if got, err := (traffic.BookinfoPage{}).Classify(resp); got != "v3" || err != nil || resp.Status != 200 {
		t.Errorf("productpage: status %d, BookinfoPage = %q, %v; want 200, v3\n%s", resp.Status, got, err, out)
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

func TestRunWhoami(t *testing.T) {
	w := startWorkload(t, "--app", "whoami", "--name", "whoami-v2-5d4956f4c7-cnb9j")
	code, out, errs := fetch("http://"+w.addr+"/x", "--header", "Host=whoami.example.com", "--header", "X-Multi=a", "--header", "X-Multi=b")
	if code != ExitOK {
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
	var res FetchResult
	if err := json.Unmarshal([]byte(out), &res); code != ExitOK || err != nil || res.Status != 200 || res.Proto != "HTTP/1.1" || res.URL != "http://"+w.addr+"/health" {
		t.Errorf("fetch -o json: exit %d, %+v, %v\n%s", code, res, err, out)
	}
	code, out, _ = fetch("http://"+w.addr+"/api", "-o", "json", "--header", "x-request-id=j1")
	if err := json.Unmarshal([]byte(out), &res); code != ExitOK || err != nil || !strings.Contains(res.Body, `"X-Request-Id":["j1"]`) || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("fetch /api -o json: exit %d, %+v, %v", code, res, err)
	}
}

func TestFetch(t *testing.T) {
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
	if code != ExitOK || !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "\nX-A: 1\nX-A: 0\nX-B: 2\n\nno upstream\n") {
		t.Errorf("fetch 503: exit %d, stdout %q, stderr %q; want exit 0 with\n%s...X-A: 1\\nX-A: 0\\nX-B: 2\\n\\nno upstream\\n", code, out, errs, want)
	}
	code, out, _ = fetch(srv.URL + "/redirect")
	if code != ExitOK || !strings.HasPrefix(out, "HTTP/1.1 302 Found\n") || !strings.Contains(out, "\nLocation: /elsewhere\n") {
		t.Errorf("fetch redirect: exit %d, %q; want the 302 itself", code, out)
	}
	start := time.Now()
	code, _, errs = fetch(srv.URL+"/slow", "--timeout", "100ms")
	if code != ExitFail || !strings.Contains(errs, "/slow") || !strings.Contains(errs, "deadline exceeded") || time.Since(start) > 3*time.Second {
		t.Errorf("fetch --timeout 100ms: exit %d after %v, stderr %q; want 1 naming the URL and the deadline", code, time.Since(start), errs)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	code, _, errs = fetch(dead.URL + "/")
	if code != ExitFail || !strings.Contains(errs, "connection refused") {
		t.Errorf("fetch to a closed port: exit %d, stderr %q; want 1 with connection refused", code, errs)
	}
}

func TestRunNameDefaultsToTheHostname(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skipf("no hostname here (%v): the default cannot be checked", err)
	}
	w := startWorkload(t, "--app", "whoami")
	code, out, errs := fetch("http://" + w.addr + "/")
	if code != ExitOK || !strings.Contains(out, "\nHostname: "+host+"\n") {
		t.Errorf("whoami without --name: exit %d, stderr %q; want Hostname: %s in\n%s", code, errs, host, out)
	}
	if !strings.Contains(w.stderr.String(), host+": whoami listening on ") {
		t.Errorf("the log lines should name the hostname %q:\n%s", host, w.stderr.String())
	}

	r := startWorkload(t, "--app", "bookinfo-reviews", "--version", "v1")
	code, out, errs = fetch("http://" + r.addr + "/reviews/0")
	if code != ExitOK || !strings.Contains(out, `"podname":"`+host+`"`) {
		t.Errorf("reviews without --name: exit %d, stderr %q; want podname %q in\n%s", code, errs, host, out)
	}
}

func TestMessagesNameTheProgram(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int
		args []string
		code int
		want []string
	}{
		{"run help", Run, []string{"-h"}, ExitOK, []string{"meshcheck-app run: " + RunSummary, "-listen string", "  meshcheck-app run --app whoami --name whoami-v1-79f55-xlxcw --listen 0.0.0.0:80\n"}},
		{"fetch help", Fetch, []string{"-h"}, ExitOK, []string{"meshcheck-app run: " + FetchSummary, "  meshcheck-app run http://reviews:9080/reviews/0 --header x-request-id=abc\n"}},
		{"run usage", Run, []string{"--app", "whoami"}, ExitUsage, []string{"meshcheck-app run: --app and --listen are required\nRun 'meshcheck-app run -h' for help.\n"}},
		{"run bad flag", Run, []string{"--port", "80"}, ExitUsage, []string{"flag provided but not defined: -port"}},
		{"run cannot listen", Run, []string{"--app", "whoami", "--listen", "256.0.0.1:80", "--name", "p"}, ExitFail, []string{"meshcheck-app run: whoami: listen tcp"}},
		{"fetch refused", Fetch, []string{"http://127.0.0.1:1/"}, ExitFail, []string{"meshcheck-app run: Get \"http://127.0.0.1:1/\""}},
	} {
		var out, errb bytes.Buffer
		code := tc.run(context.Background(), "meshcheck-app run", tc.args, &out, &errb)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d; stderr %q", tc.name, code, tc.code, errb.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.name, w, errb.String())
			}
		}
	}
}
