// Package accesslog reads Envoy access logs as istio-proxy writes them: any
// Envoy format string is compiled into a parser, Istio's default text formats
// and its JSON encoding are built in and detected from the lines, and every
// line becomes one canonical Record named as in Istio's JSON encoding. Records
// from several proxies are joined by request id into Flows, the hops of one
// request, which the suites check with Checks and a report shows as a Brief.
package accesslog

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Field names one canonical access-log field. Its String is the key Istio's
// JSON encoding uses.
type Field uint8

// The canonical fields, in the order of Istio's default text format.
const (
	StartTime Field = iota
	Method
	Path
	Protocol
	ResponseCode
	ResponseFlags
	ResponseCodeDetails
	ConnectionTerminationDetails
	UpstreamTransportFailureReason
	BytesReceived
	BytesSent
	Duration
	UpstreamServiceTime
	XForwardedFor
	UserAgent
	RequestID
	Authority
	UpstreamHost
	UpstreamCluster
	UpstreamLocalAddress
	DownstreamLocalAddress
	DownstreamRemoteAddress
	RequestedServerName
	RouteName
	numFields
)

var fieldNames = [numFields]string{
	"start_time", "method", "path", "protocol", "response_code", "response_flags",
	"response_code_details", "connection_termination_details", "upstream_transport_failure_reason",
	"bytes_received", "bytes_sent", "duration", "upstream_service_time", "x_forwarded_for",
	"user_agent", "request_id", "authority", "upstream_host", "upstream_cluster",
	"upstream_local_address", "downstream_local_address", "downstream_remote_address",
	"requested_server_name", "route_name",
}

// String returns the field's key in Istio's JSON encoding.
func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("Field(%d)", f)
}

// FieldByName returns the field whose JSON key is name.
func FieldByName(name string) (Field, bool) {
	for i, n := range fieldNames {
		if n == name {
			return Field(i), true
		}
	}
	return 0, false
}

// kind is how a field's text is typed.
type kind uint8

const (
	kindString kind = iota
	kindTime
	kindInt    // status codes and byte counts
	kindMillis // durations logged in milliseconds
)

func (f Field) kind() kind {
	switch f {
	case StartTime:
		return kindTime
	case ResponseCode, BytesReceived, BytesSent:
		return kindInt
	case Duration, UpstreamServiceTime:
		return kindMillis
	}
	return kindString
}

// Record is one access-log line in canonical form. A field is present when
// the line had a value for it ("-" and JSON null mean absent); Has tells.
type Record struct {
	StartTime                      time.Time
	Method                         string
	Path                           string
	Protocol                       string
	ResponseCode                   int
	ResponseFlags                  string
	ResponseCodeDetails            string
	ConnectionTerminationDetails   string
	UpstreamTransportFailureReason string
	BytesReceived                  int64
	BytesSent                      int64
	Duration                       time.Duration // millisecond precision
	UpstreamServiceTime            time.Duration // millisecond precision
	XForwardedFor                  string
	UserAgent                      string
	RequestID                      string
	Authority                      string
	UpstreamHost                   string
	UpstreamCluster                string
	UpstreamLocalAddress           string
	DownstreamLocalAddress         string
	DownstreamRemoteAddress        string
	RequestedServerName            string
	RouteName                      string

	// Extra holds values of operators or JSON keys with no canonical field,
	// keyed by the operator (e.g. "REQ(X-B3-TRACEID)") or the JSON key.
	Extra map[string]string
	// Proxy names the proxy that wrote the line (set by the reader, e.g. from
	// the file name); empty when unknown.
	Proxy string
	// Source is where the line came from, "file:line".
	Source string

	present uint32
}

// Has reports whether the line had a value for f.
func (r *Record) Has(f Field) bool { return r.present&(1<<f) != 0 }

// Set parses raw as field f's type and stores it. "-" and "" leave the field
// absent. The error names the field and the text.
func (r *Record) Set(f Field, raw string) error {
	if raw == "-" || raw == "" {
		r.present &^= 1 << f
		return nil
	}
	switch f.kind() {
	case kindTime:
		t, err := parseTime(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not a time: %w", f, raw, err)
		}
		r.StartTime = t
	case kindInt:
		n, err := parseUint(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number: %w", f, raw, err)
		}
		switch f {
		case ResponseCode:
			r.ResponseCode = int(n)
		case BytesReceived:
			r.BytesReceived = n
		case BytesSent:
			r.BytesSent = n
		}
	case kindMillis:
		n, err := parseUint(raw)
		if err != nil {
			return fmt.Errorf("%s: %q is not a number of milliseconds: %w", f, raw, err)
		}
		d := time.Duration(n) * time.Millisecond
		if f == Duration {
			r.Duration = d
		} else {
			r.UpstreamServiceTime = d
		}
	default:
		*r.stringField(f) = raw
	}
	r.present |= 1 << f
	return nil
}

