package trace_test

import (
	"reflect"
	"strings"
	"testing"
)

func TestEnvoySeeds(t *testing.T) {
	cases := []struct {
		one, count string
		want       []int64
		err        string
	}{
		{"", "", []int64{1, 2, 3, 4, 5, 6}, ""},
		{"", "2", []int64{1, 2}, ""},
		{"17", "2", []int64{17}, ""},
		{"x", "", nil, "MESHCHECK_ENVOY_SEED"},
		{"", "0", nil, "MESHCHECK_ENVOY_SEEDS"},
	}
	for _, tc := range cases {
		got, err := envoySeeds(tc.one, tc.count)
		if !reflect.DeepEqual(got, tc.want) || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("envoySeeds(%q, %q) = %v, %v; want %v, error containing %q", tc.one, tc.count, got, err, tc.want, tc.err)
		}
	}
}
