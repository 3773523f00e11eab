package suites

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/engines/meshlint"
	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/engines/traffic"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
	. "github.com/meshcheck/meshcheck/engines/xds/xdsmatchers"
)

const (
	helloVM     = "outbound|80|vm|hello.example.com"
	helloDocker = "outbound|80|docker|hello.example.com"
)

// helloServer reads whoami's Hostname line: the VM (vm1) or a pod (hello-docker-...).
var helloServer = traffic.ClassifierFunc{Name: "hello: vm or docker by Hostname", Func: func(r traffic.Response) (string, error) {
	for _, l := range strings.Split(string(r.Body), "\n") {
		if h, ok := strings.CutPrefix(l, "Hostname: "); ok {
			switch {
			case strings.HasPrefix(h, "vm"):
				return "vm", nil
			case strings.HasPrefix(h, "hello-docker"):
				return "docker", nil
			}
			return "", fmt.Errorf("hostname %q is neither the VM nor a hello-docker pod", h)
		}
	}
	return "", fmt.Errorf("no Hostname line in %q", r.Body)
}}

var _ = Describe("VM migration behind a ServiceEntry", Label("vm"), Ordered, func() {
	var helloAddr string
	helloReq := trace.Request{Role: trace.RoleSidecarOutbound, Port: 80, Host: "hello.example.com", Path: "/"}

	BeforeAll(func(ctx SpecContext) {
		var err error
		helloAddr, err = mesh.ServiceAddress(ctx, "vm", "hello.example.com", 80)
		Expect(err).NotTo(HaveOccurred())
		helloReq.Address = strings.TrimSuffix(helloAddr, ":80")
	})
	AfterAll(func(ctx SpecContext) {
		Expect(mesh.Apply(ctx, load("vm", "100-0"))).To(Succeed())
		Expect(mesh.WaitReady(ctx)).To(Succeed())
	})

	sampleFromSleep := func(ctx context.Context, weights string) split.Result {
		w, err := split.ParseWeights(weights)
		Expect(err).NotTo(HaveOccurred())
		test, err := split.New(w, split.Options{})
		Expect(err).NotTo(HaveOccurred())
		tr, err := mesh.InWorkload(ctx, workload(ctx, "vm", "sleep"), helloAddr)
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithTimeout(ctx, tmo.SplitSampling)
		defer cancel()
		res, err := split.Sampler{Test: test, Sample: traffic.SampleFunc(tr, traffic.Request{Host: "hello.example.com", Path: "/"}, tmo.Request, helloServer)}.Run(ctx)
		Expect(err).NotTo(HaveOccurred())
		return res
	}

	for _, step := range []struct {
		name       string
		vm, docker uint32
	}{{"100-0", 100, 0}, {"50-50", 50, 50}, {"0-100", 0, 100}} {
		It(fmt.Sprintf("step %s: endpoints and weights in the client's xDS, and the traffic split, match", step.name), func(ctx SpecContext) {
			Expect(mesh.Apply(ctx, load("vm", step.name))).To(Succeed())
			Expect(mesh.WaitReady(ctx)).To(Succeed())
			d := dump(ctx, proxy(ctx, "vm", "sleep"))
			Expect(d).To(HaveHealthyEndpoints(helloVM, 1))
			Expect(d).To(HaveHealthyEndpoints(helloDocker, 1))
			want := map[string]uint32{}
			if step.vm > 0 {
				want[helloVM] = step.vm
			}
			if step.docker > 0 {
				want[helloDocker] = step.docker
			}
			if len(want) == 1 {
				for c := range want {
					Expect(d).To(Or(RouteRequest(helloReq).ToCluster(c), RouteRequest(helloReq).ToWeightedClusters(map[string]uint32{c: 100})))
				}
			} else {
				Expect(d).To(RouteRequest(helloReq).ToWeightedClusters(want))
			}
			res := sampleFromSleep(ctx, fmt.Sprintf("vm=%d,docker=%d", step.vm, step.docker))
			Expect(res.Decision).To(Equal(split.Pass), "%s", res.Reason)
			GinkgoWriter.Printf("%s decided after %d requests: %v\n", step.name, res.Samples, res.Counts)
		})
	}

	It("catches a VirtualService written with the short host", func(ctx SpecContext) {
		set := load("vm", "short-host")
		findings := meshlint.VirtualServiceHosts(set.Configs, set.Domain, nil)
		Expect(findings).To(HaveLen(1))
		Expect(findings[0].String()).To(ContainSubstring(`host "hello" resolves to hello.vm.svc.cluster.local, which no Service or ServiceEntry declares`))
		Expect(findings[0].String()).To(ContainSubstring("did you mean hello.example.com?"))

		// Applied anyway, it silently does nothing: the client's route for
		// the ServiceEntry's host carries no 0/100 split.
		Expect(mesh.Apply(ctx, set)).To(Succeed())
		Expect(mesh.WaitReady(ctx)).To(Succeed())
		d := dump(ctx, proxy(ctx, "vm", "sleep"))
		Expect(d).NotTo(RouteRequest(helloReq).ToCluster(helloDocker))
		Expect(d).NotTo(RouteRequest(helloReq).ToWeightedClusters(map[string]uint32{helloDocker: 100}))
	})
})
