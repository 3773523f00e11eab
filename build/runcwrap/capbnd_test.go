package runcwrap

import (
	"strings"
	"testing"
)

func TestParseCapBnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  string
		want    uint64
		missing bool // CAP_SYS_RESOURCE
		err     string
	}{
		{name: "this sandbox", status: "Name:\tcat\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n", want: 0x000001fffeffffff, missing: true},
		{name: "a normal host", status: "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n", want: 0x000001ffffffffff},
		{name: "only the bit", status: "CapBnd:\t0000000001000000", want: 1 << 24},
		{name: "spaces around", status: "CapBnd:   1ff  \n", want: 0x1ff, missing: true},
		{name: "no line", status: "Name:\tx\nCapEff:\t0\n", err: "no CapBnd line"},
		{name: "empty", status: "", err: "no CapBnd line"},
		{name: "not hex", status: "CapBnd:\tzz\n", err: `line 1: CapBnd "zz" is not a hexadecimal mask`},
		{name: "empty value", status: "CapBnd:\n", err: `CapBnd "" is not`},
		{name: "signed", status: "CapBnd:\t+1f\n", err: `CapBnd "+1f" is not`},
		{name: "too wide", status: "CapBnd:\t1ffffffffffffffff\n", err: "is not a hexadecimal mask"},
		{name: "twice", status: "CapBnd:\t1\nCapBnd:\t2\n", err: "line 2: a second CapBnd line"},
		{name: "prefix is not the key", status: "XCapBnd:\t1\n", err: "no CapBnd line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCapBnd([]byte(tc.status))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("mask %x, want %x", got, tc.want)
			}
			if m := Missing(got, CapSysResource); m != tc.missing {
				t.Errorf("Missing(CAP_SYS_RESOURCE) = %v, want %v", m, tc.missing)
			}
		})
	}
}

func TestMissingOutOfRange(t *testing.T) {
	if !Missing(^uint64(0), 64) {
		t.Error("bit 64 cannot be present in a 64-bit mask")
	}
	if Missing(^uint64(0), 0) || !Missing(0, 0) {
		t.Error("bit 0")
	}
}

func FuzzParseCapBnd(f *testing.F) {
	f.Add([]byte("CapBnd:\t000001fffeffffff\n"))
	f.Add([]byte("Name:\tx\nCapBnd:\t1\nCapBnd:\t2\n"))
	f.Add([]byte("CapBnd:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseCapBnd(b)
		if err != nil {
			if m != 0 {
				t.Fatalf("mask %x with error %v", m, err)
			}
			return
		}
		if !strings.Contains(string(b), "CapBnd") {
			t.Fatalf("parsed %x from input without CapBnd", m)
		}
	})
}
