// Package textgolden compares test output with a golden text file, and
// rewrites the file instead when MESHCHECK_UPDATE_GOLDEN=1 (make golden), the
// same switch engines/xds/golden uses for config dumps. A mismatch prints a
// line diff, so a failing golden test says what changed.
package textgolden
