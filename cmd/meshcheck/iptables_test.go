package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/iptables/istio"
)

func writeRules(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func istioRules(t *testing.T, o istio.Options) string {
	t.Helper()
	s, err := istio.IPTablesSave(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIptablesExplain(t *testing.T) {
	rules := writeRules(t, istioRules(t, istio.DefaultOptions(istio.Version{Major: 1, Minor: 25})))
	cases := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		stdout   []string
		stderr   string
		jsonWant map[string]any
	}{
		{name: "outbound to 15001", args: []string{"--rules", rules, "--dst", "10.96.0.1:443", "--uid", "1000", "--gid", "1000"},
			stdout: []string{"verdict: REDIRECT to 127.0.0.1:15001", "ISTIO_REDIRECT"}},
		{name: "json", args: []string{"--rules", rules, "--dst", "10.96.0.1:443", "--uid", "1000", "--gid", "1000", "-o", "json"},
			jsonWant: map[string]any{"verdict": "REDIRECT", "toPort": float64(15001)}},
		{name: "untouched has no toPort", args: []string{"--rules", rules, "--dst", "10.96.0.1:443", "--uid", "1337", "--gid", "1337", "-o", "json"},
			jsonWant: map[string]any{"verdict": "ACCEPT", "toPort": nil}},
		{name: "inbound from stdin", args: []string{"--rules", "-", "--hook", "prerouting", "--src", "10.244.0.7:40000", "--dst", "10.244.0.10:9080"},
			stdin: istioRules(t, istio.DefaultOptions(istio.Version{Major: 1, Minor: 24})), stdout: []string{"verdict: REDIRECT to :15006"}},
		{name: "unknown uid is unsupported", args: []string{"--rules", rules, "--dst", "10.96.0.1:443"},
			code: exitFail, stdout: []string{"verdict: UNSUPPORTED", "needs the socket's UID"}},
		{name: "loopback source chosen as the kernel would", args: []string{"--rules", rules, "--dst", "127.0.0.1:9080", "--uid", "1000", "--gid", "1000"},
			stdout: []string{"verdict: ACCEPT", "source 127.0.0.1 chosen as the kernel would"}},
		{name: "own pod IP goes over lo", args: []string{"--rules", rules, "--dst", "10.244.0.10:9080", "--pod-ip", "10.244.0.10", "--uid", "1000", "--gid", "1000"},
			stdout: []string{"out lo", "verdict: ACCEPT", "source 10.244.0.10 chosen as the kernel would"}},
		{name: "bad pod ip", args: []string{"--rules", rules, "--dst", "1.2.3.4:80", "--pod-ip", "pod"}, code: exitUsage, stderr: "--pod-ip"},
		{name: "no dst", args: []string{"--rules", rules}, code: exitUsage, stderr: "--dst IP:PORT is required"},
		{name: "bad hook", args: []string{"--rules", rules, "--dst", "1.2.3.4:80", "--hook", "input"}, code: exitUsage, stderr: "want output or prerouting"},
		{name: "uid at prerouting", args: []string{"--rules", rules, "--dst", "1.2.3.4:80", "--hook", "prerouting", "--uid", "1"}, code: exitUsage, stderr: "output hook only"},
		{name: "missing file", args: []string{"--rules", "/nonexistent/rules", "--dst", "1.2.3.4:80"}, code: exitNoInput, stderr: "cannot read rules"},
		{name: "bad rules name file and line", args: []string{"--rules", "-", "--dst", "1.2.3.4:80"}, stdin: "*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp --dport x -j ACCEPT\nCOMMIT\n",
			code: exitBadInput, stderr: "<stdin>: iptables-save: line 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(c.stdin, append([]string{"iptables", "explain"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errs)
			}
			for _, w := range c.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if c.stderr != "" && !strings.Contains(errs, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, errs)
			}
			if c.jsonWant != nil {
				var got map[string]any
				if err := json.Unmarshal([]byte(out), &got); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, out)
				}
				for k, v := range c.jsonWant {
					if got[k] != v {
						t.Errorf("%s: got %v, want %v", k, got[k], v)
					}
				}
				if _, ok := got["trail"].([]any); !ok {
					t.Errorf("trail missing: %s", out)
				}
			}
		})
	}
}

