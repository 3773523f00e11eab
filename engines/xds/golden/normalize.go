package golden

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/meshcheck/meshcheck/engines/xds"
)

// Options tune Normalize.
type Options struct {
	// RedactEndpointIPs replaces endpoint addresses with "<ip>" (ports
	// stay), for goldens that must not depend on the IPs a run assigned.
	RedactEndpointIPs bool
	// DynamicOnly leaves out static resources (the bootstrap's, such as
	// istio-agent's xds-grpc and sds-grpc clusters, which name per-run
	// socket paths): the golden holds what the control plane sent.
	DynamicOnly bool
	// RenameIPs replaces each IPv4 address that is a key, wherever it
	// appears as a whole address in a resource's name or a string value
	// (listener names such as 10.96.12.34_9080, addresses, stat prefixes),
	// by its value: a cluster that assigns Service VIPs at random gets a
	// golden keyed by service instead ("<vip reviews.default>").
	RenameIPs map[string]string
}

// dottedRE finds maximal runs of digits and dots: an address is renamed
// only when a whole run is a key, never inside a longer dotted number.
var dottedRE = regexp.MustCompile(`[0-9.]+`)

// renameIPs applies Options.RenameIPs to s.
func renameIPs(s string, names map[string]string) string {
	if len(names) == 0 || !strings.ContainsRune(s, '.') {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range dottedRE.FindAllStringIndex(s, -1) {
		if name, ok := names[s[m[0]:m[1]]]; ok {
			b.WriteString(s[last:m[0]])
			b.WriteString(name)
			last = m[1]
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// Doc is a normalized dump: kind -> resource name -> resource as JSON.
type Doc map[string]map[string]any

// Kinds in the order they are reported.
var Kinds = []string{"listeners", "routes", "clusters", "endpoints", "secrets", "scopedRoutes"}

// dropped are keys removed wherever they appear.
var dropped = map[string]bool{
	"version_info": true, "last_updated": true, "nonce": true, "uid": true,
	"last_update_attempt": true, "client_status": true,
}

// unordered are lists whose order Envoy ignores, sorted on normalization.
var unordered = map[string]bool{
	"domains": true, "filter_chains": true, "virtual_hosts": true,
	"lb_endpoints": true, "server_names": true, "application_protocols": true,
	"prefix_ranges": true, "source_prefix_ranges": true, "subject_alt_names": true,
	"match_subject_alt_names": true,
}

var mo = protojson.MarshalOptions{UseProtoNames: true}

// Normalize turns a dump into a Doc.
func Normalize(d *xds.Dump, opts Options) (Doc, error) {
	doc := Doc{}
	add := func(kind, name string, state xds.State, m proto.Message) error {
		if m == nil || (opts.DynamicOnly && state == xds.StateStatic) {
			return nil
		}
		b, err := mo.Marshal(m)
		if err != nil {
			return fmt.Errorf("normalize %s %s: %w", kind, name, err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("normalize %s %s: %w", kind, name, err)
		}
		v = clean(v, "", opts)
		dropUnset(v, resourceSchema(kind))
		key := renameIPs(name, opts.RenameIPs)
		if state != xds.StateActive && state != xds.StateStatic {
			key = name + " (" + string(state) + ")"
		}
		if doc[kind] == nil {
			doc[kind] = map[string]any{}
		}
		doc[kind][key] = v
		return nil
	}
	for _, x := range d.Listeners {
		if x.Config != nil {
			if err := add("listeners", x.Name, x.State, x.Config); err != nil {
				return nil, err
			}
		}
	}
	for _, x := range d.Routes {
		if x.Config != nil {
			if err := add("routes", x.Name, x.State, x.Config); err != nil {
				return nil, err
			}
		}
	}
	for _, x := range d.Clusters {
		if x.Config != nil {
			if err := add("clusters", x.Name, x.State, x.Config); err != nil {
				return nil, err
			}
		}
	}
	for _, x := range d.Endpoints {
		// An ORIGINAL_DST cluster's hosts are made by Envoy from the traffic
		// it saw: runtime state, not config.
		if c, ok := d.Cluster(x.Name); ok && c.Config.GetType() == clusterv3.Cluster_ORIGINAL_DST {
			continue
		}
		if err := add("endpoints", x.Name, x.State, x.Config); err != nil {
			return nil, err
		}
	}
	for _, x := range d.Secrets {
		if x.Config != nil {
			if err := add("secrets", x.Name, x.State, x.Config); err != nil {
				return nil, err
			}
		}
	}
	for _, x := range d.ScopedRoutes {
		if err := add("scopedRoutes", x.Name, x.State, x.Config); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// clean drops volatile keys, redacts and sorts, recursively.
func clean(v any, key string, opts Options) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if dropped[k] {
				delete(t, k)
				continue
			}
			t[k] = clean(x, k, opts)
		}
		if opts.RedactEndpointIPs && key == "socket_address" {
			if _, ok := t["address"]; ok {
				if ip := net.ParseIP(fmt.Sprint(t["address"])); ip != nil && !ip.IsUnspecified() && !ip.IsLoopback() {
					t["address"] = "<ip>"
				}
			}
		}
		return t
	case []any:
		for i := range t {
			t[i] = clean(t[i], key, opts)
		}
		if unordered[key] {
			sort.SliceStable(t, func(i, j int) bool { return sortKey(t[i]) < sortKey(t[j]) })
		}
		return t
	case string:
		return renameIPs(t, opts.RenameIPs)
	}
	return v
}

// sortKey orders list elements by name when they have one, else by JSON.
func sortKey(v any) string {
	if m, ok := v.(map[string]any); ok {
		if n, ok := m["name"].(string); ok {
			return "0" + n
		}
	}
	b, _ := json.Marshal(v)
	return "1" + string(b)
}

// Marshal renders a Doc as indented JSON with sorted keys.
func (d Doc) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Unmarshal reads a Doc written by Marshal.
func Unmarshal(b []byte) (Doc, error) {
	var d Doc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	return d, nil
}

// listKey names a list element for a diff path: its "name", "cluster_name"
// or "address" when it has one.
func listKey(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	for _, k := range []string{"name", "cluster_name"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s, true
		}
	}
	if ep, ok := m["endpoint"].(map[string]any); ok {
		if b, err := json.Marshal(ep["address"]); err == nil {
			return strings.Trim(string(b), "{}"), true
		}
	}
	return "", false
}
