package golden

import (
	"encoding/json"
	"testing"
	"time"

	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// jsonOf prints a message as a normalized Doc holds it.
func jsonOf(t *testing.T, m proto.Message) json.RawMessage {
	t.Helper()
	b, err := mo.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return raw(v)
}

// another returns a value of def's type that differs from it and is not
// its zero value.
func another(t *testing.T, def proto.Message) proto.Message {
	switch d := def.(type) {
	case *wrapperspb.UInt32Value:
		return wrapperspb.UInt32(d.GetValue() + 7)
	case *wrapperspb.BoolValue:
		return wrapperspb.Bool(!d.GetValue())
	case *durationpb.Duration:
		return durationpb.New(d.AsDuration() + time.Second)
	case *typev3.Percent:
		return &typev3.Percent{Value: d.GetValue()/2 + 1}
	}
	t.Fatalf("no other value for %T", def)
	return nil
}

// fieldOf finds a row's field; it must be a singular message field of the
// default's type.
func fieldOf(t *testing.T, row fieldDefault) protoreflect.FieldDescriptor {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(row.Field)
	if err != nil {
		t.Fatalf("%s: %v", row.Field, err)
	}
	fd, ok := d.(protoreflect.FieldDescriptor)
	if !ok || fd.Message() == nil || fd.IsList() || fd.IsMap() {
		t.Fatalf("%s is not a singular message field", row.Field)
	}
	if row.Unset != nil && row.Unset.ProtoReflect().Descriptor() != fd.Message() {
		t.Fatalf("%s holds %s, the row's default is %s", row.Field, fd.Message().FullName(), row.Unset.ProtoReflect().Descriptor().FullName())
	}
	if row.Doc == "" {
		t.Errorf("%s: no documentation paraphrase", row.Field)
	}
	return fd
}

// Every row, each way: a field set to the documented default equals an
// unset one in normalization and in the diff; any other value, the zero
// value (an empty Percent, 0, 0s, false) included, stays a change, shown
// with the default the unset side means. A row without a default keeps
// even the zero value apart from unset.
func TestDefaultsTable(t *testing.T) {
	seen := map[protoreflect.FullName]bool{}
	for _, row := range defaults {
		t.Run(string(row.Field), func(t *testing.T) {
			if seen[row.Field] {
				t.Fatalf("%s has two rows", row.Field)
			}
			seen[row.Field] = true
			fd := fieldOf(t, row)
			sc := schema{msg: fd.ContainingMessage()}
			k := string(fd.Name())
			zero := jsonOf(t, dynamicZero(t, fd))
			var values []json.RawMessage
			if row.Unset != nil {
				def := jsonOf(t, row.Unset)
				assertUnset(t, sc, k, def, true, nil)
				values = append(values, jsonOf(t, another(t, row.Unset)))
				if string(zero) != string(def) {
					values = append(values, zero)
				}
				for _, v := range values {
					assertUnset(t, sc, k, v, false, def)
				}
				return
			}
			assertUnset(t, sc, k, zero, false, nil)
		})
	}
}

func dynamicZero(t *testing.T, fd protoreflect.FieldDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(fd.Message().FullName())
	if err != nil {
		t.Fatal(err)
	}
	return mt.New().Interface()
}

// assertUnset checks {k: v} against {} in dropUnset and in the diff, both
// ways round.
func assertUnset(t *testing.T, sc schema, k string, v json.RawMessage, equal bool, def json.RawMessage) {
	t.Helper()
	var val any
	if err := json.Unmarshal(v, &val); err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{k: val}
	dropUnset(obj, sc)
	if _, kept := obj[k]; kept == equal {
		t.Errorf("dropUnset of %s: %s kept = %v, want %v", k, v, kept, !equal)
	}
	for _, ab := range [][2]map[string]any{{{k: val}, {}}, {{}, {k: val}}} {
		var out []Change
		walkMessage("clusters", "c", "", sc, ab[0], ab[1], &out)
		switch {
		case equal && len(out) > 0:
			t.Errorf("%s: %s against unset: %v, want no change", k, v, out)
		case !equal && (len(out) != 1 || string(out[0].Default) != string(def)):
			t.Errorf("%s: %s against unset: %v, want one change with default %s", k, v, out, def)
		}
	}
}
