package runcwrap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of Host's fields.
const (
	DefaultDaemonJSON  = "/etc/docker/daemon.json"
	DefaultStatusFile  = "/proc/self/status"
	DefaultInstallPath = "/usr/local/lib/meshcheck/meshcheck-runc"
	// BackupSuffix is appended to daemon.json's name for the copy Enable
	// keeps of the file it first changed.
	BackupSuffix = ".meshcheck-backup"
)

// Host is the machine whose Docker daemon may need the wrapper. The zero
// value uses the defaults above, the docker client in $PATH and a 20 s wait.
type Host struct {
	DaemonJSON  string        // Docker's daemon.json
	StatusFile  string        // where the capability bounding set is read
	InstallPath string        // where Enable copies the wrapper binary
	Docker      string        // docker client
	Wait        time.Duration // how long to wait for dockerd to apply a reload
	Log         io.Writer     // progress lines; nil discards them
}

func (h Host) withDefaults() Host {
	if h.DaemonJSON == "" {
		h.DaemonJSON = DefaultDaemonJSON
	}
	if h.StatusFile == "" {
		h.StatusFile = DefaultStatusFile
	}
	if h.InstallPath == "" {
		h.InstallPath = DefaultInstallPath
	}
	if h.Docker == "" {
		h.Docker = "docker"
	}
	if h.Wait <= 0 {
		h.Wait = 20 * time.Second
	}
	if h.Log == nil {
		h.Log = io.Discard
	}
	return h
}

// State is what Status found.
type State struct {
	CapBnd  uint64 // the bounding set
	Missing bool   // CAP_SYS_RESOURCE is not in it: the wrapper is needed
	// ConfigDefault and ConfigPath are daemon.json's default-runtime and the
	// path it gives the meshcheck-runc runtime.
	ConfigDefault, ConfigPath string
	// DockerDefault is the default runtime docker info reports; DockerErr
	// says why it could not be asked.
	DockerDefault string
	DockerErr     error
	InstallPath   string
	Installed     bool // InstallPath exists
}

// Enabled reports whether Docker's configuration uses the wrapper.
func (s State) Enabled() bool { return s.ConfigDefault == RuntimeName }

// OK reports whether the host is as it should be: the wrapper in use
// exactly when the capability is missing, and dockerd agreeing.
func (s State) OK() bool {
	if s.Missing {
		return s.Enabled() && s.DockerDefault == RuntimeName && s.Installed
	}
	return !s.Enabled()
}

func (s State) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CapBnd %016x: CAP_SYS_RESOURCE %s\n", s.CapBnd, map[bool]string{true: "missing (the runc wrapper is needed)", false: "present (the runc wrapper is not needed)"}[s.Missing])
	def := s.ConfigDefault
	if def == "" {
		def = "(not set)"
	}
	fmt.Fprintf(&b, "daemon.json: default-runtime %s", def)
	if s.ConfigPath != "" {
		fmt.Fprintf(&b, ", %s -> %s", RuntimeName, s.ConfigPath)
	}
	b.WriteString("\n")
	if s.DockerErr != nil {
		fmt.Fprintf(&b, "docker info: %v\n", s.DockerErr)
	} else {
		fmt.Fprintf(&b, "docker info: default runtime %s\n", s.DockerDefault)
	}
	fmt.Fprintf(&b, "wrapper %s: %s\n", s.InstallPath, map[bool]string{true: "installed", false: "not installed"}[s.Installed])
	return b.String()
}

// Status reads the bounding set, daemon.json and docker info. Only the
// first two are errors; docker's answer lands in State.DockerErr.
func (h Host) Status(ctx context.Context) (State, error) {
	h = h.withDefaults()
	var st State
	status, err := os.ReadFile(h.StatusFile)
	if err != nil {
		return st, err
	}
	if st.CapBnd, err = ParseCapBnd(status); err != nil {
		return st, fmt.Errorf("%s: %w", h.StatusFile, err)
	}
	st.Missing = Missing(st.CapBnd, CapSysResource)
	cfg, _, err := h.readDaemonJSON()
	if err != nil {
		return st, err
	}
	if st.ConfigDefault, st.ConfigPath, err = DaemonConfigUses(cfg, RuntimeName); err != nil {
		return st, fmt.Errorf("%s: %w", h.DaemonJSON, err)
	}
	st.DockerDefault, st.DockerErr = h.dockerDefault(ctx)
	st.InstallPath = h.InstallPath
	_, err = os.Stat(h.InstallPath)
	st.Installed = err == nil
	return st, nil
}

