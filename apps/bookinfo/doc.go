// Package bookinfo implements Istio's Bookinfo sample apps as http.Handlers
// that behave like the upstream images (examples-bookinfo-*:1.20.x) on the
// wire: the same ports are the caller's choice, the same paths, the same
// JSON documents and the same HTML markers, so meshcheck's classifiers
// (engines/traffic) read both alike.
//
//   - NewProductpage: the HTML page at /productpage and the JSON API under
//     /api/v1/products; it calls details and reviews (and ratings for
//     /api/v1/products/<id>/ratings).
//   - NewDetails: /details/<id>.
//   - NewReviews: /reviews/<id> in version v1 (no ratings), v2 (black
//     stars) or v3 (red stars); v2 and v3 call ratings. It prints its pod
//     name as "podname", and productpage shows it as
//     "Reviews served by: <pod>".
//   - NewRatings: /ratings/<id>.
//
// Every app answers /health. Each app copies the tracing and context
// headers (PropagatedHeaders) from the request it serves to the requests
// it makes, so one x-request-id joins the access-log lines of every hop.
// When a dependency fails the apps degrade as upstream does: productpage
// still answers 200 and shows an error in place of the details or
// reviews; reviews without ratings prints "Ratings service is currently
// unavailable" in place of stars.
//
// Every wait (calls to dependencies) comes from timeouts, whose
// defaults are the upstream apps' own values. See docs/apps.md for the
// known differences from upstream.
package bookinfo
