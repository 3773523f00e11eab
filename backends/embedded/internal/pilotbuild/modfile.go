package pilotbuild

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// committedModfiles are module files kept in this repository for served
// module versions, so their builds are reproducible: the file names the
// version, its .sum sits beside it.
const committedModfiles = "backends/embedded/istio"

// prepareModfile writes the module file the build reads (go build
// -modfile) into dir and returns its path:
//   - pinned: this repository's go.mod and go.sum as they are;
//   - module: the committed file for the version, or a new one holding
//     only istio.io/istio at that version, so the control plane builds
//     with the requirements that version declares, unchanged;
//   - checkout: this repository's go.mod with istio.io/istio replaced by
//     the checkout (or by a copy of the ref's tree), as make e2e-airgap
//     builds ISTIO_SRC.
func prepareModfile(ctx context.Context, src Source, opts Options, dir string) (string, error) {
	mod := filepath.Join(dir, "istio.mod")
	switch src.kind() {
	case Module:
		committed := filepath.Join(opts.Repo, committedModfiles, src.Version+".mod")
		if _, err := os.Stat(committed); err == nil {
			return mod, copyModfile(committed, mod)
		}
		text := "module github.com/meshcheck/meshcheck\n\ngo 1.26\n\nrequire istio.io/istio " + src.Version + "\n"
		if err := os.WriteFile(mod, []byte(text), 0o644); err != nil {
			return "", err
		}
		// -mod=mod on the build completes the requirements from Istio's.
		return mod, nil
	case Checkout:
		if err := copyModfile(filepath.Join(opts.Repo, "go.mod"), mod); err != nil {
			return "", err
		}
		tree := src.Path
		if src.Ref != "" {
			var err error
			if tree, err = exportRef(ctx, src, filepath.Join(dir, "src")); err != nil {
				return "", err
			}
		}
		return mod, goCmd(ctx, opts.Repo, opts.Log, "mod", "edit", "-modfile="+mod, "-replace", "istio.io/istio="+tree)
	}
	return mod, copyModfile(filepath.Join(opts.Repo, "go.mod"), mod)
}

// copyModfile copies a module file and the .sum beside it.
func copyModfile(from, to string) error {
	for _, ext := range []string{".mod", ".sum"} {
		b, err := os.ReadFile(strings.TrimSuffix(from, ".mod") + ext)
		if err != nil {
			return err
		}
		if err := os.WriteFile(strings.TrimSuffix(to, ".mod")+ext, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// exportRef writes the tree of a checkout's ref into dir (git archive).
func exportRef(ctx context.Context, src Source, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "git", "-C", src.Path, "archive", "--format=tar", src.Ref)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	untar.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr, untar.Stderr = &stderr, &stderr
	if err := untar.Start(); err != nil {
		return "", err
	}
	if err := archive.Run(); err != nil {
		return "", fmt.Errorf("git archive %s %s: %w: %s", src.Path, src.Ref, err, lastLine(stderr.String()))
	}
	if err := untar.Wait(); err != nil {
		return "", fmt.Errorf("untar %s@%s: %w: %s", src.Path, src.Ref, err, lastLine(stderr.String()))
	}
	return dir, nil
}

// goCmd runs the go command in dir for a build outside any workspace,
// free to complete a module file's requirements.
func goCmd(ctx context.Context, dir string, log io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	var tail bytes.Buffer
	cmd.Stdout = io.MultiWriter(log, &tail)
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, lastLines(tail.String(), 8))
	}
	return nil
}

func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, lastLine(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func lastLine(s string) string { return lastLines(s, 1) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// RepoRoot finds this repository's root from dir upwards: the folder whose
// go.mod declares module github.com/meshcheck/meshcheck.
func RepoRoot(dir string) (string, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := start; ; d = filepath.Dir(d) {
		if moduleOf(filepath.Join(d, "go.mod")) == "github.com/meshcheck/meshcheck" {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no meshcheck source at or above %s: the control plane is built from it (run from a checkout of meshcheck)", start)
		}
	}
}

func moduleOf(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	return ""
}
