package kindmesh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/meshcheck/meshcheck/backends/istioinstall"
	"github.com/meshcheck/meshcheck/backends/istiorelease"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
	"github.com/meshcheck/meshcheck/config"
)

// AirgapIstioVersion is what the images make images builds from the
// pinned istio.io/istio are installed as: the 1.31 line (go.mod pins
// istio.io/api v1.31.1), so the install options of that minor apply.
const AirgapIstioVersion = "1.31.1"

// upstream whoami, the release run's VM: traefik/whoami and its flags.
const (
	whoamiImage   = "whoami:v1.10"
	whoamiCommand = "--port 80 --name {name}"
)

// Resolve turns a run's configuration into the kind backend's Options.
// With cfg.Istio.Version it resolves that release in Go: istioctl and the
// full release downloaded, checked against their .sha256 and cached
// (backends/istiorelease), the kind node image of its minor, Bookinfo's
// registry and tag from the release's samples, and every image from
// cfg.ImageRegistry when that mirror is set. Without it, the images make
// images built (cfg.Local), which must all be present, and bin/istioctl.
// Fields cfg.Kind sets win over the resolved ones. log receives progress.
func Resolve(ctx context.Context, cfg config.Run, log io.Writer) (Options, error) {
	return resolver{inspect: dockerImagesPresent, root: moduleRoot}.resolve(ctx, cfg, log)
}

// resolver holds what Resolve reaches outside the process, for tests.
type resolver struct {
	// inspect fails naming every image Docker does not hold.
	inspect func(ctx context.Context, images []string) error
	// root is the repository's top directory (bin/istioctl is below it).
	root func() (string, error)
}

// run is what a release or the local images give, before cfg.Kind's
// overrides.
type run struct {
	version, istioctl, nodeImage, hub, tag string
	images                                 []string
	fixtureVars                            map[string]string
	vmImage                                string
	vmCommand                              string
	parity                                 bool
}

func (rs resolver) resolve(ctx context.Context, cfg config.Run, log io.Writer) (Options, error) {
	if err := cfg.Validate(); err != nil {
		return Options{}, err
	}
	if cfg.Backend != config.Kind {
		return Options{}, fmt.Errorf("kindmesh: the run's backend is %s, not kind", cfg.Backend)
	}
	if log == nil {
		log = io.Discard
	}
	var r run
	var err error
	if cfg.Istio.Version != "" {
		r, err = resolveRelease(ctx, cfg, log)
	} else {
		r, err = rs.resolveLocal(ctx, cfg)
	}
	if err != nil {
		return Options{}, err
	}
	return options(cfg, r)
}

// Release is what an Istio release gives a kind run.
type Release struct {
	// Version is the release X.Y.Z; Istioctl its istioctl binary; Dir
	// the unpacked full release.
	Version, Istioctl, Dir string
	// NodeImage is the kind node image of the release's minor.
	NodeImage string
	// BookinfoRegistry and BookinfoTag are the Bookinfo images the
	// release's samples/bookinfo names.
	BookinfoRegistry, BookinfoTag string
}

// ResolveRelease downloads release version (or takes it from the cache):
// istioctl (unless istioctl names one already) and the full release, each
// checked against its .sha256, and reads the node image of its minor and
// Bookinfo's images from the release's samples.
func ResolveRelease(ctx context.Context, version, istioctl string, ro istiorelease.Options) (Release, error) {
	compat, err := istioinstall.Lookup(version)
	if err != nil {
		return Release{}, fmt.Errorf("kindmesh: %w", err)
	}
	r := Release{Version: version, Istioctl: istioctl, NodeImage: compat.NodeImage}
	if r.Istioctl == "" {
		if r.Istioctl, err = istiorelease.Istioctl(ctx, version, ro); err != nil {
			return Release{}, fmt.Errorf("kindmesh: Istio %s: %w", version, err)
		}
	}
	if r.Dir, err = istiorelease.Release(ctx, version, ro); err != nil {
		return Release{}, fmt.Errorf("kindmesh: Istio %s: %w", version, err)
	}
	if r.BookinfoRegistry, r.BookinfoTag, err = istiorelease.BookinfoImage(r.Dir); err != nil {
		return Release{}, fmt.Errorf("kindmesh: Istio %s: %w", version, err)
	}
	return r, nil
}

