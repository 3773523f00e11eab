// Package pilotbuild builds the embedded backend's control plane
// (meshcheck-pilot, package pilothost) against an Istio source and caches
// the binary by the source's identity: the pinned module (this
// repository's go.mod), another istio.io/istio module version the Go
// module proxy serves, or a checkout of istio/istio (its working tree, or
// a git ref in it).
package pilotbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
)

// Kind says where a Source's Istio comes from.
type Kind string

// Source kinds.
const (
	Pinned   Kind = "pinned"
	Module   Kind = "module"
	Checkout Kind = "checkout"
)

// Source is an Istio source to build the control plane from.
type Source struct {
	Kind Kind
	// Version is the istio.io/istio module version (Module).
	Version string
	// Path is the checkout's directory and Ref a git ref in it, "" for the
	// working tree as it is (Checkout).
	Path, Ref string
}

// ErrSource is wrapped by every error about a source that cannot be built.
var ErrSource = errors.New("not an Istio source")

var moduleVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// Parse reads a source as the command line and the run configuration give
// it: "" or "pinned"; a module version ("v0.0.0-20260423205519-b01690e6db7d",
// or with "istio.io/istio@" before it); or a checkout path, with "@ref"
// after it for a git ref. It only reads the text; Check looks at the
// source itself.
func Parse(s string) (Source, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == string(Pinned):
		return Source{Kind: Pinned}, nil
	case strings.HasPrefix(s, "istio.io/istio@"):
		v := strings.TrimPrefix(s, "istio.io/istio@")
		if !moduleVersion.MatchString(v) {
			return Source{}, fmt.Errorf("%w: %q: %q is not a module version (vX.Y.Z or a pseudo-version)", ErrSource, s, v)
		}
		return Source{Kind: Module, Version: v}, nil
	case moduleVersion.MatchString(s):
		return Source{Kind: Module, Version: s}, nil
	}
	path, ref := s, ""
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		path, ref = s[:i], s[i+1:]
		if ref == "" {
			return Source{}, fmt.Errorf("%w: %q: empty git ref after @", ErrSource, s)
		}
	}
	if !strings.ContainsAny(path, "/.") {
		return Source{}, fmt.Errorf("%w: %q: want pinned, a module version (v0.0.0-...), or a checkout path (./istio, /src/istio@ref)", ErrSource, s)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Source{}, fmt.Errorf("%w: %q: %w", ErrSource, s, err)
	}
	return Source{Kind: Checkout, Path: abs, Ref: ref}, nil
}

func (s Source) String() string {
	switch s.kind() {
	case Module:
		return "istio.io/istio@" + s.Version
	case Checkout:
		if s.Ref != "" {
			return s.Path + "@" + s.Ref
		}
		return s.Path
	}
	return string(Pinned)
}

// checkCheckout refuses a directory that is not a checkout of Istio: its
// go.mod must declare module istio.io/istio.
func checkCheckout(dir string) error {
	gomod := filepath.Join(dir, "go.mod")
	if _, err := os.Stat(gomod); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSource, dir, err)
	}
	if mod := moduleOf(gomod); mod != "istio.io/istio" {
		return fmt.Errorf("%w: %s declares module %q, not istio.io/istio", ErrSource, gomod, mod)
	}
	return nil
}

// Release is the Istio release line a source is (X.Y.Z): the pinned
// module's as istioinstall.PinnedVersion reads it, and for any other
// source its VERSION file's minor (X.Y, master's next release) as X.Y.0.
func Release(ctx context.Context, src Source) (string, error) {
	var text []byte
	var err error
	switch src.kind() {
	case Pinned:
		return istioinstall.PinnedVersion()
	case Module:
		var out []byte
		out, err = exec.CommandContext(ctx, "go", "mod", "download", "-json", "istio.io/istio@"+src.Version).Output()
		if err != nil {
			return "", fmt.Errorf("%s: go mod download: %w", src, err)
		}
		var m struct{ Dir string }
		if err = json.Unmarshal(out, &m); err != nil {
			return "", fmt.Errorf("%s: go mod download: %w", src, err)
		}
		text, err = os.ReadFile(filepath.Join(m.Dir, "VERSION"))
	case Checkout:
		if src.Ref != "" {
			var s string
			s, err = gitOut(ctx, src.Path, "show", src.Ref+":VERSION")
			text = []byte(s)
		} else {
			text, err = os.ReadFile(filepath.Join(src.Path, "VERSION"))
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: its VERSION: %w", src, err)
	}
	v := strings.TrimSpace(string(text))
	if !releaseLine.MatchString(v) {
		return "", fmt.Errorf("%s: VERSION %q is not X.Y", src, v)
	}
	return v + ".0", nil
}

var releaseLine = regexp.MustCompile(`^1\.[0-9]+$`)

// kind is the source's kind; the zero Source is the pinned module.
func (s Source) kind() Kind {
	if s.Kind == "" {
		return Pinned
	}
	return s.Kind
}
