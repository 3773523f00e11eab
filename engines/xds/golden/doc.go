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
// Unset and set are equal only where Envoy reads them the same. Proto3
// scalars have no presence: zero and unset both print as absent. A wrapper,
// Duration or Percent has presence, and Envoy often reads it unset as a
// documented non-zero default but set empty as zero (an empty Percent is 0%):
// one table (defaults.go), field by field from Envoy's proto documentation,
// lists the fields whose documented default makes "set to it" the same as
// "unset". Normalize drops such fields, and Diff, which knows each value's
// proto type from the resource kind and the Any "@type"s, treats them as
// equal too (so a golden written before a default was dropped still
// compares); a field set to any other value, or a field the table does not
// list, stays a change, printed with the default the unset side means:
// "connect_timeout: "10s" -> unset (Envoy's default "5s")".
//
// Assert compares a dump with a golden file and prints the semantic diff; with
// MESHCHECK_UPDATE_GOLDEN=1 in the environment (make golden) it rewrites the
// file instead.
package golden
