//go:build tools

// Package tools pins the versions of the developer tools the Makefile builds
// (linters), so every machine and CI run uses the same ones.
package tools

import (
	_ "github.com/rhysd/actionlint/cmd/actionlint"
	_ "honnef.co/go/tools/cmd/staticcheck"
)
