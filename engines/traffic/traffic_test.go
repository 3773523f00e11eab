package traffic

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/timeouts"
)

// whoamiBody is what traefik/whoami prints (hostname, IPs, request line
// and headers).
func whoamiBody(pod string, r *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hostname: %s\nIP: 127.0.0.1\nRemoteAddr: %s\n%s %s %s\nHost: %s\n", pod, r.RemoteAddr, r.Method, r.URL.Path, r.Proto, r.Host)
	for k, vs := range r.Header {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ","))
	}
	return b.String()
}

// weighted serves whoami bodies from pods chosen with the given shares.
func weighted(t *testing.T, pods []string, shares []float64, seed uint64) (*httptest.Server, *sync.Map) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, 1))
	ids := &sync.Map{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids.Store(r.Header.Get("x-request-id"), r.Host)
		mu.Lock()
		u := rng.Float64()
		mu.Unlock()
		pod := pods[len(pods)-1]
		for i, s := range shares {
			if u < s {
				pod = pods[i]
				break
			}
			u -= s
		}
		fmt.Fprint(w, whoamiBody(pod, r))
	}))
	t.Cleanup(srv.Close)
	return srv, ids
}

func addr(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func TestSendCarriesUniqueRequestIDs(t *testing.T) {
	srv, seen := weighted(t, []string{"whoami-v1-79f555c9bf-xlxcw", "whoami-v2-5d4956f4c7-cnb9j"}, []float64{0.5, 0.5}, 1)
	res := Send(context.Background(), &HTTPTransport{Address: addr(srv)}, Options{
		Request: Request{Path: "/", Host: "whoami.127.0.0.1.nip.io", Headers: http.Header{"X-Test": {"1"}}},
		Count:   40, Concurrency: 8, Classifier: Whoami{},
	})
	ids := map[string]bool{}
	for _, r := range res {
		if r.Err != nil || r.Status != 200 || (r.Version != "v1" && r.Version != "v2") {
			t.Fatalf("result %s", r)
		}
		if ids[r.RequestID] {
			t.Fatalf("request id %s used twice", r.RequestID)
		}
		ids[r.RequestID] = true
		host, ok := seen.Load(r.RequestID)
		if !ok || host != "whoami.127.0.0.1.nip.io" {
			t.Errorf("server saw request %s with host %v (found %v)", r.RequestID, host, ok)
		}
		if !strings.Contains(r.Body, "X-Test: 1") || r.Latency <= 0 {
			t.Errorf("body or latency: %s", r)
		}
	}
	if v := Versions(res); v["v1"]+v["v2"] != 40 || v["v1"] == 0 || v["v2"] == 0 {
		t.Errorf("versions %v", v)
	}
}

func TestClassifiers(t *testing.T) {
	tailwind := func(color string, pod string) string {
		stars := ""
		if color != "" {
			stars = `<div class="flex gap-x-1 text-` + color + `-500">
              <svg class="h-5 w-5 flex-none" viewBox="0 0 20 20"><path d="M10"/></svg></div>`
		}
		return `<p class="text-2xl text-red-500">unrelated red text</p><section>` + stars +
			`<div class="mt-0.5 text-gray-600 font-mono">Reviews served by: 
                  ` + pod + `
                </div></section>`
	}
	glyph := func(color, pod string) string {
		stars := ""
		if color != "" {
			stars = `<font color="` + color + `">
<span class="glyphicon glyphicon-star"></span>
</font>`
		}
		return `<blockquote><p>An extremely entertaining play.</p>` + stars + `</blockquote><dl><dd><small>Reviews served by: <u>` + pod + `</u></small></dd></dl>`
	}
	tests := []struct {
		c       Classifier
		body    string
		want    string
		wantErr string
	}{
		{Whoami{}, "Hostname: whoami-v2-5d4956f4c7-cnb9j\nIP: 10.1.0.3\n", "v2", ""},
		{Whoami{}, "Hostname: whoami-7d9f\n", "", "has no version part"},
		{Whoami{}, "hello", "", `no "Hostname:" line`},
		{VMOrDocker{}, "Hostname: vm1\nIP: 10.10.0.2\n", "vm", ""},
		{VMOrDocker{}, "Hostname: hello-docker-5d4956f4c7-cnb9j\n", "docker", ""},
		{VMOrDocker{}, "Hostname: whoami-v1-7d9f\n", "", "neither the VM"},
		{VMOrDocker{}, "hello", "", `no "Hostname:" line`},
		{BookinfoPage{}, tailwind("", "reviews-v1-5b9f8c6f4-7kq2z"), "v1", ""},
		{BookinfoPage{}, tailwind("black", "reviews-v2-7d7f9b6b4d-x2k8q"), "v2", ""},
		{BookinfoPage{}, tailwind("red", "reviews-v3-84779c7bbc-lm5ct"), "v3", ""},
		{BookinfoPage{}, tailwind("red", "reviews-v2-7d7f9b6b4d-x2k8q"), "", "stars say v3 but reviews were served by reviews-v2"},
		{BookinfoPage{}, tailwind("", "reviews-v3-84779c7bbc-lm5ct"), "v3", ""}, // ratings unavailable
		{BookinfoPage{}, glyph("", "reviews-v1-5b9f8c6f4-7kq2z"), "v1", ""},
		{BookinfoPage{}, glyph("black", "reviews-v2-7d7f9b6b4d-x2k8q"), "v2", ""},
		{BookinfoPage{}, glyph("red", "reviews-v3-84779c7bbc-lm5ct"), "v3", ""},
		{BookinfoPage{}, `<p class="text-2xl text-red-500">Error fetching product reviews</p>`, "", "could not fetch reviews"},
		{BookinfoPage{}, `<html>nothing</html>`, "", "no reviews section"},
		{BookinfoReviewsJSON{}, `{"id": "0","podname": "reviews-v1-5b9f8c6f4-7kq2z","clustername": "null","reviews": [{"reviewer": "Reviewer1","text": "x"}]}`, "v1", ""},
		{BookinfoReviewsJSON{}, `{"id": "0","podname": "reviews-v2-7d7f9b6b4d-x2k8q","reviews": [{"reviewer": "Reviewer1","rating": {"stars": 5,"color": "black"}}]}`, "v2", ""},
		{BookinfoReviewsJSON{}, `{"id": "0","podname": "reviews-v3-84779c7bbc-lm5ct","reviews": [{"rating": {"stars": 5,"color": "red"}},{"rating": {"stars": 4,"color": "red"}}]}`, "v3", ""},
		{BookinfoReviewsJSON{}, `{"id": "0","podname": "reviews-v3-84779c7bbc-lm5ct","reviews": [{"rating": {"error": "Ratings service is currently unavailable"}}]}`, "v3", ""},
		{BookinfoReviewsJSON{}, `{"id": "0","podname": "reviews-v1-5b9f8c6f4-7kq2z","reviews": [{"rating": {"stars": 5,"color": "black"}}]}`, "", "stars say v2 but reviews were served by reviews-v1"},
		{BookinfoReviewsJSON{}, `not json`, "", "reviews JSON"},
	}
	for i, tt := range tests {
		got, err := tt.c.Classify(Response{Status: 200, Body: []byte(tt.body)})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%d %s: err %v, want %q", i, tt.c, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%d %s: %q, %v; want %q", i, tt.c, got, err, tt.want)
		}
	}
}

