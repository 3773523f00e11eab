package kernel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ChildEnv is set in the environment of the probe child; a test binary's
// TestMain calls ChildMain when IsChild reports it.
const ChildEnv = "MESHCHECK_KERNEL_PROBE_CHILD"

// IsChild reports whether this process is a probe child.
func IsChild() bool { return os.Getenv(ChildEnv) == "1" }

// Send is one connection or datagram a child sends.
type Send struct {
	Token string         `json:"token"`
	Proto string         `json:"proto"`
	Src   netip.AddrPort `json:"src"`
	Dst   netip.AddrPort `json:"dst"`
}

// Batch is what one child does: drop to UID/GID (when Drop) and send.
type Batch struct {
	Drop    bool          `json:"drop"`
	UID     uint32        `json:"uid"`
	GID     uint32        `json:"gid"`
	Timeout time.Duration `json:"timeout"`
	Sends   []Send        `json:"sends"`
}

// Outcome is the client's side of one Send.
type Outcome struct {
	Token string `json:"token"`
	// Err is empty when the server answered; "timeout", "refused" or the
	// error text otherwise.
	Err string `json:"err,omitempty"`
	// ReplyFrom is the address the answer came from (for UDP the original
	// destination restored by conntrack).
	ReplyFrom netip.AddrPort `json:"replyFrom"`
	// UID and GID the child ran as, as a check that the drop happened.
	UID int `json:"uid"`
	GID int `json:"gid"`
}

// ChildMain runs a probe child: it reads a Batch on stdin, drops its
// credentials, sends everything concurrently and prints the outcomes as JSON.
func ChildMain() int {
	var b Batch
	if err := json.NewDecoder(os.Stdin).Decode(&b); err != nil {
		fmt.Fprintln(os.Stderr, "probe child: read batch:", err)
		return 2
	}
	if b.Drop {
		// Credentials are per process here: Go applies them to every thread,
		// so sockets created after this are owned by UID/GID (xt_owner and
		// nft meta skuid read the socket's file credentials).
		if err := syscall.Setgroups(nil); err != nil {
			fmt.Fprintln(os.Stderr, "probe child: setgroups:", err)
			return 2
		}
		if err := syscall.Setgid(int(b.GID)); err != nil {
			fmt.Fprintln(os.Stderr, "probe child: setgid:", err)
			return 2
		}
		if err := syscall.Setuid(int(b.UID)); err != nil {
			fmt.Fprintln(os.Stderr, "probe child: setuid:", err)
			return 2
		}
	}
	out := make([]Outcome, len(b.Sends))
	var wg sync.WaitGroup
	for i, s := range b.Sends {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := sendOne(s, b.Timeout)
			o.UID, o.GID = os.Geteuid(), os.Getegid()
			out[i] = o
		}()
	}
	wg.Wait()
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return 2
	}
	return 0
}

func reuse(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) })
	if err != nil {
		return err
	}
	return serr
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	}
	return err.Error()
}

// family is "4" or "6", for the network names of package net.
func family(a netip.AddrPort) string {
	if a.Addr().Unmap().Is4() {
		return "4"
	}
	return "6"
}

func sendOne(s Send, timeout time.Duration) Outcome {
	o := Outcome{Token: s.Token}
	deadline := time.Now().Add(timeout)
	switch s.Proto {
	case "tcp":
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(s.Src), Deadline: deadline, Control: reuse}
		if !s.Src.IsValid() {
			d.LocalAddr = nil
		}
		c, err := d.Dial("tcp"+family(s.Dst), s.Dst.String())
		if err != nil {
			o.Err = classify(err)
			return o
		}
		defer c.Close()
		_ = c.SetDeadline(deadline)
		if _, err := c.Write([]byte(s.Token + "\n")); err != nil {
			o.Err = classify(err)
			return o
		}
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			o.Err = classify(err)
			return o
		}
		o.ReplyFrom, _ = netip.ParseAddrPort(c.RemoteAddr().String())
	case "udp":
		lc := net.ListenConfig{Control: reuse}
		laddr := s.Src.String()
		if !s.Src.IsValid() {
			laddr = "[::]:0" // the kernel picks the source per packet
			if family(s.Dst) == "4" {
				laddr = "0.0.0.0:0"
			}
		}
		pc, err := lc.ListenPacket(context.Background(), "udp"+family(s.Dst), laddr)
		if err != nil {
			o.Err = classify(err)
			return o
		}
		defer pc.Close()
		u := pc.(*net.UDPConn)
		_ = u.SetDeadline(deadline)
		if _, err := u.WriteToUDPAddrPort([]byte(s.Token), s.Dst); err != nil {
			o.Err = classify(err)
			return o
		}
		buf := make([]byte, 512)
		for {
			n, from, err := u.ReadFromUDPAddrPort(buf)
			if err != nil {
				o.Err = classify(err)
				return o
			}
			if string(buf[:n]) == s.Token {
				o.ReplyFrom = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
				return o
			}
		}
	default:
		o.Err = "unknown protocol " + s.Proto
	}
	return o
}

// Run sends a batch from side by starting the current executable as a probe
// child inside that namespace (it inherits the namespace of the thread that
// forks it) and returns the outcomes in order.
func (l *Lab) Run(ctx context.Context, side Side, b Batch) ([]Outcome, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.Timeout+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	// A race-enabled child would sleep a second at exit (atexit_sleep_ms).
	cmd.Env = append(os.Environ(), ChildEnv+"=1", strings.TrimSpace("GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ns := l.Pod
	if side == SidePeer {
		ns = l.Peer
	}
	if err := InNetns(ns, cmd.Start); err != nil {
		return nil, fmt.Errorf("start probe child in %s: %w", ns, err)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("probe child in %s (uid %d gid %d): %w: %s", ns, b.UID, b.GID, err, strings.TrimSpace(stderr.String()))
	}
	var outs []Outcome
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&outs); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("probe child output: %w (stdout %q, stderr %q)", err, stdout.String(), stderr.String())
	}
	if len(outs) != len(b.Sends) {
		return nil, fmt.Errorf("probe child answered %d of %d sends (stderr %q)", len(outs), len(b.Sends), stderr.String())
	}
	for _, o := range outs {
		if b.Drop && (o.UID != int(b.UID) || o.GID != int(b.GID)) {
			return nil, fmt.Errorf("probe child ran as uid %d gid %d, want %d %d", o.UID, o.GID, b.UID, b.GID)
		}
	}
	return outs, nil
}
