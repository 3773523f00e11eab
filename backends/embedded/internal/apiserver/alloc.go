package apiserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"net/netip"
)

// ErrExhausted says an address range has no free address left.
var ErrExhausted = errors.New("address range exhausted")

// allocator hands out addresses of a prefix, deterministically: an owner's
// first candidate is a hash of its name, then the next free address. The
// network address, the first host (the gateway, or the kubernetes Service)
// and, for IPv4, the broadcast address are never handed out.
type allocator struct {
	prefix netip.Prefix
	first  uint64 // offset of the first usable address
	count  uint64 // usable addresses
	used   map[netip.Addr]string
}

// maxProbe bounds the search in very large (IPv6) ranges.
const maxProbe = 1 << 20

func newAllocator(p netip.Prefix) (*allocator, error) {
	p = p.Masked()
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits < 2 {
		return nil, fmt.Errorf("apiserver: range %s is too small", p)
	}
	size := uint64(1) << min(hostBits, 62)
	count := size - 2 // network address and first host
	if p.Addr().Is4() {
		count-- // broadcast
	}
	return &allocator{prefix: p, first: 2, count: count, used: map[netip.Addr]string{}}, nil
}

func (a *allocator) clone() *allocator {
	c := *a
	c.used = make(map[netip.Addr]string, len(a.used))
	for k, v := range a.used {
		c.used[k] = v
	}
	return &c
}

// usable reports whether addr is in the range and may be handed out.
func (a *allocator) usable(addr netip.Addr) bool {
	if !a.prefix.Contains(addr) {
		return false
	}
	off := offsetOf(a.prefix.Addr(), addr)
	return off.IsUint64() && off.Uint64() >= a.first && off.Uint64() < a.first+a.count
}

// reserve marks addr as owned by owner.
func (a *allocator) reserve(addr netip.Addr, owner string) error {
	if !a.usable(addr) {
		return fmt.Errorf("%s is not a usable address of %s", addr, a.prefix)
	}
	if o, ok := a.used[addr]; ok && o != owner {
		return fmt.Errorf("%s is already allocated to %s", addr, o)
	}
	a.used[addr] = owner
	return nil
}

// allocate gives owner a free address.
func (a *allocator) allocate(owner string) (netip.Addr, error) {
	h := fnv.New64a()
	h.Write([]byte(owner))
	start := h.Sum64() % a.count
	for i := uint64(0); i < a.count && i < maxProbe; i++ {
		addr := addOffset(a.prefix.Addr(), a.first+(start+i)%a.count)
		if _, taken := a.used[addr]; !taken {
			a.used[addr] = owner
			return addr, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: %s has %d addresses in use", ErrExhausted, a.prefix, len(a.used))
}

func addOffset(base netip.Addr, off uint64) netip.Addr {
	b := base.AsSlice()
	n := new(big.Int).SetBytes(b)
	n.Add(n, new(big.Int).SetUint64(off))
	out := n.FillBytes(make([]byte, len(b)))
	addr, _ := netip.AddrFromSlice(out)
	return addr
}

func offsetOf(base, addr netip.Addr) *big.Int {
	return new(big.Int).Sub(new(big.Int).SetBytes(addr.AsSlice()), new(big.Int).SetBytes(base.AsSlice()))
}

// hashString returns n characters from the alphabet Kubernetes uses for
// generated name suffixes (no vowels, no look-alikes), derived from s.
func hashString(s string, n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	h.Write([]byte(s))
	v := h.Sum64()
	var b [8]byte
	out := make([]byte, n)
	for i := range out {
		if v == 0 {
			binary.BigEndian.PutUint64(b[:], uint64(i))
			h.Write(b[:])
			v = h.Sum64()
		}
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return string(out)
}