// Enable installs wrapper (a meshcheck-runc binary) at InstallPath, merges
// it into daemon.json as the default runtime (a backup of the file as it was
// is kept beside it), reloads dockerd with SIGHUP and waits until docker
// info reports the new default. It does nothing, and returns false, when the
// capability is present. It is idempotent.
func (h Host) Enable(ctx context.Context, wrapper string) (changed bool, err error) {
	h = h.withDefaults()
	st, err := h.Status(ctx)
	if err != nil {
		return false, err
	}
	if !st.Missing {
		fmt.Fprintf(h.Log, "CAP_SYS_RESOURCE is in the bounding set (%016x): nothing to do\n", st.CapBnd)
		return false, nil
	}
	if wrapper == "" {
		return false, errors.New("no wrapper binary given (build it: go build -o bin/meshcheck-runc ./cmd/meshcheck-runc)")
	}
	installed, err := installFile(wrapper, h.InstallPath)
	if err != nil {
		return false, fmt.Errorf("installing the wrapper: %w", err)
	}
	if installed {
		fmt.Fprintf(h.Log, "installed %s from %s\n", h.InstallPath, wrapper)
	}
	orig, existed, err := h.readDaemonJSON()
	if err != nil {
		return false, err
	}
	merged, err := MergeDaemonConfig(orig, RuntimeName, h.InstallPath)
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.DaemonJSON, err)
	}
	wrote := false
	if !bytes.Equal(merged, orig) {
		backup := h.DaemonJSON + BackupSuffix
		if existed {
			if _, err := os.Stat(backup); errors.Is(err, fs.ErrNotExist) {
				if err := writeAtomic(backup, orig, 0o644); err != nil {
					return false, fmt.Errorf("backing up %s: %w", h.DaemonJSON, err)
				}
				fmt.Fprintf(h.Log, "kept %s as %s\n", h.DaemonJSON, backup)
			}
		}
		if err := os.MkdirAll(filepath.Dir(h.DaemonJSON), 0o755); err != nil {
			return false, err
		}
		if err := writeAtomic(h.DaemonJSON, merged, 0o644); err != nil {
			return false, err
		}
		fmt.Fprintf(h.Log, "%s: default-runtime %s, runtimes.%s.path %s\n", h.DaemonJSON, RuntimeName, RuntimeName, h.InstallPath)
		wrote = true
	}
	if !wrote && st.DockerDefault == RuntimeName {
		return installed, nil
	}
	if err := h.reload(ctx, func(def string) bool { return def == RuntimeName }); err != nil {
		return true, err
	}
	fmt.Fprintf(h.Log, "dockerd reloaded: default runtime %s\n", RuntimeName)
	return true, nil
}

