package xds

import (
	"bytes"
	"io"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func wrapU32(v uint32) *wrapperspb.UInt32Value {
	if v == 0 {
		return nil
	}
	return wrapperspb.UInt32(v)
}
