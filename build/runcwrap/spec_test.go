package runcwrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const allCaps = `["CAP_CHOWN","CAP_SYS_RESOURCE","CAP_NET_ADMIN"]`

func TestStripCapabilities(t *testing.T) {
	drop := []string{CapSysResourceName}
	for _, tc := range []struct {
		name    string
		kind    Doc
		doc     string
		changed bool
		want    string // JSON the output must equal (semantically); "" = input
		err     string
	}{
		{
			name: "every set of a privileged container", kind: Bundle, changed: true,
			doc:  `{"ociVersion":"1.0.2","process":{"args":["sh"],"capabilities":{"bounding":` + allCaps + `,"effective":` + allCaps + `,"inheritable":` + allCaps + `,"permitted":` + allCaps + `,"ambient":` + allCaps + `}},"root":{"path":"rootfs"}}`,
			want: `{"ociVersion":"1.0.2","process":{"args":["sh"],"capabilities":{"bounding":["CAP_CHOWN","CAP_NET_ADMIN"],"effective":["CAP_CHOWN","CAP_NET_ADMIN"],"inheritable":["CAP_CHOWN","CAP_NET_ADMIN"],"permitted":["CAP_CHOWN","CAP_NET_ADMIN"],"ambient":["CAP_CHOWN","CAP_NET_ADMIN"]}},"root":{"path":"rootfs"}}`,
		},
		{
			name: "only bounding and permitted", kind: Bundle, changed: true,
			doc:  `{"process":{"capabilities":{"bounding":["CAP_SYS_RESOURCE"],"effective":["CAP_CHOWN"],"permitted":["CAP_SYS_RESOURCE","CAP_SYS_RESOURCE"]}}}`,
			want: `{"process":{"capabilities":{"bounding":[],"effective":["CAP_CHOWN"],"permitted":[]}}}`,
		},
		{name: "unprivileged: nothing to drop", kind: Bundle, doc: `{"process":{"capabilities":{"bounding":["CAP_CHOWN"]}}}`},
		{name: "no process", kind: Bundle, doc: `{"ociVersion":"1.0.2"}`},
		{name: "null process", kind: Bundle, doc: `{"process":null}`},
		{name: "no capabilities", kind: Bundle, doc: `{"process":{"args":["true"]}}`},
		{name: "null capabilities", kind: Bundle, doc: `{"process":{"capabilities":null}}`},
		{name: "null and absent sets", kind: Bundle, doc: `{"process":{"capabilities":{"bounding":null}}}`},
		{
			name: "exec process document", kind: Process, changed: true,
			doc:  `{"args":["ls"],"env":["A=<b>&c"],"capabilities":{"bounding":` + allCaps + `,"effective":` + allCaps + `}}`,
			want: `{"args":["ls"],"env":["A=<b>&c"],"capabilities":{"bounding":["CAP_CHOWN","CAP_NET_ADMIN"],"effective":["CAP_CHOWN","CAP_NET_ADMIN"]}}`,
		},
		{name: "exec process without capabilities", kind: Process, doc: `{"args":["ls"]}`},
		{name: "bundle kind does not look at top-level capabilities", kind: Bundle, doc: `{"capabilities":{"bounding":` + allCaps + `}}`},
		{name: "malformed", kind: Bundle, doc: `{"process":`, err: "bundle config: malformed JSON"},
		{name: "trailing garbage", kind: Bundle, doc: `{} x`, err: "data after the top-level value"},
		{name: "not an object", kind: Process, doc: `["a"]`, err: "process: malformed JSON"},
		{name: "null document", kind: Bundle, doc: `null`, err: "null document"},
		{name: "process not an object", kind: Bundle, doc: `{"process":[1]}`, err: "process: malformed JSON"},
		{name: "capabilities not an object", kind: Bundle, doc: `{"process":{"capabilities":"all"}}`, err: "process.capabilities: malformed JSON"},
		{name: "set not a list", kind: Bundle, doc: `{"process":{"capabilities":{"permitted":"CAP_SYS_RESOURCE"}}}`, err: "process.capabilities.permitted: not a list of strings"},
		{name: "set of numbers", kind: Process, doc: `{"capabilities":{"ambient":[24]}}`, err: "capabilities.ambient: not a list of strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, changed, err := StripCapabilities([]byte(tc.doc), tc.kind, drop)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			want := tc.want
			if want == "" {
				want = tc.doc
				if string(out) != tc.doc {
					t.Errorf("unchanged document was rewritten:\n%s", out)
				}
			}
			if !SameJSON(out, []byte(want)) {
				t.Errorf("got\n%s\nwant\n%s", out, want)
			}
			if strings.Contains(string(out), `\u003c`) {
				t.Errorf("HTML-escaped output: %s", out)
			}
		})
	}
}

