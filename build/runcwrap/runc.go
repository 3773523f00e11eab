package runcwrap

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Invocation is what the wrapper needs to know about one runc command line.
type Invocation struct {
	// Command is runc's subcommand ("create", "run", "exec", ...), empty when
	// there is none (runc --version).
	Command string
	// Spec is the file runc will read the process from: the bundle's
	// config.json for create and run, the --process file for exec; empty
	// when the command reads none (exec with the process on the command line,
	// every other command).
	Spec string
	// Kind is the document type of Spec.
	Kind Doc
}

// runc's global flags that take a value (urfave/cli: -flag v, --flag v, --flag=v).
var runcGlobalValueFlags = map[string]bool{"root": true, "log": true, "log-format": true, "criu": true, "rootless": true}

// ParseRuncArgs reads runc's arguments (without argv[0]). create and run
// read <bundle>/config.json, where the bundle is --bundle/-b or the working
// directory cwd; exec reads --process/-p when given.
func ParseRuncArgs(args []string, cwd string) (Invocation, error) {
	var inv Invocation
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if runcGlobalValueFlags[name] && !hasValue {
			if i+1 >= len(args) {
				return inv, fmt.Errorf("runc flag %s has no value", a)
			}
			i++
		}
	}
	if i >= len(args) {
		return inv, nil
	}
	inv.Command = args[i]
	rest := args[i+1:]
	switch inv.Command {
	case "create", "run":
		bundle, ok, err := flagValue(rest, "bundle", "b")
		if err != nil {
			return inv, err
		}
		if !ok || bundle == "" {
			bundle = cwd
		}
		if !filepath.IsAbs(bundle) {
			bundle = filepath.Join(cwd, bundle)
		}
		inv.Spec, inv.Kind = filepath.Join(bundle, "config.json"), Bundle
	case "exec":
		p, ok, err := flagValue(rest, "process", "p")
		if err != nil {
			return inv, err
		}
		if ok && p != "" {
			if !filepath.IsAbs(p) {
				p = filepath.Join(cwd, p)
			}
			inv.Spec, inv.Kind = p, Process
		}
	}
	return inv, nil
}

// flagValue finds --long/-long/-short in args (value in the next argument or
// after "="), stopping at "--".
func flagValue(args []string, long, short string) (string, bool, error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != long && name != short {
			continue
		}
		if hasValue {
			return v, true, nil
		}
		if i+1 >= len(args) {
			return "", false, fmt.Errorf("runc flag %s has no value", a)
		}
		return args[i+1], true, nil
	}
	return "", false, nil
}

// RealRuncEnv names the variable that overrides where the real runc is.
const RealRuncEnv = "MESHCHECK_RUNC"

// runcCandidates are where distributions install runc, in order.
var runcCandidates = []string{"/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc", "/usr/bin/docker-runc", "/usr/libexec/docker/docker-runc"}

// FindRunc returns the real runc: $MESHCHECK_RUNC if set, else the first
// executable of the usual paths, then runc and docker-runc in $PATH. self
// (the wrapper's own executable) is never returned, so a wrapper installed
// under the name runc cannot exec itself.
func FindRunc(getenv func(string) string, self string) (string, error) {
	if p := getenv(RealRuncEnv); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("$%s=%s: %w", RealRuncEnv, p, err)
		}
		if sameFile(p, self) {
			return "", fmt.Errorf("$%s=%s is this wrapper itself", RealRuncEnv, p)
		}
		return p, nil
	}
	tried := []string{}
	cands := append([]string{}, runcCandidates...)
	for _, name := range []string{"runc", "docker-runc"} {
		if p, err := exec.LookPath(name); err == nil {
			cands = append(cands, p)
		}
	}
	for _, p := range cands {
		if executable(p) == nil && !sameFile(p, self) {
			return p, nil
		}
		tried = append(tried, p)
	}
	return "", fmt.Errorf("no runc found (tried %s; set $%s)", strings.Join(tried, ", "), RealRuncEnv)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

func sameFile(a, b string) bool {
	if b == "" {
		return false
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
