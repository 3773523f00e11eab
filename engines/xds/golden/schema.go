package golden

import (
	"encoding/json"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// schema is the proto type of a value in a normalized document, so that the
// diff can look its fields up in the defaults table. The zero schema knows
// nothing (a payload of an unknown type): every key on one side only is then
// a change.
type schema struct {
	msg   protoreflect.MessageDescriptor
	mapOf protoreflect.MessageDescriptor // the value is a proto map of these
}

// kindRoots are the message types of each kind of a Doc.
var kindRoots = map[string]protoreflect.FullName{
	"listeners":    "envoy.config.listener.v3.Listener",
	"routes":       "envoy.config.route.v3.RouteConfiguration",
	"clusters":     "envoy.config.cluster.v3.Cluster",
	"endpoints":    "envoy.config.endpoint.v3.ClusterLoadAssignment",
	"secrets":      "envoy.extensions.transport_sockets.tls.v3.Secret",
	"scopedRoutes": "envoy.config.route.v3.ScopedRouteConfiguration",
}

func resourceSchema(kind string) schema {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(kindRoots[kind])
	if err != nil {
		return schema{}
	}
	return schema{msg: mt.Descriptor()}
}

// of refines sc for the object v: an Any's payload has the type its "@type"
// names.
func (sc schema) of(v map[string]any) schema {
	t, ok := v["@type"].(string)
	if !ok || sc.mapOf != nil {
		return sc
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(t)
	if err != nil {
		return schema{}
	}
	return schema{msg: mt.Descriptor()}
}

func (sc schema) field(k string) protoreflect.FieldDescriptor {
	if sc.msg == nil || sc.mapOf != nil {
		return nil
	}
	return sc.msg.Fields().ByName(protoreflect.Name(k))
}

// child is the schema of the value under key k.
func (sc schema) child(k string) schema {
	if sc.mapOf != nil {
		return schema{msg: sc.mapOf}
	}
	fd := sc.field(k)
	switch {
	case fd == nil:
		return schema{}
	case fd.IsMap():
		return schema{mapOf: fd.MapValue().Message()}
	case fd.Message() != nil:
		return schema{msg: fd.Message()}
	}
	return schema{}
}

// unsetValue is the JSON of the value Envoy documents for field k unset, or
// nil when the defaults table has none.
func (sc schema) unsetValue(k string) json.RawMessage {
	if fd := sc.field(k); fd != nil {
		return unsetJSON[fd.FullName()]
	}
	return nil
}

// unsetJSON holds the defaults table's values as a normalized Doc prints
// them.
var unsetJSON = func() map[protoreflect.FullName]json.RawMessage {
	out := make(map[protoreflect.FullName]json.RawMessage, len(unsetAs))
	for f, m := range unsetAs {
		b, err := mo.Marshal(m)
		var v any
		if err == nil && json.Unmarshal(b, &v) == nil { // well-known types: it does not fail
			out[f] = raw(v)
		}
	}
	return out
}()
