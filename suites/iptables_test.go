package suites

import (
	"net/netip"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
)

var _ = Describe("Interception", Label("iptables"), func() {
	It("gives every meshed workload rules that behave like istio-init's for the Istio version", func(ctx SpecContext) {
		ws, err := mesh.Workloads(ctx)
		Expect(err).NotTo(HaveOccurred())
		v, err := istio.ParseVersion("1.31")
		Expect(err).NotTo(HaveOccurred())
		peer, err := mesh.ServiceAddress(ctx, "default", "productpage", 9080)
		Expect(err).NotTo(HaveOccurred())
		clusterIP := netip.MustParseAddr(strings.TrimSuffix(peer, ":9080"))
		checked := 0
		for _, w := range ws {
			if w.Proxy != backend.Sidecar {
				continue
			}
			rules, err := mesh.InterceptionRules(ctx, w)
			Expect(err).NotTo(HaveOccurred(), "rules of %s", w)
			rs, err := iptables.Parse(rules)
			Expect(err).NotTo(HaveOccurred(), "rules of %s:\n%s", w, rules)
			port := uint16(80)
			if len(w.Ports) > 0 {
				port = uint16(w.Ports[0])
			}
			env := istio.Env{PodIP: netip.MustParseAddr(w.IP), PeerIP: clusterIP.Next(), Iface: "eth0", ClusterIP: clusterIP, AppPort: port}
			for _, o := range istio.Check(rs, istio.Behaviours(istio.DefaultOptions(v), env)) {
				Expect(o.Err).NotTo(HaveOccurred(), "%s: %s\nrules:\n%s", w, o.Behaviour, rules)
			}
			checked++
		}
		Expect(checked).To(BeNumerically(">=", 7), "meshed workloads checked")
	})
})
