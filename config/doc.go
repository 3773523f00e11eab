// Package config is one meshcheck run's configuration, typed: which
// backend, which Istio (a release, or the images built here), which Envoy,
// the kind node image and node count, whether to keep the cluster, the
// kube backend's kubeconfig, context, Istio mode (install or existing) and
// run ID, the Ginkgo label filter, where reports go and which image
// registry to use.
//
// A Run starts from Default, takes flags (AddFlags, cobra's pflag) or a
// handful of environment variables (FromEnv), and is checked by Validate.
// Every field is declared once, in the fields table (fields.go): its flag,
// its environment variable when it has one, its meaning and default. Env
// and EnvTable render the variables from that table; README.md's
// "Environment variables" section is checked against EnvTable by a test.
// Errors name the field and the flag and variable it comes from.
//
// A command builds one with r := config.Default(), r.AddFlags(flags), the
// parse, then r.Validate(); the suites with config.FromEnv(os.Getenv).
//
// Resolving a Run into a running backend (downloading a release, finding
// the locally built images) is backends/open's job, not this package's.
package config
