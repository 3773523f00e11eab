package xds

import (
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func wrapU32(v uint32) *wrapperspb.UInt32Value {
	if v == 0 {
		return nil
	}
	return wrapperspb.UInt32(v)
}
