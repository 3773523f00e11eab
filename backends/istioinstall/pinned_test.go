package istioinstall

import (
	"os"
	"strings"
	"testing"
)

// TestPinnedMatchesGoMod: the pinned versions are go.mod's, with no
// replace of either module.
func TestPinnedMatchesGoMod(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"istio.io/istio": PinnedIstioModule, "istio.io/api": PinnedAPIModule}
	found := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) < 2 {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "replace") || (len(f) >= 3 && f[1] == "=>") {
			for mod := range want {
				if strings.Contains(line, mod+" ") {
					t.Errorf("go.mod:%d replaces %s: PinnedVersion would not say what runs", i+1, mod)
				}
			}
			continue
		}
		if v, ok := want[f[0]]; ok {
			found[f[0]] = true
			if f[1] != v {
				t.Errorf("go.mod:%d pins %s %s; istioinstall says %s: update pinned.go", i+1, f[0], f[1], v)
			}
		}
	}
	for mod := range want {
		if !found[mod] {
			t.Errorf("go.mod does not require %s", mod)
		}
	}
}

func TestPinnedVersion(t *testing.T) {
	v, err := PinnedVersion()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimPrefix(PinnedAPIModule, "v"); v != want {
		t.Errorf("PinnedVersion = %q, want %q", v, want)
	}
	if _, err := Lookup(v); err != nil {
		t.Errorf("the pinned version is not supported: %v", err)
	}
}
