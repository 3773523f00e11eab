package istioinstall

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"
)

func TestPinnedVersion(t *testing.T) {
	dep := func(path, version string) *debug.Module { return &debug.Module{Path: path, Version: version} }
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		want    string
		wantErr string
	}{
		{"api names the line", &debug.BuildInfo{Deps: []*debug.Module{dep("istio.io/istio", "v0.0.0-20260827124520-eed52ebb66ad"), dep("istio.io/api", "v1.31.1")}}, "1.31.1", ""},
		{"replaced api", &debug.BuildInfo{Deps: []*debug.Module{dep("istio.io/istio", "v0.0.0-x"), {Path: "istio.io/api", Version: "v1.29.0", Replace: dep("istio.io/api", "v1.30.2")}}}, "1.30.2", ""},
		{"no istio linked", &debug.BuildInfo{Deps: []*debug.Module{dep("istio.io/api", "v1.31.1")}}, "", `links istio.io/istio ""`},
		{"unsupported minor", &debug.BuildInfo{Deps: []*debug.Module{dep("istio.io/istio", "v0.0.0-x"), dep("istio.io/api", "v1.20.0")}}, "", "Istio 1.20 on kind is not supported"},
		{"no build info", nil, "", "no build information"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PinnedVersion(tc.bi)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("PinnedVersion: error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(tc.wantErr, "not supported") && !errors.Is(err, ErrUnsupported) {
					t.Errorf("error %v does not wrap ErrUnsupported", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("PinnedVersion = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
