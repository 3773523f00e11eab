package backend

import (
	"errors"
	"strings"
	"testing"
)

func TestEnvoyVersion(t *testing.T) {
	for _, tc := range []struct{ in, want, wantErr string }{
		{"/usr/bin/envoy  version: 9e5580933739775e8bce696a57a2e1bc99368f23/1.40.0/Clean/RELEASE/BoringSSL\n", "1.40.0", ""},
		{"0a1b/1.36.2-dev/Modified/DEBUG/BoringSSL-FIPS", "1.36.2-dev", ""},
		{"envoy version: unknown", "", `no Envoy version (X.Y.Z between slashes) in "envoy version: unknown"`},
	} {
		got, err := EnvoyVersion(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("EnvoyVersion(%q): error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EnvoyVersion(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// fake has the features it is given; only Features is called.
type fake struct {
	Backend
	features []Feature
}

func (f fake) Features() []Feature { return f.features }

func TestHasAndMissing(t *testing.T) {
	b := fake{features: []Feature{FeatureVM, FeatureAccessLogs}}
	for _, tc := range []struct {
		f    Feature
		want bool
	}{{FeatureVM, true}, {FeatureAccessLogs, true}, {FeatureMultiNode, false}, {FeatureEvidence, false}} {
		if got := Has(b, tc.f); got != tc.want {
			t.Errorf("Has(%s) = %v, want %v", tc.f, got, tc.want)
		}
	}
	got := Missing(b, []Feature{FeatureMultiNode, FeatureVM, FeatureServiceVIPs})
	if len(got) != 2 || got[0] != FeatureMultiNode || got[1] != FeatureServiceVIPs {
		t.Errorf("Missing = %v, want [multi-node service-vips]", got)
	}
}

func TestUnsupportedNamesBackendAndFeature(t *testing.T) {
	err := Unsupported("embedded", FeatureServiceVIPs)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("%v does not wrap ErrUnsupported", err)
	}
	for _, want := range []string{"embedded backend", `"service-vips"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
}
