package report

import (
	"fmt"
	"slices"

	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/suite"
)

// pathOf is a recorded path as the report shows it: each hop as logged,
// with the xDS trace's answer beside the hops that were traced, and the
// number of hops where the two disagree.
func pathOf(rec suite.PathRecord) (Path, error) {
	p := Path{Name: rec.Name, Fixture: rec.Fixture, Step: rec.Step, RequestID: rec.Flow.RequestID}
	for _, h := range rec.Flow.Hops {
		p.Hops = append(p.Hops, hopOf(h))
	}
	for _, t := range rec.Traces {
		if t.Hop < 0 || t.Hop >= len(p.Hops) {
			return Path{}, fmt.Errorf("path %q: trace of hop %d: the flow has %d hops", rec.Name, t.Hop, len(p.Hops))
		}
		h := &p.Hops[t.Hop]
		h.XDS = &HopXDS{Clusters: t.Clusters, Agrees: slices.Contains(t.Clusters, h.Cluster), Trace: t.Text}
		if !h.XDS.Agrees {
			p.Disagree++
		}
	}
	return p, nil
}

func hopOf(h accesslog.BriefHop) Hop {
	return Hop{Proxy: h.Proxy, Direction: h.Direction, Cluster: h.Cluster, Status: h.Status,
		LatencyMS: h.LatencyMS, Flags: h.Flags, Parent: h.Parent}
}
