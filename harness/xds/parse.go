package xds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/meshcheck/meshcheck/harness/xds/internal/registry"
)

// Options tune Parse.
type Options struct {
	// Source names the document in errors and reports (a file name).
	Source string
	// Strict makes fields unknown to the binary's go-control-plane an error.
	// By default they are dropped and named in Dump.Warnings (a dump from an
	// Envoy newer than meshcheck's types still parses).
	Strict bool
}

// ParseFile reads and parses a config dump file.
func ParseFile(path string, opts Options) (*Dump, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config dump: %w", err)
	}
	if opts.Source == "" {
		opts.Source = path
	}
	return Parse(data, opts)
}

// Parse reads a config dump document (see the package doc for the shapes it
// accepts) and indexes it. Errors are *ParseError and wrap ErrNotConfigDump,
// ErrV2, or the underlying JSON or proto error.
func Parse(data []byte, opts Options) (*Dump, error) {
	p := &parser{data: data, opts: opts, dump: &Dump{Source: opts.Source}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	p.dump.buildIndex()
	return p.dump, nil
}

type parser struct {
	data []byte
	opts Options
	dump *Dump
}

func (p *parser) fail(offset int64, path string, err error) error {
	return newParseError(p.opts.Source, p.data, offset, path, err)
}

func (p *parser) parse() error {
	trimmed := bytes.TrimLeft(p.data, " \t\r\n\ufeff")
	start := int64(len(p.data) - len(trimmed))
	if len(trimmed) == 0 {
		return p.fail(-1, "", fmt.Errorf("%w: the document is empty", ErrNotConfigDump))
	}
	if i := v2Marker(p.data); i >= 0 {
		return p.fail(int64(i), "", ErrV2)
	}
	switch trimmed[0] {
	case '{':
		return p.parseAdmin(start)
	case '[':
		return p.parseArray(start)
	default:
		hint := "it does not start with { or ["
		if looksLikeYAML(trimmed) {
			hint = "it looks like YAML; give the JSON of /config_dump or of istioctl ... -o json"
		}
		return p.fail(start, "", fmt.Errorf("%w: not JSON: %s", ErrNotConfigDump, hint))
	}
}

// v2Marker finds a v2 API type URL, the sign of an Envoy 1.17-or-earlier dump.
func v2Marker(data []byte) int {
	for _, m := range []string{"type.googleapis.com/envoy.admin.v2alpha.", "type.googleapis.com/envoy.api.v2."} {
		if i := bytes.Index(data, []byte(m)); i >= 0 {
			return i
		}
	}
	return -1
}

func looksLikeYAML(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	line = bytes.TrimSpace(line)
	return bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("#")) ||
		bytes.HasPrefix(line, []byte("- ")) || bytes.Contains(line, []byte(": ")) || bytes.HasSuffix(line, []byte(":"))
}

// element is one raw JSON value with its offset in the document.
type element struct {
	raw    json.RawMessage
	offset int64
	path   string
}

// jsonErr turns an encoding/json error into a ParseError with an offset.
func (p *parser) jsonErr(dec *json.Decoder, path string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return p.fail(se.Offset, path, fmt.Errorf("invalid JSON: %w", err))
	case errors.As(err, &te):
		return p.fail(te.Offset, path, fmt.Errorf("invalid JSON: %w", err))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return p.fail(int64(len(p.data)), path, fmt.Errorf("invalid JSON: the document ends early (truncated?): %w", io.ErrUnexpectedEOF))
	}
	return p.fail(dec.InputOffset(), path, fmt.Errorf("invalid JSON: %w", err))
}

