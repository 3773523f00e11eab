// Package xdstest builds broken and edited config dumps for tests: it loads a
// real dump as generic JSON, lets a test change it, and parses the result.
package xdstest

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// Doc is a config dump as generic JSON.
type Doc map[string]any

// Load reads a dump file as generic JSON.
func Load(t testing.TB, path string) Doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d Doc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Section returns the configs element whose @type ends with kind
// (e.g. "ListenersConfigDump").
func (d Doc) Section(t testing.TB, kind string) map[string]any {
	t.Helper()
	for _, c := range d["configs"].([]any) {
		m := c.(map[string]any)
		if strings.HasSuffix(m["@type"].(string), "."+kind) {
			return m
		}
	}
	t.Fatalf("no %s section", kind)
	return nil
}

// List returns section[key] as a list.
func List(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

// Filter keeps the elements of section[key] for which keep is true.
func Filter(m map[string]any, key string, keep func(map[string]any) bool) {
	var out []any
	for _, x := range List(m, key) {
		if keep(x.(map[string]any)) {
			out = append(out, x)
		}
	}
	m[key] = out
}

// Get walks a path of keys and indexes into generic JSON.
func Get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

// Bytes marshals the document.
func (d Doc) Bytes(t testing.TB) []byte {
	t.Helper()
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Parse marshals and parses the document.
func (d Doc) Parse(t testing.TB) *xds.Dump {
	t.Helper()
	dump, err := xds.Parse(d.Bytes(t), xds.Options{Source: "edited.json"})
	if err != nil {
		t.Fatal(err)
	}
	return dump
}

// RouteName returns the name of a dynamic route config entry.
func RouteName(m map[string]any) string {
	return Get(m, "route_config", "name").(string)
}

// ClusterName returns the name of a dynamic cluster entry.
func ClusterName(m map[string]any) string {
	return Get(m, "cluster", "name").(string)
}

// EndpointCluster returns the cluster_name of a dynamic endpoint entry.
func EndpointCluster(m map[string]any) string {
	return Get(m, "endpoint_config", "cluster_name").(string)
}
