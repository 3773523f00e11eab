// Package mutate holds the catalog of regressions meshcheck must catch
// (catalog.yaml, embedded), applies a configuration mutation to a copy of
// a bundled fixture folder (an interception mutation, or one changing the
// gateway Service, copies it unchanged and names the change the embedded
// backend makes: PodChange, IngressTargetPort), applies a control-plane
// mutation's patch (a unified diff in patches/, strictly: a hunk that no
// longer applies is an error naming the patch, the file and the hunk) to a
// fresh copy of the pinned istio.io/istio module, and scores a run
// strictly: a mutation is caught only when a check of a kind it names
// failed and the failure's message holds every word the entry requires,
// and, for an entry that names suite specs, one of those specs failed
// naming the cause too. A failure of another kind or spec, or one that
// does not name the cause, is a miss.
//
// meshcheck mutate (cmd/meshcheck) runs each entry through meshcheck run's
// code (and the suites, for control-plane and version-skew entries) and
// writes the detection matrix (Report) as JSON and Markdown.
package mutate
