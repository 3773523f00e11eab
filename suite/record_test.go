package suite

import "testing"

// TestStepped: a split is said to be decided at a fixture's step only when
// the test set up now steps exactly one fixture.
func TestStepped(t *testing.T) {
	for _, c := range []struct {
		name          string
		testing       []Fixture
		fixture, step string
	}{
		{"no test", nil, "", ""},
		{"base fixtures only", []Fixture{{Name: "bookinfo"}, {Name: "vm"}}, "", ""},
		{"one stepped", []Fixture{{Name: "bookinfo"}, {Name: "vm", Step: "50-50"}}, "vm", "50-50"},
		{"two stepped", []Fixture{{Name: "whoami", Step: "90-10"}, {Name: "vm", Step: "50-50"}}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Suite{testing: c.testing}
			if f, st := s.stepped(); f != c.fixture || st != c.step {
				t.Errorf("stepped() = %q, %q; want %q, %q", f, st, c.fixture, c.step)
			}
		})
	}
}
