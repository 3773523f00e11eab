package mutate

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Apply copies the fixture folder m names from fsys (one folder per
// fixture, as fixtures.Embedded) to dst and applies m's edits to its
// file. Each edit's Old must occur exactly once when it is applied.
// An interception mutation's folder, or one changing only the gateway
// Service (IngressTargetPort), is copied unchanged: the backend applies
// the change.
func Apply(m Mutation, fsys fs.FS, dst string) error {
	if (m.Kind != Configuration && m.Kind != Interception) || m.Pending != "" {
		return fmt.Errorf("mutation %s: not applied: %s", m.Name, m.Pending)
	}
	if err := CopyFixture(fsys, m.Fixture, dst); err != nil {
		return fmt.Errorf("mutation %s: %w", m.Name, err)
	}
	if m.Kind == Interception || m.File == "" {
		return nil
	}
	file := filepath.Join(dst, filepath.FromSlash(m.File))
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("mutation %s: %w", m.Name, err)
	}
	text, err := m.edit(string(data))
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		return fmt.Errorf("mutation %s: %w", m.Name, err)
	}
	return nil
}

// edit applies the edits in order.
func (m Mutation) edit(text string) (string, error) {
	for i, r := range m.Replace {
		if n := strings.Count(text, r.Old); n != 1 {
			return "", fmt.Errorf("mutation %s (%s:%d): replace[%d]: %q occurs %d times in %s/%s, want exactly once",
				m.Name, CatalogFile, m.line, i, r.Old, n, m.Fixture, m.File)
		}
		text = strings.Replace(text, r.Old, r.New, 1)
	}
	return text, nil
}

// CopyFixture copies the folder of fixture root in fsys to dst.
func CopyFixture(fsys fs.FS, root, dst string) error {
	if _, err := fs.Stat(fsys, root); err != nil {
		return fmt.Errorf("copy fixture %s: %w", root, err)
	}
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(fsys, path.Clean(p))
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
