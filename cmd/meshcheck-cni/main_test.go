package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRun(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	t.Setenv("POD_SUBNET", "10.244.0.0/16")
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{name: "no node", args: nil, err: "no node name: set --node-name or $NODE_NAME"},
		{name: "ok", args: []string{"--node-name", "kind-control-plane"}},
		{name: "bad resync", args: []string{"--node-name", "n", "--resync", "0s"}, err: "--resync must be positive"},
		{name: "extra", args: []string{"--node-name", "n", "x"}, err: `unexpected arguments ["x"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseRun(tc.args, &bytes.Buffer{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.ClusterCIDR != "10.244.0.0/16" || o.ConfFile != "10-meshcheck.conflist" {
				t.Errorf("defaults: %+v", o)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"manifest", "--image", "meshcheck.local/meshcheck-cni:x"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "image: meshcheck.local/meshcheck-cni:x") {
		t.Errorf("manifest: exit %d, %s %s", code, out.String(), errs.String())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"manifest"}, &out, &errs); code != 64 || !strings.Contains(errs.String(), `image "" is not an image reference`) {
		t.Errorf("manifest without image: exit %d, %s", code, errs.String())
	}
	if code := run(context.Background(), []string{"nope"}, &out, &errs); code != 64 {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestHostTool(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/sbin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/sbin/iptables"), []byte("x"), 0o755)
	// A link that resolves only inside root, as Debian's alternatives (the
	// target must not exist on the machine running the test).
	os.Symlink("/etc/alternatives/meshcheck-test-iptables-restore", filepath.Join(root, "usr/sbin/iptables-restore"))
	if p, err := hostTool(root, "iptables"); err != nil || p != "/usr/sbin/iptables" {
		t.Errorf("got %q %v", p, err)
	}
	if p, err := hostTool(root, "iptables-restore"); err != nil || p != "/usr/sbin/iptables-restore" {
		t.Errorf("link: got %q %v", p, err)
	}
	if _, err := hostTool(root, "ip6tables"); err == nil || !strings.Contains(err.Error(), "ip6tables not found") || !strings.Contains(err.Error(), root) {
		t.Errorf("error %v", err)
	}
}
