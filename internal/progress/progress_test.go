package progress

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/internal/textgolden"
)

// clock is a fake clock the test moves forward.
type clock struct{ t time.Time }

func (c *clock) now() time.Time           { return c.t }
func (c *clock) add(d time.Duration)      { c.t = c.t.Add(d) }
func (c *clock) seconds(s float64) *clock { c.add(time.Duration(s * float64(time.Second))); return c }

// run is a long run's phases: the backend's cluster with its images and
// Istio inside, the fixtures, convergence, a passing and a failing suite,
// and an inner phase left running when its outer one ends.
func run(p *Progress, c *clock) {
	cluster := p.Start("cluster")
	c.seconds(1.5)
	p.Tick()
	images := p.Start("images")
	c.seconds(2)
	p.Tick()
	images.Done(nil)
	cluster.Done(nil)
	istio := p.Start("Istio")
	c.seconds(3.25)
	p.Tick()
	istio.Done(nil)
	fx := p.Start("fixtures")
	c.seconds(0.4)
	fx.Done(nil)
	conv := p.Start("convergence")
	c.seconds(1.2)
	conv.Done(nil)
	s1 := p.Start("suite whoami-90-10")
	c.seconds(4)
	p.Tick()
	s1.Done(nil)
	p.Start("suite bookinfo-cross-node").Done(&Skip{Why: "the embedded backend lacks feature multi-node"})
	s2 := p.Start("suite vm-migration-50-50")
	p.Start("split sampling")
	c.seconds(6)
	s2.Done(errors.New("split vm=50,docker=50: fail after 600 requests\nthe whole reason"))
	s2.Done(nil) // a second Done prints nothing
}

// TestRenderings: the same run on a terminal (lines rewritten in place)
// and in CI (GitHub groups, no carriage return), each against its golden.
func TestRenderings(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode Mode
	}{{"terminal", Terminal}, {"ci", CI}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			c := &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
			run(New(&b, Options{Mode: tc.mode, Now: c.now, Tick: -1}), c)
			out := b.String()
			if tc.mode == CI && strings.ContainsAny(out, "\r\x1b") {
				t.Errorf("CI output has a carriage return or an escape:\n%q", out)
			}
			if tc.mode == CI && strings.Count(out, "::group::") != strings.Count(out, "::endgroup::") {
				t.Errorf("CI output's groups are not balanced:\n%s", out)
			}
			textgolden.Assert(t, filepath.Join("testdata", tc.name+".golden"), b.Bytes())
		})
	}
}

// TestModeOf: GitHub Actions and a file that is not a terminal are CI.
func TestModeOf(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		env  string
		want Mode
	}{{"a file", "", CI}, {"GitHub Actions", "true", CI}} {
		if got := ModeOf(f, func(string) string { return tc.env }); got != tc.want {
			t.Errorf("%s: ModeOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestTicker: on a terminal the live line is redrawn on its own.
func TestTicker(t *testing.T) {
	var b syncBuffer
	p := New(&b, Options{Mode: Terminal, Tick: 5 * time.Millisecond})
	ph := p.Start("cluster")
	time.Sleep(60 * time.Millisecond)
	ph.Done(nil)
	if n := strings.Count(b.String(), "▸ cluster"); n < 3 {
		t.Errorf("live line drawn %d times in 60ms at a 5ms tick, want several:\n%q", n, b.String())
	}
}

// TestFromContext: a context without a Progress gives one that prints
// nothing; with one, that one.
func TestFromContext(t *testing.T) {
	FromContext(context.Background()).Start("x").Done(nil)
	var b bytes.Buffer
	p := New(&b, Options{Tick: -1})
	FromContext(WithContext(context.Background(), p)).Start("fixtures").Done(nil)
	if !strings.Contains(b.String(), "::group::fixtures") {
		t.Errorf("output %q: want the phase through the context", b.String())
	}
}

// TestFromEnv: the file MESHCHECK_PROGRESS names gets the phases (a file
// is not a terminal: CI lines); unset, nothing is opened; a path that
// cannot be opened is an error naming the variable.
func TestFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "progress")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, env, want, err string
	}{
		{"a file", path, "::group::fixtures\n::endgroup::\nfixtures: ok in ", ""},
		{"unset", "", "", ""},
		{"missing", filepath.Join(t.TempDir(), "no", "such"), "", "progress: MESHCHECK_PROGRESS: open "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, closeFn, err := FromEnv(func(k string) string {
				if k == Env {
					return tc.env
				}
				return ""
			})
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("error %v, want one starting %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = Step(WithContext(context.Background(), p), "fixtures", func() error { return nil })
			if err := closeFn(); err != nil {
				t.Fatal(err)
			}
			if tc.want != "" {
				b, _ := os.ReadFile(tc.env)
				if !strings.HasPrefix(string(b), tc.want) {
					t.Errorf("file holds %q, want it to start %q", b, tc.want)
				}
			}
		})
	}
}

// TestFor: a writer that is not a file gets CI lines.
func TestFor(t *testing.T) {
	var b bytes.Buffer
	For(&b).Start("whoami@90-10").Done(errors.New("1 of 5 checks did not pass"))
	if want := "::group::whoami@90-10\n::endgroup::\nwhoami@90-10: FAILED in "; !strings.HasPrefix(b.String(), want) || !strings.HasSuffix(b.String(), ": 1 of 5 checks did not pass\n") {
		t.Errorf("output %q: want %q... and the reason", b.String(), want)
	}
}
