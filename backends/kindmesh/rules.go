package kindmesh

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/kind/pkg/cluster/nodes"

	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
)

// ruleSources are the commands that print a network namespace's rules, in
// the order tried: istio-iptables picks legacy or nft iptables by what the
// host uses, and Istio's native nftables mode needs nft itself.
var ruleSources = [][]string{
	{"iptables-nft-save"},
	{"iptables-legacy-save"},
	{"nft", "list", "ruleset"},
}

// sandboxPID finds the pid of a pod's sandbox on its node: crictl pods for
// the ready sandbox's ID, then crictl inspectp for its pid.
func sandboxPID(ctx context.Context, n nodes.Node, namespace, pod string) (int, error) {
	out, err := kindcluster.NodeExec(ctx, n, nil, "crictl", "pods", "--namespace", namespace, "--name", "^"+pod+"$", "--state", "ready", "-q")
	if err != nil {
		return 0, err
	}
	ids := strings.Fields(string(out))
	if len(ids) != 1 {
		return 0, fmt.Errorf("node %s: %d ready sandboxes for pod %s/%s (crictl pods printed %q)", n, len(ids), namespace, pod, strings.TrimSpace(string(out)))
	}
	out, err = kindcluster.NodeExec(ctx, n, nil, "crictl", "inspectp", ids[0])
	if err != nil {
		return 0, err
	}
	return parseInspectPID(out)
}

// parseInspectPID reads .info.pid from `crictl inspectp` output.
func parseInspectPID(b []byte) (int, error) {
	var v struct {
		Info struct {
			PID int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("crictl inspectp: %w (output starts %q)", err, prefix(string(b), 200))
	}
	if v.Info.PID <= 0 {
		return 0, fmt.Errorf("crictl inspectp: no info.pid in the output (verbose info missing?): starts %q", prefix(string(b), 200))
	}
	return v.Info.PID, nil
}

// pickRules chooses, among the outputs of ruleSources, the one that holds
// Istio's chains (the most ISTIO_ lines wins); ok is false when none does.
func pickRules(outputs [][]byte) (rules []byte, source int, ok bool) {
	best, bestN := -1, 0
	for i, o := range outputs {
		if n := bytes.Count(o, []byte("ISTIO_")); n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return nil, -1, false
	}
	return outputs[best], best, true
}

// prefix is the start of s, at most n bytes.
func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
