package textgolden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// UpdateEnv is the environment variable that rewrites goldens.
const UpdateEnv = "MESHCHECK_UPDATE_GOLDEN"

// TB is the part of testing.TB that Assert needs.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Assert compares got with the file at path (or writes it when updating).
func Assert(t TB, path string, got []byte) {
	t.Helper()
	if err := Compare(path, got, os.Getenv(UpdateEnv) == "1"); err != nil {
		t.Errorf("%v", err)
	}
}

// Compare returns an error naming path and showing the differing lines when
// got is not the file's content; with update it writes got to path instead.
func Compare(path string, got []byte, update bool) error {
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("golden %s: %w", path, err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			return fmt.Errorf("golden %s: %w", path, err)
		}
		return nil
	}
	want, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("golden %s: %w (create it with %s=1 or make golden)", path, err, UpdateEnv)
	}
	if string(want) == string(got) {
		return nil
	}
	return fmt.Errorf("golden %s differs (- golden, + got; refresh with %s=1 or make golden if the change is intended):\n%s", path, UpdateEnv, Diff(string(want), string(got)))
}

// Diff returns a line diff of a and b: lines only in a start with "- ",
// lines only in b with "+ ", common lines with "  " (a longest common
// subsequence; goldens are small).
func Diff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			sb.WriteString("  " + x[i] + "\n")
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			sb.WriteString("- " + x[i] + "\n")
			i++
		default:
			sb.WriteString("+ " + y[j] + "\n")
			j++
		}
	}
	return sb.String()
}
