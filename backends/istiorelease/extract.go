package istiorelease

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// extractTarGz unpacks the gzipped tar at src into dest, which must exist
// and be empty. Each entry is checked before it is written: names must be
// local (no absolute paths, no ".."), links must point inside dest,
// and only files, directories and links are accepted. Writes go through an
// os.Root on dest, so even a link planted by an earlier entry cannot lead a
// write outside it. The sum of file sizes is bounded by maxBytes.
func extractTarGz(src, dest string, maxBytes int64) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("istiorelease: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("istiorelease: %s: not gzip: %w", src, err)
	}
	defer zr.Close()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return fmt.Errorf("istiorelease: %w", err)
	}
	defer root.Close()

	tr := tar.NewReader(zr)
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("istiorelease: %s: reading tar: %w", src, err)
		}
		name, err := entryName(hdr)
		if err != nil {
			return fmt.Errorf("istiorelease: %s: %w", src, err)
		}
		if name == "." {
			continue
		}
		if err := noLinkInPath(root, name); err != nil {
			return fmt.Errorf("istiorelease: %s: %w", src, err)
		}
		if dir := path.Dir(name); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("istiorelease: %s: entry %q: %w", src, hdr.Name, err)
			}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("istiorelease: %s: entry %q: %w", src, hdr.Name, err)
			}
		case tar.TypeReg:
			total += hdr.Size
			if hdr.Size < 0 || total > maxBytes {
				return fmt.Errorf("istiorelease: %s: %w: entry %q takes the archive past %d bytes unpacked", src, ErrUnsafeArchive, hdr.Name, maxBytes)
			}
			if err := writeEntry(root, name, os.FileMode(hdr.Mode).Perm()&0o755|0o600, tr, hdr.Size); err != nil {
				return fmt.Errorf("istiorelease: %s: entry %q: %w", src, hdr.Name, err)
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return fmt.Errorf("istiorelease: %s: entry %q: %w", src, hdr.Name, err)
			}
		case tar.TypeLink:
			if err := root.Link(path.Clean(hdr.Linkname), name); err != nil {
				return fmt.Errorf("istiorelease: %s: entry %q: %w", src, hdr.Name, err)
			}
		}
	}
}

// entryName checks one tar entry and returns its cleaned, slash-separated
// name relative to the target directory.
func entryName(hdr *tar.Header) (string, error) {
	raw := hdr.Name
	if raw == "" || strings.HasPrefix(raw, "/") || strings.Contains(raw, "\\") || !filepath.IsLocal(filepath.FromSlash(raw)) {
		return "", fmt.Errorf("%w: %q is not a path inside the archive's directory", ErrUnsafeArchive, raw)
	}
	name := path.Clean(raw)
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	case tar.TypeSymlink:
		target := hdr.Linkname
		if strings.HasPrefix(target, "/") || !filepath.IsLocal(filepath.FromSlash(path.Join(path.Dir(name), target))) {
			return "", fmt.Errorf("%w: link %q points to %q, outside the archive's directory", ErrUnsafeArchive, raw, target)
		}
	case tar.TypeLink:
		if !filepath.IsLocal(filepath.FromSlash(hdr.Linkname)) {
			return "", fmt.Errorf("%w: hard link %q points to %q, outside the archive's directory", ErrUnsafeArchive, raw, hdr.Linkname)
		}
	default:
		return "", fmt.Errorf("%w: %q is of tar type %q (only files, directories and links are extracted)", ErrUnsafeArchive, raw, string(hdr.Typeflag))
	}
	return name, nil
}

// noLinkInPath refuses an entry whose parent directories include a link:
// the link targets were checked as written, but a link reached through
// another link could point anywhere.
func noLinkInPath(root *os.Root, name string) error {
	dir := path.Dir(name)
	for dir != "." {
		fi, err := root.Lstat(dir)
		if errors.Is(err, os.ErrNotExist) {
			dir = path.Dir(dir)
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%w: %q lies under the link %q", ErrUnsafeArchive, name, dir)
		}
		dir = path.Dir(dir)
	}
	return nil
}

func writeEntry(root *os.Root, name string, mode os.FileMode, r io.Reader, size int64) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
