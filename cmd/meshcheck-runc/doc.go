// Command meshcheck-runc is a runc wrapper for hosts whose capability
// bounding set lacks CAP_SYS_RESOURCE. Registered as Docker's default
// runtime (meshcheck kind host-compat enable), it removes the capabilities
// named in $MESHCHECK_RUNC_DROP (default CAP_SYS_RESOURCE) from the OCI
// spec runc is about to read (the bundle's config.json on create and run,
// the --process file on exec) and then execs the real runc with the same
// arguments. The real runc is $MESHCHECK_RUNC, else the first of
// /usr/bin/runc, /usr/sbin/runc, /usr/local/{bin,sbin}/runc, docker-runc
// and runc in $PATH that is not this binary.
//
// It fails closed: if the spec cannot be edited the error (naming the file)
// goes to stderr, which containerd's shim reports to Docker, and runc is not
// run.
package main
