package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
)

// syncStatus is one entry of istiod's /debug/syncz: the proxy's ID
// ("pod.namespace") and, per watched type URL, the nonce last sent, the
// nonce last ACKed and the last NACK's text.
type syncStatus struct {
	ProxyID   string                    `json:"proxy"`
	ProxyType string                    `json:"proxy_type"`
	Resources map[string]resourceStatus `json:"resources"`
}

type resourceStatus struct {
	Sent      string `json:"sent"`
	Acked     string `json:"acked"`
	LastError string `json:"lastError"`
}

// Types a proxy must have been sent before it counts as synced.
const (
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	listenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
)

// parseSyncz turns istiod's /debug/syncz body into one ProxySync per
// proxy, sorted by proxy. Types never sent (istioctl's "NOT SENT") are
// left out; a proxy is Current when CDS and LDS were sent and every type
// it was sent is ACKed at the nonce last sent, with no NACK.
func parseSyncz(body []byte) ([]backend.ProxySync, error) {
	var raw []syncStatus
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("istiod /debug/syncz: %w (body starts %q)", err, tail(prefix(string(body), 200), 200))
	}
	out := make([]backend.ProxySync, 0, len(raw))
	for i, s := range raw {
		name, ns, ok := strings.Cut(s.ProxyID, ".")
		if !ok || name == "" || ns == "" {
			return nil, fmt.Errorf("istiod /debug/syncz: entry %d: proxy %q is not pod.namespace", i, s.ProxyID)
		}
		ps := backend.ProxySync{Proxy: ns + "/" + name, Types: map[string]backend.TypeSync{}}
		for url, r := range s.Resources {
			if r.Sent == "" && r.LastError == "" {
				continue
			}
			ps.Types[url] = backend.TypeSync{Sent: r.Sent, Acked: r.Acked, LastError: r.LastError}
		}
		_, cds := ps.Types[clusterType]
		_, lds := ps.Types[listenerType]
		ps.Current = cds && lds
		for _, t := range ps.Types {
			if t.Sent != t.Acked || t.LastError != "" {
				ps.Current = false
			}
		}
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Proxy < out[j].Proxy })
	return out, nil
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
