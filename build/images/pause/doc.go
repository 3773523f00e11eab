// Command pause is the process of every pod sandbox in the node image built
// by build/images/node.sh: it holds the pod's namespaces, reaps the zombies
// it inherits as PID 1 of a shared PID namespace, and exits 0 on SIGINT or
// SIGTERM. It stands in for registry.k8s.io/pause, which cannot be pulled
// on an air-gapped machine.
package main
