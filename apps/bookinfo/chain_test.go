package bookinfo

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/timeouts"
)

// chain is Bookinfo on loopback listeners: ratings, details, reviews v1,
// v2 and v3, and one productpage per reviews version. Each dependency is
// wrapped in a recorder that keeps the headers it received.
type chain struct {
	ratings, details *recorder
	reviews          map[string]*recorder
	page             map[string]string // reviews version -> productpage base URL
}

func pod(version string) string { return "reviews-" + version + "-7f9d8c6b5-x2k4p" }

// serve starts h on 127.0.0.1:0 until the test ends.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// deadURL is a loopback URL where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

type chainOptions struct {
	ratingsURL, detailsURL, reviewsURL string // override the real ones
	timeouts                           timeouts.Timeouts
}

func startChain(t *testing.T, o chainOptions) *chain {
	t.Helper()
	c := &chain{
		ratings: &recorder{handler: NewRatings()},
		details: &recorder{handler: NewDetails()},
		reviews: map[string]*recorder{},
		page:    map[string]string{},
	}
	ratingsURL := serve(t, c.ratings)
	if o.ratingsURL != "" {
		ratingsURL = o.ratingsURL
	}
	detailsURL := serve(t, c.details)
	if o.detailsURL != "" {
		detailsURL = o.detailsURL
	}
	for _, v := range []string{"v1", "v2", "v3"} {
		h, err := NewReviews(ReviewsOptions{PodName: pod(v), Version: v, RatingsURL: ratingsURL, Timeouts: o.timeouts})
		if err != nil {
			t.Fatalf("NewReviews(%s): %v", v, err)
		}
		c.reviews[v] = &recorder{handler: h}
		reviewsURL := serve(t, c.reviews[v])
		if o.reviewsURL != "" {
			reviewsURL = o.reviewsURL
		}
		pp, err := NewProductpage(ProductpageOptions{DetailsURL: detailsURL, ReviewsURL: reviewsURL, RatingsURL: ratingsURL, Timeouts: o.timeouts})
		if err != nil {
			t.Fatalf("NewProductpage: %v", err)
		}
		c.page[v] = serve(t, pp)
	}
	return c
}

// get sends GET url with headers and returns the response as the
// classifiers see it.
func get(t *testing.T, u string, h http.Header) traffic.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", u, err)
	}
	return traffic.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func mustContain(t *testing.T, what string, body []byte, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !bytes.Contains(body, []byte(s)) {
			t.Errorf("%s: no %q in\n%s", what, s, body)
		}
	}
}

func mustNotContain(t *testing.T, what string, body []byte, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("%s: unexpected %q in\n%s", what, s, body)
		}
	}
}

func TestChainVersions(t *testing.T) {
	c := startChain(t, chainOptions{})
	for _, tc := range []struct {
		version       string
		color         string
		filled, empty int
	}{
		{"v1", "", 0, 0},
		{"v2", "black", 9, 1},
		{"v3", "red", 9, 1},
	} {
		page := get(t, c.page[tc.version]+"/productpage", nil)
		what := "productpage with reviews " + tc.version
		if page.Status != 200 || page.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: status %d, type %q", what, page.Status, page.Header.Get("Content-Type"))
		}
		mustContain(t, what, page.Body, "<title>Simple Bookstore App</title>", "The Comedy of Errors",
			"Book Details", "1234567890", "PublisherA", "Book Reviews", "Reviewer1", "Reviewer2",
			"Reviews served by:\n        "+pod(tc.version), "<b>William Shakespeare's</b>")
		mustNotContain(t, what, page.Body, "Error fetching", "on cluster")
		if got, err := (traffic.BookinfoPage{}).Classify(page); got != tc.version || err != nil {
			t.Errorf("%s: BookinfoPage = %q, %v; want %s", what, got, err, tc.version)
		}
		if n := bytes.Count(page.Body, []byte("star-filled")); n != tc.filled {
			t.Errorf("%s: %d filled stars, want %d (5 and 4)", what, n, tc.filled)
		}
		if n := bytes.Count(page.Body, []byte("star-empty")); n != tc.empty {
			t.Errorf("%s: %d empty stars, want %d", what, n, tc.empty)
		}
		if tc.color != "" {
			mustContain(t, what, page.Body, `<div class="flex gap-x-1 text-`+tc.color+`-500">`)
		}

		api := get(t, c.page[tc.version]+"/api/v1/products/0/reviews", nil)
		if got, err := (traffic.BookinfoReviewsJSON{}).Classify(api); got != tc.version || err != nil {
			t.Errorf("reviews JSON of %s: BookinfoReviewsJSON = %q, %v; want %s (body %s)", tc.version, got, err, tc.version, api.Body)
		}
		var doc Reviews
		if err := json.Unmarshal(api.Body, &doc); err != nil || api.Status != 200 || doc.Podname != pod(tc.version) || doc.ID != "0" || len(doc.Reviews) != 2 {
			t.Errorf("reviews JSON of %s: status %d, %+v, %v", tc.version, api.Status, doc, err)
		}
		for _, r := range doc.Reviews {
			hasRating := r.Rating != nil
			if hasRating != (tc.color != "") || (hasRating && r.Rating.Color != tc.color) {
				t.Errorf("reviews JSON of %s: review %+v rating %+v, want color %q", tc.version, r, r.Rating, tc.color)
			}
		}
	}
}

