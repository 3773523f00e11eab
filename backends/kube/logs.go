package kube

import (
	"bufio"
	"bytes"
	"fmt"
	"time"
)

// sinceMark keeps the lines of a pod log read with timestamps=true that
// were written after mark, without their timestamps. Kubernetes prefixes
// every line with an RFC 3339 time with nanoseconds and a space. A line
// without a readable timestamp is an error naming its number: the log is
// not the format asked for.
func sinceMark(log []byte, mark time.Time) ([]byte, error) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		ts, rest, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			// An empty log line is the timestamp alone.
			ts, rest = line, nil
		}
		t, err := time.Parse(time.RFC3339Nano, string(ts))
		if err != nil {
			return nil, fmt.Errorf("pod log line %d: no timestamp prefix: %q", n, prefix(string(line), 120))
		}
		if !t.After(mark) {
			continue
		}
		out.Write(rest)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pod log line %d: %w", n+1, err)
	}
	return out.Bytes(), nil
}
