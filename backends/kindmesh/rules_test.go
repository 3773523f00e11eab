package kindmesh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseInspectPID(t *testing.T) {
	if pid, err := parseInspectPID([]byte(`{"status":{"id":"x"},"info":{"pid":4242,"runtimeSpec":{}}}`)); err != nil || pid != 4242 {
		t.Errorf("pid %d, %v; want 4242", pid, err)
	}
	for _, bad := range []string{`{"status":{}}`, `not json`, `{"info":{"pid":-1}}`} {
		if _, err := parseInspectPID([]byte(bad)); err == nil || !strings.Contains(err.Error(), "crictl inspectp") {
			t.Errorf("%s: error %v, want a crictl inspectp error", bad, err)
		}
	}
}

func TestPickRules(t *testing.T) {
	legacy := []byte("*nat\n:PREROUTING ACCEPT\nCOMMIT\n")
	nft := []byte("*nat\n:ISTIO_INBOUND - [0:0]\n:ISTIO_REDIRECT - [0:0]\n-A PREROUTING -p tcp -j ISTIO_INBOUND\nCOMMIT\n")
	if got, src, ok := pickRules([][]byte{nft, legacy, nil}); !ok || src != 0 || string(got) != string(nft) {
		t.Errorf("got source %d ok %v, want the nft output", src, ok)
	}
	if got, src, ok := pickRules([][]byte{nil, nft, []byte("table ip x {}")}); !ok || src != 1 || string(got) != string(nft) {
		t.Errorf("got source %d ok %v, want the legacy slot", src, ok)
	}
	if _, _, ok := pickRules([][]byte{legacy, legacy, nil}); ok {
		t.Error("no ISTIO_ chains anywhere must not pick a source")
	}
}

func FuzzParseInspectPID(f *testing.F) {
	f.Add([]byte(`{"info":{"pid":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pid, err := parseInspectPID(b); err == nil && pid <= 0 {
			t.Fatalf("pid %d without error", pid)
		}
	})
}

// TestRealOutputs parses what a kind cluster with Istio printed
// (testdata/real, captured from a make e2e-airgap cluster): crictl inspectp of productpage's sandbox,
// and the three rule listings of its network namespace.
func TestRealOutputs(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "real", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if pid, err := parseInspectPID(read("crictl-inspectp.json")); err != nil || pid != 2845 {
		t.Errorf("pid %d, %v; want 2845", pid, err)
	}
	outs := [][]byte{read("iptables-nft-save.txt"), read("iptables-legacy-save.txt"), read("nft-ruleset.txt")}
	rules, src, ok := pickRules(outs)
	if !ok || !strings.Contains(string(rules), "-A ISTIO_OUTPUT") {
		t.Fatalf("picked source %d (ok %v): want the listing with Istio's chains", src, ok)
	}
}
