package istio

import "testing"

// Running Istio's generator in-process for the default options, and for
// native nftables.
func BenchmarkIPTablesSave(b *testing.B) {
	o := DefaultOptions(GeneratorVersion)
	for b.Loop() {
		if _, err := IPTablesSave(o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNftRuleset(b *testing.B) {
	o := DefaultOptions(GeneratorVersion)
	o.NativeNftables = true
	for b.Loop() {
		if _, err := NftRuleset(o); err != nil {
			b.Fatal(err)
		}
	}
}