func TestConverge(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// 503 for the first 4 requests, then 200 (the route appears), with
		// one more 503 in between to reset the streak.
		switch k := n.Add(1); {
		case k <= 4 || k == 6:
			http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, "Hostname: whoami-v1-79f555c9bf-xlxcw\n")
		}
	}))
	defer srv.Close()
	to := timeouts.Timeouts{Convergence: 10 * time.Second, ConvergenceInterval: time.Millisecond}
	r, err := Converge(context.Background(), &HTTPTransport{Address: addr(srv)}, ConvergeOptions{Timeouts: to, Classifier: Whoami{}})
	if err != nil || r.Version != "v1" || n.Load() != 9 {
		t.Fatalf("Converge = %s, %v after %d requests; want v1 after 9 (3 in a row after the 6th)", r, err, n.Load())
	}

	// Never converges: the error has the last error and the last response.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
	}))
	defer bad.Close()
	to = timeouts.Timeouts{Convergence: 200 * time.Millisecond, ConvergenceInterval: 20 * time.Millisecond}
	_, err = Converge(context.Background(), &HTTPTransport{Address: addr(bad)}, ConvergeOptions{Request: Request{Path: "/x", Host: "whoami"}, Timeouts: to})
	if !errors.Is(err, ErrNotConverged) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNotConverged and DeadlineExceeded", err)
	}
	for _, want := range []string{"GET whoami/x via http://127.0.0.1:", "0 of 3 successes in a row", "last error: status 503, want 200", `body: "no healthy upstream\n"`, "last response: request "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Transport errors are reported too.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	_, err = Converge(context.Background(), &HTTPTransport{Address: dead}, ConvergeOptions{Timeouts: to})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v, want the connection error", err)
	}
}

