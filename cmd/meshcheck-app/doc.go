// Command meshcheck-app is the entry point of meshcheck's fixture images
// (examples-bookinfo-*, whoami, curl; build/images/fixtures.sh): the sample
// apps of package workload in a small static binary that does not link
// Istio.
//
//	meshcheck-app run --app APP --listen ADDR [--name POD] [flags]   serve an app (as `meshcheck workload run`)
//	meshcheck-app fetch URL [--header K=V]... [-o json]           send one GET (as `meshcheck workload fetch`)
//	meshcheck-app version
//
// SIGTERM or SIGINT stops run cleanly (exit 0), as a container runtime
// stops a pod.
package main
