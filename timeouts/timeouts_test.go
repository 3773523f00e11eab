package timeouts

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every field must have a non-zero default, so a field added without one
// fails here.
func TestDefaultSetsEveryField(t *testing.T) {
	v := reflect.ValueOf(Default())
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("Default().%s is zero", v.Type().Field(i).Name)
		}
	}
}

func TestWithDefaultsKeepsOverrides(t *testing.T) {
	got := Timeouts{Request: time.Second}.WithDefaults()
	if got.Request != time.Second {
		t.Errorf("Request = %v, want the override 1s", got.Request)
	}
	if got.Convergence != Default().Convergence {
		t.Errorf("Convergence = %v, want the default %v", got.Convergence, Default().Convergence)
	}
	v := reflect.ValueOf(Timeouts{}.WithDefaults())
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("WithDefaults leaves %s zero", v.Type().Field(i).Name)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	err := Timeouts{Convergence: -time.Second}.Validate()
	if err == nil || err.Error() != "timeouts: Convergence is negative (-1s)" {
		t.Fatalf("Validate() = %v, want the negative Convergence named", err)
	}
}

// Every field must be checked by Validate, so a field added without a line
// there fails here.
func TestValidateCoversEveryField(t *testing.T) {
	typ := reflect.TypeOf(Timeouts{})
	for i := 0; i < typ.NumField(); i++ {
		var tm Timeouts
		reflect.ValueOf(&tm).Elem().Field(i).SetInt(-1)
		err := tm.Validate()
		if err == nil || !strings.Contains(err.Error(), typ.Field(i).Name+" is negative") {
			t.Errorf("Validate() with %s negative = %v, want it named", typ.Field(i).Name, err)
		}
	}
}

// WithDefaults and Validate walk the fields as durations.
func TestEveryFieldIsADuration(t *testing.T) {
	typ := reflect.TypeOf(Timeouts{})
	for i := 0; i < typ.NumField(); i++ {
		if typ.Field(i).Type != reflect.TypeOf(time.Duration(0)) {
			t.Errorf("Timeouts.%s is a %s, not a time.Duration", typ.Field(i).Name, typ.Field(i).Type)
		}
	}
}
