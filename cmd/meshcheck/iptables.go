package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/meshcheck/meshcheck/harness/iptables"
	"github.com/meshcheck/meshcheck/harness/iptables/istio"
)

func iptablesGroup() group {
	return group{
		name:    "iptables",
		summary: "read a pod's interception rules: predict a packet's fate, check Istio's behaviours",
		commands: []command{
			{name: "explain", summary: "predict what the rules do with one connection's first packet", usage: explainUsage, run: runExplain},
			{name: "check", summary: "check the rules behave like Istio's interception", usage: checkUsage, run: runCheck},
		},
	}
}

const explainUsage = `
RULES is iptables-save or ip6tables-save output (legacy or nft backend), an
"iptables -t nat -vnL" listing, "nft list ruleset" or "nft -j list ruleset";
the format is detected. "-" reads standard input.

The verdict is ACCEPT (untouched), REDIRECT, DNAT, TPROXY, DROP, REJECT, or
UNSUPPORTED when a rule the packet reaches uses a match the simulator does
not model (it is named; nothing is guessed). --iface defaults to lo for a
loopback destination and eth0 otherwise.

Exit codes: 0 predicted, 1 UNSUPPORTED, 64 usage, 65 bad rules (file and
line named), 66 rules cannot be read.

Examples:
  # An app (UID 1000) connects to a ClusterIP: Istio sends it to Envoy's 15001.
  kubectl exec POD -c istio-proxy -- iptables-save > rules.txt
  meshcheck iptables explain --rules rules.txt --dst 10.96.0.1:443 --uid 1000 --gid 1000

  # Inbound from another pod, JSON output.
  meshcheck iptables explain --rules rules.txt --hook prerouting --src 10.244.0.7:40000 --dst 10.244.0.10:9080 -o json

  # DNS over UDP, rules on standard input.
  nsenter -t PID -n iptables-save | meshcheck iptables explain --rules - --proto udp --dst 10.96.0.10:53 --uid 1000 --gid 1000
`

const checkUsage = `
Checks the behaviours Istio's interception must have for the given version
and configuration, each a probe with an expected verdict: inbound TCP to an
app port goes to 15006 (TPROXY or REDIRECT), 15008/15020/15021/15090 are
untouched, outbound TCP from the app goes to 15001, traffic of UID or GID
1337 is untouched, 127.0.0.6 on lo returns, DNS to the nameserver goes to
15053 when DNS capture is on, excluded ports and ranges are untouched.

Exit codes: 0 every behaviour holds, 1 at least one fails, 64 usage, 65 bad
rules, 66 rules cannot be read.

Examples:
  meshcheck iptables check --rules rules.txt --istio-version 1.29.0
  meshcheck iptables check --rules rules.txt --dns-capture --nameserver 10.96.0.10 \
      --annotation traffic.sidecar.istio.io/excludeOutboundPorts=3306 -o json
`

// loadRules reads and parses --rules; code is non-zero on failure.
func loadRules(s streams, fs *flag.FlagSet, name string) (*iptables.Ruleset, int) {
	if name == "" {
		return nil, usageError(s, fs, "--rules is required")
	}
	data, err := readInput(s, name)
	if err != nil {
		fmt.Fprintf(s.Err, "%s: cannot read rules: %v\n", fs.Name(), err)
		return nil, exitNoInput
	}
	rs, err := iptables.Parse(data)
	if err != nil {
		label := name
		if name == "-" {
			label = "<stdin>"
		}
		fmt.Fprintf(s.Err, "%s: %s: %v\n", fs.Name(), label, err)
		return nil, exitBadInput
	}
	return rs, 0
}

// optionalID is a flag for an optional UID or GID.
type optionalID struct{ v *uint32 }

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

