package podnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialContext opens a connection from inside the namespace: the socket is
// created in the namespace's network stack, so the pod's interception rules
// apply to it exactly as to the app's own connections (it runs as root, not
// as the proxy's UID, so outbound traffic goes through the sidecar).
func (ns *NetNS) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread enters the namespace and is never returned to the
		// scheduler: a locked thread is discarded when its goroutine ends.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", ns.Name))
		if err != nil {
			ch <- result{err: fmt.Errorf("open namespace %s: %w", ns.Name, err)}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("enter namespace %s: %w", ns.Name, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, address)
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("dial %s from %s: %w", address, ns.Name, r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
