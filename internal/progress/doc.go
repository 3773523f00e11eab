// Package progress prints a line per phase of a long run (cluster, images,
// Istio, fixtures, convergence, each suite) with its elapsed time.
//
// On a terminal the running phase is one line rewritten in place (a
// carriage return and an erase) with its elapsed time, and ends as a line
// with a tick or a cross; a phase started inside another shows as
// "outer › inner". In CI (GITHUB_ACTIONS=true, or the output is not a
// terminal) nothing is rewritten: each outermost phase is a
// GitHub Actions group (::group:: and ::endgroup::, which GitHub folds),
// inner phases are plain lines, and the outcome with the elapsed time is
// printed after the group so it shows when the group is folded.
//
// A Progress travels in a context (WithContext, FromContext), so the
// backends and the suite harness mark their phases without a new
// parameter; without one, phases print nothing.
package progress
