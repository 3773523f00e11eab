package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/iptables/istio"
)

func newIptablesCmd(s streams) *cobra.Command {
	return newGroupCmd("iptables", "read a pod's interception rules: predict a packet's fate, check Istio's behaviours",
		newExplainCmd(s),
		newIptablesCheckCmd(s),
	)
}

// loadRules reads and parses --rules; the error carries the exit code.
func loadRules(s streams, name string) (*iptables.Ruleset, error) {
	if name == "" {
		return nil, usageErr("--rules is required")
	}
	data, err := readInput(s, name)
	if err != nil {
		return nil, exitWith(exitNoInput, fmt.Errorf("cannot read rules: %w", err))
	}
	rs, err := iptables.Parse(data)
	if err != nil {
		return nil, exitWith(exitBadInput, fmt.Errorf("%s: %w", inputLabel(name), err))
	}
	return rs, nil
}

// addRulesFlag registers --rules, the file both iptables commands read.
func addRulesFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "rules", "", "rules `FILE`, or - for standard input (required)")
	_ = c.MarkFlagFilename("rules")
}

// optionalID is a flag for an optional UID or GID.
type optionalID struct{ v *uint32 }

func (o *optionalID) Type() string { return "id" }

func (o *optionalID) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*o.v), 10)
}

func (o *optionalID) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	v := uint32(n)
	o.v = &v
	return nil
}

// explainOptions are the flags of iptables explain.
type explainOptions struct {
	rules, hook, proto, src, dst, iface, podIP string
	uid, gid                                   optionalID
	output                                     outputFormat
}

func newExplainCmd(s streams) *cobra.Command {
	o := &explainOptions{}
	c := &cobra.Command{
		Use:   "explain --rules FILE --dst IP:PORT [flags]",
		Short: "predict what the rules do with one connection's first packet",
		Long: `RULES is iptables-save or ip6tables-save output (legacy or nft backend), an
"iptables -t nat -vnL" listing, "nft list ruleset" or "nft -j list ruleset";
the format is detected. "-" reads standard input.

The verdict is ACCEPT (untouched), REDIRECT, DNAT, TPROXY, DROP, REJECT, or
UNSUPPORTED when a rule the packet reaches uses a match the simulator does
not model (it is named; nothing is guessed). --iface defaults to lo for a
loopback destination or the pod's own address (--pod-ip), eth0 otherwise. Without --src, the source of a
packet the pod sends is chosen as the kernel would: 127.0.0.1 (::1) toward
loopback, the destination itself toward the pod's own address, --pod-ip
otherwise (the trail says which it chose).

Exit codes: 0 predicted, 1 UNSUPPORTED, 64 usage, 65 bad rules (file and
line named), 66 rules cannot be read.`,
		Example: `  # An app (UID 1000) connects to a ClusterIP: Istio sends it to Envoy's 15001.
  kubectl exec POD -c istio-proxy -- iptables-save > pod-rules.txt
  meshcheck iptables explain --rules pod-rules.txt --dst 10.96.0.1:443 --uid 1000 --gid 1000

  # Inbound from another pod, JSON output.
  meshcheck iptables explain --rules pod-rules.txt --hook prerouting --src 10.244.0.7:40000 --dst 10.244.0.10:9080 -o json

  # DNS over UDP, rules on standard input.
  nsenter -t PID -n iptables-save | meshcheck iptables explain --rules - --proto udp --dst 10.96.0.10:53 --uid 1000 --gid 1000`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return o.run(s) },
	}
	f := c.Flags()
	addRulesFlag(c, &o.rules)
	f.StringVar(&o.hook, "hook", "output", "where the packet enters: output (sent by the pod) or prerouting (arriving)")
	f.StringVar(&o.proto, "proto", "tcp", "tcp or udp")
	f.StringVar(&o.src, "src", "", "source `IP[:PORT]`")
	f.StringVar(&o.dst, "dst", "", "destination `IP:PORT` (required)")
	f.StringVar(&o.iface, "iface", "", "output interface (output) or input interface (prerouting)")
	f.StringVar(&o.podIP, "pod-ip", "", "the pod's `IP` (its eth0 address): without --src, a packet the pod sends to a remote address leaves from it, as the kernel would choose")
	f.Var(&o.uid, "uid", "UID of the sending socket (output)")
	f.Var(&o.gid, "gid", "GID of the sending socket (output)")
	addOutputFlag(c, &o.output)
	completeFlag(c, "hook", "output", "prerouting")
	completeFlag(c, "proto", "tcp", "udp")
	return c
}

