package textgolden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	cases := []struct{ a, b, want string }{
		{"x\ny", "x\ny", "  x\n  y\n"},
		{"x\ny\nz", "x\nz", "  x\n- y\n  z\n"},
		{"x\nz", "x\ny\nz", "  x\n+ y\n  z\n"},
		{"--set\nprofile=demo", "--set\nprofile=default", "  --set\n- profile=demo\n+ profile=default\n"},
	}
	for _, tc := range cases {
		if got := Diff(tc.a, tc.b); got != tc.want {
			t.Errorf("Diff(%q, %q) =\n%s\nwant\n%s", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	if err := Compare(path, []byte("a\n"), false); err == nil || !strings.Contains(err.Error(), "make golden") {
		t.Errorf("missing golden: %v", err)
	}
	if err := Compare(path, []byte("a\nb\n"), true); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := Compare(path, []byte("a\nb\n"), false); err != nil {
		t.Errorf("same content: %v", err)
	}
	err := Compare(path, []byte("a\nc\n"), false)
	if err == nil || !strings.Contains(err.Error(), "- b\n+ c\n") || !strings.Contains(err.Error(), path) {
		t.Errorf("changed content: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "a\nb\n" {
		t.Errorf("a failed compare wrote the golden: %q", b)
	}
}
