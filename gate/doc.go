// Package gate compares a baseline control plane with a candidate on the
// same fixtures (meshcheck gate): every proxy's config dump at every step,
// normalized and diffed semantically (package golden), each change worded
// for a reviewer and matched against an accepted-changes file (package
// review), and every spec and expect.yaml check's result on both sides. The
// verdict fails when a check passes on the baseline and fails on the
// candidate, or when a change no rule accepts appears; it is undecided when
// a side could not be read. The result renders as JSON, as Markdown for a
// pull request, and as one diff file per proxy and step.
package gate
