package accesslog

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Istio's default text formats, by proxy version (pilot's mesh config
// default; the 1.9 to 1.22 one differs from 1.23+ only in UPSTREAM_CLUSTER).
const (
	// FormatIstio is the default for proxies 1.23 and later.
	FormatIstio = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%` + "\n"
	// FormatIstio122 is the default for proxies 1.9 to 1.22.
	FormatIstio122 = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%` + "\n"
	// FormatIstio18 is the default for proxies 1.8 and earlier.
	FormatIstio18 = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%` + "\n"
)

// Profile is a built-in access-log format.
type Profile struct {
	// Name is what --format accepts: istio, istio-1.22, istio-1.8, json.
	Name string
	// Description says which proxies write it.
	Description string
	// Format is the Envoy format string; empty for the JSON encoding.
	Format string
}

var profiles = []Profile{
	{"istio", "Istio's default text format, proxies 1.23 and later", FormatIstio},
	{"istio-1.22", "Istio's default text format, proxies 1.9 to 1.22 (same layout as istio; UPSTREAM_CLUSTER)", FormatIstio122},
	{"istio-1.8", "Istio's default text format, proxies 1.8 and earlier (no response code or termination details)", FormatIstio18},
	{"json", "Istio's JSON encoding (meshConfig.accessLogEncoding=JSON), or any JSON object per line", ""},
}

// Profiles lists the built-in formats.
func Profiles() []Profile { return append([]Profile(nil), profiles...) }

// candidate is one format a Parser tries.
type candidate struct {
	name   string
	format *Format // nil for JSON
}

// Parser turns lines into Records. It is not safe for concurrent use.
type Parser struct {
	cands []candidate
	auto  bool
	last  int // the candidate that parsed the previous access-log line
	vals  []string
}

// NewParser returns a parser for spec: "" or "auto" to detect the profile
// from the lines, a profile name, or an Envoy format string (anything holding
// a '%').
func NewParser(spec string) (*Parser, error) {
	p := &Parser{}
	switch {
	case spec == "" || spec == "auto":
		p.auto = true
		for _, pr := range profiles {
			c := candidate{name: pr.Name}
			if pr.Format != "" {
				f, err := Compile(pr.Format)
				if err != nil {
					return nil, fmt.Errorf("built-in profile %s: %w", pr.Name, err)
				}
				c.format = f
			}
			p.cands = append(p.cands, c)
		}
	case strings.Contains(spec, "%"):
		f, err := Compile(spec)
		if err != nil {
			return nil, err
		}
		p.cands = []candidate{{name: "custom", format: f}}
	default:
		for _, pr := range profiles {
			if pr.Name != spec {
				continue
			}
			c := candidate{name: pr.Name}
			if pr.Format != "" {
				c.format, _ = Compile(pr.Format)
			}
			p.cands = []candidate{c}
		}
		if p.cands == nil {
			names := make([]string, len(profiles))
			for i, pr := range profiles {
				names[i] = pr.Name
			}
			return nil, fmt.Errorf("unknown format %q: want auto, %s, or an Envoy format string", spec, strings.Join(names, ", "))
		}
	}
	return p, nil
}

// Detected names the profile that parsed the last access-log line
// ("custom" for a format string).
func (p *Parser) Detected() string { return p.cands[p.last].name }

// ParseLine parses one line (without its newline). ok is false, with a nil
// error, for a line that is not an access-log line of the parser's formats
// (the proxy's own logging); the error is for a line that starts like one
// but does not parse, and says where.
func (p *Parser) ParseLine(line string) (rec Record, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	// Try the last successful candidate first, then the others in order.
	var firstErr error
	order := make([]int, 0, len(p.cands))
	order = append(order, p.last)
	for i := range p.cands {
		if i != p.last {
			order = append(order, i)
		}
	}
	for _, i := range order {
		c := p.cands[i]
		var r Record
		var cand bool
		var err error
		if c.format == nil {
			r, cand, err = parseJSONLine(line)
		} else {
			r, cand, err = p.parseText(c.format, line)
		}
		if !cand {
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		p.last = i
		return r, true, nil
	}
	return Record{}, false, firstErr
}

// parseText matches line against f. cand is false when the line does not
// even start like f (see Format.anchor).
func (p *Parser) parseText(f *Format, line string) (Record, bool, error) {
	if cap(p.vals) < len(f.segs) {
		p.vals = make([]string, len(f.segs))
	}
	m := matcher{f: f, line: line, vals: p.vals[:len(f.segs)], limit: f.anchor, failSeg: -1}
	if !m.match(0, 0) {
		return Record{}, false, nil
	}
	m.limit, m.steps, m.failSeg, m.failPos, m.failFirst, m.detour = len(f.segs), 0, -1, -1, false, 0
	if !m.match(0, 0) {
		return Record{}, true, m.err()
	}
	var r Record
	for i, s := range f.segs {
		if s.op == nil {
			continue
		}
		v := m.vals[i]
		if !s.op.Mapped {
			if v != "-" {
				if r.Extra == nil {
					r.Extra = map[string]string{}
				}
				r.Extra[s.op.Key()] = v
			}
			continue
		}
		if s.op.layout != "" && v != "-" {
			t, err := time.Parse(s.op.layout, v)
			if err != nil {
				return Record{}, true, &matchError{op: s.op.String(), value: v, err: err}
			}
			r.StartTime = t
			r.present |= 1 << StartTime
			continue
		}
		if err := r.Set(s.op.Field, v); err != nil {
			return Record{}, true, &matchError{op: s.op.String(), value: v, err: err}
		}
	}
	return r, true, nil
}

// maxSteps bounds the backtracking per line, so no input is slow.
const maxSteps = 4096

// matcher matches one line against a format, backtracking over where each
// operator's value ends. Unquoted operators whose values never hold a space
// (status, bytes, addresses, cluster) pin most splits, so the first try is
// almost always right; quoted header values may hold anything, including
// the quote-space-quote separator.
type matcher struct {
	f     *Format
	line  string
	vals  []string
	limit int // stop with success after this many segments
	steps int
	// the furthest failure, as evidence, preferring failures on the first
	// path (every operator ending at its first candidate) over failures
	// found while backtracking, which are rarely where the line is wrong
	failSeg, failPos int
	failWhy          string
	detour           int  // > 0 while trying a later candidate
	failFirst        bool // the recorded failure is on the first path
}

func (m *matcher) fail(seg, pos int, why string) bool {
	first := m.detour == 0
	if m.failFirst && !first {
		return false
	}
	if pos > m.failPos || m.failSeg < 0 || (first && !m.failFirst) {
		m.failFirst = first
		m.failSeg, m.failPos, m.failWhy = seg, pos, why
	}
	return false
}

func (m *matcher) match(si, pos int) bool {
	m.steps++
	if m.steps > maxSteps {
		return m.fail(si, pos, "too ambiguous to split")
	}
	segs := m.f.segs
	if si >= m.limit {
		if m.limit < len(segs) || pos == len(m.line) {
			return true
		}
		return m.fail(si, pos, fmt.Sprintf("unexpected text %q after the last field", excerpt(m.line[pos:])))
	}
	s := segs[si]
	if s.op == nil {
		if strings.HasPrefix(m.line[pos:], s.lit) {
			return m.match(si+1, pos+len(s.lit))
		}
		return m.fail(si, pos, fmt.Sprintf("want %q, have %q", s.lit, excerpt(m.line[pos:])))
	}
	op := s.op
	if si+1 == len(segs) {
		v := m.line[pos:]
		if why := validate(op, v); why != "" {
			return m.fail(si, pos, why)
		}
		m.vals[si] = v
		return m.match(si+1, len(m.line))
	}
	if next := segs[si+1]; next.op == nil {
		for from, try := pos, 0; ; try++ {
			if try == 1 {
				m.detour++
				defer func() { m.detour-- }()
			}
			j := strings.Index(m.line[from:], next.lit)
			if j < 0 {
				return m.fail(si, pos, fmt.Sprintf("%s: no %q after %q", op, next.lit, excerpt(m.line[pos:])))
			}
			j += from
			v := m.line[pos:j]
			if op.token() && strings.IndexByte(v, ' ') >= 0 {
				// Every later end holds the same space.
				return m.fail(si, pos, fmt.Sprintf("%s: %q holds a space", op, excerpt(v)))
			}
			if why := validate(op, v); why != "" {
				m.fail(si, pos, why)
			} else {
				m.vals[si] = v
				if m.match(si+2, j+len(next.lit)) {
					return true
				}
			}
			if m.steps > maxSteps {
				return false
			}
			from = j + 1
		}
	}
	// Two operators with nothing between: try every split.
	for end := pos; end <= len(m.line); end++ {
		v := m.line[pos:end]
		if op.token() && end > pos && m.line[end-1] == ' ' {
			break
		}
		if validate(op, v) == "" {
			m.vals[si] = v
			if m.match(si+1, end) {
				return true
			}
		}
		if m.steps > maxSteps {
			return false
		}
	}
	return m.fail(si, pos, fmt.Sprintf("%s: no split of %q fits", op, excerpt(m.line[pos:])))
}

// validate returns why v cannot be op's value, or "".
func validate(op *Operator, v string) string {
	if v == "-" {
		return ""
	}
	if op.token() && strings.IndexByte(v, '"') >= 0 {
		return fmt.Sprintf("%s: %q holds a quote", op, excerpt(v))
	}
	if !op.Mapped {
		return ""
	}
	switch op.Field.kind() {
	case kindInt, kindMillis:
		if _, err := parseUint(v); err != nil {
			return fmt.Sprintf("%s: %q is not a number", op, excerpt(v))
		}
	case kindTime:
		var err error
		if op.layout != "" {
			_, err = time.Parse(op.layout, v)
		} else {
			_, err = parseTime(v)
		}
		if err != nil {
			return fmt.Sprintf("%s: %q is not a time", op, excerpt(v))
		}
	}
	return ""
}

func (m *matcher) err() error {
	return &matchError{column: m.failPos + 1, why: m.failWhy}
}

// matchError says where and why a line did not match.
type matchError struct {
	column int
	why    string
	op     string
	value  string
	err    error
}

func (e *matchError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s: %v", e.op, e.err)
	}
	return fmt.Sprintf("column %d: %s", e.column, e.why)
}

func (e *matchError) Unwrap() error { return e.err }

func excerpt(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// parseJSONLine reads one JSON object. cand is false when the line is not a
// JSON object with at least one canonical key with a value (e.g. the
// agent's JSON logs).
func parseJSONLine(line string) (Record, bool, error) {
	t := strings.TrimSpace(line)
	if len(t) == 0 || t[0] != '{' {
		return Record{}, false, nil
	}
	var r Record
	known := 0
	var setErr error
	err := scanObject(t, func(key string, v jsonValue) {
		if setErr != nil {
			return
		}
		switch {
		case key == "proxy" && v.kind == '"':
			r.Proxy = v.text
			return
		case key == "source" && v.kind == '"':
			r.Source = v.text
			return
		case key == "extra" && v.kind == '{':
			_ = scanObject(v.text, func(k string, ev jsonValue) {
				if r.Extra == nil {
					r.Extra = map[string]string{}
				}
				r.Extra[k] = ev.text
			})
			return
		}
		f, ok := FieldByName(key)
		if !ok {
			if v.kind != 'n' {
				if r.Extra == nil {
					r.Extra = map[string]string{}
				}
				r.Extra[key] = v.text
			}
			return
		}
		switch v.kind {
		case 'n': // null: absent
		case '{', '[', 'b':
			known++
			setErr = fmt.Errorf("key %q: want a string or a number, have %s", key, excerpt(v.text))
		default:
			known++
			if err := r.Set(f, v.text); err != nil {
				setErr = fmt.Errorf("key %q: %w", key, err)
			}
		}
	})
	if err != nil {
		// Broken JSON: an access-log line only if it names a canonical key.
		if strings.Contains(t, `"start_time"`) || strings.Contains(t, `"response_code"`) {
			return Record{}, true, fmt.Errorf("JSON: %w", err)
		}
		return Record{}, false, nil
	}
	if known == 0 {
		return Record{}, false, nil
	}
	if setErr != nil {
		return Record{}, true, setErr
	}
	return r, true, nil
}

// jsonValue is one member value: kind is '"' (string, text unescaped), '0'
// (number), 'b' (true or false), 'n' (null), '{' or '[' (raw text).
type jsonValue struct {
	kind byte
	text string
}

// scanObject reads a JSON object of members and calls fn for each. Nested
// objects and arrays are passed as raw text.
func scanObject(s string, fn func(key string, v jsonValue)) error {
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return errors.New("want '{'")
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		if skipWS(s, i+1) != len(s) {
			return fmt.Errorf("offset %d: text after the object", i+1)
		}
		return nil
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return fmt.Errorf("offset %d: want a key", i)
		}
		key, n, err := scanString(s, i)
		if err != nil {
			return err
		}
		i = skipWS(s, i+n)
		if i >= len(s) || s[i] != ':' {
			return fmt.Errorf("offset %d: want ':' after key %q", i, key)
		}
		i = skipWS(s, i+1)
		if i >= len(s) {
			return fmt.Errorf("offset %d: value of %q missing", i, key)
		}
		var v jsonValue
		switch c := s[i]; {
		case c == '"':
			str, n, err := scanString(s, i)
			if err != nil {
				return err
			}
			v, i = jsonValue{'"', str}, i+n
		case c == '{' || c == '[':
			n, err := skipComposite(s, i)
			if err != nil {
				return err
			}
			v, i = jsonValue{c, s[i : i+n]}, i+n
		default:
			j := i
			for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ' ' && s[j] != '\t' {
				j++
			}
			tok := s[i:j]
			switch {
			case tok == "null":
				v = jsonValue{'n', ""}
			case tok == "true" || tok == "false":
				v = jsonValue{'b', tok}
			case json.Valid([]byte(tok)) && tok != "":
				v = jsonValue{'0', tok}
			default:
				return fmt.Errorf("offset %d: bad value %q for key %q", i, excerpt(tok), key)
			}
			i = j
		}
		fn(key, v)
		i = skipWS(s, i)
		if i >= len(s) {
			return errors.New("object not closed")
		}
		if s[i] == '}' {
			if skipWS(s, i+1) != len(s) {
				return fmt.Errorf("offset %d: text after the object", i+1)
			}
			return nil
		}
		if s[i] != ',' {
			return fmt.Errorf("offset %d: want ',' or '}'", i)
		}
		i = skipWS(s, i+1)
	}
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string at s[i] and returns its value and length.
func scanString(s string, i int) (string, int, error) {
	escaped := false
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return s[i+1 : j], j + 1 - i, nil
			}
			var out string
			if err := json.Unmarshal([]byte(s[i:j+1]), &out); err != nil {
				return "", 0, fmt.Errorf("offset %d: bad string: %w", i, err)
			}
			return out, j + 1 - i, nil
		default:
			if s[j] < 0x20 {
				return "", 0, fmt.Errorf("offset %d: control character in string", j)
			}
		}
	}
	return "", 0, fmt.Errorf("offset %d: string not closed", i)
}

// skipComposite returns the length of the object or array at s[i].
func skipComposite(s string, i int) (int, error) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"':
			_, n, err := scanString(s, j)
			if err != nil {
				return 0, err
			}
			j += n - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				if !json.Valid([]byte(s[i : j+1])) {
					return 0, fmt.Errorf("offset %d: bad nested value", i)
				}
				return j + 1 - i, nil
			}
		}
	}
	return 0, fmt.Errorf("offset %d: nested value not closed", i)
}

// LineError is a line that starts like an access-log line but does not
// parse. It names the source and line.
type LineError struct {
	Source string
	Line   int
	Text   string
	Err    error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v\n  line: %s", e.Source, e.Line, e.Err, excerptN(e.Text, 300))
}

func (e *LineError) Unwrap() error { return e.Err }

func excerptN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ReadOptions configures Read.
type ReadOptions struct {
	// Format is "" or "auto" (detect), a profile name or a format string.
	Format string
	// Source names the input in errors and in Record.Source, e.g. the file.
	Source string
	// Proxy is set on every record (e.g. the pod); empty when unknown.
	Proxy string
}

// Result is what Read found.
type Result struct {
	Records []Record
	// Lines is the number of lines read; Skipped of them were not access-log
	// lines (the proxy's or the agent's own logging).
	Lines, Skipped int
	// Profiles counts records per format that parsed them.
	Profiles map[string]int
}

// Read parses every line of r. It stops at the first line that starts like
// an access-log line but does not parse, returning a *LineError.
func Read(r io.Reader, opts ReadOptions) (*Result, error) {
	p, err := NewParser(opts.Format)
	if err != nil {
		return nil, err
	}
	src := opts.Source
	if src == "" {
		src = "<input>"
	}
	res := &Result{Profiles: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		res.Lines++
		line := sc.Text()
		rec, ok, err := p.ParseLine(line)
		if err != nil {
			return res, &LineError{Source: src, Line: res.Lines, Text: line, Err: err}
		}
		if !ok {
			res.Skipped++
			continue
		}
		rec.Proxy = opts.Proxy
		rec.Source = fmt.Sprintf("%s:%d", src, res.Lines)
		res.Profiles[p.Detected()]++
		res.Records = append(res.Records, rec)
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("%s: after line %d: %w", src, res.Lines, err)
	}
	return res, nil
}

// Profile returns the profile that parsed most records, or "" when none.
func (r *Result) Profile() string {
	best, n := "", 0
	names := make([]string, 0, len(r.Profiles))
	for k := range r.Profiles {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if r.Profiles[k] > n {
			best, n = k, r.Profiles[k]
		}
	}
	return best
}
