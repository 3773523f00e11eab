package apprun

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/meshcheck/meshcheck/timeouts"
)

// FetchSummary is the one-line description of Fetch.
const FetchSummary = "send one HTTP GET and print the status, headers and body"

// fetchUsage is printed by -h after the flags; %[1]s is prog.
const fetchUsage = `
Sends one GET (redirects are not followed, no proxy from the environment,
names resolve through /etc/hosts or DNS) and prints the status line, the
headers sorted and, after an empty line, the body. --header Host=NAME sets
the Host header. The exit code does not depend on the HTTP status: read it
from the output.

Examples:
  %[1]s http://reviews:9080/reviews/0 --header x-request-id=abc
  %[1]s http://whoami/ --header Host=whoami.example.com -o json
Exit codes: 0 a response came, 1 the request failed, 64 usage.
`

// FetchResult is Fetch's output with -o json.
type FetchResult struct {
	URL    string      `json:"url"`
	Proto  string      `json:"proto"`
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

// maxFetchBody bounds how much of a body Fetch reads.
const maxFetchBody = 16 << 20

// Fetch sends one GET to the URL in args and prints the response to stdout
// (text, or FetchResult with -o json). It returns ExitOK whenever a
// response came, whatever its status, ExitFail when the request failed
// (the reason goes to stderr) and ExitUsage on bad arguments.
func Fetch(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(prog, FetchSummary, fetchUsage, stderr)
	var headers multiFlag
	fs.Var(&headers, "header", "request header KEY=VALUE (repeatable; Host=NAME sets the Host)")
	timeout := fs.Duration("timeout", timeouts.Default().Request, "bound on the whole request, from dial to the last body byte")
	out := fs.String("o", "text", "output: text or json")
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, fs, "want exactly one URL, got %q", pos)
	}
	if *out != "text" && *out != "json" {
		return usageError(stderr, fs, "-o %q: want text or json", *out)
	}
	if *timeout <= 0 {
		return usageError(stderr, fs, "--timeout %v: want a positive duration", *timeout)
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(stderr, fs, "URL %q: want http://host[:port]/path", pos[0])
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError(stderr, fs, "URL %q: %v", pos[0], err)
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return usageError(stderr, fs, "--header %q: want KEY=VALUE", h)
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
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return ExitFail
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody))
	if err != nil {
		fmt.Fprintf(stderr, "%s: GET %s: status %d, reading the body after %d bytes: %v\n", prog, u, resp.StatusCode, len(body), err)
		return ExitFail
	}
	if *out == "json" {
		b, err := json.MarshalIndent(FetchResult{URL: u.String(), Proto: resp.Proto, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "%s: encoding JSON: %v\n", prog, err)
			return ExitFail
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return ExitOK
	}
	fmt.Fprintf(stdout, "%s %s\n", resp.Proto, resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(stdout, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintln(stdout)
	_, _ = stdout.Write(body)
	return ExitOK
}