func TestIptablesCheck(t *testing.T) {
	v := istio.Version{Major: 1, Minor: 25}
	dns := istio.DefaultOptions(v)
	dns.DNSCapture = true
	good := writeRules(t, istioRules(t, dns))
	broken := writeRules(t, strings.Replace(istioRules(t, dns), "-A ISTIO_OUTPUT -j ISTIO_OUTPUT_DNS\n", "", 1))
	t.Run("pass", func(t *testing.T) {
		code, out, errs := runCLI("", "iptables", "check", "--rules", good, "--istio-version", "1.25.2", "--dns-capture", "--nameserver", "10.96.0.10")
		if code != exitOK || !strings.Contains(out, "0 failed") || !strings.Contains(out, "PASS  DNS over UDP from UID 1000 to nameserver 10.96.0.10:53 is redirected to 15053") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
	})
	t.Run("fail names the behaviour and the trail", func(t *testing.T) {
		code, out, _ := runCLI("", "iptables", "check", "--rules", broken, "--dns-capture", "--nameserver", "10.96.0.10")
		if code != exitFail {
			t.Fatalf("exit %d, want %d\n%s", code, exitFail, out)
		}
		for _, w := range []string{"FAIL  DNS over UDP from UID 1000 to nameserver 10.96.0.10:53 is redirected to 15053", "got ACCEPT", "2 failed"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	})
	t.Run("dns off expects untouched", func(t *testing.T) {
		code, out, _ := runCLI("", "iptables", "check", "--rules", good)
		if code != exitFail || !strings.Contains(out, "FAIL  DNS over UDP from UID 1000 to nameserver 10.96.0.10:53 (capture off) is untouched") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("json with annotation", func(t *testing.T) {
		o := istio.DefaultOptions(v)
		o.ExcludeOutboundPorts = []uint16{3306}
		rules := writeRules(t, istioRules(t, o))
		code, out, errs := runCLI("", "iptables", "check", "--rules", rules, "--annotation", "traffic.sidecar.istio.io/excludeOutboundPorts=3306", "-o", "json")
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		var rep checkReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, b := range rep.Behaviours {
			found = found || b.Name == "outbound-tcp-port-3306-excluded"
		}
		if rep.Failed != 0 || !found {
			t.Errorf("want the excluded port checked and nothing failed: %+v", rep)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"--rules", good, "--istio-version", "one"},
			{"--rules", good, "--annotation", "nokv"},
			{"--rules", good, "--annotation", "traffic.sidecar.istio.io/bogus=1"},
			{"--rules", good, "--nameserver", "10.0.0.1"},
			{},
		} {
			if code, _, errs := runCLI("", append([]string{"iptables", "check"}, args...)...); code != exitUsage {
				t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errs)
			}
		}
	})
	t.Run("help", func(t *testing.T) {
		code, out, _ := runCLI("", "iptables", "check", "-h")
		if code != exitOK || !strings.Contains(out, "Examples:") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
}

// istio-iptables' own command line, after --, configures the check: rules
// Istio wrote for TPROXY pass with -m TPROXY and fail with -m REDIRECT.
func TestIptablesCheckIstioArgs(t *testing.T) {
	o := istio.DefaultOptions(istio.Version{Major: 1, Minor: 31})
	o.Mode, o.DNSCapture = istio.ModeTPROXY, true
	tproxy := writeRules(t, istioRules(t, o))
	istioArgs := []string{"pilot-agent", "istio-iptables", "-p", "15001", "-z", "15006",
		"-u", "1337", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020", "--redirect-dns"}
	cmd := func(flags []string, extra ...string) []string {
		a := append([]string{"iptables", "check", "--rules", tproxy}, flags...)
		return append(append(append(a, "--"), istioArgs...), extra...)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"the rules' own configuration", cmd(nil, "-m", "TPROXY"), exitOK, "0 failed"},
		{"another mode", cmd(nil, "-m", "REDIRECT"), exitFail, "FAIL  inbound TCP to app port"},
		{"a nameserver of resolv.conf", cmd([]string{"--nameserver", "10.96.0.10"}, "-m", "TPROXY"), exitOK, "0 failed"},
		{"flags that are the command line's to say", cmd([]string{"--dns-capture"}, "-m", "TPROXY"), exitUsage, "istio-iptables' to say"},
		{"a flag istio-iptables does not have", cmd(nil, "--bogus"), exitUsage, "unknown flag: --bogus"},
		{"arguments without --", []string{"iptables", "check", "--rules", tproxy, "-m"}, exitUsage, ""},
		{"words without --", []string{"iptables", "check", "--rules", tproxy, "istio-iptables"}, exitUsage, "goes after --"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI("", tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, want %d and %q\nstdout: %s\nstderr: %s", code, tc.code, tc.want, out, errs)
			}
		})
	}
}
