package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/bookinfo"
	"github.com/meshcheck/meshcheck/harness/timeouts"
	"github.com/meshcheck/meshcheck/whoami"
)

// The workload group is meshcheck's own plumbing, not a user command: the
// embedded backend starts the sample apps with "workload run" inside each
// pod's network namespace and sends in-mesh requests with "workload
// fetch".
func workloadGroup() group {
	return group{name: "workload", summary: "(internal) run a sample app, or fetch a URL from inside a pod", commands: []command{
		{name: "run", summary: "serve a Bookinfo app or whoami until SIGTERM or SIGINT", usage: workloadRunUsage, run: runWorkloadRun},
		{name: "fetch", summary: "send one HTTP GET and print the status, headers and body", usage: workloadFetchUsage, run: runWorkloadFetch},
	}}
}

const workloadRunUsage = `
Apps: bookinfo-productpage, bookinfo-details, bookinfo-reviews (with
--version v1, v2 or v3), bookinfo-ratings, whoami. They answer like the
upstream images (docs/apps.md). --name is the pod's name: reviews prints it
as podname ("Reviews served by: <pod>"), whoami as "Hostname: <pod>".
The listening address and one line per request go to standard error.

Examples:
  meshcheck workload run --app bookinfo-reviews --version v2 --name reviews-v2-5d8f7-abcde --listen 10.88.0.7:9080 --ratings http://ratings:9080
  meshcheck workload run --app whoami --name whoami-v1-79f55-xlxcw --listen 0.0.0.0:80
Exit codes: 0 stopped by a signal, 1 cannot listen or serve, 64 usage.
`

const workloadFetchUsage = `
Sends one GET (redirects are not followed, no proxy from the environment,
names resolve through /etc/hosts or DNS) and prints the status line, the
headers sorted and, after an empty line, the body. --header Host=NAME sets
the Host header. The exit code does not depend on the HTTP status: read it
from the output.

Examples:
  meshcheck workload fetch http://reviews:9080/reviews/0 --header x-request-id=abc
  meshcheck workload fetch http://whoami/ --header Host=whoami.example.com -o json
Exit codes: 0 a response came, 1 the request failed, 64 usage.
`

// appOptions is what "workload run" builds an app from.
type appOptions struct {
	app, name, version                 string
	details, reviews, ratings          string
	log                                *log.Logger
	detailsSet, reviewsSet, ratingsSet bool
}

// workloadApps names the apps "workload run" serves.
func workloadApps() []string {
	return []string{"bookinfo-productpage", "bookinfo-details", "bookinfo-reviews", "bookinfo-ratings", "whoami"}
}

// newWorkloadHandler builds the app; errors are usage errors.
func newWorkloadHandler(o appOptions) (http.Handler, error) {
	if o.version != "" && o.app != "bookinfo-reviews" {
		return nil, fmt.Errorf("--version applies to bookinfo-reviews only, not %s", o.app)
	}
	if (o.detailsSet || o.reviewsSet) && o.app != "bookinfo-productpage" {
		return nil, fmt.Errorf("--details and --reviews apply to bookinfo-productpage only, not %s", o.app)
	}
	if o.ratingsSet && o.app != "bookinfo-productpage" && o.app != "bookinfo-reviews" {
		return nil, fmt.Errorf("--ratings applies to bookinfo-productpage and bookinfo-reviews only, not %s", o.app)
	}
	switch o.app {
	case "bookinfo-productpage":
		return bookinfo.NewProductpage(bookinfo.ProductpageOptions{DetailsURL: o.details, ReviewsURL: o.reviews, RatingsURL: o.ratings, Log: o.log})
	case "bookinfo-details":
		return bookinfo.NewDetails(), nil
	case "bookinfo-reviews":
		if o.version == "" {
			return nil, errors.New("bookinfo-reviews needs --version v1, v2 or v3")
		}
		return bookinfo.NewReviews(bookinfo.ReviewsOptions{PodName: o.name, Version: o.version, RatingsURL: o.ratings, Log: o.log})
	case "bookinfo-ratings":
		return bookinfo.NewRatings(), nil
	case "whoami":
		return whoami.New(whoami.Options{Hostname: o.name}), nil
	}
	return nil, fmt.Errorf("--app %q: want one of %s", o.app, strings.Join(workloadApps(), ", "))
}

