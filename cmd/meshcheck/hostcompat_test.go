package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKindHostCompatUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"no action", nil, "want an action: status, enable or disable"},
		{"unknown action", []string{"toggle"}, `unknown action "toggle"`},
		{"extra args", []string{"status", "x"}, "unexpected arguments"},
		{"bad wait", []string{"status", "--wait", "0s"}, "--wait must be positive"},
		{"unknown flag", []string{"enable", "--nope"}, "unknown flag: --nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI("", append([]string{"kind", "host-compat"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, errs, exitUsage, tc.err)
			}
		})
	}
}

func TestKindHostCompatStatusBadDaemonJSON(t *testing.T) {
	p := filepath.Join(t.TempDir(), "daemon.json")
	if err := os.WriteFile(p, []byte(`{"runtimes": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI("", "kind", "host-compat", "status", "--daemon-json", p)
	if code != exitFail || !strings.Contains(errs, p) || !strings.Contains(errs, "malformed JSON") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming %s", code, errs, p)
	}
}
