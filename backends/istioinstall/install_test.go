package istioinstall

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/internal/textgolden"
	"go.yaml.in/yaml/v3"
)

// Each case's arguments are one golden file, one argument a line, so a
// changed flag shows as one changed line.
func TestInstallArgsGolden(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"default-1.30", Options{Version: "1.30.4"}},
		{"text-log-no-hold-1.29", Options{Version: "1.29.9", AccessLogEncoding: AccessLogText, NoHoldApplication: true, IngressNodePort: 31080}},
		{"dns-capture-autoallocate-1.31", Options{Version: "1.31.1", DNSCapture: true, DNSAutoAllocate: true}},
		{"local-images-parity-1.31", Options{Version: "1.31.1", Hub: "localhost/istio", Tag: "meshcheck-dev", EmbeddedParity: true, OverlayPath: "run-3f2a/overlay.yaml"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, err := InstallArgs(tc.opts)
			if err != nil {
				t.Fatalf("InstallArgs: %v", err)
			}
			textgolden.Assert(t, filepath.Join("testdata", tc.name+".args"), []byte(strings.Join(args, "\n")+"\n"))
			ov, err := Overlay(tc.opts)
			if err != nil {
				t.Fatalf("Overlay: %v", err)
			}
			textgolden.Assert(t, filepath.Join("testdata", tc.name+".overlay.yaml"), ov)
		})
	}
}

func TestInstallArgsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		is   error
		want string
	}{
		{"no version", Options{}, ErrUnsupported, `"" is not an Istio version`},
		{"old version", Options{Version: "1.28.3"}, ErrUnsupported, "supported minors: 1.29, 1.30, 1.31"},
		{"encoding", Options{Version: "1.30.4", AccessLogEncoding: "json"}, ErrBadOption, `access log encoding "json": want TEXT or JSON`},
		{"node port", Options{Version: "1.30.4", IngressNodePort: 8080}, ErrBadOption, "NodePort 8080 is outside"},
		{"auto allocate alone", Options{Version: "1.30.4", DNSAutoAllocate: true}, ErrBadOption, "DNSAutoAllocate needs DNSCapture"},
		{"hub without tag", Options{Version: "1.30.4", Hub: "localhost/istio"}, ErrBadOption, "set both or neither"},
		{"tag with a space", Options{Version: "1.30.4", Hub: "localhost/istio", Tag: "a b"}, ErrBadOption, `tag "a b"`},
		{"profile injection", Options{Version: "1.30.4", Profile: "demo --set x=y"}, ErrBadOption, "profile"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := InstallArgs(tc.opts)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("InstallArgs = %v, want %v containing %q", err, tc.is, tc.want)
			}
			if _, err2 := Overlay(tc.opts); err2 == nil {
				t.Errorf("Overlay accepted what InstallArgs refused")
			}
		})
	}
}

func TestUninstallArgs(t *testing.T) {
	if got := strings.Join(UninstallArgs(), " "); got != "uninstall --purge -y" {
		t.Errorf("UninstallArgs = %q", got)
	}
}

// The overlay is YAML whose http2 port carries the NodePort; istioctl
// reads it with the same structure.
func TestOverlayParses(t *testing.T) {
	b, err := Overlay(Options{Version: "1.30.4", IngressNodePort: 31234})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Values struct {
				Gateways map[string]struct {
					Type  string `yaml:"type"`
					Ports []struct {
						Name       string `yaml:"name"`
						Port       int    `yaml:"port"`
						TargetPort int    `yaml:"targetPort"`
						NodePort   int    `yaml:"nodePort"`
					} `yaml:"ports"`
				} `yaml:"gateways"`
			} `yaml:"values"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("overlay is not YAML: %v\n%s", err, b)
	}
	gw := doc.Spec.Values.Gateways["istio-ingressgateway"]
	if doc.Kind != "IstioOperator" || gw.Type != "NodePort" {
		t.Fatalf("overlay kind %q, gateway type %q", doc.Kind, gw.Type)
	}
	found := false
	for _, p := range gw.Ports {
		if p.Name == "http2" {
			found = p.Port == 80 && p.TargetPort == 8080 && p.NodePort == 31234
		}
	}
	if !found {
		t.Errorf("no http2 port 80->8080 on NodePort 31234 in %+v", gw.Ports)
	}
}
