package mesh

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// rejectedMarker starts the message Envoy logs when it rejects a config
// update ("gRPC config for <type> rejected: <why>").
const rejectedMarker = " rejected: "

// envoyRejections is, for each proxy whose Envoy logged a rejected config
// update, the last rejection's message. The error detail an Envoy sends
// back with a NACK is cut at 4 KB, and a rejected listener's detail starts
// with its whole configuration, so the cause is often cut off there; the
// log keeps it.
func (m *Mesh) envoyRejections() string {
	var b strings.Builder
	for _, p := range m.Pods() {
		if p.Envoy == nil {
			continue
		}
		data, err := os.ReadFile(p.Envoy.Spec.EnvoyLog())
		if err != nil {
			continue
		}
		if r := lastRejection(data, 800); r != "" {
			fmt.Fprintf(&b, "\n%s's Envoy logged: %s", p.Key(), r)
		}
	}
	return b.String()
}

// lastRejection is the message of the last rejection in an Envoy log (it
// may span lines: it ends where the next log line starts), with its middle
// elided past max bytes: the cause is at its end.
func lastRejection(log []byte, max int) string {
	i := bytes.LastIndex(log, []byte(rejectedMarker))
	if i < 0 {
		return ""
	}
	msg := log[i+len(rejectedMarker):]
	if j := bytes.Index(msg, []byte("\n[20")); j >= 0 {
		msg = msg[:j]
	}
	s := strings.Join(strings.Fields(string(msg)), " ")
	if len(s) > max {
		s = s[:max/4] + " … " + s[len(s)-max*3/4:]
	}
	return s
}
