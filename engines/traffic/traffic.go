// Package traffic sends HTTP requests into the mesh, from the host to an
// ingress address or from inside a workload through a hook the backend
// provides, and classifies which version answered. Every request carries a
// unique x-request-id, kept in its Result, so it can be found in the
// proxies' access logs (see package accesslog). Converge waits for N
// successes in a row and, on timeout, reports the last error and the last
// response.
package traffic

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meshcheck/meshcheck/timeouts"
)

// Request is what to send. Host sets the Host header (the mesh routes on
// it); Headers are added to every request.
type Request struct {
	Method  string
	Path    string
	Host    string
	Headers http.Header
}

func (r Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

func (r Request) path() string {
	if r.Path == "" {
		return "/"
	}
	if !strings.HasPrefix(r.Path, "/") {
		return "/" + r.Path
	}
	return r.Path
}

// String is "GET host/path".
func (r Request) String() string { return r.method() + " " + r.Host + r.path() }

// Response is what came back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Transport sends one request carrying requestID as x-request-id.
type Transport interface {
	RoundTrip(ctx context.Context, req Request, requestID string) (Response, error)
	// String names where requests go, for messages.
	String() string
}

// maxBody bounds how much of a body is read.
const maxBody = 1 << 20

// HTTPTransport sends from this process to Address (host:port), e.g. the
// ingress gateway's address from the host, or through Dial when set.
type HTTPTransport struct {
	// Address is host:port to connect to.
	Address string
	// Dial, when set, opens connections instead of the host's network; a
	// backend passes one that dials inside a workload's network namespace.
	Dial Dialer
	// Via, when set, says how Address was reached (e.g. the Service port
	// it stands for); String, and so every error, names it.
	Via    string
	once   sync.Once
	client *http.Client
}

// Dialer opens a connection, e.g. inside a workload's network namespace.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

func (t *HTTPTransport) String() string {
	s := "http://" + t.Address
	if t.Dial != nil {
		s += fmt.Sprintf(" (dialed through %T)", t.Dial)
	}
	if t.Via != "" {
		s += " (" + t.Via + ")"
	}
	return s
}

// RoundTrip sends req; deadlines come from ctx.
func (t *HTTPTransport) RoundTrip(ctx context.Context, req Request, requestID string) (Response, error) {
	t.once.Do(func() {
		tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
		if t.Dial != nil {
			tr.DialContext = t.Dial.DialContext
		} else {
			tr.DialContext = (&net.Dialer{}).DialContext
		}
		t.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	})
	hr, err := http.NewRequestWithContext(ctx, req.method(), "http://"+t.Address+req.path(), nil)
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w", req, err)
	}
	for k, vs := range req.Headers {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if req.Host != "" {
		hr.Host = req.Host
	}
	hr.Header.Set("x-request-id", requestID)
	resp, err := t.client.Do(hr)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, fmt.Errorf("reading the body: %w", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Execer runs a command inside a workload (kubectl exec, nsenter, ...) and
// returns its standard output and error.
type Execer interface {
	Exec(ctx context.Context, argv []string) (stdout, stderr []byte, err error)
}

// ExecTransport sends requests with curl run inside a workload through
// Exec. Address is host:port as seen from the workload (e.g. reviews:9080).
type ExecTransport struct {
	Exec    Execer
	Address string
	// Curl is the curl binary in the workload; default "curl".
	Curl string
}

func (t *ExecTransport) String() string {
	return fmt.Sprintf("curl http://%s inside %T", t.Address, t.Exec)
}

const statusMarker = "\n__meshcheck_status__:"

// RoundTrip runs curl; the context's deadline becomes --max-time.
func (t *ExecTransport) RoundTrip(ctx context.Context, req Request, requestID string) (Response, error) {
	curl := t.Curl
	if curl == "" {
		curl = "curl"
	}
	argv := []string{curl, "-sS", "-X", req.method(), "-o", "-", "-w", statusMarker + "%{http_code}", "-H", "x-request-id: " + requestID}
	if d, ok := ctx.Deadline(); ok {
		secs := time.Until(d).Seconds()
		if secs <= 0 {
			return Response{}, context.DeadlineExceeded
		}
		argv = append(argv, "--max-time", strconv.FormatFloat(secs, 'f', 3, 64))
	}
	if req.Host != "" {
		argv = append(argv, "-H", "Host: "+req.Host)
	}
	for k, vs := range req.Headers {
		for _, v := range vs {
			argv = append(argv, "-H", k+": "+v)
		}
	}
	argv = append(argv, "http://"+t.Address+req.path())
	out, stderr, err := t.Exec.Exec(ctx, argv)
	if err != nil {
		return Response{}, fmt.Errorf("%s: %w (stderr: %s)", strings.Join(argv, " "), err, bytes.TrimSpace(stderr))
	}
	i := bytes.LastIndex(out, []byte(statusMarker))
	if i < 0 {
		return Response{}, fmt.Errorf("curl printed no status (stdout %q, stderr %q)", excerpt(out), bytes.TrimSpace(stderr))
	}
	code, err := strconv.Atoi(string(bytes.TrimSpace(out[i+len(statusMarker):])))
	if err != nil || code == 0 {
		return Response{}, fmt.Errorf("curl printed status %q (stderr %q)", out[i+len(statusMarker):], bytes.TrimSpace(stderr))
	}
	return Response{Status: code, Body: out[:i]}, nil
}

// NewRequestID returns a random UUID (version 4).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Result is one request's outcome.
type Result struct {
	RequestID string
	Status    int // 0 when no response
	Latency   time.Duration
	// Body is the start of the body (up to 512 bytes).
	Body string
	// Version is what the classifier said, "" without one or on error.
	Version string
	// Err is the transport error or the classifier's error.
	Err error
}

// String describes the result for failure messages.
func (r Result) String() string {
	s := fmt.Sprintf("request %s: status %d in %v", r.RequestID, r.Status, r.Latency.Round(time.Millisecond))
	if r.Version != "" {
		s += ", version " + r.Version
	}
	if r.Err != nil {
		s += ", error: " + r.Err.Error()
	}
	if r.Body != "" {
		s += fmt.Sprintf(", body: %q", r.Body)
	}
	return s
}

func excerpt(b []byte) string {
	if len(b) > 512 {
		return string(b[:512]) + "..."
	}
	return string(b)
}

// Options configures Send.
type Options struct {
	Request Request
	// Count is the number of requests (default 1); Concurrency how many are
	// in flight at once (default 1).
	Count, Concurrency int
	// Timeout bounds each request; default timeouts.Default().Request.
	Timeout time.Duration
	// Classifier names the version that answered; nil for none.
	Classifier Classifier
}

// Do sends one request and classifies the response.
func Do(ctx context.Context, tr Transport, req Request, timeout time.Duration, c Classifier) Result {
	if timeout == 0 {
		timeout = timeouts.Default().Request
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := Result{RequestID: NewRequestID()}
	start := time.Now()
	resp, err := tr.RoundTrip(ctx, req, res.RequestID)
	res.Latency = time.Since(start)
	res.Status, res.Body = resp.Status, excerpt(resp.Body)
	if err != nil {
		res.Err = fmt.Errorf("%s via %s: %w", req, tr, err)
		return res
	}
	if c != nil {
		v, err := c.Classify(resp)
		if err != nil {
			res.Err = fmt.Errorf("classify (%s): %w", c, err)
		}
		res.Version = v
	}
	return res
}

// Send sends opts.Count requests, opts.Concurrency at a time, and returns
// the results in the order they were issued.
func Send(ctx context.Context, tr Transport, opts Options) []Result {
	n := max(opts.Count, 1)
	conc := min(max(opts.Concurrency, 1), n)
	out := make([]Result, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = Do(ctx, tr, opts.Request, opts.Timeout, opts.Classifier)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// Versions counts results by version; errors are counted under "".
func Versions(results []Result) map[string]int {
	out := map[string]int{}
	for _, r := range results {
		if r.Err != nil {
			out[""]++
			continue
		}
		out[r.Version]++
	}
	return out
}

// ConvergeOptions configures Converge.
type ConvergeOptions struct {
	Request Request
	// Successes is how many successes in a row count as converged
	// (default 3).
	Successes int
	// Timeouts supplies Request, Convergence and ConvergenceInterval;
	// zero fields take the defaults.
	Timeouts timeouts.Timeouts
	// Classifier, when set, classifies each response.
	Classifier Classifier
	// Check decides whether a result is a success; default: no error and
	// status 200.
	Check func(Result) error
}

// ErrNotConverged is wrapped by Converge's error on timeout.
var ErrNotConverged = errors.New("did not converge")

// Converge sends requests until Successes in a row pass Check or the
// Convergence timeout passes. On timeout the error holds the last failure
// and the last response.
func Converge(ctx context.Context, tr Transport, opts ConvergeOptions) (Result, error) {
	to := opts.Timeouts.WithDefaults()
	need := opts.Successes
	if need <= 0 {
		need = 3
	}
	check := opts.Check
	if check == nil {
		check = func(r Result) error {
			if r.Err != nil {
				return r.Err
			}
			if r.Status != http.StatusOK {
				return fmt.Errorf("status %d, want 200", r.Status)
			}
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, to.Convergence)
	defer cancel()
	var last Result
	var lastErr error
	var lastFailed Result
	row, attempts := 0, 0
	for {
		attempts++
		last = Do(ctx, tr, opts.Request, to.Request, opts.Classifier)
		if err := check(last); err != nil {
			row, lastErr, lastFailed = 0, err, last
		} else {
			row++
			if row >= need {
				return last, nil
			}
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("%s via %s: %v after %d attempts in %v (%d of %d successes in a row)",
				opts.Request, tr, ErrNotConverged, attempts, to.Convergence, row, need)
			if lastErr != nil {
				msg += fmt.Sprintf("; last error: %v; last failed response: %s", lastErr, lastFailed)
			}
			msg += "; last response: " + last.String()
			return last, fmt.Errorf("%s: %w", msg, errors.Join(ErrNotConverged, ctx.Err()))
		case <-time.After(to.ConvergenceInterval):
		}
	}
}

// SampleFunc returns a function for split.Sampler: it sends req and returns
// the classified version, or the error with the whole result.
func SampleFunc(tr Transport, req Request, timeout time.Duration, c Classifier) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		r := Do(ctx, tr, req, timeout, c)
		if r.Err != nil {
			return "", fmt.Errorf("%s: %w", r, r.Err)
		}
		if r.Status != http.StatusOK {
			return "", fmt.Errorf("%s: status %d, want 200", r, r.Status)
		}
		return r.Version, nil
	}
}
