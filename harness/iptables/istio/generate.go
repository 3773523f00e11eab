package istio

import (
	"fmt"
	"net/netip"
	"strings"
)

// table collects one iptables table in iptables-save form.
type table struct {
	name   string
	chains []string
	rules  []string
}

func (t *table) chain(names ...string) { t.chains = append(t.chains, names...) }
func (t *table) add(chain, spec string) {
	t.rules = append(t.rules, "-A "+chain+" "+spec)
}

func (t *table) write(b *strings.Builder) {
	if len(t.rules) == 0 {
		return
	}
	fmt.Fprintf(b, "*%s\n", t.name)
	for _, c := range builtin[t.name] {
		fmt.Fprintf(b, ":%s ACCEPT [0:0]\n", c)
	}
	for _, c := range t.chains {
		fmt.Fprintf(b, ":%s - [0:0]\n", c)
	}
	for _, r := range t.rules {
		b.WriteString(r + "\n")
	}
	b.WriteString("COMMIT\n")
}

var builtin = map[string][]string{
	"raw":    {"PREROUTING", "OUTPUT"},
	"mangle": {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"nat":    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
}

// dnsTargets are the "-d NS/32 " prefixes of the DNS rules ("" captures all).
func (o Options) dnsTargets() []string {
	if len(o.Nameservers) == 0 {
		return []string{""}
	}
	out := make([]string, len(o.Nameservers))
	for i, n := range o.Nameservers {
		out[i] = "-d " + netip.PrefixFrom(n, n.BitLen()).String() + " "
	}
	return out
}

// owners returns "--uid-owner N" and "--gid-owner N" owner options.
func (o Options) owners() []string {
	return []string{fmt.Sprintf("--uid-owner %d", o.ProxyUID), fmt.Sprintf("--gid-owner %d", o.ProxyGID)}
}

// IPTablesSave returns the IPv4 rules istio-iptables writes for o, in
// iptables-save form (loadable with iptables-restore).
func IPTablesSave(o Options) (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	if o.NativeNftables {
		return "", fmt.Errorf("native nftables is on: use NftRuleset")
	}
	nat := &table{name: "nat"}
	raw := &table{name: "raw"}
	mangle := &table{name: "mangle"}
	new125 := o.Version.AtLeast(1, 25)

	nat.chain("ISTIO_INBOUND", "ISTIO_IN_REDIRECT", "ISTIO_OUTPUT", "ISTIO_REDIRECT")
	if o.DNSCapture && new125 {
		nat.chain("ISTIO_OUTPUT_DNS")
	}

	// Inbound.
	inboundAll := o.IncludeInboundPorts == nil
	if o.Mode == ModeRedirect {
		if inboundAll || len(o.IncludeInboundPorts) > 0 {
			nat.add("PREROUTING", "-p tcp -j ISTIO_INBOUND")
		}
		if inboundAll {
			for _, p := range o.excludedInbound() {
				nat.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -j RETURN", p))
			}
			nat.add("ISTIO_INBOUND", "-p tcp -j ISTIO_IN_REDIRECT")
		} else {
			nat.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -j RETURN", HBONEPort))
			for _, p := range o.IncludeInboundPorts {
				nat.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -j ISTIO_IN_REDIRECT", p))
			}
		}
	} else {
		nat.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -j RETURN", HBONEPort))
		mangle.chain("ISTIO_DIVERT", "ISTIO_INBOUND", "ISTIO_TPROXY")
		mangle.add("ISTIO_DIVERT", fmt.Sprintf("-j MARK --set-xmark 0x%x/0xffffffff", ProxyID))
		mangle.add("ISTIO_DIVERT", "-j ACCEPT")
		mangle.add("ISTIO_TPROXY", fmt.Sprintf("! -d 127.0.0.1/32 -p tcp -j TPROXY --on-port %d --on-ip 0.0.0.0 --tproxy-mark 0x%x/0xffffffff", InboundPort, ProxyID))
		if inboundAll || len(o.IncludeInboundPorts) > 0 {
			mangle.add("PREROUTING", "-p tcp -j ISTIO_INBOUND")
		}
		mangle.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m mark --mark 0x%x -j RETURN", ProxyID))
		mangle.add("ISTIO_INBOUND", "-s 127.0.0.6/32 -i lo -p tcp -j RETURN")
		mangle.add("ISTIO_INBOUND", fmt.Sprintf("-i lo -p tcp -m mark ! --mark 0x%x -j RETURN", ProxyID+1))
		if inboundAll {
			for _, p := range o.excludedInbound() {
				mangle.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -j RETURN", p))
			}
			mangle.add("ISTIO_INBOUND", "-p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT")
			mangle.add("ISTIO_INBOUND", "-p tcp -j ISTIO_TPROXY")
		} else {
			for _, p := range o.IncludeInboundPorts {
				mangle.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT", p))
				mangle.add("ISTIO_INBOUND", fmt.Sprintf("-p tcp -m tcp --dport %d -j ISTIO_TPROXY", p))
			}
		}
		mangle.add("PREROUTING", fmt.Sprintf("-p tcp -m mark --mark 0x%x -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff", ProxyID))
		mangle.add("OUTPUT", fmt.Sprintf("-o lo -p tcp -m mark --mark 0x%x -j RETURN", ProxyID))
		for _, own := range o.owners() {
			mangle.add("OUTPUT", fmt.Sprintf("! -d 127.0.0.1/32 -o lo -p tcp -m owner %s -j MARK --set-xmark 0x%x/0xffffffff", own, ProxyID+1))
		}
		mangle.add("OUTPUT", fmt.Sprintf("-p tcp -m connmark --mark 0x%x -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff", ProxyID))
	}
	nat.add("ISTIO_IN_REDIRECT", fmt.Sprintf("-p tcp -j REDIRECT --to-ports %d", InboundPort))
	nat.add("ISTIO_REDIRECT", fmt.Sprintf("-p tcp -j REDIRECT --to-ports %d", OutboundPort))

	// Outbound.
	if new125 {
		nat.add("OUTPUT", "-j ISTIO_OUTPUT")
	} else {
		nat.add("OUTPUT", "-p tcp -j ISTIO_OUTPUT")
		if o.DNSCapture {
			for _, own := range o.owners() {
				nat.add("OUTPUT", "-p udp -m udp --dport 53 -m owner "+own+" -j RETURN")
			}
			for _, d := range o.dnsTargets() {
				nat.add("OUTPUT", d+fmt.Sprintf("-p udp -m udp --dport 53 -j REDIRECT --to-ports %d", DNSPort))
			}
		}
	}
	nat.add("ISTIO_OUTPUT", "-s 127.0.0.6/32 -o lo -j RETURN")
	for i, own := range o.owners() {
		// The uid rule keeps DNS on lo out of 15006 when DNS is captured.
		switch {
		case o.DNSCapture && i == 0:
			nat.add("ISTIO_OUTPUT", fmt.Sprintf("! -d 127.0.0.1/32 -o lo -p tcp -m multiport ! --dports 53,%d -m owner %s -j ISTIO_IN_REDIRECT", HBONEPort, own))
		default:
			nat.add("ISTIO_OUTPUT", fmt.Sprintf("! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport %d -m owner %s -j ISTIO_IN_REDIRECT", HBONEPort, own))
		}
		if o.DNSCapture {
			nat.add("ISTIO_OUTPUT", "-o lo -p tcp -m tcp ! --dport 53 -m owner ! "+own+" -j RETURN")
		} else {
			nat.add("ISTIO_OUTPUT", "-o lo -m owner ! "+own+" -j RETURN")
		}
		nat.add("ISTIO_OUTPUT", "-m owner "+own+" -j RETURN")
	}
	if o.DNSCapture {
		if new125 {
			nat.add("ISTIO_OUTPUT", "-j ISTIO_OUTPUT_DNS")
			for _, d := range o.dnsTargets() {
				nat.add("ISTIO_OUTPUT_DNS", d+fmt.Sprintf("-p tcp -m tcp --dport 53 -j REDIRECT --to-ports %d", DNSPort))
				nat.add("ISTIO_OUTPUT_DNS", d+fmt.Sprintf("-p udp -m udp --dport 53 -j REDIRECT --to-ports %d", DNSPort))
			}
		} else {
			for _, d := range o.dnsTargets() {
				nat.add("ISTIO_OUTPUT", d+fmt.Sprintf("-p tcp -m tcp --dport 53 -j REDIRECT --to-ports %d", DNSPort))
			}
		}
		// Conntrack zones keep the proxy's and the app's DNS flows apart.
		outChain, inChain := "OUTPUT", "PREROUTING"
		if new125 {
			outChain, inChain = "ISTIO_OUTPUT_DNS", "ISTIO_INBOUND"
			raw.chain("ISTIO_OUTPUT_DNS", "ISTIO_INBOUND")
			raw.add("OUTPUT", "-j ISTIO_OUTPUT_DNS")
			raw.add("PREROUTING", "-j ISTIO_INBOUND")
		}
		for _, own := range o.owners() {
			raw.add(outChain, "-p udp -m udp --dport 53 -m owner "+own+" -j CT --zone 1")
			raw.add(outChain, fmt.Sprintf("-p udp -m udp --sport %d -m owner %s -j CT --zone 2", DNSPort, own))
		}
		for _, d := range o.dnsTargets() {
			raw.add(outChain, d+"-p udp -m udp --dport 53 -j CT --zone 2")
			raw.add(inChain, strings.Replace(d, "-d ", "-s ", 1)+"-p udp -m udp --sport 53 -j CT --zone 1")
		}
	}
	nat.add("ISTIO_OUTPUT", "-d 127.0.0.1/32 -j RETURN")
	for _, p := range o.ExcludeOutboundPorts {
		nat.add("ISTIO_OUTPUT", fmt.Sprintf("-p tcp -m tcp --dport %d -j RETURN", p))
	}
	for _, p := range o.ExcludeOutboundIPRanges {
		nat.add("ISTIO_OUTPUT", "-d "+p.String()+" -j RETURN")
	}
	if o.captureAllOutbound() {
		nat.add("ISTIO_OUTPUT", "-j ISTIO_REDIRECT")
	} else {
		for _, p := range o.IncludeOutboundIPRanges {
			nat.add("ISTIO_OUTPUT", "-d "+p.String()+" -j ISTIO_REDIRECT")
		}
	}
	var b strings.Builder
	b.WriteString("# Generated by meshcheck for istio " + o.Version.String() + "\n")
	for _, t := range []*table{raw, mangle, nat} {
		t.write(&b)
	}
	return b.String(), nil
}
