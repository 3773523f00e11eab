package istio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/knftables"

	istiolog "istio.io/istio/pkg/log"
	"istio.io/istio/tools/common/config"
	iptcapture "istio.io/istio/tools/istio-iptables/pkg/capture"
	iptconstants "istio.io/istio/tools/istio-iptables/pkg/constants"
	dep "istio.io/istio/tools/istio-iptables/pkg/dependencies"
	nftbuilder "istio.io/istio/tools/istio-nftables/pkg/builder"
	nftcapture "istio.io/istio/tools/istio-nftables/pkg/capture"
)

// The rules are not meshcheck's: they are what Istio's own generator, the
// code `pilot-agent istio-iptables` runs (tools/istio-iptables and
// tools/istio-nftables of the istio.io/istio module in go.mod), would apply
// for the options. It runs in-process with a recorder in place of the
// iptables binaries (iptables) or with knftables' fake (nftables), and the
// input it would hand to iptables-restore or nft is returned.

// Config maps o onto istio-iptables' configuration, the way the sidecar
// injector's istio-init arguments set it (-p 15001 -z 15006 -u -m -i -x -b
// -d -q -o -k -c, DNS capture from ISTIO_META_DNS_CAPTURE and the pod's
// resolv.conf).
func Config(o Options) (*config.Config, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c := config.DefaultConfig()
	c.ProxyPort = strconv.Itoa(OutboundPort)
	c.InboundCapturePort = strconv.Itoa(InboundPort)
	c.InboundTunnelPort = strconv.Itoa(HBONEPort)
	c.ProxyUID = joinIDs(append([]uint32{o.ProxyUID}, o.MoreProxyUIDs...))
	c.ProxyGID = joinIDs(append([]uint32{o.ProxyGID}, o.MoreProxyGIDs...))
	c.InboundInterceptionMode = string(o.Mode)
	c.InboundPortsInclude = "*"
	if o.IncludeInboundPorts != nil {
		c.InboundPortsInclude = joinPorts(o.IncludeInboundPorts)
	}
	c.InboundPortsExclude = joinPorts(o.injectorExcludedInbound())
	c.OutboundIPRangesInclude = "*"
	if !o.captureAllOutbound() {
		c.OutboundIPRangesInclude = joinPrefixes(o.IncludeOutboundIPRanges)
	}
	c.OutboundIPRangesExclude = joinPrefixes(o.ExcludeOutboundIPRanges)
	c.OutboundPortsInclude = joinPorts(o.IncludeOutboundPorts)
	c.OutboundPortsExclude = joinPorts(o.ExcludeOutboundPorts)
	c.RerouteVirtualInterfaces = strings.Join(o.RerouteInterfaces, ",")
	c.ExcludeInterfaces = strings.Join(o.ExcludeInterfaces, ",")
	c.OwnerGroupsInclude = "*"
	if o.OwnerGroupsInclude != nil {
		c.OwnerGroupsInclude = joinIDs(o.OwnerGroupsInclude)
	}
	c.OwnerGroupsExclude = joinIDs(o.OwnerGroupsExclude)
	c.RedirectDNS = o.DNSCapture
	c.CaptureAllDNS = o.DNSCapture && len(o.Nameservers) == 0
	for _, n := range o.Nameservers {
		if n.Is4() {
			c.DNSServersV4 = append(c.DNSServersV4, n.String())
		} else {
			c.DNSServersV6 = append(c.DNSServersV6, n.String())
		}
	}
	c.EnableIPv6 = o.IPv6
	c.NativeNftables = o.NativeNftables
	c.ForceApply = true
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("istio-iptables configuration: %w", err)
	}
	return c, nil
}

// IPTablesSave returns the IPv4 rules Istio's generator writes for o, the
// input it hands to iptables-restore (loadable with iptables-restore,
// readable by iptables.ParseSave).
func IPTablesSave(o Options) (string, error) {
	v4, _, err := iptablesRestoreInputs(o, nil)
	return v4, err
}

// IPTablesSaveChanged is IPTablesSave with istio-iptables' configuration
// changed after the options are mapped onto it (see Change): the rules a
// pod gets when what reaches istio-iptables is not what its options say.
func IPTablesSaveChanged(o Options, changes []Change) (string, error) {
	v4, _, err := iptablesRestoreInputs(o, changes)
	return v4, err
}

