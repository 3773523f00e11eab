package report

import (
	"time"

	"github.com/meshcheck/meshcheck/engines/iptables"
)

// The type's identity: a Report file carries both, and Parse refuses any
// other.
const (
	APIVersion = "meshcheck.dev/v1alpha1"
	Kind       = "Report"
)

// Report is one run's report (reports/report.json).
type Report struct {
	// APIVersion is always meshcheck.dev/v1alpha1.
	APIVersion string `json:"apiVersion" jsonschema:"enum=meshcheck.dev/v1alpha1"`
	// Kind is always Report.
	Kind string `json:"kind" jsonschema:"enum=Report"`
	// Run is what ran: backend, versions, fixtures, times.
	Run Run `json:"run"`
	// Verdict is the run's outcome, derived from every section.
	Verdict Verdict `json:"verdict" jsonschema:"enum=pass,enum=fail,enum=undecided,enum=empty"`
	// Counts are the checks per status.
	Counts Counts `json:"counts"`
	// Checks are the Ginkgo specs and the fixtures' expect.yaml checks, in
	// the order they ran.
	Checks []Check `json:"checks,omitempty"`
	// Splits are the traffic-split decisions.
	Splits []Split `json:"splits,omitempty"`
	// Paths are requests traced hop by hop through the access logs.
	Paths []Path `json:"paths,omitempty"`
	// Diffs are proxies' xDS against a reference (a golden file, the
	// gate's baseline), resource by resource.
	Diffs []Diff `json:"diffs,omitempty"`
	// Interception are workloads' interception rules checked behaviour by
	// behaviour, each with the simulator's trail.
	Interception []Interception `json:"interception,omitempty"`
	// Linted is the number of proxy configs linted; Lint are the findings.
	Linted int       `json:"linted,omitempty"`
	Lint   []Finding `json:"lint,omitempty"`
	// Gate is the control-plane gate's result when the run was a gate.
	Gate *Gate `json:"gate,omitempty"`
	// Matrix are the cells of a version matrix run.
	Matrix []Cell `json:"matrix,omitempty"`
	// Detection is the detection catalog: which mutation each check caught.
	Detection []Detection `json:"detection,omitempty"`
	// DetectionClean counts the detection catalog's unmutated runs and
	// their failures (false alarms).
	DetectionClean *CleanRuns `json:"detectionClean,omitempty"`
	// Sources are the files the report was built from, relative to the
	// reports directory.
	Sources []string `json:"sources,omitempty"`
	// Problems are files that were present but could not be read: the
	// report is incomplete where one is listed.
	Problems []string `json:"problems,omitempty"`
}

// Verdict is a run's outcome.
type Verdict string

// Verdicts, from worst to best: one failure fails the run; one undecided
// check (and no failure) leaves it undecided; a run with no check is empty.
const (
	VerdictFail      Verdict = "fail"
	VerdictUndecided Verdict = "undecided"
	VerdictEmpty     Verdict = "empty"
	VerdictPass      Verdict = "pass"
)

// Run is the run's identity.
type Run struct {
	// Backend is "embedded" or "kind".
	Backend string `json:"backend,omitempty"`
	// Istio is the control plane under test.
	Istio Istio `json:"istio"`
	// Envoy is the proxies' Envoy version, X.Y.Z.
	Envoy string `json:"envoy,omitempty"`
	// Proxy is the Istio release the proxies are (their ISTIO_VERSION).
	Proxy string `json:"proxy,omitempty"`
	// Kubernetes is the API server's version; empty without one.
	Kubernetes string `json:"kubernetes,omitempty"`
	// NodeImage is kind's node image; empty on the embedded backend.
	NodeImage string `json:"nodeImage,omitempty"`
	// Features are the backend's features (vm, access-logs, ...).
	Features []string `json:"features,omitempty"`
	// Fixtures are the fixtures applied and the steps they went through.
	Fixtures []Fixture `json:"fixtures,omitempty"`
	// Meshcheck is the meshcheck version that wrote the report.
	Meshcheck string `json:"meshcheck,omitempty"`
	// Start and End bound the run.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// MeshUpSeconds is how long the mesh took to come up and converge.
	MeshUpSeconds float64 `json:"meshUpSeconds,omitempty"`
}

// Istio is a control plane build.
type Istio struct {
	// Source is "pinned", a module version or a checkout.
	Source string `json:"source,omitempty"`
	// Version is the control plane's version.
	Version string `json:"version,omitempty"`
}

// Fixture is a fixture and the steps applied to it, in order.
type Fixture struct {
	Name  string   `json:"name"`
	Steps []string `json:"steps,omitempty"`
}

// Status is a check's outcome.
type Status string

// Statuses of a check.
const (
	Passed    Status = "passed"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Undecided Status = "undecided"
)

