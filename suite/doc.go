// Package suite is meshcheck's test harness without a test framework: a
// Suite carries the backend, the versions under test (asked of the
// backend), the timeouts, the evidence directory, the report and the VM,
// and brings a mesh up with its base fixtures (New, Up, Down).
//
// A Test is one case, in the manner of Gateway API conformance: a short
// name, a description, the backend Features it needs, the Fixtures (a
// fixture, or one of its steps) and Manifests (its own YAML) it changes,
// and a function. Setup applies what a test declares and returns the
// restore that puts the previous state back, whether the test passed,
// failed or was interrupted; SkipReason names a feature the backend lacks.
// Up marks its phases (VM, fixtures, convergence) on the progress the
// context carries (internal/progress).
//
// Record hands what a test decided or saw to the run's report (package
// report reads it back from the Ginkgo report): a split decision
// (SplitRecord), a request's path with the xDS trace's answer per hop
// (PathRecord), a golden mismatch (DiffRecord), a workload's interception
// trails (InterceptionRecord), a proxy's lint findings (LintRecord).
//
// Everything here returns errors carrying evidence (candidates, the
// backend's state): the Ginkgo suites (package suites) turn each Test into a
// spec, and `meshcheck run` uses the same Suite to bring a mesh up, apply
// fixtures and collect evidence.
package suite
