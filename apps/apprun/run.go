package apprun

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/apps/bookinfo"
	"github.com/meshcheck/meshcheck/apps/whoami"
	"github.com/meshcheck/meshcheck/timeouts"
)

// RunSummary is the one-line description of Run.
const RunSummary = "serve a Bookinfo app or whoami until SIGTERM or SIGINT"

// runUsage is printed by -h after the flags; %[1]s is prog.
const runUsage = `
Apps: bookinfo-productpage, bookinfo-details, bookinfo-reviews (with
--version v1, v2 or v3), bookinfo-ratings, whoami. They answer like the
upstream images (docs/apps.md). --name is the pod's name: reviews prints it
as podname ("Reviews served by: <pod>"), whoami as "Hostname: <pod>".
Without --name it is the hostname, which Kubernetes sets to the pod's name.
The listening address and one line per request go to standard error.

Examples:
  %[1]s --app bookinfo-reviews --version v2 --name reviews-v2-5d8f7-abcde --listen 10.88.0.7:9080 --ratings http://ratings:9080
  %[1]s --app whoami --name whoami-v1-79f55-xlxcw --listen 0.0.0.0:80
Exit codes: 0 stopped by a signal, 1 cannot listen or serve, 64 usage.
`

// appOptions is what Run builds an app from.
type appOptions struct {
	app, name, version                 string
	details, reviews, ratings          string
	log                                *log.Logger
	detailsSet, reviewsSet, ratingsSet bool
}

// Apps names the apps Run serves.
func Apps() []string {
	return []string{"bookinfo-productpage", "bookinfo-details", "bookinfo-reviews", "bookinfo-ratings", "whoami"}
}

// newHandler builds the app; errors are usage errors.
func newHandler(o appOptions) (http.Handler, error) {
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
	return nil, fmt.Errorf("--app %q: want one of %s", o.app, strings.Join(Apps(), ", "))
}

// Run serves the app its flags name until ctx ends, then shuts the server
// down (bounded by timeouts.AppShutdown) and returns ExitOK. It returns
// ExitFail when it cannot listen or serve and ExitUsage on bad flags; -h
// prints the help to stderr and returns ExitOK.
func Run(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(prog, RunSummary, runUsage, stderr)
	var o appOptions
	fs.StringVar(&o.app, "app", "", "the app: "+strings.Join(Apps(), ", "))
	listen := fs.String("listen", "", "address to listen on, host:port (required)")
	fs.StringVar(&o.name, "name", "", "the pod's name (default: the hostname)")
	fs.StringVar(&o.version, "version", "", "bookinfo-reviews version: v1 (no stars), v2 (black), v3 (red)")
	fs.StringVar(&o.details, "details", "", "details service URL for productpage (default http://details:9080)")
	fs.StringVar(&o.reviews, "reviews", "", "reviews service URL for productpage (default http://reviews:9080)")
	fs.StringVar(&o.ratings, "ratings", "", "ratings service URL for productpage and reviews (default http://ratings:9080)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fs, "unexpected arguments %q", fs.Args())
	}
	if o.app == "" || *listen == "" {
		return usageError(stderr, fs, "--app and --listen are required")
	}
	if o.name == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			return usageError(stderr, fs, "no --name, and the hostname is unknown (%v): pass --name", err)
		}
		o.name = h
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
	logger := log.New(stderr, "", 0)
	o.log = log.New(logWriter{logger, o.name}, "", 0)
	h, err := newHandler(o)
	if err != nil {
		return usageError(stderr, fs, "%v", err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s: %v\n", prog, o.app, err)
		return ExitFail
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
		fmt.Fprintf(stderr, "%s: %s on %s: %v\n", prog, o.app, ln.Addr(), err)
		return ExitFail
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
	return ExitOK
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