// resolveRelease resolves release cfg.Istio.Version and names its images,
// upstream or from the cfg.ImageRegistry mirror.
func resolveRelease(ctx context.Context, cfg config.Run, log io.Writer) (run, error) {
	v := cfg.Istio.Version
	ro := istiorelease.Options{BaseURL: cfg.Istio.Mirror, Logf: func(f string, a ...any) { fmt.Fprintf(log, f+"\n", a...) }}
	rel, err := ResolveRelease(ctx, v, cfg.Kind.Istioctl, ro)
	if err != nil {
		return run{}, fmt.Errorf("%w (from Istio.Version, --istio-version, $ISTIO_VERSION)", err)
	}
	r := run{version: v, istioctl: rel.Istioctl, nodeImage: rel.NodeImage, vmCommand: whoamiCommand,
		fixtureVars: map[string]string{"bookinfoRegistry": rel.BookinfoRegistry, "bookinfoTag": rel.BookinfoTag},
		vmImage:     "docker.io/traefik/" + whoamiImage}
	if reg := cfg.ImageRegistry; reg != "" {
		// One mirror holds every image, under the upstream repositories.
		r.hub, r.tag = reg+"/istio", v
		r.fixtureVars = map[string]string{"bookinfoRegistry": reg + "/istio", "bookinfoTag": rel.BookinfoTag,
			"whoamiRegistry": reg + "/traefik", "curlRegistry": reg + "/curlimages"}
		r.vmImage = reg + "/traefik/" + whoamiImage
	}
	return r, nil
}

// localFixtureImages are the fixture apps make images-fixtures builds.
var localFixtureImages = []string{
	"examples-bookinfo-productpage-v1", "examples-bookinfo-details-v1", "examples-bookinfo-ratings-v1",
	"examples-bookinfo-reviews-v1", "examples-bookinfo-reviews-v2", "examples-bookinfo-reviews-v3", "whoami", "curl",
}

