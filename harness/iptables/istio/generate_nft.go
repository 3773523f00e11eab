package istio

import (
	"fmt"
	"strings"
)

// nftTable collects one nftables table in `nft list ruleset` form.
type nftTable struct {
	name   string
	order  []string
	heads  map[string]string
	chains map[string][]string
}

func newNftTable(name string) *nftTable {
	return &nftTable{name: name, heads: map[string]string{}, chains: map[string][]string{}}
}

func (t *nftTable) chain(name, head string) {
	if _, ok := t.heads[name]; ok {
		return
	}
	t.order = append(t.order, name)
	t.heads[name] = head
}

func (t *nftTable) add(chain, rule string) {
	t.chain(chain, "")
	t.chains[chain] = append(t.chains[chain], rule)
}

func (t *nftTable) write(b *strings.Builder) {
	fmt.Fprintf(b, "table inet %s {\n", t.name)
	for i, c := range t.order {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "\tchain %s {\n", c)
		if h := t.heads[c]; h != "" {
			fmt.Fprintf(b, "\t\t%s\n", h)
		}
		for _, r := range t.chains[c] {
			fmt.Fprintf(b, "\t\t%s\n", r)
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
}

func nftSet(ps []uint16) string {
	if len(ps) == 1 {
		return fmt.Sprint(ps[0])
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return "{ " + strings.Join(s, ", ") + " }"
}

// NftRuleset returns the IPv4 rules of Istio's native nftables mode (1.27 and
// later) for o, in `nft list ruleset` form (loadable with nft -f). Only the
// REDIRECT mode is generated.
func NftRuleset(o Options) (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	if !o.NativeNftables {
		return "", fmt.Errorf("native nftables is off: use IPTablesSave")
	}
	if o.Mode != ModeRedirect {
		return "", fmt.Errorf("mode %s: only REDIRECT is generated for native nftables", o.Mode)
	}
	nat := newNftTable("istio-proxy-nat")
	inboundAll := o.IncludeInboundPorts == nil
	if inboundAll || len(o.IncludeInboundPorts) > 0 {
		nat.chain("prerouting", "type nat hook prerouting priority -100; policy accept;")
	}
	nat.chain("output", "type nat hook output priority -100; policy accept;")
	for _, c := range []string{"istio-inbound", "istio-redirect", "istio-in-redirect", "istio-output"} {
		nat.chain(c, "")
	}
	if inboundAll {
		nat.add("istio-inbound", "tcp dport "+nftSet(o.excludedInbound())+" counter return")
		nat.add("istio-inbound", "meta l4proto tcp counter jump istio-in-redirect")
	} else {
		nat.add("istio-inbound", fmt.Sprintf("tcp dport %d counter return", HBONEPort))
		for _, p := range o.IncludeInboundPorts {
			nat.add("istio-inbound", fmt.Sprintf("tcp dport %d counter jump istio-in-redirect", p))
		}
	}
	if inboundAll || len(o.IncludeInboundPorts) > 0 {
		nat.add("prerouting", "meta l4proto tcp counter jump istio-inbound")
	}
	nat.add("istio-redirect", fmt.Sprintf("meta l4proto tcp counter redirect to :%d", OutboundPort))
	nat.add("istio-in-redirect", fmt.Sprintf("meta l4proto tcp counter redirect to :%d", InboundPort))
	nat.add("output", "counter jump istio-output")
	nat.add("istio-output", `oifname "lo" ip saddr 127.0.0.6 counter return`)
	keys := []string{fmt.Sprintf("meta skuid %d", o.ProxyUID), fmt.Sprintf("meta skgid %d", o.ProxyGID)}
	for i, k := range keys {
		notK := strings.Replace(k, " "+strings.Fields(k)[2], " != "+strings.Fields(k)[2], 1)
		if o.DNSCapture && i == 0 {
			nat.add("istio-output", fmt.Sprintf(`oifname "lo" ip daddr != 127.0.0.1 tcp dport != { 53, %d } %s counter jump istio-in-redirect`, HBONEPort, k))
		} else {
			nat.add("istio-output", fmt.Sprintf(`oifname "lo" ip daddr != 127.0.0.1 tcp dport != %d %s counter jump istio-in-redirect`, HBONEPort, k))
		}
		if o.DNSCapture {
			nat.add("istio-output", fmt.Sprintf(`oifname "lo" tcp dport != 53 %s counter return`, notK))
		} else {
			nat.add("istio-output", fmt.Sprintf(`oifname "lo" %s counter return`, notK))
		}
		nat.add("istio-output", k+" counter return")
	}
	var raw *nftTable
	if o.DNSCapture {
		nat.chain("istio-output-dns", "")
		nat.add("istio-output", "counter jump istio-output-dns")
		daddrs := []string{""}
		if len(o.Nameservers) > 0 {
			daddrs = nil
			for _, n := range o.Nameservers {
				daddrs = append(daddrs, "ip daddr "+n.String()+" ")
			}
		}
		for _, d := range daddrs {
			nat.add("istio-output-dns", d+fmt.Sprintf("tcp dport 53 counter redirect to :%d", DNSPort))
			nat.add("istio-output-dns", d+fmt.Sprintf("udp dport 53 counter redirect to :%d", DNSPort))
		}
		raw = newNftTable("istio-proxy-raw")
		raw.chain("prerouting", "type filter hook prerouting priority -300; policy accept;")
		raw.chain("output", "type filter hook output priority -300; policy accept;")
		raw.add("output", "counter jump istio-output-dns")
		raw.add("prerouting", "counter jump istio-inbound")
		for _, k := range keys {
			raw.add("istio-output-dns", "udp dport 53 "+k+" counter ct zone set 1")
			raw.add("istio-output-dns", fmt.Sprintf("udp sport %d %s counter ct zone set 2", DNSPort, k))
		}
		for _, d := range daddrs {
			raw.add("istio-output-dns", d+"udp dport 53 counter ct zone set 2")
			raw.add("istio-inbound", strings.Replace(d, "daddr", "saddr", 1)+"udp sport 53 counter ct zone set 1")
		}
	}
	nat.add("istio-output", "ip daddr 127.0.0.1 counter return")
	for _, p := range o.ExcludeOutboundPorts {
		nat.add("istio-output", fmt.Sprintf("tcp dport %d counter return", p))
	}
	for _, p := range o.ExcludeOutboundIPRanges {
		nat.add("istio-output", "ip daddr "+p.String()+" counter return")
	}
	if o.captureAllOutbound() {
		nat.add("istio-output", "counter jump istio-redirect")
	} else {
		for _, p := range o.IncludeOutboundIPRanges {
			nat.add("istio-output", "ip daddr "+p.String()+" counter jump istio-redirect")
		}
	}
	var b strings.Builder
	nat.write(&b)
	if raw != nil {
		raw.write(&b)
	}
	return b.String(), nil
}
