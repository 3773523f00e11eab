package bookinfo

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

// call sends one request to h and returns the status, content type and
// body.
func call(t *testing.T, h http.Handler, method, target, body string) (int, string, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, rd))
	return rec.Code, rec.Header().Get("Content-Type"), rec.Body.String()
}

type httpCase struct {
	method, path, body string
	status             int
	ctype              string
	want               string // exact body, or a substring when contains is set
	contains           bool
}

func runCases(t *testing.T, h http.Handler, cases []httpCase) {
	t.Helper()
	for _, tc := range cases {
		m := tc.method
		if m == "" {
			m = http.MethodGet
		}
		code, ctype, body := call(t, h, m, tc.path, tc.body)
		ok := code == tc.status && (tc.ctype == "" || ctype == tc.ctype)
		if tc.contains {
			ok = ok && strings.Contains(body, tc.want)
		} else {
			ok = ok && body == tc.want
		}
		if !ok {
			t.Errorf("%s %s: status %d, type %q, body %q; want %d, %q, body %s%q", m, tc.path, code, ctype, body, tc.status, tc.ctype, map[bool]string{true: "containing ", false: ""}[tc.contains], tc.want)
		}
	}
}

const detailsDoc = `{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}`

func TestDetails(t *testing.T) {
	j := "application/json"
	bad := `{"error":"please provide numeric product id"}`
	runCases(t, NewDetails(), []httpCase{
		{path: "/details/0", status: 200, ctype: j, want: detailsDoc},
		{path: "/details/7", status: 200, ctype: j, want: strings.Replace(detailsDoc, `"id":0`, `"id":7`, 1)},
		{path: "/details/7/", status: 200, ctype: j, want: strings.Replace(detailsDoc, `"id":0`, `"id":7`, 1)},
		{path: "/details/0x10", status: 200, ctype: j, want: strings.Replace(detailsDoc, `"id":0`, `"id":16`, 1)},
		{method: "POST", path: "/details/1", status: 200, ctype: j, want: strings.Replace(detailsDoc, `"id":0`, `"id":1`, 1)},
		{path: "/details/abc", status: 400, ctype: j, want: bad},
		{path: "/details/99999999999999999999999", status: 400, ctype: j, want: bad},
		{path: "/details", status: 400, ctype: j, want: bad},
		{path: "/details/", status: 400, ctype: j, want: bad},
		{path: "/health", status: 200, ctype: j, want: `{"status":"Details is healthy"}`},
		{path: "/nope", status: 404, want: "404 page not found\n"},
	})
}

