// Package report is the versioned report of a meshcheck run
// (apiVersion meshcheck.dev/v1alpha1, kind Report), the file a person or a
// CI job reads at the end: reports/report.json.
//
// Build assembles a Report from what a run leaves in the reports directory
// (the Ginkgo JSON report, e2e-<backend>.timing.json, run-<backend>.json,
// matrix.json, gate/result.json, the evidence folders); Parse reads one
// back strictly (an unknown apiVersion, kind or field is an error naming
// it); Markdown renders the summary for $GITHUB_STEP_SUMMARY. The JSON
// Schema of the type is report.schema.json beside this file, generated from
// the Go types by TestSchemaGolden (make golden refreshes it).
//
// The package reads the producers' files as JSON rather than importing
// their packages (gate and checks link Istio's pilot), so it stays quick to
// build and test.
package report
