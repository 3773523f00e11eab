// Package kindcluster describes the kind clusters meshcheck runs suites on,
// with kind's own v1alpha4 config types (sigs.k8s.io/kind; no kind binary),
// and checks the preconditions of a kind run before any of it starts: a
// reachable Docker daemon and a reachable Istio release download. Each
// precondition that fails says which one and what to do instead.
//
// Creating, reusing and deleting clusters through kind's Go API is not here
// yet (issue 6).
package kindcluster