func TestRatings(t *testing.T) {
	j := "application/json"
	bad := `{"error":"please provide numeric product ID"}`
	h := NewRatings()
	runCases(t, h, []httpCase{
		{path: "/ratings/0", status: 200, ctype: j, want: `{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
		{path: "/ratings/12abc", status: 200, ctype: j, want: `{"id":12,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
		{path: "/ratings/abc", status: 400, ctype: j, want: bad},
		{path: "/ratings/", status: 400, ctype: j, want: bad},
		{path: "/ratings", status: 404, want: "404 page not found\n"},
		{method: "POST", path: "/ratings/3", body: "{not json", status: 400, ctype: j, want: `{"error":"please provide valid ratings JSON"}`},
		{method: "POST", path: "/ratings/x", body: "{}", status: 400, ctype: j, want: bad},
		{method: "POST", path: "/ratings/3", body: `{ "Reviewer1": 1 }`, status: 200, ctype: j, want: `{"id":3,"ratings":{"Reviewer1":1}}`},
		{path: "/ratings/3", status: 200, ctype: j, want: `{"id":3,"ratings":{"Reviewer1":1}}`},
		{path: "/ratings/4", status: 200, ctype: j, want: `{"id":4,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
		{path: "/health", status: 200, ctype: j, want: `{"status":"Ratings is healthy"}`},
	})
	// Another app has its own store.
	runCases(t, NewRatings(), []httpCase{
		{path: "/ratings/3", status: 200, ctype: j, want: `{"id":3,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
	})
}

func TestParseLeadingInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		okay bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"42abc", 42, true}, {" 7", 7, true}, {"-3", -3, true}, {"+3", 3, true},
		{"", 0, false}, {"abc", 0, false}, {"-", 0, false}, {"99999999999999999999999", 0, false},
	} {
		n, ok := parseLeadingInt(tc.in)
		if n != tc.n || ok != tc.okay {
			t.Errorf("parseLeadingInt(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.okay)
		}
	}
}

// recorder is a dependency that answers with a fixed status and body (or
// delays) and remembers the headers of every request.
type recorder struct {
	mu      sync.Mutex
	got     []http.Header
	paths   []string
	status  int
	body    string
	delay   time.Duration
	handler http.Handler // when set, answers instead of status and body
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.got = append(rc.got, r.Header.Clone())
	rc.paths = append(rc.paths, r.URL.Path)
	rc.mu.Unlock()
	if rc.delay > 0 {
		select {
		case <-time.After(rc.delay):
		case <-r.Context().Done():
			return
		}
	}
	if rc.handler != nil {
		rc.handler.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rc.status)
	_, _ = io.WriteString(w, rc.body)
}

func (rc *recorder) requests() ([]string, []http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.paths...), append([]http.Header(nil), rc.got...)
}

func TestReviewsVersions(t *testing.T) {
	ratings := &recorder{status: 200, body: `{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}`}
	srv := httptest.NewServer(ratings)
	defer srv.Close()

	const r2 = `"Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."`
	for _, tc := range []struct {
		version string
		want    string
		calls   int
	}{
		{"v1", `{"id":"0","podname":"reviews-v1-abc","clustername":"null","reviews":[{"reviewer":"Reviewer1","text":"An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},{"reviewer":"Reviewer2","text":` + r2 + `}]}`, 0},
		{"v2", `{"id":"0","podname":"reviews-v2-abc","clustername":"null","reviews":[{"reviewer":"Reviewer1","text":"An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!","rating":{"stars":5,"color":"black"}},{"reviewer":"Reviewer2","text":` + r2 + `,"rating":{"stars":4,"color":"black"}}]}`, 1},
		{"v3", `{"id":"0","podname":"reviews-v3-abc","clustername":"null","reviews":[{"reviewer":"Reviewer1","text":"An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!","rating":{"stars":5,"color":"red"}},{"reviewer":"Reviewer2","text":` + r2 + `,"rating":{"stars":4,"color":"red"}}]}`, 1},
	} {
		before, _ := ratings.requests()
		h, err := NewReviews(ReviewsOptions{PodName: "reviews-" + tc.version + "-abc", Version: tc.version, RatingsURL: srv.URL})
		if err != nil {
			t.Fatalf("NewReviews(%s): %v", tc.version, err)
		}
		runCases(t, h, []httpCase{
			{path: "/reviews/0", status: 200, ctype: "application/json", want: tc.want},
			{path: "/health", status: 200, ctype: "application/json", want: `{"status":"Reviews is healthy"}`},
		})
		after, _ := ratings.requests()
		if len(after)-len(before) != tc.calls {
			t.Errorf("reviews %s made %d calls to ratings (%q), want %d", tc.version, len(after)-len(before), after[len(before):], tc.calls)
		}
		if tc.calls > 0 && after[len(after)-1] != "/ratings/0" {
			t.Errorf("reviews %s asked ratings for %q, want /ratings/0", tc.version, after[len(after)-1])
		}
	}
}

func TestReviewsDegrades(t *testing.T) {
	down := `"rating":{"error":"Ratings service is currently unavailable"}`
	for _, tc := range []struct {
		name     string
		ratings  *recorder
		timeouts timeouts.Timeouts
		want     []string // substrings of the body
		notWant  []string
	}{
		{"ratings answers 503", &recorder{status: 503, body: `{"error":"Service unavailable"}`}, timeouts.Timeouts{}, []string{down}, []string{`"stars"`}},
		{"ratings answers junk", &recorder{status: 200, body: `<html>`}, timeouts.Timeouts{}, []string{down}, []string{`"stars"`}},
		{"ratings too slow for v3", &recorder{status: 200, body: `{"ratings":{"Reviewer1":5,"Reviewer2":4}}`, delay: 2 * time.Second}, timeouts.Timeouts{AppRatingsRed: 50 * time.Millisecond}, []string{down}, []string{`"stars"`}},
		{"one reviewer unrated", &recorder{status: 200, body: `{"ratings":{"Reviewer2":"x","Reviewer1":2}}`}, timeouts.Timeouts{}, []string{`"rating":{"stars":2,"color":"red"}`, down}, nil},
	} {
		srv := httptest.NewServer(tc.ratings)
		h, err := NewReviews(ReviewsOptions{PodName: "reviews-v3-x", Version: "v3", RatingsURL: srv.URL, Timeouts: tc.timeouts})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code, _, body := call(t, h, "GET", "/reviews/0", "")
		if code != 200 {
			t.Errorf("%s: status %d, want 200 (reviews degrades, it does not fail)", tc.name, code)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v, the ratings timeout was not applied", tc.name, d)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: body %s lacks %s", tc.name, body, w)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(body, w) {
				t.Errorf("%s: body %s has %s", tc.name, body, w)
			}
		}
		srv.Close()
	}
}

