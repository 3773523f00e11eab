package kernel

import (
	"os"
	"os/exec"
	"testing"
)

func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ChildMain())
	}
	os.Exit(m.Run())
}

// requireKernel skips without root and fails when root lacks the tools (CI
// installs them; see .ci/run).
func requireKernel(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: the kernel differential test needs root (network namespaces, iptables-restore, nft); CI runs it as root")
	}
	for _, tool := range []string{"ip", "iptables-legacy-restore", "iptables-nft-restore", "iptables-legacy-save", "iptables-nft-save", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: apt-get update && apt-get install -y iptables nftables iproute2", tool)
		}
	}
	t.Cleanup(func() {
		left, err := Leftovers()
		if err != nil {
			t.Errorf("listing namespaces: %v", err)
		}
		if len(left) > 0 {
			t.Errorf("namespaces left behind: %v", left)
		}
	})
}