// Counts are checks per status.
type Counts struct {
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Undecided int `json:"undecided"`
}

// Check is one check's result.
type Check struct {
	// Name is the check's full text.
	Name string `json:"name"`
	// Origin is where the check came from: "suite" (a Ginkgo spec) or
	// "run" (a fixture's expect.yaml, meshcheck run).
	Origin string `json:"origin" jsonschema:"enum=suite,enum=run"`
	// Kind is what an expect.yaml check looks at (routes, splits, paths,
	// interception); empty for a spec.
	Kind string `json:"kind,omitempty"`
	// Fixture and Step are the fixture state the check ran against.
	Fixture string `json:"fixture,omitempty"`
	Step    string `json:"step,omitempty"`
	// Source is the file:line that declares the check.
	Source string `json:"source,omitempty"`
	// Labels are the spec's Ginkgo labels.
	Labels []string `json:"labels,omitempty"`
	Status Status   `json:"status" jsonschema:"enum=passed,enum=failed,enum=skipped,enum=undecided"`
	// Seconds is how long the check took (specs only).
	Seconds float64 `json:"seconds,omitempty"`
	// Failure says why a check did not pass; nil when it passed.
	Failure *Failure `json:"failure,omitempty"`
	// Evidence are the files written for a failure, relative to the
	// reports directory.
	Evidence []string `json:"evidence,omitempty"`
}

// Failure is why a check failed (or was skipped or undecided): the words and
// the evidence a person needs first.
type Failure struct {
	Message    string   `json:"message"`
	Location   string   `json:"location,omitempty"`
	Expected   string   `json:"expected,omitempty"`
	Actual     string   `json:"actual,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	LastError  string   `json:"lastError,omitempty"`
	Detail     string   `json:"detail,omitempty"`
}

// Split is one traffic-split decision.
type Split struct {
	// Name is the check that decided it.
	Name    string `json:"name"`
	Fixture string `json:"fixture,omitempty"`
	Step    string `json:"step,omitempty"`
	// Decision is pass, fail or need-more (the samples ran out before the
	// test decided: the split is undecided).
	Decision string `json:"decision" jsonschema:"enum=pass,enum=fail,enum=need-more"`
	// Reason is the decision in words.
	Reason string `json:"reason,omitempty"`
	// Requests is the number of requests the decision used.
	Requests int `json:"requests,omitempty"`
	// Counts are the requests each version served.
	Counts map[string]int `json:"counts,omitempty"`
	// Shares are the observed shares (0..1) per version.
	Shares map[string]float64 `json:"shares,omitempty"`
	// Intervals are the shares' confidence intervals at IntervalLevel.
	Intervals     map[string]Interval `json:"intervals,omitempty"`
	IntervalLevel float64             `json:"intervalLevel,omitempty"`
	// Weights are the expected weights (0..1) per version.
	Weights map[string]float64 `json:"weights,omitempty"`
	// FalseFail and Detect are the decision's error rates: the chance of
	// failing a correct split, of catching a deviation.
	FalseFail float64 `json:"falseFail,omitempty"`
	Detect    float64 `json:"detect,omitempty"`
}

// Interval is a share's confidence interval.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Path is one request traced through the access logs, hop by hop, beside
// the xDS trace's answer for the hops a check traced.
type Path struct {
	// Name is the check that followed the request.
	Name    string `json:"name"`
	Fixture string `json:"fixture,omitempty"`
	Step    string `json:"step,omitempty"`
	// RequestID is the x-request-id every hop logged.
	RequestID string `json:"requestId,omitempty"`
	Hops      []Hop  `json:"hops"`
	// Disagree is the number of hops whose logged cluster is not one the
	// xDS trace chose.
	Disagree int `json:"disagree,omitempty"`
}

// Hop is one proxy a request went through, as its access log says, beside
// what the xDS trace predicted for it.
type Hop struct {
	// Proxy is the proxy that logged the hop.
	Proxy string `json:"proxy"`
	// Direction is inbound, outbound or unknown.
	Direction string `json:"direction,omitempty"`
	// Cluster is the upstream cluster the proxy logged.
	Cluster string `json:"cluster,omitempty"`
	// Status is the response code the proxy logged.
	Status int `json:"status,omitempty"`
	// LatencyMS is the request's duration at this proxy.
	LatencyMS float64 `json:"latencyMs"`
	// Flags are Envoy's response flags; empty when there were none.
	Flags string `json:"flags,omitempty"`
	// Parent is the 1-based number of the hop that caused this one; 0 for
	// none.
	Parent int `json:"parent,omitempty"`
	// XDS is the xDS trace's answer for this hop; nil when the hop was
	// not traced.
	XDS *HopXDS `json:"xds,omitempty"`
}

// HopXDS is what the xDS trace through a hop's proxy chose.
type HopXDS struct {
	// Clusters are the clusters the trace chose (several for a weighted
	// route).
	Clusters []string `json:"clusters"`
	// Agrees is true when the logged cluster is one of Clusters: where it
	// is false, logs and configuration disagree.
	Agrees bool `json:"agrees"`
	// Trace is the trace in words.
	Trace string `json:"trace,omitempty"`
}

// Finding is one lint finding on the configuration under test.
type Finding struct {
	Severity string `json:"severity"`
	// Proxy is the proxy whose config has the finding.
	Proxy string `json:"proxy,omitempty"`
	// Rule is the lint rule.
	Rule     string `json:"rule,omitempty"`
	Resource string `json:"resource,omitempty"`
	Message  string `json:"message"`
}

// Diff is one proxy's xDS against a reference, resource by resource.
type Diff struct {
	// Against is what the proxy's config was compared with: "golden" or
	// "gate baseline".
	Against string `json:"against" jsonschema:"enum=golden,enum=gate baseline"`
	// Reference names it: the golden file, the baseline Istio.
	Reference string `json:"reference,omitempty"`
	Proxy     string `json:"proxy"`
	Step      string `json:"step,omitempty"`
	// Resources are the resources that differ.
	Resources []ResourceDiff `json:"resources"`
}

// ResourceDiff is one resource's changes.
type ResourceDiff struct {
	// Type is the resource's type (listener, cluster, route, ...).
	Type    string       `json:"type"`
	Name    string       `json:"name"`
	Changes []DiffChange `json:"changes"`
}

// DiffChange is one change, worded for a reviewer.
type DiffChange struct {
	Words string `json:"words"`
	// Accepted is true when a reviewed file accepts the change.
	Accepted bool   `json:"accepted,omitempty"`
	Category string `json:"category,omitempty"`
}

// Interception is one workload's interception rules checked by the
// iptables simulator, behaviour by behaviour.
type Interception struct {
	Workload string `json:"workload"`
	// Istio is the istio-iptables release whose behaviours were checked.
	Istio   string `json:"istio,omitempty"`
	Fixture string `json:"fixture,omitempty"`
	Step    string `json:"step,omitempty"`
	// Behaviours are each expectation, its simulated fate and its trail.
	Behaviours []iptables.Checked `json:"behaviours"`
	// Failed is the number of behaviours that do not hold.
	Failed int `json:"failed,omitempty"`
}

// Gate is the control-plane gate's result (reports/gate/result.json).
type Gate struct {
	Verdict   string `json:"verdict"`
	Baseline  Istio  `json:"baseline"`
	Candidate Istio  `json:"candidate"`
	// Regressed are the checks that passed on the baseline and not on the
	// candidate.
	Regressed []GateCheck `json:"regressed,omitempty"`
	// Changes are the xDS changes the candidate makes.
	Changes []GateChange `json:"changes,omitempty"`
	// Undecided are what the gate could not decide.
	Undecided []string `json:"undecided,omitempty"`
}

// GateCheck is a check's outcome on both sides of the gate.
type GateCheck struct {
	Name      string `json:"name"`
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
	Evidence  string `json:"evidence,omitempty"`
}

// GateChange is one xDS change between the gate's sides, worded.
type GateChange struct {
	Proxy    string `json:"proxy"`
	Step     string `json:"step"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	Accepted bool   `json:"accepted"`
	Category string `json:"category,omitempty"`
	Words    string `json:"words"`
}

