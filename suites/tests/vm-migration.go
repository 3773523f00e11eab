package tests

import (
	"context"
	"fmt"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
	"github.com/meshcheck/meshcheck/suite"
)

// The ServiceEntry's subset clusters.
const (
	helloVM     = "outbound|80|vm|hello.example.com"
	helloDocker = "outbound|80|docker|hello.example.com"
)

// helloTrace is the sleep client's request to hello as its sidecar's
// config sees it.
func helloTrace(ctx context.Context, s *suite.Suite) trace.Request {
	return trace.Request{Role: trace.RoleSidecarOutbound, Address: serviceIP(ctx, s, "vm", "hello.example.com", 80), Port: 80, Host: "hello.example.com", Path: "/"}
}

// vmMigrationSteps are the migration's steps, one test each.
func vmMigrationSteps() []suite.Test {
	var out []suite.Test
	for _, step := range []struct {
		name       string
		vm, docker uint32
	}{{"100-0", 100, 0}, {"50-50", 50, 50}, {"0-100", 0, 100}} {
		out = append(out, suite.Test{
			ShortName:   "vm-migration-" + step.name,
			Description: fmt.Sprintf("step %s: endpoints and weights in the client's xDS, and the traffic split, match", step.name),
			Features:    []backend.Feature{backend.FeatureVM},
			Fixtures:    []suite.Fixture{{Name: "vm", Step: step.name}},
			Test: func(ctx context.Context, s *suite.Suite) {
				vmStep(ctx, s, step.name, step.vm, step.docker)
			},
		})
	}
	return out
}

func vmStep(ctx context.Context, s *suite.Suite, name string, vm, docker uint32) {
	req := helloTrace(ctx, s)
	d := dump(ctx, s, "vm", "sleep")
	Expect(d).To(HaveHealthyEndpoints(helloVM, 1))
	Expect(d).To(HaveHealthyEndpoints(helloDocker, 1))
	want := map[string]uint32{}
	if vm > 0 {
		want[helloVM] = vm
	}
	if docker > 0 {
		want[helloDocker] = docker
	}
	if len(want) == 1 {
		for c := range want {
			Expect(d).To(Or(RouteRequest(req).ToCluster(c), RouteRequest(req).ToWeightedClusters(map[string]uint32{c: 100})))
		}
	} else {
		Expect(d).To(RouteRequest(req).ToWeightedClusters(want))
	}
	tr, err := s.Backend.InWorkload(ctx, workload(ctx, s, "vm", "sleep"), req.Address+":80")
	Expect(err).NotTo(HaveOccurred())
	res, err := s.SampleSplit(ctx, tr, traffic.Request{Host: "hello.example.com", Path: "/"}, traffic.VMOrDocker{}, fmt.Sprintf("vm=%d,docker=%d", vm, docker))
	Expect(err).NotTo(HaveOccurred())
	Expect(res.Decision).To(Equal(split.Pass), "%s", res.Reason)
	s.Logf("%s decided after %d requests: %v", name, res.Samples, res.Counts)
}
