package iptables

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// splitWords splits a rule line like a shell would for iptables-restore:
// double and single quotes group words, a backslash escapes the next byte.
func splitWords(s string) ([]string, error) {
	if !strings.ContainsAny(s, "\"'\\") {
		return strings.Fields(s), nil
	}
	var out []string
	var cur strings.Builder
	inWord := false
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

// parsePrefix reads "10.0.0.0/8", "127.0.0.1" (a host), "::1/128" or
// "10.0.0.0/255.0.0.0".
func parsePrefix(s string) (netip.Prefix, error) {
	if a, m, ok := strings.Cut(s, "/"); ok {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return netip.Prefix{}, err
		}
		addr = addr.Unmap()
		if bits, err := strconv.Atoi(m); err == nil {
			if bits < 0 || bits > addr.BitLen() {
				return netip.Prefix{}, fmt.Errorf("prefix length %d out of range", bits)
			}
			return netip.PrefixFrom(addr, bits).Masked(), nil
		}
		mask, err := netip.ParseAddr(m)
		if err != nil || mask.Is4() != addr.Is4() {
			return netip.Prefix{}, fmt.Errorf("bad mask %q", m)
		}
		bits, ok := maskBits(mask.AsSlice())
		if !ok {
			return netip.Prefix{}, fmt.Errorf("non-contiguous mask %q", m)
		}
		return netip.PrefixFrom(addr, bits).Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

func maskBits(b []byte) (int, bool) {
	n, done := 0, false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if done {
					return 0, false
				}
				n++
			} else {
				done = true
			}
		}
	}
	return n, true
}

// parsePortRange reads "80", "1000:2000" or "1000-2000".
func parsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(s, ":")
	if !ok {
		lo, hi, ok = strings.Cut(s, "-")
	}
	l, err := parsePort(lo)
	if err != nil {
		return PortRange{}, err
	}
	if !ok {
		return PortRange{l, l}, nil
	}
	h := uint16(65535)
	if hi != "" {
		if h, err = parsePort(hi); err != nil {
			return PortRange{}, err
		}
	}
	if h < l {
		return PortRange{}, fmt.Errorf("port range %q is reversed", s)
	}
	return PortRange{l, h}, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		if p, ok := wellKnownPorts[s]; ok {
			return p, nil
		}
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(n), nil
}

var wellKnownPorts = map[string]uint16{"domain": 53, "http": 80, "https": 443, "ssh": 22}

// parsePortList reads a multiport list "53,15008,1000:2000".
func parsePortList(s string) ([]PortRange, error) {
	var out []PortRange
	for _, part := range strings.Split(s, ",") {
		r, err := parsePortRange(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// parseIDRange reads "1337" or "1000-2000".
func parseIDRange(s string) (IDRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	l, err := strconv.ParseUint(lo, 10, 32)
	if err != nil {
		return IDRange{}, fmt.Errorf("bad id %q (names are not resolved)", s)
	}
	if !ok {
		return IDRange{uint32(l), uint32(l)}, nil
	}
	h, err := strconv.ParseUint(hi, 10, 32)
	if err != nil || h < l {
		return IDRange{}, fmt.Errorf("bad id range %q", s)
	}
	return IDRange{uint32(l), uint32(h)}, nil
}

// parseMarkMask reads "0x539", "1337" or "0x539/0xffffffff"; the mask
// defaults to all ones.
func parseMarkMask(s string) (v, m uint32, err error) {
	a, b, ok := strings.Cut(s, "/")
	x, err := strconv.ParseUint(a, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("bad mark %q", s)
	}
	y := uint64(0xffffffff)
	if ok {
		if y, err = strconv.ParseUint(b, 0, 32); err != nil {
			return 0, 0, fmt.Errorf("bad mask %q", s)
		}
	}
	return uint32(x), uint32(y), nil
}
