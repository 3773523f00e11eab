package report

import "encoding/json"

// gateFile is the part of meshcheck gate's gate/result.json the report
// reads; it mirrors gate.Result as JSON (package gate links Istio's pilot).
type gateFile struct {
	Verdict   string       `json:"verdict"`
	Baseline  gateSide     `json:"baseline"`
	Candidate gateSide     `json:"candidate"`
	Changes   []GateChange `json:"changes"`
	Specs     []GateCheck  `json:"specs"`
	Undecided []string     `json:"undecided"`
}

type gateSide struct {
	Source string `json:"source"`
	Istio  string `json:"istio"`
}

// regressed is gate.Spec.Regressed on the JSON's words.
func (c GateCheck) regressed() bool {
	return c.Baseline == "pass" && (c.Candidate == "fail" || c.Candidate == "missing")
}

// readGate reads the gate's verdict, its regressed checks and its changes.
func readGate(data []byte, r *Report, _ Options) error {
	var g gateFile
	if err := json.Unmarshal(data, &g); err != nil {
		return err
	}
	r.Gate = &Gate{
		Verdict:   g.Verdict,
		Baseline:  Istio{Source: g.Baseline.Source, Version: g.Baseline.Istio},
		Candidate: Istio{Source: g.Candidate.Source, Version: g.Candidate.Istio},
		Changes:   g.Changes, Undecided: g.Undecided,
	}
	r.Diffs = append(r.Diffs, gateDiffs(r.Gate.Baseline, g.Changes)...)
	for _, s := range g.Specs {
		if s.regressed() {
			r.Gate.Regressed = append(r.Gate.Regressed, s)
		}
	}
	return nil
}
