package istio

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"istio.io/istio/tools/common/config"
)

// Change sets one field of istio-iptables' own configuration
// (tools/common/config.Config), named as its JSON name, the istio-iptables
// environment variable (PROXY_UID, REDIRECT_DNS, INBOUND_PORTS_EXCLUDE,
// OUTBOUND_IPRANGES_INCLUDE...), after Config has mapped the Options: what
// a forked injection template, a wrong istio-init argument or a lost
// environment variable would hand istio-iptables. String, boolean and
// integer fields can be changed.
type Change struct {
	Field string
	Value string
}

func (c Change) String() string { return c.Field + "=" + c.Value }

// ErrChange is wrapped by every error about a Change.
var ErrChange = errors.New("bad istio-iptables configuration change")

// ParseChange reads FIELD=VALUE.
func ParseChange(s string) (Change, error) {
	f, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(f) == "" {
		return Change{}, fmt.Errorf("%w: %q: want FIELD=VALUE (FIELD one of %s)", ErrChange, s, strings.Join(ChangeFields(), ", "))
	}
	c := Change{Field: strings.TrimSpace(f), Value: v}
	return c, c.apply(&config.Config{})
}

// ChangeFields are the field names a Change may set.
func ChangeFields() []string {
	var out []string
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		if _, ok := setters[t.Field(i).Type.Kind()]; ok {
			out = append(out, jsonName(t.Field(i)))
		}
	}
	slices.Sort(out)
	return out
}

func jsonName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return n
}

// setters set a field of one kind from its text.
var setters = map[reflect.Kind]func(v reflect.Value, s string) error{
	reflect.String: func(v reflect.Value, s string) error { v.SetString(s); return nil },
	reflect.Bool: func(v reflect.Value, s string) error {
		b, err := strconv.ParseBool(s)
		v.SetBool(b)
		return err
	},
	reflect.Uint16: func(v reflect.Value, s string) error {
		n, err := strconv.ParseUint(s, 10, 16)
		v.SetUint(n)
		return err
	},
}

// apply sets the field on c.
func (c Change) apply(cfg *config.Config) error {
	v := reflect.ValueOf(cfg).Elem()
	for i := range v.NumField() {
		if jsonName(v.Type().Field(i)) != c.Field {
			continue
		}
		set, ok := setters[v.Field(i).Kind()]
		if !ok {
			return fmt.Errorf("%w: %s is a %s field; only string, boolean and integer fields can be changed", ErrChange, c.Field, v.Field(i).Type())
		}
		if err := set(v.Field(i), c.Value); err != nil {
			return fmt.Errorf("%w: %s=%q: %w", ErrChange, c.Field, c.Value, err)
		}
		return nil
	}
	return fmt.Errorf("%w: no field %q in istio-iptables' configuration (have %s)", ErrChange, c.Field, strings.Join(ChangeFields(), ", "))
}

// The annotation a pod's proxy configuration is overridden with, and the
// proxy metadata that turns DNS capture on (istio-init receives the
// metadata as its environment; istio-iptables reads REDIRECT_DNS from
// ISTIO_META_DNS_CAPTURE).
const (
	AnnotationProxyConfig = "proxy.istio.io/config"
	MetadataDNSCapture    = "ISTIO_META_DNS_CAPTURE"
)

// PodOptions are the options the sidecar injector gives a pod of version v
// from its annotations: DefaultOptions, the interception annotations
// (ApplyAnnotations; other annotations are not the injector's business
// here), and DNS capture from proxy.istio.io/config's proxyMetadata. No
// nameserver is listed, so DNS to every address is captured.
func PodOptions(v Version, ann map[string]string) (Options, error) {
	o := DefaultOptions(v)
	own := map[string]string{}
	for k, val := range ann {
		if _, ok := annotationSetters[k]; ok {
			own[k] = val
		}
	}
	if err := o.ApplyAnnotations(own); err != nil {
		return o, err
	}
	pc, ok := ann[AnnotationProxyConfig]
	if !ok {
		return o, nil
	}
	var cfg struct {
		ProxyMetadata map[string]string `yaml:"proxyMetadata"`
	}
	if err := yaml.Unmarshal([]byte(pc), &cfg); err != nil {
		return o, fmt.Errorf("annotation %s: %w", AnnotationProxyConfig, err)
	}
	if s, ok := cfg.ProxyMetadata[MetadataDNSCapture]; ok {
		on, err := strconv.ParseBool(s)
		if err != nil {
			return o, fmt.Errorf("annotation %s: proxyMetadata.%s=%q: %w", AnnotationProxyConfig, MetadataDNSCapture, s, err)
		}
		o.DNSCapture = on
	}
	return o, nil
}
