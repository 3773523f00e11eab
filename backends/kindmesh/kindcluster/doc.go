// Package kindcluster creates, reuses and deletes the kind clusters meshcheck
// runs suites on, through kind's Go API (sigs.k8s.io/kind's cluster provider;
// no kind binary), from kind's own v1alpha4 config types (Config, Render).
// Create makes a cluster (or reuses one by name), Open attaches to an
// existing one, and a Cluster deletes itself, exports its logs and runs
// commands in its node containers (NodeExec). Preflight checks the
// preconditions of a kind run before any of it starts: a reachable Docker
// daemon and a reachable Istio release download; each precondition that
// fails says which one and what to do instead.
package kindcluster
