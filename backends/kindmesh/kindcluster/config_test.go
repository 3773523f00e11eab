package kindcluster

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/internal/textgolden"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

const image = "kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed"

func TestRenderGolden(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"single-node", Options{Name: "meshcheck-1-30-0a1b2c", NodeImage: image, IngressNodePort: 30080}},
		{"control-plane-and-worker", Options{Name: "meshcheck-1-31-0a1b2c", NodeImage: image, Workers: 1, IngressNodePort: 30080}},
		{"other-host-port", Options{Name: "meshcheck-1-29-ffffff", NodeImage: "kindest/node:v1.35.8", IngressNodePort: 31080, HostPort: 8080}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Render(tc.opts)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			textgolden.Assert(t, filepath.Join("testdata", tc.name+".yaml"), b)

			// kind reads it back into the same config, with no unknown field.
			var back v1alpha4.Cluster
			if err := yaml.UnmarshalStrict(b, &back); err != nil {
				t.Fatalf("rendered config does not read back: %v\n%s", err, b)
			}
			want, _ := Config(tc.opts)
			if back.Name != want.Name || len(back.Nodes) != len(want.Nodes) {
				t.Errorf("read back %+v, want %+v", back, want)
			}
			pm := back.Nodes[0].ExtraPortMappings
			if len(pm) != 1 || int(pm[0].ContainerPort) != tc.opts.IngressNodePort {
				t.Errorf("port mappings %+v: want containerPort %d", pm, tc.opts.IngressNodePort)
			}
		})
	}
}

func TestConfigBadOptions(t *testing.T) {
	good := Options{Name: "meshcheck-1-30-abcdef", NodeImage: image, IngressNodePort: 30080}
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"upper-case name", func(o *Options) { o.Name = "Meshcheck" }, `cluster name "Meshcheck"`},
		{"long name", func(o *Options) { o.Name = strings.Repeat("a", 41) }, "at most 40"},
		{"no image", func(o *Options) { o.NodeImage = "" }, `node image ""`},
		{"two workers", func(o *Options) { o.Workers = 2 }, "2 workers"},
		{"node port", func(o *Options) { o.IngressNodePort = 80 }, "NodePort 80 is outside"},
		{"host port", func(o *Options) { o.HostPort = 70000 }, "host port 70000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			_, err := Render(o)
			if !errors.Is(err, ErrBadOption) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Render = %v, want %v containing %q", err, ErrBadOption, tc.want)
			}
		})
	}
}

func TestNewName(t *testing.T) {
	got, err := NewName("1.30.4", bytes.NewReader([]byte{0xab, 0xcd, 0xef}))
	if err != nil || got != "meshcheck-1-30-abcdef" {
		t.Errorf("NewName = %q, %v", got, err)
	}
	a, _ := NewName("1.31.1", nil)
	b, _ := NewName("1.31.1", nil)
	if a == b || !nameRE.MatchString(a) {
		t.Errorf("two runs got %q and %q: want distinct DNS labels", a, b)
	}
	for _, v := range []string{"", "1", "1.30_x.1"} {
		if _, err := NewName(v, nil); !errors.Is(err, ErrBadOption) {
			t.Errorf("NewName(%q) = %v, want %v", v, err, ErrBadOption)
		}
	}
	if _, err := NewName("1.30.4", bytes.NewReader(nil)); err == nil {
		t.Error("NewName with no randomness gave no error")
	}
}
