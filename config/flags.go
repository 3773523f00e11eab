package config

import "github.com/spf13/pflag"

// AddFlags registers one flag per Run field on fs, reading into and
// writing to r; the flags' defaults are r's values at the call.
func (r *Run) AddFlags(fs *pflag.FlagSet) {
	for _, f := range fields {
		usage := f.usage
		if f.env != "" {
			usage += " ($" + f.env + ")"
		}
		fl := fs.VarPF(&value{r: r, f: f}, f.flag, "", usage)
		if f.boolean {
			fl.NoOptDefVal = "true"
		}
	}
}

// value is a Run field as a pflag.Value.
type value struct {
	r *Run
	f field
}

func (v *value) String() string {
	if v.r == nil {
		return ""
	}
	return v.f.get(v.r)
}

func (v *value) Set(s string) error { return v.f.set(v.r, s) }

func (v *value) Type() string {
	if v.f.boolean {
		return "bool"
	}
	return "string"
}
