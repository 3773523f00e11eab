package istiorelease

import (
	"errors"
	"strings"
	"testing"
)

const (
	hashA = "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed"
	hashB = "89e6c98d92887913cadf06b2adb97f26cde4849b89e6c98d92887913cadf06b2"
	name  = "istioctl-1.30.2-linux-amd64.tar.gz"
)

func TestParseSHA256(t *testing.T) {
	cases := []struct {
		name, in, want, err string
	}{
		{"sha256sum text mode", hashA + "  " + name + "\n", hashA, ""},
		{"sha256sum binary mode", hashA + " *" + name + "\n", hashA, ""},
		{"upper case", strings.ToUpper(hashA) + "  " + name, hashA, ""},
		{"hash only", hashA + "\n", hashA, ""},
		{"CRLF", hashA + "  " + name + "\r\n", hashA, ""},
		{"with a directory", hashA + "  out/" + name + "\n", hashA, ""},
		{"picks its line", hashB + "  other.tar.gz\n" + hashA + "  " + name + "\n", hashA, ""},
		{"empty", "", "", "empty"},
		{"blank lines", "\n\n  \n", "", "empty"},
		{"short hash", hashA[:63] + "  " + name, "", "line 1"},
		{"not hex", strings.Repeat("g", 64) + "  " + name, "", "64 hex digits"},
		{"html", "<html><body>404</body></html>", "", "64 hex digits"},
		{"other file", hashA + "  istio-1.30.2-linux-amd64.tar.gz", "", "no hash for " + name},
		{"two unnamed", hashA + "\n" + hashB + "\n", "", "2 lines without a file name"},
		{"conflicting", hashA + "  " + name + "\n" + hashB + "  " + name + "\n", "", "two different hashes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSHA256([]byte(tc.in), name)
			if tc.err != "" {
				if !errors.Is(err, ErrBadChecksumFile) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseSHA256 = %q, %v; want %v containing %q", got, err, ErrBadChecksumFile, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSHA256 = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzParseSHA256: never panics; a hash it returns is 64 lower-case hex
// digits that appear in the input, and an error is ErrBadChecksumFile.
func FuzzParseSHA256(f *testing.F) {
	f.Add([]byte(hashA+"  "+name+"\n"), name)
	f.Add([]byte(hashA+" *"+name), name)
	f.Add([]byte(hashA), "x")
	f.Add([]byte(hashB+"  a\n"+hashA+"  b\n"), "b")
	f.Add([]byte("\r\n\x00"), "")
	f.Fuzz(func(t *testing.T, data []byte, artifact string) {
		got, err := ParseSHA256(data, artifact)
		if err != nil {
			if !errors.Is(err, ErrBadChecksumFile) {
				t.Fatalf("error %v is not ErrBadChecksumFile", err)
			}
			if got != "" {
				t.Fatalf("hash %q returned with an error", got)
			}
			return
		}
		if len(got) != 64 || strings.ToLower(got) != got || !isSHA256Hex(got) {
			t.Fatalf("hash %q is not 64 lower-case hex digits", got)
		}
		if !strings.Contains(strings.ToLower(string(data)), got) {
			t.Fatalf("hash %q does not appear in the input", got)
		}
	})
}
