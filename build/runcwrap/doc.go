// Package runcwrap makes kind run on hosts whose capability bounding set
// lacks CAP_SYS_RESOURCE (some sandboxes and nested container hosts).
//
// kind always starts its node containers privileged. Docker 20.10 gives a
// privileged container every capability the kernel knows, runc then cannot
// raise CAP_SYS_RESOURCE and the container fails with "unable to apply caps:
// operation not permitted"; Docker ignores --cap-drop on privileged
// containers. The fix is a runc wrapper (cmd/meshcheck-runc) that removes the
// capability from the OCI spec before it execs the real runc: the bundle's
// config.json on create and run, the --process file on exec.
//
// The package holds the pieces of that fix:
//   - ParseCapBnd and Missing read the bounding set from /proc/self/status;
//   - StripCapabilities and StripFile edit an OCI spec or process document;
//   - ParseRuncArgs finds the spec a runc invocation will read;
//   - FindRunc locates the real runc;
//   - MergeDaemonConfig and UnmergeDaemonConfig add and remove the wrapper as
//     Docker's default runtime in /etc/docker/daemon.json;
//   - Host.Status, Host.Enable and Host.Disable apply that to this machine:
//     opt-in, only where the capability is really missing, reversible, with
//     dockerd reloaded by SIGHUP (no restart) and the result checked with
//     docker info.
package runcwrap