func runWorkloadRun(ctx context.Context, s streams, args []string) int {
	c := workloadGroup().commands[0]
	fs := newFlagSet("workload", c, s)
	var o appOptions
	fs.StringVar(&o.app, "app", "", "the app: "+strings.Join(workloadApps(), ", "))
	listen := fs.String("listen", "", "address to listen on, host:port (required)")
	fs.StringVar(&o.name, "name", "", "the pod's name (required)")
	fs.StringVar(&o.version, "version", "", "bookinfo-reviews version: v1 (no stars), v2 (black), v3 (red)")
	fs.StringVar(&o.details, "details", "", "details service URL for productpage (default http://details:9080)")
	fs.StringVar(&o.reviews, "reviews", "", "reviews service URL for productpage (default http://reviews:9080)")
	fs.StringVar(&o.ratings, "ratings", "", "ratings service URL for productpage and reviews (default http://ratings:9080)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected arguments %q", fs.Args())
	}
	if o.app == "" || *listen == "" || o.name == "" {
		return usageError(s, fs, "--app, --listen and --name are required")
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "details":
			o.detailsSet = true
		case "reviews":
			o.reviewsSet = true
		case "ratings":
			o.ratingsSet = true
		}
	})
	logger := log.New(s.Err, "", 0)
	o.log = log.New(logWriter{logger, o.name}, "", 0)
	h, err := newWorkloadHandler(o)
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck workload run: %s: %v\n", o.app, err)
		return exitFail
	}
	t := timeouts.Default()
	srv := &http.Server{
		Handler:           logRequests(h, logger, o.name),
		ReadHeaderTimeout: t.Request,
		ErrorLog:          o.log,
	}
	logger.Printf("%s %s: %s listening on %s", stamp(), o.name, o.app, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(s.Err, "meshcheck workload run: %s on %s: %v\n", o.app, ln.Addr(), err)
		return exitFail
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), t.AppShutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Printf("%s %s: stopping: %v (requests still running after %v were cut)", stamp(), o.name, err, t.AppShutdown)
		_ = srv.Close()
	}
	<-served
	logger.Printf("%s %s: %s stopped", stamp(), o.name, o.app)
	return exitOK
}

func stamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// logWriter prefixes what an app logs with the time and the pod.
type logWriter struct {
	l   *log.Logger
	pod string
}

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Printf("%s %s: %s", stamp(), w.pod, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logRequests logs one line per request: time, pod, request line, status,
// bytes, duration, client and x-request-id.
func logRequests(h http.Handler, l *log.Logger, pod string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		id := r.Header.Get("x-request-id")
		if id == "" {
			id = "-"
		}
		l.Printf("%s %s: %q %d %d %v %s x-request-id=%s", stamp(), pod, r.Method+" "+r.URL.RequestURI()+" "+r.Proto,
			sw.status, sw.bytes, time.Since(start).Round(time.Microsecond), r.RemoteAddr, id)
	})
}

// parseInterleaved parses flags that may come before and after the
// positional arguments ("fetch URL --header K=V").
func parseInterleaved(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		if fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// fetchResult is "workload fetch -o json".
type fetchResult struct {
	URL    string      `json:"url"`
	Proto  string      `json:"proto"`
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

// maxFetchBody bounds how much of a body "workload fetch" reads.
const maxFetchBody = 16 << 20

func runWorkloadFetch(ctx context.Context, s streams, args []string) int {
	c := workloadGroup().commands[1]
	fs := newFlagSet("workload", c, s)
	var headers multiFlag
	fs.Var(&headers, "header", "request header KEY=VALUE (repeatable; Host=NAME sets the Host)")
	timeout := fs.Duration("timeout", timeouts.Default().Request, "bound on the whole request, from dial to the last body byte")
	out := outputFlag(fs)
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(s, fs, "want exactly one URL, got %q", pos)
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	if *timeout <= 0 {
		return usageError(s, fs, "--timeout %v: want a positive duration", *timeout)
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(s, fs, "URL %q: want http://host[:port]/path", pos[0])
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError(s, fs, "URL %q: %v", pos[0], err)
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return usageError(s, fs, "--header %q: want KEY=VALUE", h)
		}
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Add(k, v)
	}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy:              nil,
			DialContext:        (&net.Dialer{}).DialContext,
			DisableKeepAlives:  true,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck workload fetch: %v\n", err)
		return exitFail
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody))
	if err != nil {
		fmt.Fprintf(s.Err, "meshcheck workload fetch: GET %s: status %d, reading the body after %d bytes: %v\n", u, resp.StatusCode, len(body), err)
		return exitFail
	}
	if *out == "json" {
		return writeJSON(s, fetchResult{URL: u.String(), Proto: resp.Proto, Status: resp.StatusCode, Header: resp.Header, Body: string(body)})
	}
	fmt.Fprintf(s.Out, "%s %s\n", resp.Proto, resp.Status)
	for _, k := range sortedKeys(resp.Header) {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(s.Out, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(s.Out)
	_, _ = s.Out.Write(body)
	return exitOK
}
