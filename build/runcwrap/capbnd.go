package runcwrap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CapSysResource is the bit of CAP_SYS_RESOURCE in a capability mask.
const CapSysResource = 24

// CapSysResourceName is its name in an OCI runtime spec.
const CapSysResourceName = "CAP_SYS_RESOURCE"

// ParseCapBnd returns the capability bounding set from the text of
// /proc/<pid>/status (its "CapBnd:" line, a hexadecimal mask).
func ParseCapBnd(status []byte) (uint64, error) {
	var found bool
	var mask uint64
	sc := bufio.NewScanner(bytes.NewReader(status))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != "CapBnd" {
			continue
		}
		if found {
			return 0, fmt.Errorf("line %d: a second CapBnd line", line)
		}
		v := strings.TrimSpace(val)
		m, err := strconv.ParseUint(v, 16, 64)
		if err != nil || v == "" || strings.HasPrefix(v, "+") {
			return 0, fmt.Errorf("line %d: CapBnd %q is not a hexadecimal mask", line, v)
		}
		found, mask = true, m
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading status: %w", err)
	}
	if !found {
		return 0, errors.New("no CapBnd line")
	}
	return mask, nil
}

// Missing reports whether capability bit is absent from mask.
func Missing(mask uint64, bit uint) bool {
	return bit >= 64 || mask&(1<<bit) == 0
}
