// Package apprun is the command-line face of the repository's sample apps:
// Run serves one Bookinfo app or whoami (packages bookinfo and whoami) until
// its context ends, and Fetch sends one HTTP GET and prints the response.
//
// Two binaries use it. `meshcheck workload run|fetch` is how the embedded
// mesh starts each pod's app and sends in-mesh requests; cmd/meshcheck-app
// is the small static binary in the fixture images (examples-bookinfo-*,
// whoami, curl), which must not link Istio's control plane. Both take the
// same flags and give the same exit codes: 0 ok (Run: stopped by its
// context), 1 failed, 64 usage.
//
// prog, the first argument of Run and Fetch, names the command in help and
// error messages ("meshcheck workload run", "meshcheck-app run").
package apprun
