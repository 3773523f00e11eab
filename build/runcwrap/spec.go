package runcwrap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// Doc says which OCI document a file holds.
type Doc int

const (
	// Bundle is a bundle's config.json: capabilities under process.capabilities.
	Bundle Doc = iota
	// Process is the process document of runc exec --process: capabilities at
	// the top level.
	Process
)

func (d Doc) String() string {
	if d == Process {
		return "process"
	}
	return "bundle config"
}

// capabilitySets are the sets of an OCI LinuxCapabilities object.
var capabilitySets = []string{"bounding", "effective", "inheritable", "permitted", "ambient"}

// StripCapabilities removes every capability named in drop from all sets of
// the document's capabilities object. Everything else is kept as it was
// (objects are re-encoded with sorted keys). changed is false, and out is
// doc itself, when nothing had to be removed. Absent or null process,
// capabilities or sets are left alone; a set that is not a list of strings
// is an error naming its path.
func StripCapabilities(doc []byte, kind Doc, drop []string) (out []byte, changed bool, err error) {
	var top map[string]json.RawMessage
	if err := unmarshalObject(doc, &top); err != nil {
		return nil, false, fmt.Errorf("%s: %w", kind, err)
	}
	if top == nil {
		return nil, false, fmt.Errorf("%s: null document, want an object", kind)
	}
	switch kind {
	case Process:
		caps, changed, err := stripCapsObject(top["capabilities"], "capabilities", drop)
		if err != nil || !changed {
			return doc, false, err
		}
		top["capabilities"] = caps
	default:
		raw, ok := top["process"]
		if !ok || isNull(raw) {
			return doc, false, nil
		}
		var proc map[string]json.RawMessage
		if err := unmarshalObject(raw, &proc); err != nil {
			return nil, false, fmt.Errorf("process: %w", err)
		}
		caps, changed, err := stripCapsObject(proc["capabilities"], "process.capabilities", drop)
		if err != nil || !changed {
			return doc, false, err
		}
		proc["capabilities"] = caps
		if top["process"], err = encode(proc); err != nil {
			return nil, false, err
		}
	}
	out, err = encode(top)
	if err != nil {
		return nil, false, err
	}
	return append(out, '\n'), true, nil
}

// stripCapsObject edits one capabilities object; path names it in errors.
func stripCapsObject(raw json.RawMessage, path string, drop []string) (json.RawMessage, bool, error) {
	if raw == nil || isNull(raw) {
		return raw, false, nil
	}
	var caps map[string]json.RawMessage
	if err := unmarshalObject(raw, &caps); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	changed := false
	for _, set := range capabilitySets {
		v, ok := caps[set]
		if !ok || isNull(v) {
			continue
		}
		var names []string
		if err := json.Unmarshal(v, &names); err != nil {
			return nil, false, fmt.Errorf("%s.%s: not a list of strings: %w", path, set, err)
		}
		kept := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
		if len(kept) == len(names) {
			continue
		}
		b, err := encode(kept)
		if err != nil {
			return nil, false, err
		}
		caps[set], changed = b, true
	}
	if !changed {
		return raw, false, nil
	}
	b, err := encode(caps)
	return b, true, err
}

// StripFile applies StripCapabilities to a file in place (write to a
// temporary file in the same directory, then rename, keeping the mode).
// Errors name the file. It does not write when nothing changes.
func StripFile(path string, kind Doc, drop []string) (changed bool, err error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	out, changed, err := StripCapabilities(doc, kind, drop)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if !changed {
		return false, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	if err := writeAtomic(path, out, fi.Mode().Perm()); err != nil {
		return false, err
	}
	return true, nil
}

// writeAtomic replaces path with data through a temporary file and rename.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Chmod(mode), f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// unmarshalObject decodes a JSON object, rejecting trailing data.
func unmarshalObject(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("malformed JSON: data after the top-level value at offset %d", dec.InputOffset())
	}
	return nil
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// encode marshals v without HTML escaping and without a trailing newline.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
