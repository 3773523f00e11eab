// Package golden normalizes config dumps, compares them semantically and
// keeps golden files.
//
// Normalize drops what changes from run to run without changing behaviour
// (versions, nonces, timestamps, uids, and the hosts Envoy made for
// ORIGINAL_DST clusters from live traffic), optionally redacts endpoint IPs
// and leaves out the bootstrap's static resources, and
// orders what Envoy does not read in order (resources, virtual hosts, domains,
// filter chains, endpoints), keeping what it does (routes, HTTP filters,
// transport socket matches). Diff compares two normalized documents resource
// by resource and reports field paths, matching list elements by name where
// they have one, so a diff reads "virtual_hosts[reviews:9080].routes[0]
// .route.weighted_clusters.clusters[outbound|9080|v1|reviews...].weight: 90 ->
// 50" rather than a wall of text.
//
// Assert compares a dump with a golden file and prints the semantic diff; with
// MESHCHECK_UPDATE_GOLDEN=1 in the environment (make golden) it rewrites the
// file instead.
package golden
