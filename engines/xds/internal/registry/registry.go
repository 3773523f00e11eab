// Package registry links every Envoy and Istio xDS message type into the
// binary and answers which type URLs resolve.
package registry

//go:generate ../../../../hack/gen-registry.sh

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoregistry"
)

var known sync.Map // type URL -> bool

// Resolves reports whether a type URL names a message type the binary knows.
func Resolves(typeURL string) bool {
	if v, ok := known.Load(typeURL); ok {
		return v.(bool)
	}
	_, err := protoregistry.GlobalTypes.FindMessageByURL(typeURL)
	ok := err == nil
	known.Store(typeURL, ok)
	return ok
}

// MessageName returns the full message name of a type URL
// ("type.googleapis.com/a.b.C" gives "a.b.C").
func MessageName(typeURL string) string {
	if i := strings.LastIndexByte(typeURL, '/'); i >= 0 {
		return typeURL[i+1:]
	}
	return typeURL
}
