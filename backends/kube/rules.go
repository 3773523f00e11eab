package kube

import (
	"bufio"
	"bytes"
	"regexp"
)

// logLineRE is the start of a log line istio-iptables writes (an RFC 3339
// time); the rules it applied follow a line of it on lines of their own.
var logLineRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`)

// restoreMarker ends the log line after which istio-iptables prints the
// iptables-restore input it applies ("Running iptables restore with: ...
// and the following input:").
var restoreMarker = []byte("the following input:")

// initLogRules takes the rules istio-init (or istio-validation) applied out
// of its log: the iptables-restore input of the first restore (IPv4), in
// iptables-save format. ok is false when the log holds none (an older
// istio-iptables that did not print them, or the nftables mode).
func initLogRules(log []byte) (rules []byte, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var out bytes.Buffer
	in := false
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case !in && bytes.HasSuffix(bytes.TrimSpace(line), restoreMarker):
			in = true
		case in && logLineRE.Match(line):
			return out.Bytes(), bytes.Contains(out.Bytes(), []byte("ISTIO_"))
		case in:
			out.Write(line)
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), in && bytes.Contains(out.Bytes(), []byte("ISTIO_"))
}
