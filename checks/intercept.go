package checks

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
	"github.com/meshcheck/meshcheck/fixtures/expect"
)

// interception checks the rules of every meshed workload the selector
// picks against istio-iptables' behaviours: one result per workload.
func (r *Runner) interception(ctx context.Context, t target, in *expect.Interception) []Result {
	res := t.result(Interception, "workloads "+in.Workload, in.Line())
	ws, err := r.workloads(ctx, in.Workload)
	if err != nil {
		return []Result{broken(res, err)}
	}
	name, port, _ := strings.Cut(in.Service, ":")
	p, _ := strconv.Atoi(port)
	addr, err := r.Backend.ServiceAddress(ctx, t.fixture.Namespace, name, p)
	if err != nil {
		return []Result{undecided(res, fmt.Errorf("address of %s: %w", in.Service, err))}
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return []Result{undecided(res, fmt.Errorf("address of %s: %w", in.Service, err))}
	}
	var out []Result
	for _, w := range ws {
		if w.Proxy != backend.Sidecar {
			continue
		}
		out = append(out, r.workloadRules(ctx, t, in, w, ap.Addr()))
	}
	if len(out) == 0 {
		res.Status, res.Expected, res.Actual = Fail, "a meshed workload "+in.Workload, "none has a sidecar"
		return []Result{res}
	}
	return out
}

func (r *Runner) workloadRules(ctx context.Context, t target, in *expect.Interception, w backend.Workload, clusterIP netip.Addr) Result {
	res := t.result(Interception, fmt.Sprintf("%s: istio-iptables %s behaviours", w, in.IstioVersion), in.Line())
	rules, err := r.Backend.InterceptionRules(ctx, w)
	if err != nil {
		return undecided(res, fmt.Errorf("rules of %s: %w", w, err))
	}
	rs, err := iptables.Parse(rules)
	if err != nil {
		return undecided(res, fmt.Errorf("rules of %s: %w", w, err))
	}
	podIP, err := netip.ParseAddr(w.IP)
	if err != nil {
		return undecided(res, fmt.Errorf("address of %s: %w", w, err))
	}
	port := uint16(80)
	if len(w.Ports) > 0 {
		port = uint16(w.Ports[0])
	}
	env := istio.Env{PodIP: podIP, PeerIP: clusterIP.Next(), Iface: "eth0", ClusterIP: clusterIP, AppPort: port}
	o := istio.DefaultOptions(in.Version())
	o.DNSCapture = in.DNSCapture
	outcomes := istio.Check(rs, istio.Behaviours(o, env))
	var failed []string
	res.Interception = &Trails{Workload: w.String(), Istio: in.IstioVersion}
	for _, o := range outcomes {
		res.Interception.Behaviours = append(res.Interception.Behaviours, o.Checked())
		if !o.Pass() {
			failed = append(failed, o.Err.Error())
		}
	}
	res.Expected = fmt.Sprintf("%d behaviours hold", len(outcomes))
	res.Actual = fmt.Sprintf("%d hold, %d do not", len(outcomes)-len(failed), len(failed))
	res.Status = Pass
	if len(failed) > 0 {
		res.Status = Fail
		res.Detail = strings.Join(failed, "\n") + "\nrules:\n" + string(rules)
	}
	return res
}
