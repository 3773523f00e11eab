package iptables

// Checked is one expectation about a probe checked by simulation, as a
// report shows it: what was expected, what the rules did, and the trail
// of rules the packet took.
type Checked struct {
	// Name is the expectation's short name.
	Name string `json:"name"`
	// Says is what is expected, in words.
	Says string `json:"says"`
	// Probe is the packet simulated.
	Probe string `json:"probe"`
	// Want and Got are the expected and the simulated fate.
	Want string `json:"want"`
	Got  string `json:"got"`
	// Pass is true when Got is what Want says.
	Pass bool `json:"pass"`
	// Trail are the rules the packet went through, in order.
	Trail []string `json:"trail,omitempty"`
}

// Steps are the trail's steps in words.
func (r Result) Steps() []string {
	out := make([]string, len(r.Trail))
	for i, s := range r.Trail {
		out[i] = s.String()
	}
	return out
}
