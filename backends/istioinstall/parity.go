package istioinstall

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// EnvVar is one environment variable.
type EnvVar struct{ Name, Value string }

// ParitySetting is how Istio's control plane is made to emit only upstream
// Envoy types, which a stock Envoy accepts: pilot's environment turns off
// the ALPN and metadata-exchange filters, and telemetry is off (no default
// metrics provider, no istio.stats filter). The embedded mesh always runs
// so; a kind install does when asked (Options.EmbeddedParity), so that its
// config dumps compare with the embedded mesh's.
type ParitySetting struct {
	// PilotEnv is what pilot reads when its process starts.
	PilotEnv []EnvVar
	// TelemetryOff is the install value that turns telemetry off.
	TelemetryOff string
}

// Parity is the one parity setting: every user (the kind install's
// arguments, the embedded mesh's check of its process, hack/dumpgen, the
// tests that run pilot) reads it from here.
var Parity = ParitySetting{
	PilotEnv: []EnvVar{
		{"PILOT_ENABLE_ALPN_FILTER", "false"},
		{"PILOT_ENABLE_METADATA_EXCHANGE", "false"},
	},
	TelemetryOff: "values.telemetry.enabled=false",
}

// Environ is PilotEnv as NAME=VALUE strings.
func (p ParitySetting) Environ() []string {
	out := make([]string, len(p.PilotEnv))
	for i, e := range p.PilotEnv {
		out[i] = e.Name + "=" + e.Value
	}
	return out
}

// String is PilotEnv in words: "A=false and B=false".
func (p ParitySetting) String() string { return strings.Join(p.Environ(), " and ") }

// installSets are the istioctl --set values of the setting.
func (p ParitySetting) installSets() []string {
	var out []string
	for _, e := range p.PilotEnv {
		out = append(out, "values.pilot.env."+e.Name+"="+e.Value)
	}
	return append(out, p.TelemetryOff)
}

// InEnv reports whether the process's environment holds PilotEnv.
func (p ParitySetting) InEnv(getenv func(string) string) bool {
	for _, e := range p.PilotEnv {
		if getenv(e.Name) != e.Value {
			return false
		}
	}
	return true
}

// Reexec replaces the running program with itself, same arguments, with
// PilotEnv added to its environment (pilot reads it at package init, so it
// cannot be set later). It returns nil without doing anything when the
// environment already holds it; otherwise it returns only on failure.
func (p ParitySetting) Reexec() error {
	if p.InEnv(os.Getenv) {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("re-run with %s: %w", p, err)
	}
	env := append(os.Environ(), p.Environ()...)
	if err := syscall.Exec(self, os.Args, env); err != nil {
		return fmt.Errorf("re-run %s with %s: %w", self, p, err)
	}
	return nil
}
