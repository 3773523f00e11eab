package accesslog

import (
	"fmt"
	"strconv"
	"strings"
)

// Operator is one command operator of an Envoy format string, such as
// %REQ(X-ENVOY-ORIGINAL-PATH?:PATH):100%.
type Operator struct {
	// Name is the operator's name, e.g. "REQ" or "UPSTREAM_CLUSTER".
	Name string
	// Arg is the text in parentheses, e.g. "X-ENVOY-ORIGINAL-PATH?:PATH".
	Arg string
	// MaxLen is the truncation length after the colon; 0 when none.
	MaxLen int
	// Field is the canonical field the operator fills; Mapped tells whether
	// it has one (otherwise its value goes to Record.Extra under Key()).
	Field  Field
	Mapped bool

	layout string // Go time layout for START_TIME(...)
}

// Key is the operator without the percent signs and length, e.g.
// "REQ(USER-AGENT)"; it names unmapped values in Record.Extra.
func (o Operator) Key() string {
	if o.Arg == "" {
		return o.Name
	}
	return o.Name + "(" + o.Arg + ")"
}

// String is the operator as written in a format string.
func (o Operator) String() string {
	s := "%" + o.Key()
	if o.MaxLen > 0 {
		s += ":" + strconv.Itoa(o.MaxLen)
	}
	return s + "%"
}

// token reports whether the operator's value never holds a space, which the
// matcher uses to split unquoted fields.
//
// Of request headers, :method, :path, :authority and x-request-id count as
// tokens too: HTTP does not allow spaces or quotes in the first three, and
// Envoy and Istio write request ids as UUIDs. This is what lets a quoted
// user agent hold the quote-space-quote separator without shifting the
// fields after it.
func (o Operator) token() bool {
	if o.Name == "REQ" && o.Mapped {
		switch o.Field {
		case Method, Path, Authority, RequestID:
			return true
		}
	}
	switch o.Name {
	case "REQ", "RESP", "TRAILER", "UPSTREAM_TRANSPORT_FAILURE_REASON", "DYNAMIC_METADATA",
		"FILTER_STATE", "CEL", "METADATA", "ROUTE_NAME", "RESPONSE_FLAGS_LONG":
		return false
	case "START_TIME":
		return o.Arg == ""
	}
	return o.Mapped
}

// segment is a literal (op == nil) or an operator.
type segment struct {
	lit string
	op  *Operator
}

// Format is a compiled Envoy access-log format string.
type Format struct {
	text string
	segs []segment
	// anchor is the number of leading segments a line must match to count as
	// an access-log line of this format (see Parser).
	anchor int
}

// String returns the format string as given.
func (f *Format) String() string { return f.text }

// Operators lists the format's command operators in order.
func (f *Format) Operators() []Operator {
	var ops []Operator
	for _, s := range f.segs {
		if s.op != nil {
			ops = append(ops, *s.op)
		}
	}
	return ops
}

// FormatError reports a malformed format string with the column (1-based,
// in bytes) of the problem.
type FormatError struct {
	Format string
	Column int
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("format string column %d: %s (in %q)", e.Column, e.Reason, e.Format)
}