// Disable undoes Enable. dockerd's reload only changes the default runtime
// when the file names one, so it first writes daemon.json without the
// wrapper and with default-runtime runc, reloads dockerd and waits until
// docker info reports runc; then it restores the file: without the keys
// Enable added, or deleted if Enable created it (the backup goes once it
// equals the restored file). It removes the installed binary last. dockerd
// keeps the runtime's name in memory until it restarts; nothing uses it. It refuses
// while containers were created with the wrapper (they could no longer be
// started or exec'd), unless force is set.
func (h Host) Disable(ctx context.Context, force bool) (changed bool, err error) {
	h = h.withDefaults()
	users, uerr := h.Users(ctx)
	if uerr != nil && !force {
		return false, fmt.Errorf("cannot tell which containers use %s: %w", RuntimeName, uerr)
	}
	if len(users) > 0 && !force {
		return false, fmt.Errorf("containers created with runtime %s still exist: %s (delete them, or force)", RuntimeName, strings.Join(users, ", "))
	}
	cur, existed, err := h.readDaemonJSON()
	if err != nil {
		return false, err
	}
	un, err := UnmergeDaemonConfig(cur, RuntimeName)
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.DaemonJSON, err)
	}
	def, derr := h.dockerDefault(ctx)
	if (existed && !bytes.Equal(un, cur)) || (derr == nil && def == RuntimeName) {
		// dockerd's reload keeps the default runtime unless the file names
		// one: first name runc and reload, then restore the file.
		interim, err := WithDefaultRuntime(un, StockRuntime)
		if err != nil {
			return false, fmt.Errorf("%s: %w", h.DaemonJSON, err)
		}
		if err := writeAtomic(h.DaemonJSON, interim, 0o644); err != nil {
			return false, err
		}
		changed = true
		if err := h.reload(ctx, func(def string) bool { return def == StockRuntime }); err != nil {
			return changed, fmt.Errorf("%w (%s now holds default-runtime %q; fix dockerd, then run disable again)", err, h.DaemonJSON, StockRuntime)
		}
		fmt.Fprintf(h.Log, "dockerd reloaded: default runtime %s\n", StockRuntime)
	}
	if changed {
		backup := h.DaemonJSON + BackupSuffix
		b, berr := os.ReadFile(backup)
		switch {
		case !existed || (errors.Is(berr, fs.ErrNotExist) && SameJSON(un, nil)):
			if err := os.Remove(h.DaemonJSON); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return changed, err
			}
			fmt.Fprintf(h.Log, "removed %s (meshcheck had created it)\n", h.DaemonJSON)
		case berr == nil && SameJSON(b, un):
			// Nothing else changed since Enable: the backup, byte for byte.
			if err := writeAtomic(h.DaemonJSON, b, 0o644); err != nil {
				return changed, err
			}
			os.Remove(backup)
			fmt.Fprintf(h.Log, "%s: restored from %s\n", h.DaemonJSON, backup)
		default:
			if err := writeAtomic(h.DaemonJSON, un, 0o644); err != nil {
				return changed, err
			}
			fmt.Fprintf(h.Log, "%s: restored without default-runtime and runtimes.%s\n", h.DaemonJSON, RuntimeName)
			if berr == nil {
				fmt.Fprintf(h.Log, "kept %s: it differs from the restored file (edited since?)\n", backup)
			}
		}
	}
	if len(users) == 0 {
		if err := os.Remove(h.InstallPath); err == nil {
			fmt.Fprintf(h.Log, "removed %s\n", h.InstallPath)
			os.Remove(filepath.Dir(h.InstallPath)) // only when empty
			changed = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return changed, err
		}
	}
	return changed, nil
}

// Users lists the containers (any state) Docker created with the wrapper runtime.
func (h Host) Users(ctx context.Context) ([]string, error) {
	h = h.withDefaults()
	ids, err := h.run(ctx, h.Docker, "ps", "-aq", "--no-trunc")
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(string(ids))
	if len(fields) == 0 {
		return nil, nil
	}
	out, err := h.run(ctx, h.Docker, append([]string{"inspect", "--format", "{{.Name}} {{.HostConfig.Runtime}}"}, fields...)...)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, rt, _ := strings.Cut(line, " ")
		if rt == RuntimeName {
			users = append(users, strings.TrimPrefix(name, "/"))
		}
	}
	return users, nil
}

// reload sends SIGHUP to every dockerd and waits until docker info's
// default runtime satisfies done.
func (h Host) reload(ctx context.Context, done func(string) bool) error {
	out, err := h.run(ctx, "pidof", "dockerd")
	if err != nil {
		return fmt.Errorf("dockerd is not running: %w", err)
	}
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("pidof dockerd printed %q", out)
		}
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			return fmt.Errorf("SIGHUP to dockerd (pid %d): %w", pid, err)
		}
	}
	deadline := time.Now().Add(h.Wait)
	var last string
	var lastErr error
	for {
		last, lastErr = h.dockerDefault(ctx)
		if lastErr == nil && done(last) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if lastErr != nil {
				return fmt.Errorf("after SIGHUP, docker info failed for %v: %w", h.Wait, lastErr)
			}
			return fmt.Errorf("after SIGHUP, docker info still reports default runtime %q after %v (dockerd's log says why it rejected %s)", last, h.Wait, h.DaemonJSON)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (h Host) dockerDefault(ctx context.Context) (string, error) {
	out, err := h.run(ctx, h.Docker, "info", "--format", "{{.DefaultRuntime}}")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// run runs a command; its error carries the command line and output.
func (h Host) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()+stdout.String()))
	}
	return stdout.Bytes(), nil
}

// readDaemonJSON returns daemon.json's bytes and whether it exists.
func (h Host) readDaemonJSON() ([]byte, bool, error) {
	b, err := os.ReadFile(h.DaemonJSON)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// installFile copies src to dst (mode 0755) unless dst already has the same
// bytes; it reports whether it wrote.
func installFile(src, dst string) (bool, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return false, err
	}
	if cur, err := os.ReadFile(dst); err == nil && bytes.Equal(cur, b) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, err
	}
	if err := writeAtomic(dst, b, 0o755); err != nil {
		return false, err
	}
	return true, nil
}