func TestReviewsBadInput(t *testing.T) {
	h, err := NewReviews(ReviewsOptions{PodName: "p", Version: "v1", ClusterName: "east"})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, h, []httpCase{
		{path: "/reviews/abc", status: 404, want: "404 page not found\n"},
		{path: "/reviews/99999999999", status: 404, want: "404 page not found\n"},
		{path: "/reviews/-1", status: 200, want: `{"id":"-1","podname":"p","clustername":"east",`, contains: true},
		{method: "POST", path: "/reviews/0", status: 405, want: "Method Not Allowed\n"},
	})
	for _, tc := range []struct {
		o    ReviewsOptions
		want string
	}{
		{ReviewsOptions{Version: "v1"}, "PodName is required"},
		{ReviewsOptions{PodName: "p", Version: "v4"}, `version "v4": want v1, v2 or v3`},
		{ReviewsOptions{PodName: "p"}, `version "": want v1, v2 or v3`},
		{ReviewsOptions{PodName: "p", Version: "v2", RatingsURL: "ratings:9080"}, `ratings URL "ratings:9080": want an http:// or https:// URL`},
		{ReviewsOptions{PodName: "p", Version: "v2", RatingsURL: "http://"}, `no host`},
		{ReviewsOptions{PodName: "p", Version: "v2", Timeouts: timeouts.Timeouts{AppRatingsRed: -1}}, `AppRatingsRed is negative`},
	} {
		_, err := NewReviews(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewReviews(%+v) = %v, want an error with %q", tc.o, err, tc.want)
		}
	}
}

func TestRatingJSON(t *testing.T) {
	for _, tc := range []struct {
		r    Rating
		want string
	}{
		{Rating{Stars: 0, Color: "black"}, `{"stars":0,"color":"black"}`},
		{Rating{Stars: 3, Color: "red"}, `{"stars":3,"color":"red"}`},
		{Rating{Error: "down"}, `{"error":"down"}`},
	} {
		b, err := json.Marshal(tc.r)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tc.r, b, err, tc.want)
		}
	}
}

func TestForwardHeaders(t *testing.T) {
	in := http.Header{}
	for _, h := range PropagatedHeaders() {
		in.Set(h, "v-"+h)
	}
	in.Add("X-Request-Id", "second")
	in.Set("X-Other", "no")
	in.Set("Host", "no")
	out := forwardHeaders(in, true)
	for _, h := range PropagatedHeaders() {
		if out.Get(h) != "v-"+h {
			t.Errorf("%s = %q, want it copied", h, out.Get(h))
		}
	}
	if got := out.Values("x-request-id"); len(got) != 2 {
		t.Errorf("x-request-id values %q, want both", got)
	}
	if len(out) != len(PropagatedHeaders()) {
		t.Errorf("forwarded %d headers %v, want only the %d propagated ones", len(out), out, len(PropagatedHeaders()))
	}
	if got := forwardHeaders(in, false).Get("end-user"); got != "" {
		t.Errorf("end-user forwarded as %q with endUser false", got)
	}
}

// Inside a pod the sidecar is the only proxy, and connections are not
// pooled (upstream opens one per call).
func TestCallerTransport(t *testing.T) {
	tr, ok := newCaller(nil).client.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T, want *http.Transport", newCaller(nil).client.Transport)
	}
	if tr.Proxy != nil || !tr.DisableKeepAlives {
		t.Errorf("transport uses a proxy function (%v) or pools connections (DisableKeepAlives %v)", tr.Proxy != nil, tr.DisableKeepAlives)
	}
}
