package xds

import (
	"errors"
	"fmt"
)

// A small zero-copy JSON scanner: it finds the extent of values inside the
// document without copying them, so the typed decode reads each resource
// straight from the caller's bytes. Syntax is checked only as far as finding
// boundaries needs; the typed decode checks the rest.

var errTruncated = errors.New("the document ends early (truncated?)")

type syntaxErr struct {
	off int
	msg string
}

func (e *syntaxErr) Error() string { return e.msg }

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the offset just past the JSON value starting at i.
func skipValue(b []byte, i int) (int, error) {
	i = skipWS(b, i)
	if i >= len(b) {
		return i, &syntaxErr{i, errTruncated.Error()}
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := skipString(b, i)
				if err != nil {
					return j, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return i, &syntaxErr{i, errTruncated.Error()}
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				break
			}
			j++
		}
		if j == i {
			return i, &syntaxErr{i, fmt.Sprintf("unexpected %q", b[i])}
		}
		return j, nil
	}
}

func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return len(b), &syntaxErr{len(b), errTruncated.Error()}
}

// member is one key and value of an object, as offsets into the document.
type member struct {
	key        string
	start, end int // the value
}

// objectMembers lists the members of the object starting at i.
func objectMembers(b []byte, i int) ([]member, int, error) {
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '{' {
		return nil, i, &syntaxErr{i, "expected an object"}
	}
	i = skipWS(b, i+1)
	var out []member
	if i < len(b) && b[i] == '}' {
		return out, i + 1, nil
	}
	for {
		i = skipWS(b, i)
		if i >= len(b) {
			return nil, i, &syntaxErr{i, errTruncated.Error()}
		}
		if b[i] != '"' {
			return nil, i, &syntaxErr{i, fmt.Sprintf("expected a key, found %q", b[i])}
		}
		kEnd, err := skipString(b, i)
		if err != nil {
			return nil, kEnd, err
		}
		key := string(b[i+1 : kEnd-1])
		i = skipWS(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return nil, i, &syntaxErr{i, "expected ':' after a key"}
		}
		vStart := skipWS(b, i+1)
		vEnd, err := skipValue(b, vStart)
		if err != nil {
			return nil, vEnd, err
		}
		out = append(out, member{key: key, start: vStart, end: vEnd})
		i = skipWS(b, vEnd)
		if i >= len(b) {
			return nil, i, &syntaxErr{i, errTruncated.Error()}
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return out, i + 1, nil
		default:
			return nil, i, &syntaxErr{i, fmt.Sprintf("expected ',' or '}', found %q", b[i])}
		}
	}
}

// arrayElements lists the extents of the elements of the array at i.
func arrayElements(b []byte, i int) ([][2]int, int, error) {
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '[' {
		return nil, i, &syntaxErr{i, "expected an array"}
	}
	i = skipWS(b, i+1)
	var out [][2]int
	if i < len(b) && b[i] == ']' {
		return out, i + 1, nil
	}
	for {
		s := skipWS(b, i)
		e, err := skipValue(b, s)
		if err != nil {
			return nil, e, err
		}
		out = append(out, [2]int{s, e})
		i = skipWS(b, e)
		if i >= len(b) {
			return nil, i, &syntaxErr{i, errTruncated.Error()}
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			return out, i + 1, nil
		default:
			return nil, i, &syntaxErr{i, fmt.Sprintf("expected ',' or ']', found %q", b[i])}
		}
	}
}

// snake turns a camelCase JSON name into proto's snake_case, so both
// spellings of a field compare equal.
func snake(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			out := make([]byte, 0, len(s)+4)
			for j := 0; j < len(s); j++ {
				c := s[j]
				if c >= 'A' && c <= 'Z' {
					out = append(out, '_', c+'a'-'A')
				} else {
					out = append(out, c)
				}
			}
			return string(out)
		}
	}
	return s
}
