package istiorelease

import (
	"fmt"
	"strings"
)

// ParseSHA256 reads a .sha256 file as sha256sum writes it ("<64 hex digits>
// <name>" per line, the name optionally marked binary with "*") and returns
// the lower-case hash for artifact. A line without a name is accepted when it
// is the only line; a file naming only other files is an error, so a mirror
// serving the wrong checksum file is caught before any download.
func ParseSHA256(data []byte, artifact string) (string, error) {
	var (
		found    string
		unnamed  []string
		names    []string
		nonEmpty int
	)
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" {
			continue
		}
		nonEmpty++
		hash, name, _ := strings.Cut(line, " ")
		if !isSHA256Hex(hash) {
			return "", fmt.Errorf("%w: line %d: %q does not start with 64 hex digits", ErrBadChecksumFile, i+1, clip(line))
		}
		hash = strings.ToLower(hash)
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		switch {
		case name == "":
			unnamed = append(unnamed, hash)
		case name == artifact || strings.HasSuffix(name, "/"+artifact):
			if found != "" && found != hash {
				return "", fmt.Errorf("%w: two different hashes for %s", ErrBadChecksumFile, artifact)
			}
			found = hash
		default:
			names = append(names, name)
		}
	}
	switch {
	case found != "":
		return found, nil
	case nonEmpty == 0:
		return "", fmt.Errorf("%w: empty", ErrBadChecksumFile)
	case nonEmpty == 1 && len(unnamed) == 1:
		return unnamed[0], nil
	case len(names) > 0:
		return "", fmt.Errorf("%w: no hash for %s (it names %s)", ErrBadChecksumFile, artifact, clip(strings.Join(names, ", ")))
	}
	return "", fmt.Errorf("%w: %d lines without a file name, cannot tell which is %s", ErrBadChecksumFile, nonEmpty, artifact)
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 100 {
		return s[:97] + "..."
	}
	return s
}
