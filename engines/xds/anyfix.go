package xds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/meshcheck/meshcheck/engines/xds/internal/registry"
)

const structTypeURL = "type.googleapis.com/google.protobuf.Struct"

var atType = []byte(`"@type"`)

// hasUnknownType reports whether any "@type" in raw names a type the binary
// cannot resolve. It scans bytes and only the rare positive case pays for a
// full decode.
func hasUnknownType(raw []byte) bool {
	for off := 0; ; {
		i := bytes.Index(raw[off:], atType)
		if i < 0 {
			return false
		}
		off += i + len(atType)
		j := off
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r' || raw[j] == ':') {
			j++
		}
		if j >= len(raw) || raw[j] != '"' {
			continue
		}
		end := bytes.IndexByte(raw[j+1:], '"')
		if end < 0 {
			return true
		}
		url := raw[j+1 : j+1+end]
		if bytes.IndexByte(url, '\\') >= 0 || !registry.Resolves(string(url)) {
			return true
		}
		off = j + 1 + end
	}
}

// replaceUnknownAnys rewrites every JSON object whose "@type" does not resolve
// into a google.protobuf.Struct Any holding the object's other fields, so the
// typed decode goes on, and returns what it replaced.
func replaceUnknownAnys(raw []byte, path string) ([]byte, []Unknown, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	var unknown []Unknown
	var walk func(v any, path string) (any, error)
	walk = func(v any, path string) (any, error) {
		switch t := v.(type) {
		case map[string]any:
			if url, ok := t["@type"].(string); ok && !registry.Resolves(url) {
				rest := make(map[string]any, len(t))
				for k, x := range t {
					if k != "@type" {
						rest[k] = x
					}
				}
				orig, err := json.Marshal(t)
				if err != nil {
					return nil, err
				}
				unknown = append(unknown, Unknown{TypeURL: url, Path: path, Raw: orig})
				return map[string]any{"@type": structTypeURL, "value": rest}, nil
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				nv, err := walk(t[k], path+"."+k)
				if err != nil {
					return nil, err
				}
				t[k] = nv
			}
			return t, nil
		case []any:
			for i := range t {
				nv, err := walk(t[i], path+"["+strconv.Itoa(i)+"]")
				if err != nil {
					return nil, err
				}
				t[i] = nv
			}
			return t, nil
		}
		return v, nil
	}
	v, err := walk(v, path)
	if err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	return out, unknown, nil
}
