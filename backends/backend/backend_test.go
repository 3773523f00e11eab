package backend

import (
	"errors"
	"reflect"
	"testing"
)

const (
	lds = "type.googleapis.com/envoy.config.listener.v3.Listener"
	rds = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
)

func TestSyncedAndUnsynced(t *testing.T) {
	acked := TypeSync{Sent: "v1-0123456789", Acked: "v1-0123456789"}
	behind := TypeSync{Sent: "v2-abcdefghij", Acked: "v1-0123456789"}
	nack := TypeSync{Sent: "v2-abcdefghij", Acked: "v1-0123456789", LastError: "invalid route"}
	tests := []struct {
		name       string
		sync       ProxySync
		synced     bool
		str        string
		wantBehind []string
		wantNACK   *NACKError
	}{
		{"all ACKed and current", ProxySync{Proxy: "ns/a", Current: true, Types: map[string]TypeSync{lds: acked, rds: acked}},
			true, "ns/a: current, 2 of 2 types ACKed", nil, nil},
		{"ACKed but not current", ProxySync{Proxy: "ns/a", Types: map[string]TypeSync{lds: acked}},
			false, "ns/a: behind, 1 of 1 types ACKed", []string{"ns/a: behind, 1 of 1 types ACKed"}, nil},
		{"one type behind", ProxySync{Proxy: "ns/a", Current: true, Types: map[string]TypeSync{lds: acked, rds: behind}},
			false, "ns/a: current, 1 of 2 types ACKed (RouteConfiguration sent=...cdefghij acked=...23456789)",
			[]string{"ns/a: current, 1 of 2 types ACKed (RouteConfiguration sent=...cdefghij acked=...23456789)"}, nil},
		{"no types yet", ProxySync{Proxy: "ns/a", Current: true},
			false, "ns/a: current, 0 of 0 types ACKed", []string{"ns/a: current, 0 of 0 types ACKed"}, nil},
		{"a NACK", ProxySync{Proxy: "ns/a", Current: true, Types: map[string]TypeSync{lds: acked, rds: nack}},
			false, "ns/a: current, 1 of 2 types ACKed (RouteConfiguration sent=...cdefghij acked=...23456789 NACK: invalid route)",
			nil, &NACKError{Proxy: "ns/a", TypeURL: rds, Text: "invalid route"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sync.Synced(); got != tc.synced {
				t.Errorf("Synced() = %v, want %v (%s)", got, tc.synced, tc.sync)
			}
			if got := tc.sync.String(); got != tc.str {
				t.Errorf("String() =\n%s\nwant\n%s", got, tc.str)
			}
			behind, err := Unsynced([]string{"ns/a"}, []ProxySync{tc.sync})
			var n *NACKError
			switch {
			case tc.wantNACK != nil && (!errors.As(err, &n) || *n != *tc.wantNACK):
				t.Errorf("Unsynced error = %v, want %v", err, tc.wantNACK)
			case tc.wantNACK == nil && err != nil:
				t.Errorf("Unsynced error = %v, want none", err)
			}
			if !reflect.DeepEqual(behind, tc.wantBehind) {
				t.Errorf("Unsynced behind = %q, want %q", behind, tc.wantBehind)
			}
		})
	}
}

func TestUnsyncedNamesAProxyNotConnected(t *testing.T) {
	ok := ProxySync{Proxy: "ns/a", Current: true, Types: map[string]TypeSync{lds: {Sent: "1", Acked: "1"}}}
	behind, err := Unsynced([]string{"ns/a", "ns/b"}, []ProxySync{ok})
	want := []string{"ns/b (not connected to the control plane)"}
	if err != nil || !reflect.DeepEqual(behind, want) {
		t.Errorf("Unsynced = %q, %v; want %q", behind, err, want)
	}
	if got := (&NACKError{"ns/a", rds, "invalid route"}).Error(); got != "proxy ns/a NACKed "+rds+": invalid route" {
		t.Errorf("NACKError = %q", got)
	}
}
