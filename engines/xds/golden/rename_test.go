package golden

import "testing"

func TestRenameIPs(t *testing.T) {
	names := map[string]string{"10.96.0.1": "<vip kubernetes.default>", "10.96.12.7": "<vip reviews.default>"}
	tests := []struct{ in, want string }{
		{"10.96.0.1_443", "<vip kubernetes.default>_443"},
		{"10.96.0.10_53", "10.96.0.10_53"},
		{"10.96.12.7", "<vip reviews.default>"},
		{"x 10.96.12.7:9080 and 10.96.0.1", "x <vip reviews.default>:9080 and <vip kubernetes.default>"},
		{"110.96.0.1_443", "110.96.0.1_443"},
		{"1.10.96.0.1", "1.10.96.0.1"},
		{"outbound|9080||reviews.default.svc.cluster.local", "outbound|9080||reviews.default.svc.cluster.local"},
		{"a 10.96.0.1 10.96.12.7", "a <vip kubernetes.default> <vip reviews.default>"},
		{"10.96.0.1.", "10.96.0.1."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := renameIPs(tt.in, names); got != tt.want {
			t.Errorf("renameIPs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := renameIPs("10.96.0.1", nil); got != "10.96.0.1" {
		t.Errorf("no names: %q", got)
	}
}
