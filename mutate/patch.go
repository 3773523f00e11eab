package mutate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrPatch is wrapped by every error about a patch that cannot be read or
// no longer applies.
var ErrPatch = errors.New("patch")

// filePatch is one file's part of a unified diff.
type filePatch struct {
	path  string // slash-separated, relative to the tree
	hunks []hunk
}

// hunk is one "@@ -l,n +l,n @@" block.
type hunk struct {
	header   string
	line     int // its header's line in the patch file
	oldStart int // 1-based
	old, new []string
}

var hunkHeader = regexp.MustCompile(`^@@ -([0-9]+)(?:,([0-9]+))? \+([0-9]+)(?:,([0-9]+))? @@`)

// ParsePatch reads a unified diff (diff -u, git diff) strictly; name is
// the file errors give. Paths lose their "a/" and "b/" prefixes; a path
// that leaves the tree is an error.
func ParsePatch(data []byte, name string) ([]filePatch, error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	var out []filePatch
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "--- "):
			fp, err := parseFileHeader(lines, i, name)
			if err != nil {
				return nil, err
			}
			out = append(out, fp)
			i++
		case strings.HasPrefix(l, "@@"):
			if len(out) == 0 {
				return nil, fmt.Errorf("%w %s:%d: a hunk before any file header (--- a/FILE, +++ b/FILE)", ErrPatch, name, i+1)
			}
			h, next, err := parseHunk(lines, i, name)
			if err != nil {
				return nil, err
			}
			fp := &out[len(out)-1]
			fp.hunks = append(fp.hunks, h)
			i = next - 1
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %s: no file in it (want a unified diff: --- a/FILE, +++ b/FILE, @@ hunks)", ErrPatch, name)
	}
	for _, fp := range out {
		if len(fp.hunks) == 0 {
			return nil, fmt.Errorf("%w %s: %s has no hunk", ErrPatch, name, fp.path)
		}
	}
	return out, nil
}

func parseFileHeader(lines []string, i int, name string) (filePatch, error) {
	if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "+++ ") {
		return filePatch{}, fmt.Errorf("%w %s:%d: %q is not followed by a +++ line", ErrPatch, name, i+1, lines[i])
	}
	p, _, _ := strings.Cut(strings.TrimPrefix(lines[i+1], "+++ "), "\t")
	p = strings.TrimPrefix(p, "b/")
	if p == "" || p == "/dev/null" || path.IsAbs(p) || path.Clean(p) != p || strings.HasPrefix(p, "../") {
		return filePatch{}, fmt.Errorf("%w %s:%d: file %q: want a relative path in the tree (a patch here only changes files)", ErrPatch, name, i+2, p)
	}
	return filePatch{path: p}, nil
}

// parseHunk reads the hunk whose header is lines[i]; next is the line
// after it.
func parseHunk(lines []string, i int, name string) (h hunk, next int, err error) {
	m := hunkHeader.FindStringSubmatch(lines[i])
	if m == nil {
		return h, 0, fmt.Errorf("%w %s:%d: bad hunk header %q", ErrPatch, name, i+1, lines[i])
	}
	h = hunk{header: m[0], line: i + 1, oldStart: atoi(m[1])}
	oldN, newN := count(m[2]), count(m[4])
	j := i + 1
	for ; j < len(lines) && (len(h.old) < oldN || len(h.new) < newN); j++ {
		l := lines[j]
		if l == "" {
			l = " " // an editor stripped a blank context line's space
		}
		switch l[0] {
		case ' ':
			h.old, h.new = append(h.old, l[1:]), append(h.new, l[1:])
		case '-':
			h.old = append(h.old, l[1:])
		case '+':
			h.new = append(h.new, l[1:])
		case '\\': // "\ No newline at end of file"
		default:
			return h, 0, fmt.Errorf("%w %s:%d: hunk %s: line %q is not context, - or +", ErrPatch, name, j+1, h.header, lines[j])
		}
	}
	if len(h.old) != oldN || len(h.new) != newN {
		return h, 0, fmt.Errorf("%w %s:%d: hunk %s: has %d old and %d new lines, its header says %d and %d",
			ErrPatch, name, h.line, h.header, len(h.old), len(h.new), oldN, newN)
	}
	return h, j, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// count is a hunk header's line count: absent means 1.
func count(s string) int {
	if s == "" {
		return 1
	}
	return atoi(s)
}

// ApplyPatch applies the unified diff data (named name in errors) to the
// tree at dir. Each hunk's old lines must be at the line it names (after
// the earlier hunks' shifts) or, failing that, exactly once anywhere in
// the file; otherwise the patch no longer applies, and the error names
// the patch, the file and the hunk. Nothing is written unless every hunk
// of a file applies.
func ApplyPatch(data []byte, name, dir string) error {
	files, err := ParsePatch(data, name)
	if err != nil {
		return err
	}
	for _, fp := range files {
		if err := applyFile(fp, name, dir); err != nil {
			return err
		}
	}
	return nil
}

func applyFile(fp filePatch, name, dir string) error {
	file := filepath.Join(dir, filepath.FromSlash(fp.path))
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrPatch, name, err)
	}
	text := string(data)
	trailing := strings.HasSuffix(text, "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	shift := 0
	for n, h := range fp.hunks {
		at, err := locate(lines, h, h.oldStart-1+shift)
		if err != nil {
			return fmt.Errorf("%w %s:%d: %s: hunk %d (%s) no longer applies: %w", ErrPatch, name, h.line, fp.path, n+1, h.header, err)
		}
		lines = append(lines[:at], append(append([]string{}, h.new...), lines[at+len(h.old):]...)...)
		shift += len(h.new) - len(h.old)
	}
	text = strings.Join(lines, "\n")
	if trailing {
		text += "\n"
	}
	fi, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrPatch, name, err)
	}
	if err := os.WriteFile(file, []byte(text), fi.Mode().Perm()|0o200); err != nil {
		return fmt.Errorf("%w %s: %w", ErrPatch, name, err)
	}
	return nil
}

// locate finds where a hunk's old lines are: at want, or else at the one
// place they occur.
func locate(lines []string, h hunk, want int) (int, error) {
	if matchAt(lines, h.old, want) {
		return want, nil
	}
	var found []int
	for i := 0; i+len(h.old) <= len(lines); i++ {
		if matchAt(lines, h.old, i) {
			found = append(found, i+1)
		}
	}
	switch len(found) {
	case 1:
		return found[0] - 1, nil
	case 0:
		return 0, fmt.Errorf("its %d old lines (from %q) are not in the file", len(h.old), first(h.old))
	}
	return 0, fmt.Errorf("its %d old lines are not at line %d and occur %d times (lines %v)", len(h.old), want+1, len(found), found)
}

func matchAt(lines, old []string, at int) bool {
	if at < 0 || at+len(old) > len(lines) {
		return false
	}
	for i, l := range old {
		if lines[at+i] != l {
			return false
		}
	}
	return true
}

func first(lines []string) string {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
