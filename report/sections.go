package report

import (
	"encoding/json"
	"fmt"

	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/suite"
)

// goldenDiff is a proxy's golden mismatch, resource by resource.
func goldenDiff(rec suite.DiffRecord) Diff {
	d := Diff{Against: "golden", Reference: rec.Golden, Proxy: rec.Proxy}
	for _, c := range rec.Changes {
		d.add(c.Kind, c.Name, DiffChange{Words: c.String()})
	}
	return d
}

// gateDiffs are the gate's changes as one Diff per proxy and step.
func gateDiffs(baseline Istio, changes []GateChange) []Diff {
	var out []Diff
	at := map[string]int{}
	for _, c := range changes {
		key := c.Proxy + "\x00" + c.Step
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, Diff{Against: "gate baseline", Reference: baseline.Source + " " + baseline.Version, Proxy: c.Proxy, Step: c.Step})
		}
		out[i].add(c.Type, c.Name, DiffChange{Words: c.Words, Accepted: c.Accepted, Category: c.Category})
	}
	return out
}

// add puts a change under its resource, in the order resources first
// change.
func (d *Diff) add(typ, name string, c DiffChange) {
	for i := range d.Resources {
		if d.Resources[i].Type == typ && d.Resources[i].Name == name {
			d.Resources[i].Changes = append(d.Resources[i].Changes, c)
			return
		}
	}
	d.Resources = append(d.Resources, ResourceDiff{Type: typ, Name: name, Changes: []DiffChange{c}})
}

// interceptionOf is a workload's behaviours checked, counted.
func interceptionOf(workload, istio, fixture, step string, bs []iptables.Checked) Interception {
	in := Interception{Workload: workload, Istio: istio, Fixture: fixture, Step: step, Behaviours: bs}
	for _, b := range bs {
		if !b.Pass {
			in.Failed++
		}
	}
	return in
}

// addLint counts a linted proxy and keeps its findings.
func (r *Report) addLint(rec suite.LintRecord) {
	r.Linted++
	for _, f := range rec.Findings {
		r.Lint = append(r.Lint, Finding{Severity: string(f.Severity), Proxy: rec.Proxy, Rule: string(f.Rule), Resource: f.Resource, Message: f.Message})
	}
}

// detectionFile is meshcheck mutate's detection.json as the report reads
// it; it mirrors mutate.Report as JSON (package mutate links Istio's
// iptables generator through package checks).
type detectionFile struct {
	Mutations []struct {
		Name     string   `json:"name"`
		Kind     string   `json:"kind"`
		Caught   bool     `json:"caught"`
		CaughtBy []string `json:"caughtBy"`
		Message  string   `json:"message"`
	} `json:"mutations"`
	Clean CleanRuns `json:"clean"`
}

// readDetection reads meshcheck mutate's detection.json: a row per
// mutation and the clean runs.
func readDetection(data []byte, r *Report, _ Options) error {
	var m detectionFile
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for i, o := range m.Mutations {
		if o.Name == "" {
			return fmt.Errorf("mutations[%d]: no name", i)
		}
		r.Detection = append(r.Detection, Detection{Mutation: o.Name, Kind: o.Kind, CaughtBy: o.CaughtBy, Missed: !o.Caught, Message: o.Message})
	}
	r.DetectionClean = &m.Clean
	return nil
}
