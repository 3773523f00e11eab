package gate

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

	"github.com/meshcheck/meshcheck/backends/embedded"
	"github.com/meshcheck/meshcheck/internal/cachedir"
)

// KindSide is what one side of a gate on kind runs: the pilot and
// proxyv2 images built from its source (Hub, Tag) and the istioctl built
// from the same source, which installs them with its own charts.
type KindSide struct {
	Hub, Tag, Istioctl string
}

// CheckKindSource refuses, before anything is built, a source the kind
// gate cannot build images from: the images are built with this
// repository's requirements (build/images/istio.sh), so a module version
// other than the pinned one is not one of them.
func CheckKindSource(ctx context.Context, source string) error {
	src, err := embedded.ParseSource(source)
	if err != nil {
		return err
	}
	if src.Kind == embedded.SourceModule {
		return fmt.Errorf("%s: the gate on kind builds the pilot and proxyv2 images with this repository's requirements, from pinned or a checkout path[@ref]; compare module versions with the embedded gate (make gate)", src)
	}
	return embedded.CheckSource(ctx, src)
}

// KindImages builds (or finds current) the side's images and istioctl
// with build/images/istio.sh of repo, tagged tag; a checkout at a git ref
// is exported to a cache folder first (the script builds a tree).
func KindImages(ctx context.Context, repo, source, tag string, log io.Writer) (KindSide, error) {
	src, err := embedded.ParseSource(source)
	if err != nil {
		return KindSide{}, err
	}
	env := []string{"ISTIO_TAG=" + tag, "ISTIO_SRC="}
	if src.Kind == embedded.SourceCheckout {
		dir := src.Path
		if src.Ref != "" {
			if dir, err = exportRef(ctx, src.Path, src.Ref); err != nil {
				return KindSide{}, err
			}
		}
		env[1] = "ISTIO_SRC=" + dir
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(repo, "build", "images", "istio.sh"))
	cmd.Dir, cmd.Env = repo, append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, log
	if err := cmd.Run(); err != nil {
		return KindSide{}, fmt.Errorf("images for %s (build/images/istio.sh, tag %s): %w", source, tag, err)
	}
	return parseImagesOutput(out.String())
}

// parseImagesOutput reads the NAME=value lines istio.sh ends with.
func parseImagesOutput(s string) (KindSide, error) {
	var k KindSide
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch name {
		case "ISTIO_HUB":
			k.Hub = v
		case "ISTIO_TAG":
			k.Tag = v
		case "ISTIOCTL":
			k.Istioctl = v
		}
	}
	if k.Hub == "" || k.Tag == "" || k.Istioctl == "" {
		return k, fmt.Errorf("build/images/istio.sh printed no ISTIO_HUB, ISTIO_TAG and ISTIOCTL lines; it printed:\n%s", s)
	}
	return k, nil
}

// exportRef writes the tree of a checkout at ref into a cache folder
// named by its commit (git archive), once.
func exportRef(ctx context.Context, path, ref string) (string, error) {
	rev, err := exec.CommandContext(ctx, "git", "-C", path, "rev-parse", ref+"^{commit}").Output()
	if err != nil {
		return "", fmt.Errorf("%s@%s: git rev-parse: %w", path, ref, err)
	}
	cache, err := cachedir.Dir("gate-src")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, strings.TrimSpace(string(rev)))
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir, nil
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	sh := fmt.Sprintf("git -C %q archive --format=tar %q | tar -x -C %q", path, strings.TrimSpace(string(rev)), tmp)
	if out, err := exec.CommandContext(ctx, "sh", "-c", sh).CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s@%s: export the tree: %w: %s", path, ref, err, out)
	}
	return dir, os.Rename(tmp, dir)
}