// countingDialer dials on the host but counts, standing in for a backend
// that dials inside a workload.
type countingDialer struct{ n atomic.Int32 }

func (d *countingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.n.Add(1)
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

func TestDialHook(t *testing.T) {
	srv, _ := weighted(t, []string{"whoami-v2-5d4956f4c7-cnb9j"}, []float64{1}, 2)
	d := &countingDialer{}
	res := Send(context.Background(), &HTTPTransport{Address: addr(srv), Dial: d}, Options{Count: 3, Classifier: Whoami{}})
	if res[0].Version != "v2" || d.n.Load() == 0 {
		t.Errorf("version %q, %d dials through the hook", res[0].Version, d.n.Load())
	}
}

// localExec runs the command on this machine, standing in for kubectl exec.
type localExec struct{ argv [][]string }

func (e *localExec) Exec(ctx context.Context, argv []string) ([]byte, []byte, error) {
	e.argv = append(e.argv, argv)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return []byte(out.String()), []byte(errb.String()), err
}

func TestExecHook(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the exec hook runs curl inside the workload")
	}
	srv, seen := weighted(t, []string{"whoami-v1-79f555c9bf-xlxcw"}, []float64{1}, 3)
	e := &localExec{}
	r := Do(context.Background(), &ExecTransport{Exec: e, Address: addr(srv)}, Request{Path: "/hi", Host: "whoami"}, 5*time.Second, Whoami{})
	if r.Err != nil || r.Status != 200 || r.Version != "v1" || !strings.Contains(r.Body, "GET /hi") {
		t.Fatalf("result %s", r)
	}
	if host, ok := seen.Load(r.RequestID); !ok || host != "whoami" {
		t.Errorf("server saw %v %v", host, ok)
	}
	if a := strings.Join(e.argv[0], " "); !strings.Contains(a, "--max-time") || !strings.Contains(a, "x-request-id: "+r.RequestID) {
		t.Errorf("argv %s", a)
	}
	r = Do(context.Background(), &ExecTransport{Exec: e, Address: "127.0.0.1:1"}, Request{}, 5*time.Second, nil)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "stderr: curl: (7)") {
		t.Errorf("unreachable: %v", r.Err)
	}
}

// The sampler drives real requests to a weighted server until the
// statistical test decides.
func TestSplitEndToEnd(t *testing.T) {
	ws, _ := split.ParseWeights("v1=90,v2=10")
	test, err := split.New(ws, split.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pods := []string{"whoami-v1-79f555c9bf-xlxcw", "whoami-v2-5d4956f4c7-cnb9j"}
	for _, c := range []struct {
		shares []float64
		want   split.Decision
	}{{[]float64{0.9, 0.1}, split.Pass}, {[]float64{0.5, 0.5}, split.Fail}} {
		srv, _ := weighted(t, pods, c.shares, 4)
		r, err := split.Sampler{Test: test, Sample: SampleFunc(&HTTPTransport{Address: addr(srv)}, Request{Host: "whoami"}, 0, Whoami{})}.Run(context.Background())
		if err != nil || r.Decision != c.want {
			t.Errorf("true %v: %s (%v): %s", c.shares, r.Decision, err, r.Reason)
		}
		t.Logf("true %v: %s after %d requests", c.shares, r.Decision, r.Samples)
	}
}
