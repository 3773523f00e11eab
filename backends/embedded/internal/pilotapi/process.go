package pilotapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"
)

// StartOptions start a control plane process.
type StartOptions struct {
	// Binary is meshcheck-pilot (pilotbuild.Build).
	Binary string
	// Dir holds the process's sockets and its log (pilot.log).
	Dir string
	// Env is pilot's environment (the parity setting's PILOT_* values):
	// pilot reads it when the process starts.
	Env map[string]string
	// EventGrace and Debounce are passed on (see pilothost's flags).
	EventGrace, Debounce time.Duration
	// Source is the identity the binary was built for, reported back.
	Source string
	// Ready bounds the wait for the process to answer.
	Ready time.Duration
}

// Process is a running control plane.
type Process struct {
	*Client
	// XDS is the Unix socket ADS is served on; Log the process's output.
	XDS, Log string
	// Info is what the process said of itself when it started.
	Info Info

	cmd  *exec.Cmd
	done chan error
}

// Start runs the control plane and waits until it answers; it dies with
// the calling thread's process (Pdeathsig) and on Close.
func Start(ctx context.Context, o StartOptions) (*Process, error) {
	p := &Process{XDS: filepath.Join(o.Dir, "xds.sock"), Log: filepath.Join(o.Dir, "pilot.log"), done: make(chan error, 1)}
	control := filepath.Join(o.Dir, "pilot.sock")
	log, err := os.Create(p.Log)
	if err != nil {
		return nil, fmt.Errorf("control plane log: %w", err)
	}
	defer log.Close()
	p.cmd = exec.Command(o.Binary, "--control", control, "--xds", p.XDS,
		"--event-grace", o.EventGrace.String(), "--debounce", o.Debounce.String(), "--source", o.Source)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	p.cmd.Env = os.Environ()
	for _, k := range sortedKeys(o.Env) {
		p.cmd.Env = append(p.cmd.Env, k+"="+o.Env[k])
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the OS thread that started the process ends,
	// and Go ends a thread whose goroutine exits locked to it (the mesh's
	// network-namespace code locks threads). The process is started from
	// a goroutine locked to a thread of its own that lives until the
	// process exits, so only meshcheck's own death kills it early.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.done <- p.cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Binary, err)
	}
	p.Client = NewClient(control)
	if err := p.waitReady(ctx, o.Ready); err != nil {
		p.Close()
		return nil, err
	}
	for k, want := range o.Env {
		if got, ok := p.Info.Env[k]; ok && !strings.EqualFold(got, want) {
			p.Close()
			return nil, fmt.Errorf("control plane started with %s=%s but pilot read %s", k, want, got)
		}
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, limit time.Duration) error {
	if limit == 0 {
		limit = time.Minute
	}
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("control plane exited before it answered (%v): %s", err, tail(p.Log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		c, cancel := context.WithTimeout(ctx, time.Second)
		p.Info, last = p.Client.Info(c)
		cancel()
		if last == nil {
			return nil
		}
	}
	return fmt.Errorf("control plane did not answer within %s (last error: %v): %s", limit, last, tail(p.Log))
}

// Close stops the process (SIGTERM, then SIGKILL after 5 s).
func (p *Process) Close() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
	}
}

// Exited reports the process's exit, if it has exited.
func (p *Process) Exited() error {
	select {
	case err := <-p.done:
		p.done <- err
		if err == nil {
			err = errors.New("exited")
		}
		return fmt.Errorf("control plane %w: %s", err, tail(p.Log))
	default:
		return nil
	}
}

// tail is the end of a log, for an error.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return path + ": " + strings.Join(lines, " | ")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
