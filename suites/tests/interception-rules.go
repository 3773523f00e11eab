package tests

import (
	"context"
	"net/netip"

	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
	"github.com/meshcheck/meshcheck/suite"
)

func interceptionRules() suite.Test {
	return suite.Test{
		ShortName:   "interception-rules",
		Description: "gives every meshed workload rules that behave like istio-init's for the Istio version under test",
		Features:    []backend.Feature{backend.FeatureInterceptionRules},
		Fixtures:    []suite.Fixture{{Name: "bookinfo"}},
		Test: func(ctx context.Context, s *suite.Suite) {
			ws, err := s.Backend.Workloads(ctx)
			Expect(err).NotTo(HaveOccurred())
			v, err := istio.ParseVersion(s.Versions.Istio)
			Expect(err).NotTo(HaveOccurred())
			clusterIP := netip.MustParseAddr(serviceIP(ctx, s, "default", "productpage", 9080))
			checked := 0
			for _, w := range ws {
				if w.Proxy != backend.Sidecar {
					continue
				}
				rules, err := s.Backend.InterceptionRules(ctx, w)
				Expect(err).NotTo(HaveOccurred(), "rules of %s", w)
				rs, err := iptables.Parse(rules)
				Expect(err).NotTo(HaveOccurred(), "rules of %s:\n%s", w, rules)
				port := uint16(80)
				if len(w.Ports) > 0 {
					port = uint16(w.Ports[0])
				}
				env := istio.Env{PodIP: netip.MustParseAddr(w.IP), PeerIP: clusterIP.Next(), Iface: "eth0", ClusterIP: clusterIP, AppPort: port}
				opts, err := istio.PodOptions(v, w.Annotations) // what istio-init is given for the pod's annotations
				Expect(err).NotTo(HaveOccurred(), "interception annotations of %s", w)
				outcomes := istio.Check(rs, istio.Behaviours(opts, env))
				rec := suite.InterceptionRecord{Workload: w.String(), Istio: s.Versions.Istio}
				for _, o := range outcomes {
					rec.Behaviours = append(rec.Behaviours, o.Checked())
				}
				s.Record(suite.RecordInterception, rec)
				for _, o := range outcomes {
					Expect(o.Err).NotTo(HaveOccurred(), "%s (Istio %s): %s\nrules:\n%s", w, s.Versions.Istio, o.Behaviour, rules)
				}
				checked++
			}
			Expect(checked).To(BeNumerically(">=", 7), "meshed workloads checked")
		},
	}
}