// probe turns the flags into the packet to simulate.
func (o *explainOptions) probe() (iptables.Probe, error) {
	p := iptables.Probe{Hook: iptables.Hook(o.hook), Proto: o.proto, UID: o.uid.v, GID: o.gid.v}
	if p.Hook != iptables.HookOutput && p.Hook != iptables.HookPrerouting {
		return p, usageErr("--hook %q: want output or prerouting", o.hook)
	}
	if o.proto != "tcp" && o.proto != "udp" {
		return p, usageErr("--proto %q: want tcp or udp", o.proto)
	}
	if o.dst == "" {
		return p, usageErr("--dst IP:PORT is required")
	}
	d, err := netip.ParseAddrPort(o.dst)
	if err != nil {
		return p, usageErr("--dst %q: %w", o.dst, err)
	}
	p.Dst = d
	if o.src != "" {
		if ap, err := netip.ParseAddrPort(o.src); err == nil {
			p.Src = ap
		} else if a, err2 := netip.ParseAddr(o.src); err2 == nil {
			p.Src = netip.AddrPortFrom(a, 0)
		} else {
			return p, usageErr("--src %q: want IP or IP:PORT", o.src)
		}
	}
	if o.podIP != "" {
		if p.IfaceAddr, err = netip.ParseAddr(o.podIP); err != nil {
			return p, usageErr("--pod-ip %q: %w", o.podIP, err)
		}
	}
	ifc := o.iface
	if ifc == "" {
		ifc = "eth0"
		if d.Addr().IsLoopback() || d.Addr() == p.IfaceAddr {
			ifc = "lo"
		}
	}
	if p.Hook == iptables.HookOutput {
		p.OutIface = ifc
		return p, nil
	}
	p.InIface = ifc
	if p.UID != nil || p.GID != nil {
		return p, usageErr("--uid and --gid apply to the output hook only (arriving packets have no socket yet)")
	}
	return p, nil
}

func (o *explainOptions) run(s streams) error {
	p, err := o.probe()
	if err != nil {
		return err
	}
	rs, err := loadRules(s, o.rules)
	if err != nil {
		return err
	}
	res, err := iptables.Simulate(rs, p)
	if err != nil {
		return usageErr("%w", err)
	}
	if o.output.json() {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return exitWith(exitFail, fmt.Errorf("encoding JSON: %w", err))
		}
	} else {
		writeExplain(s.Out, p, res)
	}
	if res.Verdict == iptables.VerdictUnsupported {
		return exitCode(exitFail)
	}
	return nil
}

func writeExplain(w io.Writer, p iptables.Probe, r iptables.Result) {
	fmt.Fprintf(w, "probe:   %s\n", p)
	fmt.Fprintf(w, "verdict: %s", r.Verdict)
	if r.ToAddr != "" || r.ToPort != 0 {
		fmt.Fprint(w, " to ")
		if r.ToAddr != "" {
			fmt.Fprint(w, r.ToAddr)
		}
		if r.ToPort != 0 {
			fmt.Fprintf(w, ":%d", r.ToPort)
		}
	}
	fmt.Fprintln(w)
	if r.Unsupported != "" {
		fmt.Fprintf(w, "why:     %s\n", r.Unsupported)
	}
	if r.Mark != 0 || r.CTZone != 0 {
		fmt.Fprintf(w, "mark:    0x%x  ct zone: %d\n", r.Mark, r.CTZone)
	}
	if len(r.Trail) == 0 {
		fmt.Fprintln(w, "trail:   no rule matched")
		return
	}
	fmt.Fprintln(w, "trail:")
	for _, st := range r.Trail {
		fmt.Fprintf(w, "  %-8s %-18s %3d  %s\n", st.Table, st.Chain, st.Rule, st.Text)
	}
}

// checkReport is the JSON output of iptables check.
type checkReport struct {
	IstioVersion string         `json:"istioVersion"`
	Format       string         `json:"format"`
	Annotations  []string       `json:"annotations,omitempty"`
	Passed       int            `json:"passed"`
	Failed       int            `json:"failed"`
	Unsupported  []string       `json:"unsupportedRules,omitempty"`
	Behaviours   []checkOutcome `json:"behaviours"`
}

type checkOutcome struct {
	Name     string          `json:"name"`
	Expected string          `json:"expected"`
	Pass     bool            `json:"pass"`
	Result   iptables.Result `json:"result"`
	Probe    string          `json:"probe"`
	Error    string          `json:"error,omitempty"`
}

