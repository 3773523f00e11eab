package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The workload commands are package workload's (tested there); these tests
// check that meshcheck reaches them with its own name and exit codes.

func TestWorkloadRunStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"workload", "run", "--app", "whoami", "--name", "whoami-v1-abc", "--listen", "127.0.0.1:0"}, streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != exitOK || !strings.Contains(errb.String(), "whoami-v1-abc: whoami listening on 127.0.0.1:") || !strings.Contains(errb.String(), "whoami-v1-abc: whoami stopped") {
		t.Errorf("meshcheck workload run with a cancelled context: exit %d, stderr %q; want 0, a listening line and a stopped line", code, errb.String())
	}
}

func TestWorkloadFetchThroughTheCLI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("id=" + r.Header.Get("x-request-id")))
	}))
	defer srv.Close()
	code, out, errs := runCLI("", "workload", "fetch", srv.URL+"/x", "--header", "x-request-id=r1")
	if code != exitOK || !strings.HasPrefix(out, "HTTP/1.1 200 OK\n") || !strings.HasSuffix(out, "\n\nid=r1") {
		t.Errorf("meshcheck workload fetch: exit %d, stdout %q, stderr %q; want 0, a 200 status line and the body id=r1", code, out, errs)
	}
}

func TestWorkloadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"workload"}, exitUsage, "run "},
		{[]string{"workload", "run"}, exitUsage, "--app and --listen are required"},
		{[]string{"workload", "run", "--app", "whoami", "--name", "p"}, exitUsage, "--app and --listen are required"},
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