func TestChainAPI(t *testing.T) {
	c := startChain(t, chainOptions{})
	base := c.page["v1"]
	for _, tc := range []struct {
		path   string
		status int
		ctype  string
		want   string
	}{
		{"/api/v1/products", 200, "application/json", `[{"id":0,"title":"The Comedy of Errors","descriptionHtml":"<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays.`},
		{"/api/v1/products/0", 200, "application/json", detailsDoc},
		{"/api/v1/products/0/ratings", 200, "application/json", `{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
		{"/api/v1/products/abc", 400, "application/json", `{"error":"Sorry, product details are currently unavailable for this book."}`},
		{"/api/v1/products/abc/reviews", 404, "application/json", `{"error":"Sorry, product reviews are currently unavailable for this book."}`},
		{"/api/v1/products/abc/ratings", 400, "application/json", `{"error":"Sorry, product ratings are currently unavailable for this book."}`},
		{"/health", 200, "text/html; charset=utf-8", "Product page is healthy"},
		{"/", 200, "text/html; charset=utf-8", `<a href="/productpage?u=normal">`},
		{"/index.html", 200, "text/html; charset=utf-8", `<a href="/productpage?u=test">`},
		{"/static/tailwind/tailwind.css", 200, "text/css; charset=utf-8", ".text-red-500"},
		{"/nope", 404, "text/plain; charset=utf-8", "404 page not found"},
	} {
		r := get(t, base+tc.path, nil)
		if r.Status != tc.status || r.Header.Get("Content-Type") != tc.ctype || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("GET %s: %d %q %s\nwant %d %q containing %s", tc.path, r.Status, r.Header.Get("Content-Type"), r.Body, tc.status, tc.ctype, tc.want)
		}
	}
	img := get(t, base+"/static/img/izzy.png", nil)
	if _, err := png.Decode(bytes.NewReader(img.Body)); err != nil || img.Header.Get("Content-Type") != "image/png" {
		t.Errorf("izzy.png: %v, type %q", err, img.Header.Get("Content-Type"))
	}
	// The reviews API asks reviews twice before it answers 404.
	paths, _ := c.reviews["v1"].requests()
	if n := strings.Count(strings.Join(paths, " "), "/reviews/abc"); n != 2 {
		t.Errorf("reviews was asked for /reviews/abc %d times (%q), want 2", n, paths)
	}
}

// findByRequestID returns the headers of the request that carried id.
func findByRequestID(rc *recorder, id string) http.Header {
	_, hs := rc.requests()
	for _, h := range hs {
		if h.Get("x-request-id") == id {
			return h
		}
	}
	return nil
}

func TestChainPropagatesHeaders(t *testing.T) {
	c := startChain(t, chainOptions{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(c.page["v2"]+"/login", url.Values{"username": {"jason"}, "passwd": {"x"}})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "session" {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/productpage" || session == nil {
		t.Fatalf("login: status %d, Location %q, cookies %v; want 302 to /productpage with a session", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}

	sent := http.Header{
		"X-Request-Id":      {"7c3f0e1e-req-chain"},
		"X-B3-Traceid":      {"80f198ee56343ba864fe8b2a57d3eff7"},
		"X-B3-Spanid":       {"e457b5a2e4d86bd1"},
		"X-B3-Parentspanid": {"05e3ac9a4f6e3b90"},
		"X-B3-Sampled":      {"1"},
		"Traceparent":       {"00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"},
		"Tracestate":        {"vendor=opaque"},
		"X-Ot-Span-Context": {"ot-context"},
		"User-Agent":        {"meshcheck-test"},
		"End-User":          {"mallory"}, // productpage takes end-user from its session only
		"X-Not-Propagated":  {"x"},
		"Cookie":            {session.Name + "=" + session.Value},
	}
	page := get(t, c.page["v2"]+"/productpage", sent)
	if page.Status != 200 {
		t.Fatalf("productpage: %d %s", page.Status, page.Body)
	}
	mustContain(t, "signed-in page", page.Body, ">jason</span>", "Sign out")

	for _, hop := range []struct {
		name string
		rc   *recorder
	}{{"details", c.details}, {"reviews v2", c.reviews["v2"]}, {"ratings", c.ratings}} {
		got := findByRequestID(hop.rc, sent.Get("X-Request-Id"))
		if got == nil {
			_, all := hop.rc.requests()
			t.Errorf("%s: no request with x-request-id %q among %v", hop.name, sent.Get("X-Request-Id"), all)
			continue
		}
		for k := range sent {
			want := sent.Get(k)
			switch k {
			case "End-User":
				want = "jason"
			case "X-Not-Propagated":
				want = ""
			}
			if got.Get(k) != want {
				t.Errorf("%s received %s %q, want %q", hop.name, k, got.Get(k), want)
			}
		}
	}

	// Reviews v1 does not call ratings.
	before, _ := c.ratings.requests()
	get(t, c.page["v1"]+"/productpage", http.Header{"X-Request-Id": {"req-v1"}})
	after, _ := c.ratings.requests()
	if len(after) != len(before) || findByRequestID(c.details, "req-v1") == nil {
		t.Errorf("reviews v1: ratings got %d new requests (want 0); details got req-v1: %v", len(after)-len(before), findByRequestID(c.details, "req-v1") != nil)
	}

	// Signed out, no end-user header goes out.
	resp, err = noRedirect.Get(c.page["v2"] + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: status %d, cookies %v; want 302 clearing the session", resp.StatusCode, resp.Cookies())
	}
	get(t, c.page["v2"]+"/productpage", http.Header{"X-Request-Id": {"req-anon"}, "End-User": {"mallory"}})
	if h := findByRequestID(c.ratings, "req-anon"); h == nil || h.Get("End-User") != "" {
		t.Errorf("anonymous request: ratings got %v, want it without end-user", h)
	}
}

func TestChainDegrades(t *testing.T) {
	t.Run("ratings down", func(t *testing.T) {
		c := startChain(t, chainOptions{ratingsURL: deadURL(t)})
		for _, v := range []string{"v2", "v3"} {
			page := get(t, c.page[v]+"/productpage", nil)
			if page.Status != 200 {
				t.Errorf("%s: status %d", v, page.Status)
			}
			mustContain(t, v+" without ratings", page.Body, "Book Reviews", "Ratings service is currently unavailable", "Reviews served by:")
			mustNotContain(t, v+" without ratings", page.Body, "<svg", "Error fetching")
			if got, err := (traffic.BookinfoPage{}).Classify(page); got != v || err != nil {
				t.Errorf("%s without ratings: BookinfoPage = %q, %v; want %s from the pod name", v, got, err, v)
			}
			api := get(t, c.page[v]+"/api/v1/products/0/reviews", nil)
			mustContain(t, v+" reviews JSON without ratings", api.Body, `"rating":{"error":"Ratings service is currently unavailable"}`)
			mustNotContain(t, v+" reviews JSON without ratings", api.Body, `"stars"`)
		}
		r := get(t, c.page["v1"]+"/api/v1/products/0/ratings", nil)
		if r.Status != 500 || string(r.Body) != `{"error":"Sorry, product ratings are currently unavailable for this book."}` {
			t.Errorf("ratings API with ratings down: %d %s", r.Status, r.Body)
		}
	})
	t.Run("reviews down", func(t *testing.T) {
		c := startChain(t, chainOptions{reviewsURL: deadURL(t)})
		page := get(t, c.page["v2"]+"/productpage", nil)
		if page.Status != 200 {
			t.Errorf("status %d, want 200", page.Status)
		}
		mustContain(t, "page without reviews", page.Body, "Book Details", "Error fetching product reviews", "Sorry, product reviews are currently unavailable for this book.")
		mustNotContain(t, "page without reviews", page.Body, "Book Reviews", "Reviews served by")
		if got, err := (traffic.BookinfoPage{}).Classify(page); err == nil {
			t.Errorf("BookinfoPage = %q, want an error", got)
		}
		api := get(t, c.page["v2"]+"/api/v1/products/0/reviews", nil)
		if api.Status != 500 || string(api.Body) != `{"error":"Sorry, product reviews are currently unavailable for this book."}` {
			t.Errorf("reviews API: %d %s", api.Status, api.Body)
		}
		if got, err := (traffic.BookinfoReviewsJSON{}).Classify(api); err == nil {
			t.Errorf("BookinfoReviewsJSON = %q, want an error", got)
		}
	})
	t.Run("details down", func(t *testing.T) {
		c := startChain(t, chainOptions{detailsURL: deadURL(t)})
		page := get(t, c.page["v3"]+"/productpage", nil)
		mustContain(t, "page without details", page.Body, "Error fetching product details", "Sorry, product details are currently unavailable for this book.", "Book Reviews")
		mustNotContain(t, "page without details", page.Body, "Book Details")
		if got, err := (traffic.BookinfoPage{}).Classify(page); got != "v3" || err != nil || page.Status != 200 {
			t.Errorf("status %d, BookinfoPage = %q, %v; want 200 and v3", page.Status, got, err)
		}
		api := get(t, c.page["v3"]+"/api/v1/products/0", nil)
		if api.Status != 500 || string(api.Body) != `{"error":"Sorry, product details are currently unavailable for this book."}` {
			t.Errorf("details API: %d %s", api.Status, api.Body)
		}
	})
	t.Run("reviews answers 503 twice", func(t *testing.T) {
		failing := &recorder{status: 503, body: `{"error":"upstream connect error"}`}
		c := startChain(t, chainOptions{reviewsURL: serve(t, failing)})
		api := get(t, c.page["v1"]+"/api/v1/products/0/reviews", nil)
		if api.Status != 503 || !strings.Contains(string(api.Body), "Sorry, product reviews") {
			t.Errorf("reviews API: %d %s, want 503 and the error", api.Status, api.Body)
		}
		if paths, _ := failing.requests(); len(paths) != 2 {
			t.Errorf("reviews was asked %d times (%q), want 2", len(paths), paths)
		}
	})
	t.Run("reviews slower than the call timeout", func(t *testing.T) {
		slow := &recorder{status: 200, body: `{}`, delay: 5 * time.Second}
		c := startChain(t, chainOptions{reviewsURL: serve(t, slow), timeouts: timeouts.Timeouts{AppCall: 100 * time.Millisecond}})
		start := time.Now()
		page := get(t, c.page["v1"]+"/productpage", nil)
		took := time.Since(start)
		mustContain(t, "page with slow reviews", page.Body, "Error fetching product reviews")
		if paths, _ := slow.requests(); len(paths) != 2 || took < 200*time.Millisecond || took > 3*time.Second {
			t.Errorf("took %v for %d attempts, want 2 attempts of 100ms", took, len(paths))
		}
	})
}

func TestProductpageOptions(t *testing.T) {
	for _, tc := range []struct {
		o    ProductpageOptions
		want string
	}{
		{ProductpageOptions{DetailsURL: "details:9080"}, `details URL "details:9080"`},
		{ProductpageOptions{ReviewsURL: "http://%zz"}, `reviews URL "http://%zz"`},
		{ProductpageOptions{RatingsURL: "ftp://ratings"}, `ratings URL "ftp://ratings": want an http:// or https:// URL`},
		{ProductpageOptions{Timeouts: timeouts.Timeouts{AppCall: -1}}, "AppCall is negative"},
	} {
		_, err := NewProductpage(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewProductpage(%+v) = %v, want an error with %q", tc.o, err, tc.want)
		}
	}
	if _, err := NewProductpage(ProductpageOptions{DetailsURL: "http://details.default.svc.cluster.local:9080/"}); err != nil {
		t.Errorf("defaults with one URL: %v", err)
	}
}
