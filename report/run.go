package report

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/engines/accesslog"
	"github.com/meshcheck/meshcheck/engines/iptables"
	"github.com/meshcheck/meshcheck/engines/split"
	"github.com/meshcheck/meshcheck/suite"
)

// runFile is the part of meshcheck run's run-<backend>.json the report
// reads. It mirrors cmd/meshcheck's runReport and checks.Result as JSON:
// importing them would link Istio's pilot into this package.
type runFile struct {
	Kind     string            `json:"kind"`
	Versions backend.Versions  `json:"versions"`
	Seconds  float64           `json:"seconds"`
	Results  []runResult       `json:"results"`
	Evidence map[string]string `json:"evidence"`
	Setup    string            `json:"setupError"`
}

type runResult struct {
	Fixture      string           `json:"fixture"`
	Step         string           `json:"step"`
	Kind         string           `json:"kind"`
	Name         string           `json:"name"`
	Source       string           `json:"source"`
	Status       string           `json:"status"`
	Expected     string           `json:"expected"`
	Actual       string           `json:"actual"`
	Candidates   []string         `json:"candidates"`
	LastError    string           `json:"lastError"`
	Detail       string           `json:"detail"`
	Split        *split.Result    `json:"split"`
	Flow         *accesslog.Brief `json:"flow"`
	Interception *runTrails       `json:"interception"`
}

// runTrails mirrors checks.Trails.
type runTrails struct {
	Workload   string             `json:"workload"`
	Istio      string             `json:"istio"`
	Behaviours []iptables.Checked `json:"behaviours"`
}

// runStatus maps checks.Status to the report's.
var runStatus = map[string]Status{"pass": Passed, "fail": Failed, "undecided": Undecided}

// readRun reads meshcheck run's report: its checks, the fixtures and steps
// they went through, and the splits they decided.
func readRun(data []byte, r *Report, o Options) error {
	var f runFile
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	if f.Kind != "RunReport" {
		return fmt.Errorf("kind %q: want RunReport", f.Kind)
	}
	if r.Run.Istio.Version == "" {
		r.Run.Istio.Version, r.Run.Envoy, r.Run.Proxy, r.Run.Kubernetes = f.Versions.Istio, f.Versions.Envoy, f.Versions.Proxy, f.Versions.Kubernetes
	}
	if f.Setup != "" {
		c := Check{Name: "meshcheck run: setup", Origin: originRun, Status: Failed, Failure: &Failure{Message: f.Setup}}
		if dir, ok := f.Evidence["setup"]; ok {
			c.Evidence = []string{relative(o.Dir, dir)}
		}
		r.Checks = append(r.Checks, c)
	}
	for _, res := range f.Results {
		c, err := res.check(o.Dir, f.Evidence)
		if err != nil {
			return err
		}
		r.Checks = append(r.Checks, c)
		r.Run.addStep(res.Fixture, res.Step)
		if err := r.addEvidence(res); err != nil {
			return err
		}
	}
	return nil
}

// addEvidence adds what a meshcheck run check carries beside its
// result: a split decision, the flow a paths check followed, the
// behaviours an interception check simulated.
func (r *Report) addEvidence(res runResult) error {
	if res.Split != nil {
		r.Splits = append(r.Splits, splitOf(res.Name, res.Fixture, res.Step, *res.Split))
	}
	if res.Flow != nil {
		p, err := pathOf(suite.PathRecord{Name: res.Name, Fixture: res.Fixture, Step: res.Step, Flow: *res.Flow})
		if err != nil {
			return err
		}
		r.Paths = append(r.Paths, p)
	}
	if in := res.Interception; in != nil {
		r.Interception = append(r.Interception, interceptionOf(in.Workload, in.Istio, res.Fixture, res.Step, in.Behaviours))
	}
	return nil
}

func (res runResult) check(dir string, evidence map[string]string) (Check, error) {
	st, ok := runStatus[res.Status]
	if !ok {
		return Check{}, fmt.Errorf("check %q: status %q: want pass, fail or undecided", res.Name, res.Status)
	}
	c := Check{Name: res.Name, Origin: originRun, Kind: res.Kind, Fixture: res.Fixture, Step: res.Step, Source: res.Source, Status: st}
	if st != Passed {
		msg := firstOf(res.LastError, res.Detail, res.Status)
		c.Failure = &Failure{Message: msg, Location: res.Source, Expected: res.Expected, Actual: res.Actual,
			Candidates: res.Candidates, LastError: res.LastError, Detail: res.Detail}
		if ev, ok := evidence[stateKey(res.Fixture, res.Step)]; ok {
			c.Evidence = []string{relative(dir, ev)}
		}
	}
	return c, nil
}

// stateKey is how run-<backend>.json keys a state's evidence folder.
func stateKey(fixture, step string) string {
	if step == "" {
		step = "base"
	}
	return fixture + "@" + step
}

// relative is path relative to the reports directory when it is inside it.
func relative(dir, path string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(abs, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}

// splitOf is a split decision as the report shows it.
func splitOf(name, fixture, step string, s split.Result) Split {
	return Split{
		Name: name, Fixture: fixture, Step: step, Decision: s.Decision.String(), Reason: s.Reason,
		Requests: s.Samples, Counts: s.Counts, Shares: s.Shares, Intervals: intervals(s.Intervals),
		IntervalLevel: s.IntervalLevel, Weights: s.Weights, FalseFail: s.FalseFail, Detect: s.Detect,
	}
}

func intervals(in map[string]split.Interval) map[string]Interval {
	if in == nil {
		return nil
	}
	out := make(map[string]Interval, len(in))
	for k, v := range in {
		out[k] = Interval(v)
	}
	return out
}

// addStep records that a fixture went through a step (once, in order).
func (r *Run) addStep(fixture, step string) {
	if fixture == "" {
		return
	}
	for i := range r.Fixtures {
		if r.Fixtures[i].Name == fixture {
			if step != "" && !contains(r.Fixtures[i].Steps, step) {
				r.Fixtures[i].Steps = append(r.Fixtures[i].Steps, step)
			}
			return
		}
	}
	f := Fixture{Name: fixture}
	if step != "" {
		f.Steps = []string{step}
	}
	r.Fixtures = append(r.Fixtures, f)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// firstOf is the first non-empty string's first line.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			line, _, _ := strings.Cut(s, "\n")
			return line
		}
	}
	return ""
}