func TestStripCapabilitiesSeveral(t *testing.T) {
	out, changed, err := StripCapabilities([]byte(`{"capabilities":{"bounding":`+allCaps+`}}`), Process, []string{"CAP_SYS_RESOURCE", "CAP_NET_ADMIN"})
	if err != nil || !changed {
		t.Fatal(err, changed)
	}
	if !SameJSON(out, []byte(`{"capabilities":{"bounding":["CAP_CHOWN"]}}`)) {
		t.Errorf("got %s", out)
	}
}

func TestStripFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("edits in place, keeps the mode", func(t *testing.T) {
		p := filepath.Join(dir, "config.json")
		os.WriteFile(p, []byte(`{"process":{"capabilities":{"bounding":`+allCaps+`}}}`), 0o600)
		changed, err := StripFile(p, Bundle, []string{CapSysResourceName})
		if err != nil || !changed {
			t.Fatal(changed, err)
		}
		b, _ := os.ReadFile(p)
		var spec struct {
			Process struct{ Capabilities map[string][]string }
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(spec.Process.Capabilities["bounding"], CapSysResourceName) {
			t.Errorf("still there: %s", b)
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("temporary files left: %v", ents)
		}
	})
	t.Run("malformed JSON names the file", func(t *testing.T) {
		p := filepath.Join(dir, "bad", "process.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(`{"capabilities": [`), 0o644)
		_, err := StripFile(p, Process, []string{CapSysResourceName})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "malformed JSON") {
			t.Fatalf("error %v, want one naming %s and malformed JSON", err, p)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(dir, "nope.json")
		if _, err := StripFile(p, Process, nil); err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("error %v, want one naming %s", err, p)
		}
	})
	t.Run("no change, no write", func(t *testing.T) {
		p := filepath.Join(dir, "same.json")
		orig := []byte(`{ "process" : { "capabilities" : { "bounding" : ["CAP_CHOWN"] } } }`)
		os.WriteFile(p, orig, 0o644)
		if changed, err := StripFile(p, Bundle, []string{CapSysResourceName}); err != nil || changed {
			t.Fatal(changed, err)
		}
		if b, _ := os.ReadFile(p); string(b) != string(orig) {
			t.Errorf("rewritten: %s", b)
		}
	})
}

func FuzzStripCapabilities(f *testing.F) {
	f.Add([]byte(`{"process":{"capabilities":{"bounding":`+allCaps+`}}}`), false)
	f.Add([]byte(`{"capabilities":{"effective":`+allCaps+`,"ambient":null}}`), true)
	f.Add([]byte(`{"process":null}`), false)
	f.Fuzz(func(t *testing.T, doc []byte, process bool) {
		kind := Bundle
		if process {
			kind = Process
		}
		out, changed, err := StripCapabilities(doc, kind, []string{CapSysResourceName})
		if err != nil {
			return
		}
		if !changed {
			if string(out) != string(doc) {
				t.Fatalf("unchanged but different output")
			}
			return
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		again, changed2, err := StripCapabilities(out, kind, []string{CapSysResourceName})
		if err != nil || changed2 {
			t.Fatalf("second pass: changed=%v err=%v\n%s", changed2, err, again)
		}
	})
}
