// Package mesh is the embedded mesh: pilot (package pilot), the pod network
// (package podnet) and the run's CA, and the pods in it. Starting a pod
// registers it with pilot, starts its app in its network namespace, loads
// the interception rules Istio's own generator writes for the version under
// test (sidecars), and starts its proxy with a workload certificate.
// WaitApps and WaitSynced wait until apps listen and every proxy is LIVE and
// has ACKed pilot's current push, failing at once on a NACK or an exit.
package mesh
