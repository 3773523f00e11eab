// Package report is the versioned report of a meshcheck run
// (apiVersion meshcheck.dev/v1alpha1, kind Report), the file a person or a
// CI job reads at the end: reports/report.json.
//
// Build assembles a Report from what a run leaves in the reports directory
// (the Ginkgo JSON report with what the suites recorded through
// suite.Record: splits, paths with the xDS trace's answer per hop, golden
// diffs, interception trails, lint findings; e2e-<backend>.timing.json,
// run-<backend>.json, matrix.json, gate/result.json, detection.json, the
// evidence folders); Parse reads one back strictly (an unknown apiVersion,
// kind or field is an error naming it); Markdown renders the summary for
// $GITHUB_STEP_SUMMARY; HTML renders one self-contained page (each path
// drawn, each split charted, in inline SVG with a table as the text
// equivalent). The JSON
// Schema of the type is report.schema.json beside this file, generated from
// the Go types by TestSchemaGolden (make golden refreshes it).
//
// The package reads the producers' files as JSON rather than importing
// their packages (gate links Istio's pilot, checks and mutate Istio's
// iptables generator), so it stays quick to build and test.
package report