// valueStart skips white space and commas from off to the next value.
func (p *parser) valueStart(off int64) int64 {
	for off < int64(len(p.data)) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// readArray reads the elements of the array the decoder is positioned at.
func (p *parser) readArray(dec *json.Decoder, prefix string) ([]element, error) {
	if _, err := dec.Token(); err != nil { // [
		return nil, p.jsonErr(dec, prefix, err)
	}
	var out []element
	for i := 0; dec.More(); i++ {
		path := fmt.Sprintf("%s[%d]", prefix, i)
		off := p.valueStart(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, p.jsonErr(dec, path, err)
		}
		out = append(out, element{raw: raw, offset: off, path: path})
	}
	if _, err := dec.Token(); err != nil { // ]
		return nil, p.jsonErr(dec, prefix, err)
	}
	return out, nil
}

func (p *parser) parseAdmin(start int64) error {
	p.dump.Shape = ShapeAdmin
	dec := json.NewDecoder(bytes.NewReader(p.data))
	if _, err := dec.Token(); err != nil {
		return p.jsonErr(dec, "", err)
	}
	var (
		configs []element
		found   bool
		keys    []string
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p.jsonErr(dec, "", err)
		}
		key, _ := tok.(string)
		keys = append(keys, key)
		if key != "configs" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return p.jsonErr(dec, key, err)
			}
			continue
		}
		found = true
		off := p.valueStart(dec.InputOffset())
		if off < int64(len(p.data)) && p.data[off] != '[' {
			return p.fail(off, "configs", fmt.Errorf("%w: \"configs\" is not an array", ErrNotConfigDump))
		}
		if configs, err = p.readArray(dec, "configs"); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return p.jsonErr(dec, "", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p.fail(dec.InputOffset(), "", fmt.Errorf("invalid JSON: data after the document"))
	}
	if !found {
		if len(keys) > 8 {
			keys = append(keys[:8], "...")
		}
		return p.fail(start, "", fmt.Errorf("%w: no \"configs\" array (top-level keys: %s); expected the JSON of Envoy's /config_dump, istioctl proxy-config all -o json, or an istioctl per-type array",
			ErrNotConfigDump, strings.Join(keys, ", ")))
	}
	for _, c := range configs {
		if err := p.section(c); err != nil {
			return err
		}
	}
	return nil
}