// iptablesCheckOptions are the flags of iptables check.
type iptablesCheckOptions struct {
	rules, istioVersion, podIP string
	// istioArgs is istio-iptables' command line, given after --.
	istioArgs                []string
	dns                      bool
	nameservers, annotations []string
	proxyUID, proxyGID       uint
	output                   outputFormat
}

func newIptablesCheckCmd(s streams) *cobra.Command {
	o := &iptablesCheckOptions{}
	c := &cobra.Command{
		Use:   "check --rules FILE [flags]",
		Short: "check the rules behave like Istio's interception",
		Long: `Checks the behaviours Istio's interception must have for the given version
and configuration, each a probe with an expected verdict: inbound TCP to an
app port goes to 15006 (TPROXY or REDIRECT), 15008/15020/15021/15090 are
untouched, outbound TCP from the app goes to 15001, traffic of UID or GID
1337 is untouched, 127.0.0.6 on lo returns, DNS to the nameserver goes to
15053 when DNS capture is on, excluded ports and ranges are untouched.

The configuration comes from the flags (an injected pod: the injector's
excluded inbound ports 15090, 15021, 15020, and its annotations), or, after
--, from istio-iptables' own command line (the istio-init container's args, or
"pilot-agent istio-iptables ..."), which then says everything: --annotation
and --dns-capture are refused beside it; --nameserver gives the pod's
resolv.conf servers for --redirect-dns without --capture-all-dns (default
10.96.0.10).

Exit codes: 0 every behaviour holds, 1 at least one fails, 64 usage, 65 bad
rules, 66 rules cannot be read.`,
		Example: `  meshcheck iptables check --rules pod-rules.txt --istio-version 1.30.2 --dns-capture
  meshcheck iptables check --rules pod-rules.txt -- istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x '' -b '*' -d 15090,15021,15020 --redirect-dns
  meshcheck iptables check --rules pod-rules-mysql.txt --dns-capture --nameserver 10.96.0.10 \
      --annotation traffic.sidecar.istio.io/excludeOutboundPorts=3306 -o json`,
		Args: argsAfterDash,
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.istioArgs = args
			}
			return o.run(s)
		},
	}
	f := c.Flags()
	addRulesFlag(c, &o.rules)
	f.StringVar(&o.istioVersion, "istio-version", "1.25.0", "Istio version X.Y[.Z] (the layout changed in 1.25)")
	f.BoolVar(&o.dns, "dns-capture", false, "ISTIO_META_DNS_CAPTURE is on")
	f.StringArrayVar(&o.nameservers, "nameserver", nil, "the pod's nameserver IP (repeatable; default 10.96.0.10 when DNS capture is on)")
	f.StringArrayVar(&o.annotations, "annotation", nil, "pod annotation `K=V` that changes interception (repeatable)")
	f.UintVar(&o.proxyUID, "proxy-uid", istio.ProxyID, "UID of istio-proxy")
	f.UintVar(&o.proxyGID, "proxy-gid", istio.ProxyID, "GID of istio-proxy")
	f.StringVar(&o.podIP, "pod-ip", "10.244.0.10", "the pod's IP, for the probes")
	addOutputFlag(c, &o.output)
	return c
}

// options turns the flags into Istio's interception options, the pod's
// annotations and environment.
func (o *iptablesCheckOptions) options() (istio.Options, map[string]string, istio.Env, error) {
	var env istio.Env
	v, err := istio.ParseVersion(o.istioVersion)
	if err != nil {
		return istio.Options{}, nil, env, usageErr("--istio-version: %w", err)
	}
	nameservers, err := parseNameservers(o.nameservers)
	if err != nil {
		return istio.Options{}, nil, env, err
	}
	var opts istio.Options
	var ann map[string]string
	if o.istioArgs != nil {
		opts, err = o.optionsFromIstioArgs(v, nameservers)
	} else {
		opts, ann, err = o.optionsFromFlags(v, nameservers)
	}
	if err != nil {
		return opts, nil, env, err
	}
	env = istio.DefaultEnv()
	if env.PodIP, err = netip.ParseAddr(o.podIP); err != nil {
		return opts, nil, env, usageErr("--pod-ip %q: %w", o.podIP, err)
	}
	return opts, ann, env, nil
}

