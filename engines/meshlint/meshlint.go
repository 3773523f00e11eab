// Package meshlint checks Istio configuration before it reaches a proxy,
// for mistakes that are legal and silently do nothing.
package meshlint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/fixtures"
)

// Finding is one mistake, with what was meant when it can tell.
type Finding struct {
	Config  string // kind namespace/name
	Host    string
	Message string
}

func (f Finding) String() string { return f.Config + ": " + f.Message }

// VirtualServiceHosts flags VirtualService hosts that resolve to no service:
// a short host ("hello") is read as hello.<namespace>.svc.<domain>; when no
// Service has that name and no ServiceEntry declares that host, the
// VirtualService applies to nothing (seed 004's pitfall: the ServiceEntry
// said hello.example.com). services are the known Kubernetes Service FQDNs
// and ServiceEntry hosts besides those in configs.
func VirtualServiceHosts(configs []*fixtures.Config, domain string, services []string) []Finding {
	known := map[string]bool{}
	for _, s := range services {
		known[s] = true
	}
	for _, c := range configs {
		if c.Kind == "ServiceEntry" {
			for _, h := range c.Hosts() {
				known[h] = true
			}
		}
	}
	all := make([]string, 0, len(known))
	for h := range known {
		all = append(all, h)
	}
	sort.Strings(all)
	var out []Finding
	for _, c := range configs {
		if c.Kind != "VirtualService" || len(gateways(c)) > 0 && !meshGateway(c) {
			continue
		}
		for _, h := range c.Hosts() {
			if h == "*" || strings.HasPrefix(h, "*.") {
				continue
			}
			fq := h
			if !strings.Contains(h, ".") {
				fq = h + "." + c.Namespace + ".svc." + domain
			}
			if known[fq] || known[h] {
				continue
			}
			msg := fmt.Sprintf("host %q resolves to %s, which no Service or ServiceEntry declares: the VirtualService applies to nothing", h, fq)
			if cands := xds.Closest(h, all, 1); len(cands) > 0 {
				msg += fmt.Sprintf("; did you mean %s?", cands[0])
			}
			out = append(out, Finding{Config: fmt.Sprintf("VirtualService %s/%s", c.Namespace, c.Name), Host: h, Message: msg})
		}
	}
	return out
}

func gateways(c *fixtures.Config) []string {
	gs, _ := c.Spec["gateways"].([]any)
	var out []string
	for _, g := range gs {
		if s, ok := g.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func meshGateway(c *fixtures.Config) bool {
	for _, g := range gateways(c) {
		if g == "mesh" {
			return true
		}
	}
	return false
}