// Compile compiles an Envoy format string. Command operators are
// %NAME%, %NAME(ARG)% and %NAME(ARG):N%; a percent sign that starts no
// operator is literal text, as is everything else. A trailing newline is
// dropped, since lines are read without it. Unknown operator names compile:
// their values land in Record.Extra.
func Compile(format string) (*Format, error) {
	text := strings.TrimSuffix(strings.TrimSuffix(format, "\n"), "\r")
	if text == "" {
		return nil, &FormatError{Format: format, Column: 1, Reason: "empty format"}
	}
	f := &Format{text: format}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.segs = append(f.segs, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(text); {
		if text[i] != '%' {
			lit.WriteByte(text[i])
			i++
			continue
		}
		op, n, err := scanOperator(text, i)
		if err != nil {
			return nil, &FormatError{Format: format, Column: i + 1, Reason: err.Error()}
		}
		if op == nil {
			lit.WriteByte('%')
			i++
			continue
		}
		flush()
		f.segs = append(f.segs, segment{op: op})
		i += n
	}
	flush()
	nops := 0
	for _, s := range f.segs {
		if s.op != nil {
			nops++
		}
	}
	if nops == 0 {
		return nil, &FormatError{Format: format, Column: 1, Reason: "no command operator"}
	}
	// The anchor: everything up to and including the literal after the
	// first operator (or the whole format when it has no such literal).
	f.anchor = len(f.segs)
	for i, s := range f.segs {
		if s.op != nil {
			if i+1 < len(f.segs) && f.segs[i+1].op == nil {
				f.anchor = i + 2
			}
			break
		}
	}
	return f, nil
}

// scanOperator reads an operator at text[i] (a '%'). It returns nil when the
// percent sign starts no operator, and an error for an operator that starts
// but is malformed (an unclosed parenthesis or a bad length).
func scanOperator(text string, i int) (*Operator, int, error) {
	j := i + 1
	for j < len(text) && (text[j] >= 'A' && text[j] <= 'Z' || text[j] >= '0' && text[j] <= '9' || text[j] == '_') {
		j++
	}
	if j == i+1 || j >= len(text) {
		return nil, 0, nil
	}
	op := &Operator{Name: text[i+1 : j]}
	if text[j] == '(' {
		end := strings.IndexByte(text[j:], ')')
		if end < 0 {
			return nil, 0, fmt.Errorf("%%%s( has no closing parenthesis", op.Name)
		}
		op.Arg = text[j+1 : j+end]
		j += end + 1
	}
	if j < len(text) && text[j] == ':' {
		k := j + 1
		for k < len(text) && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		if k == j+1 || k >= len(text) || text[k] != '%' {
			if op.Arg != "" {
				return nil, 0, fmt.Errorf("%%%s(...): wants a length and a closing %%", op.Name)
			}
			return nil, 0, nil
		}
		n, err := strconv.Atoi(text[j+1 : k])
		if err != nil || n <= 0 {
			return nil, 0, fmt.Errorf("%%%s: bad length %q", op.Name, text[j+1:k])
		}
		op.MaxLen = n
		j = k
	}
	if j >= len(text) || text[j] != '%' {
		if op.Arg != "" {
			return nil, 0, fmt.Errorf("%%%s(%s) has no closing %%", op.Name, op.Arg)
		}
		return nil, 0, nil
	}
	op.Field, op.Mapped = canonical(op.Name, op.Arg)
	if op.Name == "START_TIME" && op.Arg != "" {
		op.layout = timeLayoutFor(op.Arg)
	}
	return op, j + 1 - i, nil
}

// canonical maps an operator to the canonical field it fills.
func canonical(name, arg string) (Field, bool) {
	switch name {
	case "START_TIME":
		if arg == "" || timeLayoutFor(arg) != "" {
			return StartTime, true
		}
		return 0, false
	case "PROTOCOL":
		return Protocol, true
	case "RESPONSE_CODE":
		return ResponseCode, true
	case "RESPONSE_FLAGS":
		return ResponseFlags, true
	case "RESPONSE_CODE_DETAILS":
		return ResponseCodeDetails, true
	case "CONNECTION_TERMINATION_DETAILS":
		return ConnectionTerminationDetails, true
	case "UPSTREAM_TRANSPORT_FAILURE_REASON":
		return UpstreamTransportFailureReason, true
	case "BYTES_RECEIVED":
		return BytesReceived, true
	case "BYTES_SENT":
		return BytesSent, true
	case "DURATION":
		return Duration, true
	case "UPSTREAM_HOST":
		return UpstreamHost, true
	case "UPSTREAM_CLUSTER", "UPSTREAM_CLUSTER_RAW":
		return UpstreamCluster, true
	case "UPSTREAM_LOCAL_ADDRESS":
		return UpstreamLocalAddress, true
	case "DOWNSTREAM_LOCAL_ADDRESS":
		return DownstreamLocalAddress, true
	case "DOWNSTREAM_REMOTE_ADDRESS":
		return DownstreamRemoteAddress, true
	case "REQUESTED_SERVER_NAME":
		return RequestedServerName, true
	case "ROUTE_NAME":
		return RouteName, true
	case "REQ":
		h, alt, _ := strings.Cut(strings.ToLower(arg), "?")
		switch h {
		case ":method":
			return Method, alt == ""
		case ":path":
			return Path, alt == ""
		case "x-envoy-original-path":
			return Path, alt == ":path"
		case "x-forwarded-for":
			return XForwardedFor, alt == ""
		case "user-agent":
			return UserAgent, alt == ""
		case "x-request-id":
			return RequestID, alt == ""
		case ":authority", "host":
			return Authority, alt == "" || alt == ":authority" || alt == "host"
		}
	case "RESP":
		if strings.EqualFold(arg, "x-envoy-upstream-service-time") {
			return UpstreamServiceTime, true
		}
	}
	return 0, false
}

// timeLayoutFor converts a START_TIME strftime argument to a Go layout, or
// returns "" when it uses a specifier this package does not read.
func timeLayoutFor(arg string) string {
	var b strings.Builder
	for i := 0; i < len(arg); i++ {
		if arg[i] != '%' {
			b.WriteByte(arg[i])
			continue
		}
		i++
		if i >= len(arg) {
			return ""
		}
		switch arg[i] {
		case 'Y':
			b.WriteString("2006")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'H':
			b.WriteString("15")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'F':
			b.WriteString("2006-01-02")
		case 'T':
			b.WriteString("15:04:05")
		case 'z':
			b.WriteString("-0700")
		case 'E':
			// %E3S, %E6S, %E9S: seconds with N fractional digits.
			if i+2 < len(arg) && arg[i+2] == 'S' && strings.ContainsRune("369", rune(arg[i+1])) {
				b.WriteString("05." + strings.Repeat("0", int(arg[i+1]-'0')))
				i += 2
				continue
			}
			return ""
		case '%':
			b.WriteByte('%')
		default:
			return ""
		}
	}
	return b.String()
}
