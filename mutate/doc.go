// Package mutate holds the catalog of regressions meshcheck must catch
// (catalog.yaml, embedded), applies a configuration mutation to a copy of
// a bundled fixture folder (an interception mutation, or one changing the
// gateway Service, copies it unchanged and names the change the embedded
// backend makes: PodChange, IngressTargetPort), and scores a run of that
// copy strictly: a
// mutation is caught only when a check of a kind it names failed and the
// failure's message holds every word the entry requires. A failure of
// another kind, or one that does not name the cause, is a miss.
//
// meshcheck mutate (cmd/meshcheck) runs each entry through meshcheck run's
// code and writes the detection matrix (Report) as JSON and Markdown.
package mutate