// Cell is one cell of a version matrix run (reports/matrix.json).
type Cell struct {
	Istio        Istio   `json:"istio"`
	Envoy        string  `json:"envoy"`
	Proxy        string  `json:"proxy,omitempty"`
	Ingress      string  `json:"ingress,omitempty"`
	Supported    bool    `json:"supported"`
	Passed       int     `json:"passed"`
	Failed       int     `json:"failed"`
	Skipped      int     `json:"skipped"`
	Seconds      float64 `json:"seconds"`
	FirstFailure string  `json:"firstFailure,omitempty"`
	Error        string  `json:"error,omitempty"`
}

// CleanRuns count runs of unmutated fixtures and their failures.
type CleanRuns struct {
	Runs     int `json:"runs"`
	Failures int `json:"failures"`
}

// Detection is one row of the detection matrix (reports/detection.json,
// meshcheck mutate): a mutation and the checks that caught it.
type Detection struct {
	Mutation string `json:"mutation"`
	// Kind is what the mutation changes (configuration, control plane, ...).
	Kind     string   `json:"kind,omitempty"`
	Fixture  string   `json:"fixture,omitempty"`
	CaughtBy []string `json:"caughtBy,omitempty"`
	// Missed is true when no check caught the mutation.
	Missed bool `json:"missed"`
	// Message is the catching failure's message, else why it was missed
	// or not run.
	Message string `json:"message,omitempty"`
}
