// Command matrix runs the suites on the embedded backend once per cell of
// a version matrix (make e2e-matrix): every Istio control plane build
// (matrix.ControlPlanes) with every Envoy release (envoybin.Served) and
// every ingress API (matrix.Ingresses), and writes reports/matrix.json and
// reports/matrix.md. A cell outside Istio's skew policy is still run, and
// marked.
//
//	go run ./hack/matrix [-istio pinned,v0.0.0-...] [-envoy 1.39,1.40] [-ingress istio,gateway-api] [-labels FILTER]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/meshcheck/meshcheck/internal/envoybin"
	"github.com/meshcheck/meshcheck/internal/matrix"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "matrix:", err)
		os.Exit(1)
	}
}

func run() error {
	var istios []string
	for _, cp := range matrix.ControlPlanes {
		istios = append(istios, cp.Source)
	}
	istio := flag.String("istio", strings.Join(istios, ","), "control plane sources, comma-separated")
	envoy := flag.String("envoy", strings.Join(envoybin.Served, ","), "Envoy releases or minors, comma-separated")
	ingress := flag.String("ingress", strings.Join(matrix.Ingresses, ","), "ingress APIs, comma-separated")
	cells := flag.String("cells", "", `cells to run instead of every -istio x -envoy x -ingress triple: "SOURCE ENVOY [INGRESS];..." (INGRESS istio when left out)`)
	labels := flag.String("labels", "", "Ginkgo label filter for every cell")
	reports := flag.String("reports", "reports", "report folder")
	flag.Parse()
	triples, err := cellTriples(*cells, *istio, *envoy, *ingress)
	if err != nil {
		return err
	}
	var r matrix.Report
	failed := 0
	for _, p := range triples {
		c, err := newCell(p[0], p[1], p[2])
		if err != nil {
			return err
		}
		runCell(&c, *labels, *reports)
		if !c.Passing() && c.Supported {
			failed++
		}
		r.Cells = append(r.Cells, c)
		if err := write(r, *reports); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "== cell %s: passed %d, failed %d, skipped %d in %.0f s %s\n", c.Name(), c.Passed, c.Failed, c.Skipped, c.Seconds, c.Error)
	}
	fmt.Print(r.Markdown())
	if failed > 0 {
		return fmt.Errorf("%d supported cell(s) failed (reports in %s/matrix.md)", failed, *reports)
	}
	return nil
}

// cellTriples are the cells to run: the -cells list, or every triple.
func cellTriples(cells, istio, envoy, ingress string) ([][3]string, error) {
	var out [][3]string
	if cells != "" {
		for _, c := range strings.Split(cells, ";") {
			f := strings.Fields(c)
			if len(f) == 2 {
				f = append(f, matrix.Ingresses[0])
			}
			if len(f) != 3 {
				return nil, fmt.Errorf("-cells: %q: want SOURCE ENVOY [INGRESS]", c)
			}
			out = append(out, [3]string{f[0], f[1], f[2]})
		}
	} else {
		for _, src := range strings.Split(istio, ",") {
			for _, ev := range strings.Split(envoy, ",") {
				for _, in := range strings.Split(ingress, ",") {
					out = append(out, [3]string{src, ev, in})
				}
			}
		}
	}
	for _, t := range out {
		if !slices.Contains(matrix.Ingresses, t[2]) {
			return nil, fmt.Errorf("cell %v: ingress %q: want one of %v", t, t[2], matrix.Ingresses)
		}
	}
	return out, nil
}

func newCell(src, envoy, ingress string) (matrix.Cell, error) {
	c := matrix.Cell{Istio: src, Envoy: envoy, Ingress: ingress, Version: "unknown"}
	for _, cp := range matrix.ControlPlanes {
		if cp.Source == src {
			c.Version = cp.Version
		}
	}
	proxy, err := envoybin.IstioProxyVersion(envoy)
	if err != nil {
		return c, err
	}
	c.Proxy = proxy
	if c.Version != "unknown" {
		if c.Supported, err = matrix.Supported(c.Version, proxy); err != nil {
			return c, err
		}
	}
	return c, nil
}

// runCell runs make e2e-local for one cell, its output in the cell's log.
func runCell(c *matrix.Cell, labels, reports string) {
	log, err := os.Create(filepath.Join(reports, c.Name()+".log"))
	if err != nil {
		c.Error = err.Error()
		return
	}
	defer log.Close()
	cmd := exec.Command("hack/e2e-local.sh")
	cmd.Env = append(os.Environ(), "ISTIO_SRC="+c.Istio, "ENVOY="+c.Envoy, "INGRESS="+c.Ingress, "SUITES_NAME="+c.Name(), "LABELS="+labels)
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	runErr := cmd.Run()
	c.Seconds = time.Since(start).Seconds()
	if err := c.Count(filepath.Join(reports, c.Name()+".json")); err != nil {
		c.Error = fmt.Sprintf("%v (run: %v; log %s)", err, runErr, log.Name())
	}
}

func write(r matrix.Report, dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "matrix.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "matrix.md"), []byte(r.Markdown()), 0o644)
}
