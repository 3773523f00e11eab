package suite

import "testing"

// TestStepped: a split is said to be decided at a fixture's step only when
// exactly one fixture is at a step.
func TestStepped(t *testing.T) {
	for _, c := range []struct {
		name          string
		state         map[string]string
		fixture, step string
	}{
		{"nothing applied", map[string]string{}, "", ""},
		{"base fixtures only", map[string]string{"bookinfo": "", "vm": ""}, "", ""},
		{"one stepped", map[string]string{"bookinfo": "", "vm": "50-50"}, "vm", "50-50"},
		{"two stepped", map[string]string{"whoami": "90-10", "vm": "50-50"}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Suite{state: c.state}
			if f, st := s.stepped(); f != c.fixture || st != c.step {
				t.Errorf("stepped() = %q, %q; want %q, %q", f, st, c.fixture, c.step)
			}
		})
	}
}
