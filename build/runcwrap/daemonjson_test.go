package runcwrap

import (
	"strings"
	"testing"
)

const wrapperPath = "/usr/local/lib/meshcheck/meshcheck-runc"

func TestMergeDaemonConfig(t *testing.T) {
	for _, tc := range []struct {
		name, orig, want, err string
	}{
		{name: "no file", orig: "", want: `{"default-runtime":"meshcheck-runc","runtimes":{"meshcheck-runc":{"path":"` + wrapperPath + `"}}}`},
		{name: "empty object", orig: "{}", want: `{"default-runtime":"meshcheck-runc","runtimes":{"meshcheck-runc":{"path":"` + wrapperPath + `"}}}`},
		{name: "other keys stay", orig: `{"log-level":"debug","registry-mirrors":["https://m"],"features":{"buildkit":false}}`,
			want: `{"log-level":"debug","registry-mirrors":["https://m"],"features":{"buildkit":false},"default-runtime":"meshcheck-runc","runtimes":{"meshcheck-runc":{"path":"` + wrapperPath + `"}}}`},
		{name: "other runtimes stay", orig: `{"runtimes":{"nvidia":{"path":"/usr/bin/nvidia-container-runtime","runtimeArgs":["-x"]}}}`,
			want: `{"default-runtime":"meshcheck-runc","runtimes":{"nvidia":{"path":"/usr/bin/nvidia-container-runtime","runtimeArgs":["-x"]},"meshcheck-runc":{"path":"` + wrapperPath + `"}}}`},
		{name: "old path is updated", orig: `{"default-runtime":"meshcheck-runc","runtimes":{"meshcheck-runc":{"path":"/old"}}}`,
			want: `{"default-runtime":"meshcheck-runc","runtimes":{"meshcheck-runc":{"path":"` + wrapperPath + `"}}}`},
		{name: "another default runtime", orig: `{"default-runtime":"nvidia"}`, err: `default-runtime is already "nvidia"; refusing`},
		{name: "runc as default", orig: `{"default-runtime":"runc"}`, err: `default-runtime is already "runc"`},
		{name: "empty default", orig: `{"default-runtime":""}`, err: `default-runtime is already ""`},
		{name: "default runtime not a string", orig: `{"default-runtime":1}`, err: "default-runtime: not a string"},
		{name: "runtimes not an object", orig: `{"runtimes":[]}`, err: "runtimes: malformed JSON"},
		{name: "malformed", orig: `{"log-level":`, err: "malformed JSON"},
		{name: "array", orig: `[]`, err: "malformed JSON"},
		{name: "null", orig: `null`, err: "null, want a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeDaemonConfig([]byte(tc.orig), RuntimeName, wrapperPath)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !SameJSON(got, []byte(tc.want)) {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			if !strings.HasSuffix(string(got), "}\n") {
				t.Errorf("no final newline: %q", got)
			}
			again, err := MergeDaemonConfig(got, RuntimeName, wrapperPath)
			if err != nil || string(again) != string(got) {
				t.Errorf("second merge not a no-op: %v\n%s", err, again)
			}
		})
	}
}

// Merging then unmerging gives back the original value, for every file Merge accepts.
func TestDaemonConfigRoundTrip(t *testing.T) {
	for _, orig := range []string{
		"",
		"{}",
		`{"log-level":"debug"}`,
		`{"runtimes":{"nvidia":{"path":"/n"}},"live-restore":true}`,
		`{"runtimes":{}}`,
		`{"exec-opts":["native.cgroupdriver=cgroupfs"],"storage-driver":"overlay2","data-root":"/var/lib/docker"}`,
	} {
		merged, err := MergeDaemonConfig([]byte(orig), RuntimeName, wrapperPath)
		if err != nil {
			t.Fatalf("%s: %v", orig, err)
		}
		def, path, err := DaemonConfigUses(merged, RuntimeName)
		if err != nil || def != RuntimeName || path != wrapperPath {
			t.Errorf("%s: merged uses %q %q %v", orig, def, path, err)
		}
		back, err := UnmergeDaemonConfig(merged, RuntimeName)
		if err != nil {
			t.Fatal(err)
		}
		want := orig
		if orig == `{"runtimes":{}}` {
			want = "{}" // an empty runtimes object is dropped with the last entry
		}
		if !SameJSON(back, []byte(want)) {
			t.Errorf("round trip of %s gave\n%s", orig, back)
		}
		if again, err := UnmergeDaemonConfig(back, RuntimeName); err != nil || string(again) != string(back) {
			t.Errorf("second unmerge not a no-op: %v %s", err, again)
		}
	}
}

func TestUnmergeLeavesOthers(t *testing.T) {
	cur := `{"default-runtime":"nvidia","runtimes":{"nvidia":{"path":"/n"}}}`
	got, err := UnmergeDaemonConfig([]byte(cur), RuntimeName)
	if err != nil || string(got) != cur {
		t.Errorf("changed a config that was never merged: %v %s", err, got)
	}
	if _, err := UnmergeDaemonConfig([]byte(`{"runtimes":`), RuntimeName); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Errorf("malformed: %v", err)
	}
}

func FuzzMergeDaemonConfig(f *testing.F) {
	f.Add([]byte(`{"log-level":"debug"}`))
	f.Add([]byte(`{"runtimes":{"nvidia":{"path":"/n"}}}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, orig []byte) {
		merged, err := MergeDaemonConfig(orig, RuntimeName, wrapperPath)
		if err != nil {
			return
		}
		def, path, err := DaemonConfigUses(merged, RuntimeName)
		if err != nil || def != RuntimeName || path != wrapperPath {
			t.Fatalf("merged config does not use the wrapper: %q %q %v\n%s", def, path, err, merged)
		}
		back, err := UnmergeDaemonConfig(merged, RuntimeName)
		if err != nil {
			t.Fatalf("unmerge of a merged config: %v", err)
		}
		if def, path, _ := DaemonConfigUses(back, RuntimeName); def == RuntimeName || path != "" {
			t.Fatalf("unmerged config still uses the wrapper:\n%s", back)
		}
	})
}

func TestWithDefaultRuntime(t *testing.T) {
	merged, _ := MergeDaemonConfig([]byte(`{"log-level":"info"}`), RuntimeName, wrapperPath)
	un, _ := UnmergeDaemonConfig(merged, RuntimeName)
	interim, err := WithDefaultRuntime(un, StockRuntime)
	if err != nil {
		t.Fatal(err)
	}
	if !SameJSON(interim, []byte(`{"log-level":"info","default-runtime":"runc"}`)) {
		t.Errorf("interim config %s", interim)
	}
	if _, err := WithDefaultRuntime([]byte(`{`), StockRuntime); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Errorf("malformed: %v", err)
	}
}