// typeOf returns the "@type" of a JSON object, reading as little as it can.
func typeOf(raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return "", fmt.Errorf("not a JSON object")
	}
	if dec.More() {
		if tok, err = dec.Token(); err == nil && tok == "@type" {
			if tok, err = dec.Token(); err == nil {
				if s, ok := tok.(string); ok {
					return s, nil
				}
			}
		}
	}
	var t struct {
		Type string `json:"@type"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", err
	}
	return t.Type, nil
}

// section reads one element of "configs".
func (p *parser) section(c element) error {
	typeURL, err := typeOf(c.raw)
	if err != nil {
		return p.fail(c.offset, c.path, fmt.Errorf("%w: each element of \"configs\" must be an object with an \"@type\": %v", ErrNotConfigDump, err))
	}
	if typeURL == "" {
		return p.fail(c.offset, c.path, fmt.Errorf("%w: element has no \"@type\"", ErrNotConfigDump))
	}
	var msg proto.Message
	switch registry.MessageName(typeURL) {
	case "envoy.admin.v3.BootstrapConfigDump":
		msg = &adminv3.BootstrapConfigDump{}
	case "envoy.admin.v3.ListenersConfigDump":
		msg = &adminv3.ListenersConfigDump{}
	case "envoy.admin.v3.ClustersConfigDump":
		msg = &adminv3.ClustersConfigDump{}
	case "envoy.admin.v3.RoutesConfigDump":
		msg = &adminv3.RoutesConfigDump{}
	case "envoy.admin.v3.ScopedRoutesConfigDump":
		msg = &adminv3.ScopedRoutesConfigDump{}
	case "envoy.admin.v3.SecretsConfigDump":
		msg = &adminv3.SecretsConfigDump{}
	case "envoy.admin.v3.EndpointsConfigDump":
		msg = &adminv3.EndpointsConfigDump{}
	default:
		if registry.Resolves(typeURL) {
			p.dump.Warnings = append(p.dump.Warnings, fmt.Sprintf("%s: section %s not read (meshcheck does not model it)", c.path, typeURL))
		} else {
			p.dump.Unknown = append(p.dump.Unknown, Unknown{TypeURL: typeURL, Path: c.path, Raw: c.raw})
		}
		return nil
	}
	if err := p.unmarshal(c, msg); err != nil {
		return err
	}
	return p.collect(c.path, msg)
}

// unmarshal decodes a raw element into msg, first replacing Any payloads of
// unknown types, and tolerating unknown fields unless Strict.
func (p *parser) unmarshal(c element, msg proto.Message) error {
	raw := stripLeadingType([]byte(c.raw))
	if hasUnknownType(raw) {
		fixed, unknown, err := replaceUnknownAnys(raw, c.path)
		if err != nil {
			return p.fail(c.offset, c.path, err)
		}
		raw = fixed
		p.dump.Unknown = append(p.dump.Unknown, unknown...)
	}
	err := protojson.Unmarshal(raw, msg)
	if err != nil && !p.opts.Strict && strings.Contains(err.Error(), "unknown field") {
		first := err
		proto.Reset(msg)
		if err = (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, msg); err == nil {
			p.dump.Warnings = append(p.dump.Warnings, fmt.Sprintf("%s: dropped a field unknown to meshcheck's Envoy API (%s) (a newer Envoy?): %s",
				c.path, registry.MessageName(string(msg.ProtoReflect().Descriptor().FullName())), trimProtoErr(first)))
		}
	}
	if err != nil {
		off := int64(-1)
		if shift := len(c.raw) - len(raw); shift >= 0 && bytes.Equal(raw[1:], c.raw[1+shift:]) {
			// Positions hold for the document as written, less the stripped "@type".
			off = offsetOfProtoError(p.data, c.offset+int64(shift), err)
		}
		if off < 0 {
			off = c.offset
		}
		return p.fail(off, c.path, fmt.Errorf("not a valid %s: %s", msg.ProtoReflect().Descriptor().FullName(), trimProtoErr(err)))
	}
	return nil
}

func trimProtoErr(err error) string {
	s := protojsonPos.ReplaceAllString(err.Error(), "")
	s = strings.TrimPrefix(s, "proto:")
	return strings.TrimLeft(s, " :")
}

// stripLeadingType removes a leading "@type" member from a JSON object: an
// admin section is an Any, decoded here straight into its message type.
// Anything else is returned unchanged.
func stripLeadingType(raw []byte) []byte {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return raw
	}
	j := skipSpace(raw, i+1)
	if !bytes.HasPrefix(raw[j:], atType) {
		return raw
	}
	k := skipSpace(raw, j+len(atType))
	if k >= len(raw) || raw[k] != ':' {
		return raw
	}
	k = skipSpace(raw, k+1)
	if k >= len(raw) || raw[k] != '"' {
		return raw
	}
	end := bytes.IndexByte(raw[k+1:], '"')
	if end < 0 || bytes.IndexByte(raw[k+1:k+1+end], '\\') >= 0 {
		return raw
	}
	k = skipSpace(raw, k+1+end+1)
	if k < len(raw) && raw[k] == ',' {
		k++
	}
	out := make([]byte, 0, len(raw)-(k-i-1))
	out = append(out, '{')
	return append(out, raw[k:]...)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func ts(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// unpack decodes an Any into dst; the error names the path and both types.
func unpack(a *anypb.Any, dst proto.Message, path string) error {
	if a == nil {
		return fmt.Errorf("%s: missing", path)
	}
	if err := a.UnmarshalTo(dst); err != nil {
		want := dst.ProtoReflect().Descriptor().FullName()
		return fmt.Errorf("%s: expected %s, found %s: %w", path, want, a.GetTypeUrl(), err)
	}
	return nil
}

func updateError(u *adminv3.UpdateFailureState) *UpdateError {
	if u == nil {
		return nil
	}
	e := &UpdateError{Details: u.GetDetails(), Version: u.GetVersionInfo()}
	if u.GetLastUpdateAttempt() != nil {
		e.LastAttempt = u.GetLastUpdateAttempt().AsTime()
	}
	return e
}
