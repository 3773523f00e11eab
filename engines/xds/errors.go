package xds

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinel errors a caller can test with errors.Is.
var (
	// ErrNotConfigDump: the document is JSON but not a config dump.
	ErrNotConfigDump = errors.New("not an Envoy config dump")
	// ErrV2 is returned for v2-era dumps (Istio 1.7 and earlier, Envoy 1.17 and
	// earlier): meshcheck reads only the v3 API.
	ErrV2 = errors.New("a v2 API config dump (Envoy 1.17, Istio 1.7 or earlier): meshcheck reads only the v3 API (Envoy 1.18+, Istio 1.8+)")
)

// ParseError says where a document stopped being readable.
type ParseError struct {
	Source string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Offset is the byte offset in the document, -1 when unknown.
	Offset int64
	// Path is the element being read, e.g. "configs[2]" or "[5]".
	Path string
	Err  error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
	} else {
		b.WriteString("config dump")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (offset %d)", e.Offset)
	}
	if e.Path != "" {
		fmt.Fprintf(&b, " at %s", e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// newParseError builds a ParseError at a byte offset of data.
func newParseError(source string, data []byte, offset int64, path string, err error) *ParseError {
	pe := &ParseError{Source: source, Offset: offset, Path: path, Err: err}
	if offset >= 0 && offset <= int64(len(data)) {
		pe.Line, pe.Column = position(data, offset)
	}
	return pe
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	prefix := data[:offset]
	line = bytes.Count(prefix, []byte{'\n'}) + 1
	col = int(offset) - bytes.LastIndexByte(prefix, '\n')
	return line, col
}

var protojsonPos = regexp.MustCompile(`\(line (\d+):(\d+)\)`)
