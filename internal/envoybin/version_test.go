package envoybin

import (
	"context"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		out, want, err string
	}{
		{"/x/envoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL\n", "1.40.0", ""},
		{"envoy  version: 0123abcd/1.37.0-dev/Modified/DEBUG/BoringSSL-FIPS", "1.37.0", ""},
		{"envoy version unknown", "", `no version <commit>/X.Y.Z/ in "envoy version unknown"`},
		{"", "", "no version"},
		{"0a1b/1.36.2/Modified/DEBUG/BoringSSL-FIPS", "1.36.2", ""}, // server_info's version
	}
	for _, tt := range tests {
		got, err := ParseVersion([]byte(tt.out))
		if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q, %q", tt.out, got, err, tt.want, tt.err)
		}
	}
}

// The real Envoy reports a version this parser reads.
func TestVersionOfRealEnvoy(t *testing.T) {
	bin, err := Find()
	if err != nil {
		t.Skip(err)
	}
	v, err := Version(context.Background(), bin)
	if err != nil || strings.Count(v, ".") != 2 {
		t.Errorf("Version(%s) = %q, %v", bin, v, err)
	}
	t.Logf("%s: %s", bin, v)
	if _, err := Version(context.Background(), "/bin/false"); err == nil || !strings.Contains(err.Error(), "/bin/false --version") {
		t.Errorf("Version(/bin/false): %v", err)
	}
}
