package config

import (
	"errors"
	"fmt"
	"strings"
)

// EnvVar is one documented environment variable.
type EnvVar struct {
	// Name is the variable; Field the Run field it sets and Flag that
	// field's flag (without dashes).
	Name, Field, Flag string
	// Meaning, Default and Targets (the make targets that set or pass it)
	// are what README.md's table says.
	Meaning, Default, Targets string
}

// Env is every environment variable FromEnv reads, in the table's order.
func Env() []EnvVar {
	var out []EnvVar
	for _, f := range fields {
		if f.env != "" {
			out = append(out, EnvVar{Name: f.env, Field: f.name, Flag: f.flag, Meaning: f.usage, Default: f.def, Targets: f.targets})
		}
	}
	return out
}

// FromEnv builds a Run from Default and the variables of Env (getenv is
// os.Getenv in use; an empty value counts as unset), then validates it.
// Every malformed or invalid value is reported, each naming its field,
// flag and variable.
func FromEnv(getenv func(string) string) (Run, error) {
	r := Default()
	var errs []error
	for _, f := range fields {
		if f.env == "" {
			continue
		}
		if v := getenv(f.env); v != "" {
			if err := f.set(&r, v); err != nil {
				errs = append(errs, fieldErr(f.name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Run{}, fmt.Errorf("config: the environment: %w", err)
	}
	if err := r.Validate(); err != nil {
		return Run{}, err
	}
	return r, nil
}

// EnvTable renders Env as the Markdown table README.md carries under
// "Environment variables".
func EnvTable() string {
	var b strings.Builder
	b.WriteString("| variable | meaning | default | make targets | flag |\n|---|---|---|---|---|\n")
	for _, e := range Env() {
		targets := e.Targets
		if targets == "" {
			targets = "none"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | `--%s` |\n", e.Name, mdEscape(e.Meaning), mdEscape(e.Default), targets, e.Flag)
	}
	return b.String()
}

// mdEscape keeps a cell in its column.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
