package runcwrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
)

// RuntimeName is the name of the wrapper runtime in Docker's configuration.
const RuntimeName = "meshcheck-runc"

// daemonConfig decodes daemon.json as a top-level object; empty input is an
// empty object (dockerd accepts an empty file).
func daemonConfig(b []byte) (map[string]json.RawMessage, error) {
	cfg := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(b)) == 0 {
		return cfg, nil
	}
	if err := unmarshalObject(b, &cfg); err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, fmt.Errorf("null, want a JSON object")
	}
	return cfg, nil
}

type runtimeEntry struct {
	Path        string   `json:"path"`
	RuntimeArgs []string `json:"runtimeArgs,omitempty"`
}

// MergeDaemonConfig adds runtime name (executable path) to daemon.json's
// "runtimes" and makes it the "default-runtime", keeping every other key.
// It refuses to replace a default-runtime that is already set (to anything
// else), so that UnmergeDaemonConfig can restore the file exactly.
// When the configuration already says so, it returns orig unchanged.
func MergeDaemonConfig(orig []byte, name, path string) ([]byte, error) {
	cfg, err := daemonConfig(orig)
	if err != nil {
		return nil, err
	}
	var def string
	if raw, ok := cfg["default-runtime"]; ok {
		if err := json.Unmarshal(raw, &def); err != nil {
			return nil, fmt.Errorf("default-runtime: not a string: %w", err)
		}
		if def != name {
			// Even "runc": Disable could not tell whether it was there.
			return nil, fmt.Errorf("default-runtime is already %q; refusing to replace it with %q (remove the key to let meshcheck manage it)", def, name)
		}
	}
	runtimes := map[string]json.RawMessage{}
	if raw, ok := cfg["runtimes"]; ok && !isNull(raw) {
		if err := unmarshalObject(raw, &runtimes); err != nil {
			return nil, fmt.Errorf("runtimes: %w", err)
		}
	}
	var cur runtimeEntry
	if raw, ok := runtimes[name]; ok {
		if err := json.Unmarshal(raw, &cur); err != nil {
			return nil, fmt.Errorf("runtimes.%s: %w", name, err)
		}
	}
	if def == name && cur.Path == path && len(cur.RuntimeArgs) == 0 {
		return orig, nil
	}
	if runtimes[name], err = encode(runtimeEntry{Path: path}); err != nil {
		return nil, err
	}
	if cfg["runtimes"], err = encode(runtimes); err != nil {
		return nil, err
	}
	if cfg["default-runtime"], err = encode(name); err != nil {
		return nil, err
	}
	return indent(cfg)
}

// UnmergeDaemonConfig removes what MergeDaemonConfig added: runtime name
// from "runtimes" (and "runtimes" itself when that leaves it empty), and
// "default-runtime" when it names that runtime. Other keys stay. When there
// is nothing to remove it returns cur unchanged.
func UnmergeDaemonConfig(cur []byte, name string) ([]byte, error) {
	cfg, err := daemonConfig(cur)
	if err != nil {
		return nil, err
	}
	changed := false
	if raw, ok := cfg["default-runtime"]; ok {
		var def string
		if err := json.Unmarshal(raw, &def); err != nil {
			return nil, fmt.Errorf("default-runtime: not a string: %w", err)
		}
		if def == name {
			delete(cfg, "default-runtime")
			changed = true
		}
	}
	if raw, ok := cfg["runtimes"]; ok && !isNull(raw) {
		runtimes := map[string]json.RawMessage{}
		if err := unmarshalObject(raw, &runtimes); err != nil {
			return nil, fmt.Errorf("runtimes: %w", err)
		}
		if _, ok := runtimes[name]; ok {
			delete(runtimes, name)
			changed = true
			if len(runtimes) == 0 {
				delete(cfg, "runtimes")
			} else if cfg["runtimes"], err = encode(runtimes); err != nil {
				return nil, err
			}
		}
	}
	if !changed {
		return cur, nil
	}
	return indent(cfg)
}

// StockRuntime is the name of Docker's own runc runtime.
const StockRuntime = "runc"

// WithDefaultRuntime returns b with "default-runtime" set to name. Disable
// needs it as an interim step: dockerd's reload (SIGHUP) only changes the
// default runtime when the file names one, so removing the key alone would
// leave the wrapper in use until dockerd restarts.
func WithDefaultRuntime(b []byte, name string) ([]byte, error) {
	cfg, err := daemonConfig(b)
	if err != nil {
		return nil, err
	}
	if cfg["default-runtime"], err = encode(name); err != nil {
		return nil, err
	}
	return indent(cfg)
}

// DaemonConfigUses reports the default runtime daemon.json names and the
// path it gives runtime name ("" when absent).
func DaemonConfigUses(b []byte, name string) (defaultRuntime, path string, err error) {
	cfg, err := daemonConfig(b)
	if err != nil {
		return "", "", err
	}
	if raw, ok := cfg["default-runtime"]; ok {
		if err := json.Unmarshal(raw, &defaultRuntime); err != nil {
			return "", "", fmt.Errorf("default-runtime: not a string: %w", err)
		}
	}
	if raw, ok := cfg["runtimes"]; ok && !isNull(raw) {
		runtimes := map[string]runtimeEntry{}
		if err := json.Unmarshal(raw, &runtimes); err != nil {
			return "", "", fmt.Errorf("runtimes: %w", err)
		}
		path = runtimes[name].Path
	}
	return defaultRuntime, path, nil
}

// SameJSON reports whether a and b hold the same JSON value (empty input
// counts as an empty object).
func SameJSON(a, b []byte) bool {
	var va, vb any
	if len(bytes.TrimSpace(a)) == 0 {
		a = []byte("{}")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ea, _ := json.Marshal(va)
	eb, _ := json.Marshal(vb)
	return bytes.Equal(ea, eb)
}

// indent writes cfg with sorted keys, two-space indentation and a final newline.
func indent(cfg map[string]json.RawMessage) ([]byte, error) {
	b, err := encode(maps.Clone(cfg))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
