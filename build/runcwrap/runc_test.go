package runcwrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRuncArgs(t *testing.T) {
	const cwd = "/run/cwd"
	shimGlobals := []string{"--root", "/var/run/docker/runtime-runc/moby", "--log", "/run/containerd/x/log.json", "--log-format", "json", "--systemd-cgroup"}
	for _, tc := range []struct {
		name string
		args []string
		want Invocation
		err  string
	}{
		{name: "create as containerd's shim calls it", args: append(shimGlobals, "create", "--bundle", "/run/containerd/b/abc", "--pid-file", "/run/p", "abc"),
			want: Invocation{Command: "create", Spec: "/run/containerd/b/abc/config.json", Kind: Bundle}},
		{name: "run with -b", args: []string{"run", "-b", "/b", "id"}, want: Invocation{Command: "run", Spec: "/b/config.json", Kind: Bundle}},
		{name: "create with --bundle=", args: []string{"create", "--bundle=/b2", "id"}, want: Invocation{Command: "create", Spec: "/b2/config.json", Kind: Bundle}},
		{name: "create with single-dash long flag", args: []string{"-root", "/r", "create", "-bundle", "/b3", "id"}, want: Invocation{Command: "create", Spec: "/b3/config.json", Kind: Bundle}},
		{name: "create without bundle uses the working directory", args: []string{"create", "id"}, want: Invocation{Command: "create", Spec: "/run/cwd/config.json", Kind: Bundle}},
		{name: "relative bundle", args: []string{"create", "-b", "rel", "id"}, want: Invocation{Command: "create", Spec: "/run/cwd/rel/config.json", Kind: Bundle}},
		{name: "exec --process", args: append(shimGlobals, "exec", "--process", "/tmp/runc-process123", "--detach", "--pid-file", "/p", "abc"),
			want: Invocation{Command: "exec", Spec: "/tmp/runc-process123", Kind: Process}},
		{name: "exec -p=", args: []string{"exec", "-p=/tmp/p.json", "abc"}, want: Invocation{Command: "exec", Spec: "/tmp/p.json", Kind: Process}},
		{name: "exec with the process on the command line", args: []string{"exec", "-t", "abc", "sh"}, want: Invocation{Command: "exec"}},
		{name: "exec: a -p after -- belongs to the command", args: []string{"exec", "abc", "--", "ls", "-p", "x"}, want: Invocation{Command: "exec"}},
		{name: "start reads no spec", args: append(shimGlobals, "start", "abc"), want: Invocation{Command: "start"}},
		{name: "delete", args: []string{"--root", "/r", "delete", "--force", "abc"}, want: Invocation{Command: "delete"}},
		{name: "global value flag with =", args: []string{"--root=/r", "--rootless=false", "state", "x"}, want: Invocation{Command: "state"}},
		{name: "version", args: []string{"--version"}, want: Invocation{}},
		{name: "nothing", args: nil, want: Invocation{}},
		{name: "global flag without value", args: []string{"--root"}, err: "runc flag --root has no value"},
		{name: "bundle flag without value", args: []string{"create", "--bundle"}, err: "runc flag --bundle has no value"},
		{name: "process flag without value", args: []string{"exec", "-p"}, err: "runc flag -p has no value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRuncArgs(tc.args, cwd)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseRuncArgs(f *testing.F) {
	f.Add("--root /r --log l create --bundle /b id")
	f.Add("exec -p=/p id")
	f.Add("create -b")
	f.Fuzz(func(t *testing.T, line string) {
		inv, err := ParseRuncArgs(strings.Fields(line), "/cwd")
		if err != nil {
			return
		}
		if inv.Spec != "" && !filepath.IsAbs(inv.Spec) {
			t.Fatalf("relative spec path %q", inv.Spec)
		}
		if inv.Spec != "" && inv.Command != "create" && inv.Command != "run" && inv.Command != "exec" {
			t.Fatalf("spec %q for command %q", inv.Spec, inv.Command)
		}
	})
}

func TestFindRunc(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "runc")
	os.WriteFile(real, []byte("#!/bin/sh\n"), 0o755)
	self := filepath.Join(dir, "meshcheck-runc")
	os.WriteFile(self, []byte("#!/bin/sh\n"), 0o755)
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("x"), 0o644)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == RealRuncEnv {
				return v
			}
			return ""
		}
	}
	if got, err := FindRunc(env(real), self); err != nil || got != real {
		t.Errorf("$%s=%s: got %q, %v", RealRuncEnv, real, got, err)
	}
	for _, tc := range []struct{ val, err string }{
		{self, "is this wrapper itself"},
		{filepath.Join(dir, "missing"), "no such file"},
		{plain, "not an executable file"},
		{dir, "not an executable file"},
	} {
		if _, err := FindRunc(env(tc.val), self); err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.val) {
			t.Errorf("$%s=%s: error %v, want one naming it and %q", RealRuncEnv, tc.val, err, tc.err)
		}
	}
	// Without the variable: the first executable candidate that is not self.
	saved := runcCandidates
	defer func() { runcCandidates = saved }()
	t.Setenv("PATH", t.TempDir())
	runcCandidates = []string{filepath.Join(dir, "missing"), plain, self, real}
	if got, err := FindRunc(env(""), self); err != nil || got != real {
		t.Errorf("candidates: got %q, %v; want %s", got, err, real)
	}
	runcCandidates = []string{self, plain}
	if _, err := FindRunc(env(""), self); err == nil || !strings.Contains(err.Error(), "no runc found (tried "+self+", "+plain) {
		t.Errorf("no candidate: error %v", err)
	}
}