// resolveLocal names the images make images built and checks they are
// there: pilot and proxyv2 (a stock Envoy: parity on), the fixture apps,
// the node image, bin/istioctl.
func (rs resolver) resolveLocal(ctx context.Context, cfg config.Run) (run, error) {
	l := cfg.Local.Resolved(cfg.ImageRegistry)
	r := run{version: AirgapIstioVersion, istioctl: cfg.Kind.Istioctl, nodeImage: l.NodeImage(cfg.ImageRegistry),
		hub: l.IstioHub, tag: l.IstioTag, parity: true, vmImage: l.FixtureRegistry + "/whoami:" + l.FixtureTag, vmCommand: "--name {name}"}
	r.images = []string{l.IstioHub + "/pilot:" + l.IstioTag, l.IstioHub + "/proxyv2:" + l.IstioTag}
	for _, n := range localFixtureImages {
		r.images = append(r.images, l.FixtureRegistry+"/"+n+":"+l.FixtureTag)
	}
	r.fixtureVars = LocalFixtureVars(cfg)
	var errs []error
	if err := rs.inspect(ctx, r.images); err != nil {
		errs = append(errs, fmt.Errorf("%w: run make images", err))
	}
	if r.istioctl == "" {
		root, err := rs.root()
		if err != nil {
			return run{}, err
		}
		r.istioctl = filepath.Join(root, "bin", "istioctl")
		if _, err := os.Stat(r.istioctl); err != nil {
			errs = append(errs, fmt.Errorf("%s is missing: run make images", r.istioctl))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return run{}, fmt.Errorf("kindmesh: the images make images builds (IMAGE_REGISTRY=%s, ISTIO_HUB=%s, ISTIO_TAG=%s, FIXTURE_REGISTRY=%s, FIXTURE_TAG=%s): %w",
			cfg.ImageRegistry, l.IstioHub, l.IstioTag, l.FixtureRegistry, l.FixtureTag, err)
	}
	return r, nil
}

// LocalFixtureVars are the fixture variables naming the fixture images
// make images built (cfg.Local, cfg.ImageRegistry), with cfg.Kind's
// FixtureVars over them.
func LocalFixtureVars(cfg config.Run) map[string]string {
	l := cfg.Local.Resolved(cfg.ImageRegistry)
	vars := map[string]string{}
	for _, app := range []string{"bookinfo", "whoami", "curl"} {
		vars[app+"Registry"], vars[app+"Tag"] = l.FixtureRegistry, l.FixtureTag
	}
	for k, v := range cfg.Kind.FixtureVars {
		vars[k] = v
	}
	return vars
}

// Istio is what a run's configuration resolves to for istioctl and the
// fixtures, whatever the cluster: the kube backend's --istio install.
type Istio struct {
	Install     istioinstall.Options
	Istioctl    string
	FixtureVars map[string]string
}

// ResolveIstio resolves cfg's Istio as Resolve does (a release downloaded
// and checked, or the images make images built and bin/istioctl), without
// a kind cluster and without asking the local Docker for the images: the
// cluster the kube backend reaches pulls or holds them itself.
func ResolveIstio(ctx context.Context, cfg config.Run, log io.Writer) (Istio, error) {
	rs := resolver{inspect: func(context.Context, []string) error { return nil }, root: moduleRoot}
	k := cfg
	k.Backend, k.Nodes = config.Kind, 1
	o, err := rs.resolve(ctx, k, log)
	if err != nil {
		return Istio{}, err
	}
	return Istio{Install: o.Install, Istioctl: o.Istioctl, FixtureVars: o.FixtureVars}, nil
}

// options lays cfg's own settings over what the run resolved.
func options(cfg config.Run, r run) (Options, error) {
	pick := func(own, resolved string) string {
		if own != "" {
			return own
		}
		return resolved
	}
	workDir, err := filepath.Abs(pick(cfg.Kind.WorkDir, filepath.Join(cfg.ReportDir, "kind")))
	if err != nil {
		return Options{}, fmt.Errorf("kindmesh: %w", err)
	}
	o := Options{
		Cluster: kindcluster.Options{Name: cfg.Kind.Cluster, NodeImage: pick(cfg.NodeImage, r.nodeImage),
			Workers: cfg.Nodes - 1, IngressNodePort: istioinstall.DefaultIngressNodePort},
		Install: istioinstall.Options{Version: r.version, Hub: r.hub, Tag: r.tag,
			AccessLogEncoding: istioinstall.AccessLogEncoding(strings.ToUpper(cfg.Mesh.AccessLogEncoding)),
			DNSCapture:        cfg.Mesh.DNSCapture, DNSAutoAllocate: cfg.Mesh.DNSAutoAllocate, EmbeddedParity: cfg.Mesh.Parity || r.parity},
		Istioctl:    r.istioctl,
		Images:      append(r.images, cfg.Kind.Images...),
		FixtureVars: r.fixtureVars,
		VMImage:     pick(cfg.Kind.VMImage, r.vmImage),
		VMCommand:   cfg.Kind.VMCommand,
		Keep:        cfg.Keep,
		Reuse:       cfg.Kind.Reuse,
		WorkDir:     workDir,
	}
	if len(o.VMCommand) == 0 {
		o.VMCommand = strings.Fields(r.vmCommand)
	}
	for k, v := range cfg.Kind.FixtureVars {
		o.FixtureVars[k] = v
	}
	if o.Cluster.Name == "" {
		if o.Cluster.Name, err = kindcluster.NewName(r.version, nil); err != nil {
			return Options{}, fmt.Errorf("kindmesh: %w", err)
		}
	}
	return o, nil
}

// dockerImagesPresent fails naming every image the Docker daemon lacks.
func dockerImagesPresent(ctx context.Context, images []string) error {
	var missing []string
	for _, img := range images {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", img)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			missing = append(missing, fmt.Sprintf("%s (%s)", img, strings.TrimSpace(stderr.String())))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d images missing: %s", len(missing), len(images), strings.Join(missing, ", "))
	}
	return nil
}

// moduleRoot is the nearest directory at or above the working directory
// whose go.mod declares this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("kindmesh: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/meshcheck/meshcheck\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("kindmesh: no meshcheck go.mod at or above %s: give the istioctl binary (Kind.Istioctl, --istioctl)", dir)
		}
	}
}
