package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Parse reads a report strictly: apiVersion must be APIVersion, kind must
// be Kind, and a field the type does not have is an error naming it and its
// line. name is the file's name for the messages.
func Parse(name string, data []byte) (*Report, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: %w", name, located(data, err))
	}
	if head.APIVersion != APIVersion {
		return nil, fmt.Errorf("%s: apiVersion %q: this meshcheck reads %s only", name, head.APIVersion, APIVersion)
	}
	if head.Kind != Kind {
		return nil, fmt.Errorf("%s: kind %q: want %s", name, head.Kind, Kind)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line(data, dec.InputOffset()), err)
	}
	return &r, nil
}

// ReadFile parses the report file at path.
func ReadFile(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return Parse(path, b)
}

// Marshal is the report's JSON, indented, with a final newline.
func (r *Report) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteFile writes the report to path.
func (r *Report) WriteFile(path string) error {
	b, err := r.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// located adds the line to a syntax or type error.
func located(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("line %d: %w", line(data, syn.Offset), err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("line %d: %w", line(data, typ.Offset), err)
	}
	return err
}

// line is the 1-based line of a byte offset.
func line(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}