func parseNameservers(list []string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, n := range list {
		a, err := netip.ParseAddr(n)
		if err != nil {
			return nil, usageErr("--nameserver %q: %w", n, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// optionsFromFlags: an injected pod, its annotations and the flags.
func (o *iptablesCheckOptions) optionsFromFlags(v istio.Version, nameservers []netip.Addr) (istio.Options, map[string]string, error) {
	opts := istio.DefaultOptions(v)
	opts.ProxyUID, opts.ProxyGID = uint32(o.proxyUID), uint32(o.proxyGID)
	opts.DNSCapture, opts.Nameservers = o.dns, nameservers
	if len(nameservers) > 0 && !o.dns {
		return opts, nil, usageErr("--nameserver needs --dns-capture")
	}
	ann, err := parseKV(o.annotations)
	if err != nil {
		return opts, nil, usageErr("--annotation: %w", err)
	}
	if err := opts.ApplyAnnotations(ann); err != nil {
		return opts, nil, usageErr("%w", err)
	}
	return opts, ann, nil
}

// optionsFromIstioArgs: istio-iptables' own command line says it all.
func (o *iptablesCheckOptions) optionsFromIstioArgs(v istio.Version, nameservers []netip.Addr) (istio.Options, error) {
	if len(o.annotations) > 0 || o.dns || o.proxyUID != istio.ProxyID || o.proxyGID != istio.ProxyID {
		return istio.Options{}, usageErr("--annotation, --dns-capture, --proxy-uid and --proxy-gid are istio-iptables' to say when its command line is given after --")
	}
	a, err := istio.ParseArgs(v, o.istioArgs)
	if err != nil {
		return istio.Options{}, usageErr("%w", err)
	}
	switch {
	case len(nameservers) > 0 && (!a.Options.DNSCapture || a.CaptureAllDNS):
		return a.Options, usageErr("--nameserver: the command line does not capture DNS per nameserver (needs --redirect-dns without --capture-all-dns)")
	case a.Options.DNSCapture && !a.CaptureAllDNS:
		a.Options.Nameservers = nameservers
		if len(nameservers) == 0 {
			a.Options.Nameservers = []netip.Addr{istio.DefaultEnv().Nameserver}
		}
	}
	return a.Options, nil
}

func (o *iptablesCheckOptions) run(s streams) error {
	opts, ann, env, err := o.options()
	if err != nil {
		return err
	}
	rs, err := loadRules(s, o.rules)
	if err != nil {
		return err
	}
	rep := newCheckReport(rs, opts, ann, istio.Check(rs, istio.Behaviours(opts, env)))
	if o.output.json() {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitWith(exitFail, fmt.Errorf("encoding JSON: %w", err))
		}
	} else {
		writeCheckReport(s.Out, rep)
	}
	if rep.Failed > 0 {
		return exitCode(exitFail)
	}
	return nil
}

// newCheckReport gathers the outcomes of the behaviours into the report.
func newCheckReport(rs *iptables.Ruleset, opts istio.Options, ann map[string]string, outs []istio.Outcome) checkReport {
	rep := checkReport{IstioVersion: opts.Version.String(), Format: string(rs.Format)}
	for _, k := range sortedKeys(ann) {
		rep.Annotations = append(rep.Annotations, k+"="+ann[k])
	}
	for _, u := range rs.Unsupported() {
		rep.Unsupported = append(rep.Unsupported, u.String())
	}
	for _, out := range outs {
		co := checkOutcome{Name: out.Behaviour.Name, Expected: out.Behaviour.String(), Pass: out.Pass(), Result: out.Result, Probe: out.Behaviour.Probe.String()}
		if out.Err != nil {
			co.Error = out.Err.Error()
			var me *istio.MismatchError
			if !errors.As(out.Err, &me) {
				co.Result = iptables.Result{Verdict: iptables.VerdictUnsupported, Unsupported: out.Err.Error(), Trail: []iptables.Step{}}
			}
			rep.Failed++
		} else {
			rep.Passed++
		}
		rep.Behaviours = append(rep.Behaviours, co)
	}
	return rep
}

func writeCheckReport(w io.Writer, rep checkReport) {
	fmt.Fprintf(w, "Istio %s interception behaviours (%s rules):\n", rep.IstioVersion, rep.Format)
	for _, b := range rep.Behaviours {
		mark := "PASS"
		if !b.Pass {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s  %s\n", mark, b.Expected)
		if !b.Pass {
			fmt.Fprintf(w, "      got %s\n", b.Result)
			fmt.Fprintf(w, "      probe %s\n", b.Probe)
		}
	}
	if len(rep.Unsupported) > 0 {
		fmt.Fprintf(w, "note: %d rule(s) use matches or targets the simulator does not model:\n  %s\n", len(rep.Unsupported), strings.Join(rep.Unsupported, "\n  "))
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", rep.Passed, rep.Failed)
}
