package pilotbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/internal/cachedir"
)

// HostPackage is the control plane's main package, in this repository.
const HostPackage = "./backends/embedded/internal/pilothost"

// hostSources are the folders whose Go files the binary is built from,
// besides Istio: a change in them makes a new binary.
var hostSources = []string{"backends/embedded/internal/pilothost", "backends/embedded/internal/pilotapi"}

// Options say where to build and cache.
type Options struct {
	// Repo is this repository's root (RepoRoot finds it).
	Repo string
	// Cache is the folder binaries are kept in, one subfolder per
	// identity (CacheDir by default).
	Cache string
	// Log receives the go command's output; nil discards it.
	Log io.Writer
}

// Binary is a built control plane.
type Binary struct {
	Path string
	// Identity names the source and everything else the binary was built
	// from; equal identities are the same binary.
	Identity string
	Source   Source
}

// Build returns the control plane binary for src, building it when the
// cache does not hold one of the same identity. The source is checked
// before anything is built (Check).
func Build(ctx context.Context, src Source, opts Options) (Binary, error) {
	if err := Check(ctx, src); err != nil {
		return Binary{}, err
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Cache == "" {
		d, err := CacheDir()
		if err != nil {
			return Binary{}, err
		}
		opts.Cache = d
	}
	id, err := identity(ctx, src, opts.Repo)
	if err != nil {
		return Binary{}, err
	}
	dir := filepath.Join(opts.Cache, id[:20])
	bin := Binary{Path: filepath.Join(dir, "meshcheck-pilot"), Identity: id, Source: src}
	if _, err := os.Stat(bin.Path); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binary{}, err
	}
	modfile, err := prepareModfile(ctx, src, opts, dir)
	if err != nil {
		return Binary{}, err
	}
	tmp := bin.Path + ".tmp"
	args := []string{"build", "-modfile=" + modfile, "-trimpath", "-o", tmp, HostPackage}
	start := time.Now()
	if err := goCmd(ctx, opts.Repo, opts.Log, args...); err != nil {
		return Binary{}, fmt.Errorf("build the control plane from %s: %w", src, err)
	}
	fmt.Fprintf(opts.Log, "pilotbuild: built the control plane from %s in %.1f s\n", src, time.Since(start).Seconds())
	return bin, os.Rename(tmp, bin.Path)
}

// CacheDir is where Build keeps binaries (cachedir.Dir("pilot")).
func CacheDir() (string, error) { return cachedir.Dir("pilot") }

// Check looks at the source without building it: a module version must be
// one the module proxy serves; a checkout must declare module
// istio.io/istio and hold the ref asked for.
func Check(ctx context.Context, src Source) error {
	switch src.kind() {
	case Pinned:
		return nil
	case Module:
		dir, err := os.MkdirTemp("", "meshcheck-pilot-check")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		var out bytes.Buffer
		if err := goCmd(ctx, dir, &out, "list", "-m", "-json", "istio.io/istio@"+src.Version); err != nil {
			return fmt.Errorf("%w: %s: the module proxy does not serve it: %s", ErrSource, src, lastLine(out.String()))
		}
		return nil
	case Checkout:
		if err := checkCheckout(src.Path); err != nil {
			return err
		}
		if src.Ref != "" {
			if _, err := gitOut(ctx, src.Path, "rev-parse", "--verify", src.Ref+"^{commit}"); err != nil {
				return fmt.Errorf("%w: %s: no git ref %q there: %w", ErrSource, src.Path, src.Ref, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: kind %q", ErrSource, src.Kind)
}

// identity hashes what the binary is made of: the source (module version,
// commit and uncommitted changes, or the pinned go.mod and go.sum), the
// host's own Go files, and the Go toolchain.
func identity(ctx context.Context, src Source, repo string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", runtime.Version(), src)
	switch src.kind() {
	case Pinned:
		for _, f := range []string{"go.mod", "go.sum"} {
			if err := hashFile(h, filepath.Join(repo, f)); err != nil {
				return "", err
			}
		}
	case Module:
		fmt.Fprintln(h, src.Version)
	case Checkout:
		rev, err := checkoutRevision(ctx, src)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, rev)
		for _, f := range []string{"go.mod", "go.sum"} { // the pinned requirements a checkout builds with
			if err := hashFile(h, filepath.Join(repo, f)); err != nil {
				return "", err
			}
		}
	}
	for _, d := range hostSources {
		err := filepath.WalkDir(filepath.Join(repo, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(p, ".go") {
				return err
			}
			fmt.Fprintln(h, p[len(repo):])
			return hashFile(h, p)
		})
		if err != nil {
			return "", fmt.Errorf("pilot sources: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkoutRevision is a checkout's commit, and for its working tree a
// hash of what is not committed too.
func checkoutRevision(ctx context.Context, src Source) (string, error) {
	if src.Ref != "" {
		return gitOut(ctx, src.Path, "rev-parse", src.Ref+"^{commit}")
	}
	head, err := gitOut(ctx, src.Path, "rev-parse", "HEAD")
	if err != nil {
		// Not a git checkout (a copy of a module, for instance): named by
		// the content of its Go sources and module files.
		return treeHash(src.Path)
	}
	diff, err := gitOut(ctx, src.Path, "status", "--porcelain=v1", "-uall")
	if err != nil {
		return "", err
	}
	if diff == "" {
		return head, nil
	}
	d, err := gitOut(ctx, src.Path, "diff", "HEAD")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(diff + "\n" + d))
	return head + "+dirty." + hex.EncodeToString(sum[:8]), nil
}

// treeHash hashes the path and content of every Go source and module file
// under dir.
func treeHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if n := e.Name(); n == ".git" || n == "testdata" && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		if n := e.Name(); !strings.HasSuffix(n, ".go") && n != "go.mod" && n != "go.sum" {
			return nil
		}
		fmt.Fprintln(h, p[len(dir):])
		return hashFile(h, p)
	})
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrSource, dir, err)
	}
	return "tree." + hex.EncodeToString(h.Sum(nil)[:16]), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