func (r *Record) stringField(f Field) *string {
	switch f {
	case Method:
		return &r.Method
	case Path:
		return &r.Path
	case Protocol:
		return &r.Protocol
	case ResponseFlags:
		return &r.ResponseFlags
	case ResponseCodeDetails:
		return &r.ResponseCodeDetails
	case ConnectionTerminationDetails:
		return &r.ConnectionTerminationDetails
	case UpstreamTransportFailureReason:
		return &r.UpstreamTransportFailureReason
	case XForwardedFor:
		return &r.XForwardedFor
	case UserAgent:
		return &r.UserAgent
	case RequestID:
		return &r.RequestID
	case Authority:
		return &r.Authority
	case UpstreamHost:
		return &r.UpstreamHost
	case UpstreamCluster:
		return &r.UpstreamCluster
	case UpstreamLocalAddress:
		return &r.UpstreamLocalAddress
	case DownstreamLocalAddress:
		return &r.DownstreamLocalAddress
	case DownstreamRemoteAddress:
		return &r.DownstreamRemoteAddress
	case RequestedServerName:
		return &r.RequestedServerName
	case RouteName:
		return &r.RouteName
	}
	return new(string)
}

// Value returns the field's value as text, as the line had it, or "-".
func (r *Record) Value(f Field) string {
	if !r.Has(f) {
		return "-"
	}
	switch f.kind() {
	case kindTime:
		return r.StartTime.UTC().Format(timeLayout)
	case kindInt:
		switch f {
		case ResponseCode:
			return strconv.Itoa(r.ResponseCode)
		case BytesReceived:
			return strconv.FormatInt(r.BytesReceived, 10)
		default:
			return strconv.FormatInt(r.BytesSent, 10)
		}
	case kindMillis:
		d := r.Duration
		if f == UpstreamServiceTime {
			d = r.UpstreamServiceTime
		}
		return strconv.FormatInt(d.Milliseconds(), 10)
	}
	return *r.stringField(f)
}

// String is a one-line summary used in failure messages.
func (r *Record) String() string {
	var b strings.Builder
	if r.Proxy != "" {
		b.WriteString(r.Proxy)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s %s %s -> %s %s flags=%s id=%s",
		r.Value(Method), r.Value(Authority), r.Value(Path), r.Value(ResponseCode),
		r.Value(UpstreamCluster), r.Value(ResponseFlags), r.Value(RequestID))
	if r.Source != "" {
		fmt.Fprintf(&b, " (%s)", r.Source)
	}
	return b.String()
}

// timeLayout is Envoy's default START_TIME format, %Y-%m-%dT%H:%M:%E3SZ.
const timeLayout = "2006-01-02T15:04:05.000Z"

func parseTime(s string) (time.Time, error) {
	// Fast path for Envoy's default layout; RFC 3339 otherwise.
	if len(s) == len(timeLayout) && s[len(s)-1] == 'Z' {
		if t, err := time.Parse(timeLayout, s); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339Nano, s)
}

func parseUint(s string) (int64, error) {
	if len(s) == 0 || len(s) > 18 {
		return 0, fmt.Errorf("want 1 to 18 digits")
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("byte %d is %q", i, c)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// MarshalJSON writes the present fields under Istio's JSON keys, numbers as
// numbers (durations in milliseconds), then "extra", "proxy" and "source"
// when set. Absent fields are omitted.
func (r Record) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
	}
	for f := Field(0); f < numFields; f++ {
		if !r.Has(f) {
			continue
		}
		key(f.String())
		switch f.kind() {
		case kindInt, kindMillis:
			b = append(b, r.Value(f)...)
		default:
			b = appendJSONString(b, r.Value(f))
		}
	}
	if len(r.Extra) > 0 {
		key("extra")
		b = append(b, '{')
		ks := make([]string, 0, len(r.Extra))
		for k := range r.Extra {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for i, k := range ks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, r.Extra[k])
		}
		b = append(b, '}')
	}
	if r.Proxy != "" {
		key("proxy")
		b = appendJSONString(b, r.Proxy)
	}
	if r.Source != "" {
		key("source")
		b = appendJSONString(b, r.Source)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as a JSON string (invalid UTF-8 is replaced).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', byte(c))
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029:
			b = append(b, '\\', 'u', hex[c>>12&0xf], hex[c>>8&0xf], hex[c>>4&0xf], hex[c&0xf])
		default:
			b = append(b, string(c)...)
		}
	}
	return append(b, '"')
}
