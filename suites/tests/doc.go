// Package tests holds meshcheck's end-to-end tests, one Go file per test
// (plus, for a test that brings its own configuration, one manifest in
// testdata/ named after it), registered in one list: All. Each is a
// suite.Test; package suites turns every one into a Ginkgo spec. Checks are
// Gomega assertions; what a test reads from the mesh comes from the Suite
// it is given (no package state).
package tests
