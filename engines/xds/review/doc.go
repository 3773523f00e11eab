// Package review reads a config diff (package golden's semantic Diff) the
// way a reviewer of a control-plane change would: each change is put in a
// category (route targets, weights, timeouts and retries, TLS, filters,
// endpoints, listeners and ports, ...) and worded in a sentence, and a file
// of accepted changes (proxy, resource type, name and field path globs,
// each with its reason) says which changes a pull request means to make.
// The control-plane gate (meshcheck gate) fails on any change no rule
// accepts.
package review
