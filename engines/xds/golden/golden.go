package golden

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// UpdateEnv is the environment variable that makes Assert rewrite goldens.
const UpdateEnv = "MESHCHECK_UPDATE_GOLDEN"

// TB is the part of testing.TB that Assert needs.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Updating reports whether goldens are being refreshed.
func Updating() bool { return os.Getenv(UpdateEnv) == "1" }

// Assert compares the normalized dump with the golden file at path. With
// MESHCHECK_UPDATE_GOLDEN=1 it writes the file instead.
func Assert(t TB, path string, d *xds.Dump, opts Options) {
	t.Helper()
	got, err := Normalize(d, opts)
	if err != nil {
		t.Fatalf("golden %s: %v", path, err)
		return
	}
	if err := Compare(path, got); err != nil {
		t.Errorf("%v", err)
	}
}

// MismatchError is a golden that differs, with the semantic diff.
type MismatchError struct {
	Path    string
	Changes []Change
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("golden %s differs (%d changes; refresh with %s=1 or make golden if intended):\n%s",
		e.Path, len(e.Changes), UpdateEnv, Format(e.Changes))
}

// Compare checks got against the golden file (or writes it when updating).
func Compare(path string, got Doc) error {
	if Updating() {
		b, err := got.Marshal()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, b, 0o644)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("golden %s: %w (create it with %s=1 or make golden)", path, err, UpdateEnv)
	}
	want, err := Unmarshal(b)
	if err != nil {
		return fmt.Errorf("golden %s: %w", path, err)
	}
	// Round-trip got through JSON so both sides have the same types.
	gb, err := got.Marshal()
	if err != nil {
		return err
	}
	g2, err := Unmarshal(gb)
	if err != nil {
		return err
	}
	if cs := Diff(want, g2); len(cs) > 0 {
		return &MismatchError{Path: path, Changes: cs}
	}
	return nil
}
