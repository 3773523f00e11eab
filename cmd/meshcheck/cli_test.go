package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs meshcheck with args and stdin, returning the exit code and
// what it wrote.
func runCLI(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestTopLevel(t *testing.T) {
	cases := []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{nil, exitUsage, "", "Commands:"},
		{[]string{"help"}, exitOK, "", "iptables"},
		{[]string{"version"}, exitOK, "meshcheck ", ""},
		{[]string{"nope"}, exitUsage, "", `unknown command "nope"`},
		{[]string{"xds"}, exitUsage, "", "trace"},
	}
	for _, tc := range cases {
		code, out, errs := runCLI("", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
			t.Errorf("meshcheck %v: exit %d, stdout %q, stderr %q; want exit %d with %q / %q", tc.args, code, out, errs, tc.code, tc.out, tc.err)
		}
	}
}
