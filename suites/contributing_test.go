package suites

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestContributingShowsTheFiles: every file CONTRIBUTING.md shows (a
// "<!-- file: PATH -->" line before a fenced block) is shown as it is in
// the repository, so the example there is the test that runs.
func TestContributingShowsTheFiles(t *testing.T) {
	root := ".."
	b, err := os.ReadFile(filepath.Join(root, "CONTRIBUTING.md"))
	if err != nil {
		t.Fatal(err)
	}
	shown := shownFiles(string(b))
	if len(shown) < 2 {
		t.Fatalf("CONTRIBUTING.md shows %d files, want the example test and its manifest", len(shown))
	}
	for path, text := range shown {
		want, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Errorf("CONTRIBUTING.md shows %s: %v", path, err)
			continue
		}
		if text != string(want) {
			t.Errorf("CONTRIBUTING.md shows %s other than it is; paste the file again", path)
		}
	}
	if _, ok := shown["suites/tests/whoami-header-canary.go"]; !ok {
		t.Errorf("CONTRIBUTING.md does not show the example test; it shows %v", shown)
	}
}

var fileMarker = regexp.MustCompile(`^<!-- file: (\S+) -->$`)

// shownFiles maps each marked path to the text of the fenced block after it.
func shownFiles(doc string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		m := fileMarker.FindStringSubmatch(lines[i])
		if m == nil || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			continue
		}
		var body []string
		for j := i + 2; j < len(lines) && lines[j] != "```"; j++ {
			body = append(body, lines[j])
			i = j
		}
		out[m[1]] = strings.Join(body, "\n") + "\n"
	}
	return out
}
