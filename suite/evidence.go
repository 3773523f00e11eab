package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
)

// EvidenceDir is where the evidence of a failed test (or of the setup) is
// written: <Reports>/evidence/<backend>/<name, made a file name>.
func (s *Suite) EvidenceDir(name string) string {
	return filepath.Join(s.Reports, "evidence", s.Backend.Name(), Sanitize(name))
}

// Failed writes a failed test's evidence into EvidenceDir(name): the
// failure text in failure.txt, then everything CollectEvidence gathers.
func (s *Suite) Failed(ctx context.Context, name, failure string) error {
	dir := s.EvidenceDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("suite: evidence: %w", err)
	}
	err := os.WriteFile(filepath.Join(dir, "failure.txt"), []byte(failure+"\n"), 0o644)
	return errors.Join(err, s.CollectEvidence(ctx, dir))
}

// CollectEvidence writes what the mesh holds into dir: the backend's own
// evidence where it has FeatureEvidence (config dumps included), else every
// proxy's config dump; the control plane's sync state; every proxy's access
// log since the suite's mark (FeatureAccessLogs); every sidecar workload's
// interception rules (FeatureInterceptionRules). What cannot be read is
// listed in evidence-errors.txt and returned.
func (s *Suite) CollectEvidence(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("suite: evidence: %w", err)
	}
	b := s.Backend
	var errs []error
	write := func(name string, data []byte, err error) {
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	own := backend.Has(b, backend.FeatureEvidence)
	if own {
		if err := b.CollectEvidence(ctx, filepath.Join(dir, b.Name())); err != nil {
			errs = append(errs, fmt.Errorf("the %s backend's evidence: %w", b.Name(), err))
		}
	}
	syncs, err := b.Sync(ctx)
	write("sync.json", jsonBytes(syncs), err)
	proxies, err := b.Proxies(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("proxies: %w", err))
	}
	for _, p := range proxies {
		name := p.Namespace + "." + p.Name
		if !own {
			dump, err := b.ConfigDump(ctx, p)
			write(name+".config_dump.json", dump, err)
		}
		if backend.Has(b, backend.FeatureAccessLogs) {
			log, err := b.AccessLogs(ctx, p, s.Mark)
			write(name+".access.log", log, err)
		}
	}
	if backend.Has(b, backend.FeatureInterceptionRules) {
		errs = append(errs, s.collectRules(ctx, write))
	}
	err = errors.Join(errs...)
	if err != nil {
		_ = os.WriteFile(filepath.Join(dir, "evidence-errors.txt"), []byte(err.Error()+"\n"), 0o644)
		return fmt.Errorf("suite: evidence in %s: %w", dir, err)
	}
	return nil
}

func (s *Suite) collectRules(ctx context.Context, write func(string, []byte, error)) error {
	ws, err := s.Backend.Workloads(ctx)
	if err != nil {
		return fmt.Errorf("workloads: %w", err)
	}
	for _, w := range ws {
		if w.Proxy == backend.Sidecar {
			rules, err := s.Backend.InterceptionRules(ctx, w)
			write(w.Namespace+"."+w.Name+".iptables", rules, err)
		}
	}
	return nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Sanitize makes a test's full name a file name of at most 120 bytes.
func Sanitize(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "-"), "-")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func jsonBytes(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []byte(fmt.Sprintf("%q\n", err.Error()))
	}
	return append(b, '\n')
}

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("suite: %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("suite: %w", err)
	}
	return nil
}