// IP6TablesSave returns the IPv6 rules (ip6tables-restore input); o.IPv6
// must be set.
func IP6TablesSave(o Options) (string, error) {
	if !o.IPv6 {
		return "", fmt.Errorf("IPv6 is off in the options: istio-iptables writes no ip6tables rules")
	}
	_, v6, err := iptablesRestoreInputs(o, nil)
	return v6, err
}

// NftRuleset returns the nft script Istio's native nftables mode (1.27 and
// later) applies for o: add/insert commands for tables inet istio-proxy-nat,
// istio-proxy-mangle and istio-proxy-raw, loadable with nft -f and readable by
// iptables.ParseNft. IPv4 and IPv6 rules share the inet tables.
func NftRuleset(o Options) (string, error) {
	if !o.NativeNftables {
		return "", fmt.Errorf("native nftables is off: use IPTablesSave")
	}
	c, err := Config(o)
	if err != nil {
		return "", err
	}
	fake := nftbuilder.NewMockNftables("", "")
	provider := func(knftables.Family, string) (nftbuilder.NftablesAPI, error) { return fake, nil }
	conf, err := nftcapture.NewNftablesConfigurator(c, provider)
	if err != nil {
		return "", fmt.Errorf("istio-nftables: %w", err)
	}
	var tx *knftables.Transaction
	quietly(func() { tx, err = conf.Run() })
	if err != nil {
		return "", fmt.Errorf("istio-nftables: %w", err)
	}
	return tx.String(), nil
}

func iptablesRestoreInputs(o Options, changes []Change) (v4, v6 string, err error) {
	if o.NativeNftables {
		return "", "", fmt.Errorf("native nftables is on: use NftRuleset")
	}
	c, err := Config(o)
	if err != nil {
		return "", "", err
	}
	for _, ch := range changes {
		if err := ch.apply(c); err != nil {
			return "", "", err
		}
	}
	if err := c.Validate(); err != nil {
		return "", "", fmt.Errorf("istio-iptables configuration after %v: %w", changes, err)
	}
	rec := &recorder{}
	conf, err := iptcapture.NewIptablesConfigurator(c, rec)
	if err != nil {
		return "", "", fmt.Errorf("istio-iptables: %w", err)
	}
	quietly(func() { err = conf.Run() })
	if err != nil {
		return "", "", fmt.Errorf("istio-iptables: %w", err)
	}
	return rec.restore["iptables-restore"], rec.restore["ip6tables-restore"], nil
}

// recorder stands in for the iptables binaries: it keeps the input of each
// restore and answers every other command (iptables-save, the -C checks of
// the state verification) with empty output, as on a fresh pod.
type recorder struct {
	restore map[string]string
}

var _ dep.Dependencies = (*recorder)(nil)

func (r *recorder) Run(_ *istiolog.Scope, _ bool, cmd iptconstants.IptablesCmd, v *dep.IptablesVersion, stdin io.ReadSeeker, _ ...string) (*bytes.Buffer, error) {
	if cmd != iptconstants.IPTablesRestore || stdin == nil {
		return &bytes.Buffer{}, nil
	}
	var b strings.Builder
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteString("\n")
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if r.restore == nil {
		r.restore = map[string]string{}
	}
	r.restore[v.DetectedRestoreBinary] += b.String()
	return &bytes.Buffer{}, nil
}

func (r *recorder) DetectIptablesVersion(ipv6 bool) (dep.IptablesVersion, error) {
	p := "iptables"
	if ipv6 {
		p = "ip6tables"
	}
	return dep.IptablesVersion{DetectedBinary: p, DetectedSaveBinary: p + "-save", DetectedRestoreBinary: p + "-restore"}, nil
}

// quietMu serialises the generator runs that silence Istio's default log
// scope (the generators log their whole configuration at info level).
var quietMu sync.Mutex

func quietly(f func()) {
	quietMu.Lock()
	defer quietMu.Unlock()
	s := istiolog.RegisterScope(istiolog.DefaultScopeName, "")
	lvl := s.GetOutputLevel()
	s.SetOutputLevel(istiolog.ErrorLevel)
	defer s.SetOutputLevel(lvl)
	f()
}

func joinPorts(ps []uint16) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}

func joinIDs(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ",")
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