func runExplain(ctx context.Context, s streams, args []string) int {
	fs := newFlagSet("iptables", command{name: "explain", summary: "predict what the rules do with one connection's first packet", usage: explainUsage}, s)
	rules := fs.String("rules", "", "rules file, or - for standard input (required)")
	hook := fs.String("hook", "output", "where the packet enters: output (sent by the pod) or prerouting (arriving)")
	proto := fs.String("proto", "tcp", "tcp or udp")
	src := fs.String("src", "", "source IP[:PORT]")
	dst := fs.String("dst", "", "destination IP:PORT (required)")
	iface := fs.String("iface", "", "output interface (output) or input interface (prerouting)")
	format := outputFlag(fs)
	var uid, gid optionalID
	fs.Var(&uid, "uid", "UID of the sending socket (output)")
	fs.Var(&gid, "gid", "GID of the sending socket (output)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected argument %q", fs.Arg(0))
	}
	if code, bad := badOutput(s, fs, *format); bad {
		return code
	}
	p := iptables.Probe{Hook: iptables.Hook(*hook), Proto: *proto, UID: uid.v, GID: gid.v}
	if p.Hook != iptables.HookOutput && p.Hook != iptables.HookPrerouting {
		return usageError(s, fs, "--hook %q: want output or prerouting", *hook)
	}
	if *proto != "tcp" && *proto != "udp" {
		return usageError(s, fs, "--proto %q: want tcp or udp", *proto)
	}
	if *dst == "" {
		return usageError(s, fs, "--dst IP:PORT is required")
	}
	d, err := netip.ParseAddrPort(*dst)
	if err != nil {
		return usageError(s, fs, "--dst %q: %v", *dst, err)
	}
	p.Dst = d
	if *src != "" {
		if ap, err := netip.ParseAddrPort(*src); err == nil {
			p.Src = ap
		} else if a, err2 := netip.ParseAddr(*src); err2 == nil {
			p.Src = netip.AddrPortFrom(a, 0)
		} else {
			return usageError(s, fs, "--src %q: want IP or IP:PORT", *src)
		}
	}
	ifc := *iface
	if ifc == "" {
		ifc = "eth0"
		if d.Addr().IsLoopback() {
			ifc = "lo"
		}
	}
	if p.Hook == iptables.HookOutput {
		p.OutIface = ifc
	} else {
		p.InIface = ifc
		if p.UID != nil || p.GID != nil {
			return usageError(s, fs, "--uid and --gid apply to the output hook only (arriving packets have no socket yet)")
		}
	}
	rs, code := loadRules(s, fs, *rules)
	if code != 0 {
		return code
	}
	res, err := iptables.Simulate(rs, p)
	if err != nil {
		return usageError(s, fs, "%v", err)
	}
	if *format == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return exitFail
		}
	} else {
		writeExplain(s.Out, p, res)
	}
	if res.Verdict == iptables.VerdictUnsupported {
		return exitFail
	}
	return exitOK
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

func runCheck(ctx context.Context, s streams, args []string) int {
	fs := newFlagSet("iptables", command{name: "check", summary: "check the rules behave like Istio's interception", usage: checkUsage}, s)
	rules := fs.String("rules", "", "rules file, or - for standard input (required)")
	version := fs.String("istio-version", "1.25.0", "Istio version X.Y[.Z] (the layout changed in 1.25)")
	dns := fs.Bool("dns-capture", false, "ISTIO_META_DNS_CAPTURE is on")
	var nameservers, annotations multiFlag
	fs.Var(&nameservers, "nameserver", "the pod's nameserver IP (repeatable; default 10.96.0.10 when DNS capture is on)")
	fs.Var(&annotations, "annotation", "pod annotation K=V that changes interception (repeatable)")
	proxyUID := fs.Uint("proxy-uid", istio.ProxyID, "UID of istio-proxy")
	proxyGID := fs.Uint("proxy-gid", istio.ProxyID, "GID of istio-proxy")
	podIP := fs.String("pod-ip", "10.244.0.10", "the pod's IP, for the probes")
	format := outputFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(s, fs, "unexpected argument %q", fs.Arg(0))
	}
	if code, bad := badOutput(s, fs, *format); bad {
		return code
	}
	v, err := istio.ParseVersion(*version)
	if err != nil {
		return usageError(s, fs, "--istio-version: %v", err)
	}
	o := istio.DefaultOptions(v)
	o.ProxyUID, o.ProxyGID = uint32(*proxyUID), uint32(*proxyGID)
	o.DNSCapture = *dns
	for _, n := range nameservers {
		a, err := netip.ParseAddr(n)
		if err != nil {
			return usageError(s, fs, "--nameserver %q: %v", n, err)
		}
		o.Nameservers = append(o.Nameservers, a)
	}
	if len(nameservers) > 0 && !*dns {
		return usageError(s, fs, "--nameserver needs --dns-capture")
	}
	ann, err := parseKV(annotations)
	if err != nil {
		return usageError(s, fs, "--annotation: %v", err)
	}
	if err := o.ApplyAnnotations(ann); err != nil {
		return usageError(s, fs, "%v", err)
	}
	env := istio.DefaultEnv()
	if env.PodIP, err = netip.ParseAddr(*podIP); err != nil {
		return usageError(s, fs, "--pod-ip %q: %v", *podIP, err)
	}
	rs, code := loadRules(s, fs, *rules)
	if code != 0 {
		return code
	}
	outs := istio.Check(rs, istio.Behaviours(o, env))
	rep := checkReport{IstioVersion: v.String(), Format: string(rs.Format)}
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
	if *format == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Fprintf(s.Out, "Istio %s interception behaviours (%s rules):\n", rep.IstioVersion, rep.Format)
		for _, b := range rep.Behaviours {
			mark := "PASS"
			if !b.Pass {
				mark = "FAIL"
			}
			fmt.Fprintf(s.Out, "%s  %s\n", mark, b.Expected)
			if !b.Pass {
				fmt.Fprintf(s.Out, "      got %s\n", b.Result)
				fmt.Fprintf(s.Out, "      probe %s\n", b.Probe)
			}
		}
		if len(rep.Unsupported) > 0 {
			fmt.Fprintf(s.Out, "note: %d rule(s) use matches or targets the simulator does not model:\n  %s\n", len(rep.Unsupported), strings.Join(rep.Unsupported, "\n  "))
		}
		fmt.Fprintf(s.Out, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	}
	if rep.Failed > 0 {
		return exitFail
	}
	return exitOK
}
