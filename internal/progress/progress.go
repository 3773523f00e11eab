package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Mode is how phases are printed.
type Mode int

const (
	// CI prints plain lines and GitHub Actions groups, no carriage return.
	CI Mode = iota
	// Terminal rewrites the running phase's line in place.
	Terminal
)

// ModeOf is Terminal when f is a terminal and GITHUB_ACTIONS is not
// "true", else CI.
func ModeOf(f *os.File, getenv func(string) string) Mode {
	if getenv("GITHUB_ACTIONS") == "true" {
		return CI
	}
	if !term.IsTerminal(int(f.Fd())) {
		return CI
	}
	return Terminal
}

// Options configure a Progress.
type Options struct {
	Mode Mode
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Tick is how often a terminal's live line is redrawn (default 200ms);
	// negative: only when Tick is called (tests).
	Tick time.Duration
}

// Progress prints phases to one writer. Its methods are safe for
// concurrent use.
type Progress struct {
	w     io.Writer
	o     Options
	mu    sync.Mutex
	stack []*Phase
	stop  chan struct{}
}

// Phase is one phase under way.
type Phase struct {
	p     *Progress
	name  string
	start time.Time
	depth int
	done  bool
}

// New returns a Progress printing to w.
func New(w io.Writer, o Options) *Progress {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick == 0 {
		o.Tick = 200 * time.Millisecond
	}
	return &Progress{w: w, o: o}
}

// ForFile is New for f in the mode f and the environment call for.
func ForFile(f *os.File) *Progress {
	return New(f, Options{Mode: ModeOf(f, os.Getenv)})
}

// For is ForFile when w is a file, else a Progress printing CI lines to w.
func For(w io.Writer) *Progress {
	if f, ok := w.(*os.File); ok {
		return ForFile(f)
	}
	return New(w, Options{Mode: CI})
}

type ctxKey struct{}

// WithContext returns ctx carrying p.
func WithContext(ctx context.Context, p *Progress) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext is the Progress ctx carries; without one, a Progress that
// prints nothing.
func FromContext(ctx context.Context) *Progress {
	if p, ok := ctx.Value(ctxKey{}).(*Progress); ok && p != nil {
		return p
	}
	return New(io.Discard, Options{Tick: -1})
}

// Start begins a phase; end it with Done.
func (p *Progress) Start(name string) *Phase {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph := &Phase{p: p, name: name, start: p.o.Now(), depth: len(p.stack)}
	p.stack = append(p.stack, ph)
	p.render(started, ph, nil)
	if p.o.Mode == Terminal && p.o.Tick > 0 && p.stop == nil {
		p.stop = make(chan struct{})
		go p.ticker(p.stop)
	}
	return ph
}

// Skip is the error that ends a phase as skipped rather than failed.
type Skip struct{ Why string }

func (s *Skip) Error() string { return "skipped: " + s.Why }

// Done ends the phase, failed when err is not nil (skipped when it is a
// *Skip); a second call does
// nothing. Phases started inside it and not ended are ended with it.
func (ph *Phase) Done(err error) {
	p := ph.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if ph.done {
		return
	}
	for len(p.stack) > ph.depth {
		top := p.stack[len(p.stack)-1]
		p.stack = p.stack[:len(p.stack)-1]
		top.done = true
		if top == ph {
			p.render(ended, top, err)
		} else {
			p.render(ended, top, fmt.Errorf("not ended before %s", ph.name))
		}
	}
	if len(p.stack) == 0 && p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

// Tick redraws a terminal's live line with the elapsed time.
func (p *Progress) Tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.stack) > 0 {
		p.render(running, p.stack[len(p.stack)-1], nil)
	}
}

func (p *Progress) ticker(stop chan struct{}) {
	t := time.NewTicker(p.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.Tick()
		}
	}
}

// What happened to a phase, for render.
type event int

const (
	started event = iota
	running
	ended
)

func (p *Progress) render(ev event, ph *Phase, err error) {
	var s string
	if p.o.Mode == Terminal {
		s = p.terminal(ev, ph, err)
	} else {
		s = ci(ev, ph, p.elapsed(ph), err)
	}
	_, _ = io.WriteString(p.w, s)
}

// terminal is the line rewritten in place: "▸ outer › inner 1.2s" while
// it runs, "✓ inner 3.4s" or "✗ inner 3.4s: why" when it ends.
func (p *Progress) terminal(ev event, ph *Phase, err error) string {
	const erase = "\r\x1b[K"
	el := p.elapsed(ph)
	var skip *Skip
	switch {
	case ev != ended:
		return fmt.Sprintf("%s▸ %s %s", erase, p.path(), el)
	case errors.As(err, &skip):
		return fmt.Sprintf("%s– %s %s: %s\n", erase, ph.name, el, firstLine(err))
	case err != nil:
		return fmt.Sprintf("%s✗ %s %s: %s\n", erase, ph.name, el, firstLine(err))
	}
	return fmt.Sprintf("%s✓ %s %s\n", erase, ph.name, el)
}

// ci is a phase's lines in CI: a group around each outermost phase, plain
// lines for inner ones, the outcome after the group.
func ci(ev event, ph *Phase, el string, err error) string {
	outcome := "ok in " + el
	var skip *Skip
	switch {
	case errors.As(err, &skip):
		outcome = firstLine(err)
	case err != nil:
		outcome = "FAILED in " + el + ": " + firstLine(err)
	}
	switch {
	case ev == running:
		return ""
	case ev == started && ph.depth == 0:
		return "::group::" + ph.name + "\n"
	case ev == started:
		return strings.Repeat("  ", ph.depth) + "▸ " + ph.name + "\n"
	case ph.depth == 0:
		return fmt.Sprintf("::endgroup::\n%s: %s\n", ph.name, outcome)
	}
	return fmt.Sprintf("%s%s: %s\n", strings.Repeat("  ", ph.depth), ph.name, outcome)
}

// path is the running phases, outermost first.
func (p *Progress) path() string {
	names := make([]string, len(p.stack))
	for i, ph := range p.stack {
		names[i] = ph.name
	}
	return strings.Join(names, " › ")
}

func (p *Progress) elapsed(ph *Phase) string {
	return fmt.Sprintf("%.1fs", p.o.Now().Sub(ph.start).Seconds())
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// Step runs f as a phase of the Progress ctx carries and returns f's
// error.
func Step(ctx context.Context, name string, f func() error) error {
	ph := FromContext(ctx).Start(name)
	err := f()
	ph.Done(err)
	return err
}

// Env names the file the suites print their phases to (hack/run-suites.sh
// sets it to its own standard error, which go test does not pass to the
// test binary); unset, phases print nothing.
const Env = "MESHCHECK_PROGRESS"

// FromEnv opens the file Env names, in the mode it calls for (Terminal
// for a terminal outside GitHub Actions, else CI); without Env, a
// Progress that prints nothing. Close closes the file.
func FromEnv(getenv func(string) string) (p *Progress, close func() error, err error) {
	path := getenv(Env)
	if path == "" {
		return New(io.Discard, Options{Tick: -1}), func() error { return nil }, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("progress: %s: %w", Env, err)
	}
	return New(f, Options{Mode: ModeOf(f, getenv)}), f.Close, nil
}
