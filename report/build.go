package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/meshcheck/meshcheck/internal/matrix"
	"github.com/meshcheck/meshcheck/suite"
)

// Options say which files of a reports directory Build reads.
type Options struct {
	// Dir is the reports directory (required).
	Dir string
	// Suite is the name hack/run-suites.sh wrote the Ginkgo report under
	// (<Dir>/<Suite>.json); empty: no suite ran.
	Suite string
	// Backend names the timing, run and evidence files
	// (e2e-<Backend>.timing.json, run-<Backend>.json,
	// evidence/<Backend>/); empty: "embedded".
	Backend string
	// Meshcheck is the version of meshcheck writing the report.
	Meshcheck string
	// IstioSource is the control plane's source (ISTIO_SRC: "pinned", a
	// module version, a checkout); the files do not say it.
	IstioSource string
}

// source is one file Build reads: its name in the reports directory and
// how it fills the report. A missing file is skipped; a file that cannot
// be read is a Problem.
type source struct {
	name string
	read func(data []byte, r *Report, o Options) error
	// ownRun is true for a file another command writes in a run of its
	// own (meshcheck mutate's detection.json): it is read whatever its
	// age, and Sources says when it was written.
	ownRun bool
}

func sources(o Options) []source {
	s := []source{
		{"e2e-" + o.Backend + ".timing.json", readTiming, false},
		{"run-" + o.Backend + ".json", readRun, false},
		{"matrix.json", readMatrix, false},
		{filepath.Join("gate", "result.json"), readGate, false},
		{"detection.json", readDetection, true},
	}
	if o.Suite != "" {
		s = append([]source{{o.Suite + ".json", readGinkgo, false}}, s...)
	}
	return s
}

// Build assembles the report of what a run left in o.Dir. Every file read
// is listed in Sources, and so is a file last written before the run
// started (the Ginkgo report's start), which is not read: it is an earlier
// run's; a file present but unreadable is listed in
// Problems (the verdict is then at best undecided). Only a missing
// directory, or a missing Ginkgo report when o.Suite is set, is an error.
func Build(o Options) (*Report, error) {
	if o.Backend == "" {
		o.Backend = "embedded"
	}
	if _, err := os.Stat(o.Dir); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r := &Report{APIVersion: APIVersion, Kind: Kind, Run: Run{Backend: o.Backend, Meshcheck: o.Meshcheck, Istio: Istio{Source: o.IstioSource}}}
	for _, s := range sources(o) {
		data, err := os.ReadFile(filepath.Join(o.Dir, s.name))
		if errors.Is(err, fs.ErrNotExist) && s.read != nil && !(o.Suite != "" && s.name == o.Suite+".json") {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		switch stale, when := r.stale(filepath.Join(o.Dir, s.name)); {
		case stale && s.ownRun:
			r.Sources = append(r.Sources, s.name+" (a run of its own, written "+when+")")
		case stale:
			r.Sources = append(r.Sources, s.name+" (older than the run's start: not read)")
			continue
		default:
			r.Sources = append(r.Sources, s.name)
		}
		if err := s.read(data, r, o); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", s.name, err))
		}
	}
	r.attachEvidence(o)
	r.Settle()
	return r, nil
}

// readTiming reads the suite's e2e-<backend>.timing.json (suite.Report).
func readTiming(data []byte, r *Report, _ Options) error {
	var t suite.Report
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	r.Run.Istio.Version, r.Run.Envoy, r.Run.Proxy, r.Run.Kubernetes = t.Versions.Istio, t.Versions.Envoy, t.Versions.Proxy, t.Versions.Kubernetes
	r.Run.MeshUpSeconds = t.MeshUpSeconds
	for _, f := range t.Features {
		r.Run.Features = append(r.Run.Features, string(f))
	}
	return nil
}

// readMatrix reads make e2e-matrix's matrix.json.
func readMatrix(data []byte, r *Report, _ Options) error {
	var m matrix.Report
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for _, c := range m.Cells {
		r.Matrix = append(r.Matrix, Cell{
			Istio: Istio{Source: c.Istio, Version: c.Version}, Envoy: c.Envoy, Proxy: c.Proxy, Ingress: c.Ingress,
			Supported: c.Supported, Passed: c.Passed, Failed: c.Failed, Skipped: c.Skipped, Seconds: c.Seconds,
			FirstFailure: c.FirstFailure, Error: c.Error,
		})
	}
	return nil
}

// attachEvidence lists, for each failed spec, the files the suite wrote
// under evidence/<backend>/<the spec's name made a file name>/.
func (r *Report) attachEvidence(o Options) {
	for i, c := range r.Checks {
		if c.Origin != originSuite || c.Status != Failed {
			continue
		}
		rel := filepath.Join("evidence", o.Backend, suite.Sanitize(c.Name))
		entries, err := os.ReadDir(filepath.Join(o.Dir, rel))
		if err != nil {
			continue
		}
		for _, e := range entries {
			r.Checks[i].Evidence = append(r.Checks[i].Evidence, filepath.Join(rel, e.Name()))
		}
		slices.Sort(r.Checks[i].Evidence)
	}
}

// stale is true when the run's start is known and path was last written
// before it; when is that time in UTC.
func (r *Report) stale(path string) (bool, string) {
	if r.Run.Start.IsZero() {
		return false, ""
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.ModTime().Before(r.Run.Start) {
		return false, ""
	}
	return true, fi.ModTime().UTC().Format("2006-01-02 15:04 UTC")
}
