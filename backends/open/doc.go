// Package open builds the backend a run's configuration (config.Run)
// names: the embedded mesh, a kind cluster, or any cluster a kubeconfig
// reaches (kube). For kind, and kube with --istio install, it resolves the
// Istio release or the locally built images in Go (kindmesh.Resolve); for
// the embedded mesh it finds the Envoy the configuration asks for. The
// suites and the CLI construct backends here, and only here.
package open
