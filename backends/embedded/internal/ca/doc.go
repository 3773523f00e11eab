// Package ca is the embedded mesh's certificate authority for one run: a
// self-signed root and workload certificates with SPIFFE identities, as
// istiod's CA issues them.
package ca
