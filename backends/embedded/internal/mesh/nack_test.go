package mesh

import (
	"strings"
	"testing"
)

// The cause of a rejection is at the end of Envoy's message: the last
// rejection is kept, over its lines, with its middle elided.
func TestLastRejection(t *testing.T) {
	long := strings.Repeat("http_filters { name: x }\n", 100)
	cases := []struct {
		name, log, prefix, suffix string
		max                       int
	}{
		{"none", "[2026-12-06 09:50:26.090][1][info][main] starting\n", "", "", 800},
		{"one line", "[2026-12-06 09:50:26.091][1][warning][config] Filesystem config update rejected: Error adding/updating listener(s) l: bad\n[2026-12-06 09:50:30.047][1][warning][main] caught ENVOY_SIGTERM\n",
			"Error adding/updating listener(s) l: bad", "l: bad", 800},
		{"the last, over lines", "[2026] gRPC config for A rejected: first\n[2026] gRPC config for L rejected: Error adding/updating listener(s) 0.0.0.0_9411: stat_prefix: \"x\"\n" + long + "CustomTag with unknown field set {6}) has unknown fields\n[2026-12-06] next\n",
			"Error adding/updating listener(s) 0.0.0.0_9411: stat_prefix: \"x\" http_filters", "CustomTag with unknown field set {6}) has unknown fields", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := lastRejection([]byte(tc.log), tc.max)
			if !strings.HasPrefix(got, tc.prefix) || !strings.HasSuffix(got, tc.suffix) || (tc.prefix == "") != (got == "") {
				t.Errorf("got %q, want %q … %q", got, tc.prefix, tc.suffix)
			}
			if len(got) > tc.max+len(" … ") {
				t.Errorf("%d bytes, want at most %d", len(got), tc.max)
			}
		})
	}
}
