package accesslog

// Brief is a flow as a report shows it: the request id and, per hop, the
// few fields a person reads first.
type Brief struct {
	RequestID string     `json:"requestId"`
	Hops      []BriefHop `json:"hops"`
}

// BriefHop is one hop of a Brief.
type BriefHop struct {
	// Proxy is the proxy that logged the hop (its downstream local
	// address when the reader was not told).
	Proxy string `json:"proxy"`
	// Direction is inbound, outbound or unknown (from the cluster's name).
	Direction string `json:"direction"`
	// Cluster is the upstream cluster as logged; empty when not logged.
	Cluster string `json:"cluster,omitempty"`
	// Status is the response code; 0 when not logged.
	Status int `json:"status,omitempty"`
	// LatencyMS is the request's duration at this proxy, in milliseconds.
	LatencyMS float64 `json:"latencyMs"`
	// Flags are Envoy's response flags; empty when there were none.
	Flags string `json:"flags,omitempty"`
	// Parent is the 1-based number of the hop that caused this one; 0 for
	// none (the first hop, or one whose cause is not in the logs).
	Parent int `json:"parent,omitempty"`
}

// Brief is the flow as a report shows it.
func (f Flow) Brief() Brief {
	b := Brief{RequestID: f.RequestID, Hops: make([]BriefHop, len(f.Hops))}
	for i, h := range f.Hops {
		proxy := h.Proxy
		if proxy == "" {
			proxy = h.DownstreamLocalAddress
		}
		bh := BriefHop{Proxy: proxy, Direction: h.Cluster.Direction.String(), Cluster: h.UpstreamCluster,
			Status: h.ResponseCode, LatencyMS: float64(h.Duration.Microseconds()) / 1000, Parent: h.Parent + 1}
		if h.Has(ResponseFlags) {
			bh.Flags = h.ResponseFlags
		}
		b.Hops[i] = bh
	}
	return b
}
