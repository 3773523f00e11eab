package istioinstall

import (
	"reflect"
	"testing"
)

func TestParitySetting(t *testing.T) {
	p := ParitySetting{PilotEnv: []EnvVar{{"A", "false"}, {"B", "0"}}, TelemetryOff: "values.telemetry.enabled=false"}
	if got, want := p.Environ(), []string{"A=false", "B=0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
	if got, want := p.String(), "A=false and B=0"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := p.installSets(), []string{"values.pilot.env.A=false", "values.pilot.env.B=0", "values.telemetry.enabled=false"}; !reflect.DeepEqual(got, want) {
		t.Errorf("installSets = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"A": "false", "B": "0"}, true},
		{map[string]string{"A": "false"}, false},
		{map[string]string{"A": "true", "B": "0"}, false},
	} {
		if got := p.InEnv(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("InEnv(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}
