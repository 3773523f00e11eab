package envoylab

import (
	"reflect"
	"testing"
)

func TestRandom(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		c := Random(seed, 10)
		if !reflect.DeepEqual(c, Random(seed, 10)) {
			t.Fatalf("seed %d: two cases from the same seed differ", seed)
		}
		if len(c.Requests) != 10 || c.validate() != nil {
			t.Fatalf("seed %d: %d requests, validate: %v", seed, len(c.Requests), c.validate())
		}
		// Envoy rejects a route configuration with a domain twice.
		seen := map[string]bool{}
		for _, vh := range c.RouteConfig["virtual_hosts"].([]any) {
			for _, d := range vh.(map[string]any)["domains"].([]any) {
				if seen[d.(string)] {
					t.Fatalf("seed %d: domain %q twice", seed, d)
				}
				seen[d.(string)] = true
			}
		}
	}
	if reflect.DeepEqual(Random(1, 10), Random(2, 10)) {
		t.Error("seeds 1 and 2 give the same case")
	}
}
