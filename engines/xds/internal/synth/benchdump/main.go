// Command benchdump writes a synthetic sidecar config dump of N services
// (engines/xds/internal/synth) for CLI-level comparisons:
//
//	go run ./engines/xds/internal/synth/benchdump -services 5000 -out /tmp/dump-5000.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/meshcheck/meshcheck/engines/xds/internal/synth"
)

func main() {
	fs := flag.NewFlagSet("benchdump", flag.ExitOnError)
	n := fs.Int("services", 5000, "number of services")
	out := fs.String("out", "", "output file (required)")
	portOf := fs.Int("port-of", -1, "print the port of service I and exit")
	_ = fs.Parse(os.Args[1:])
	if *portOf >= 0 {
		fmt.Println(synth.Port(*portOf))
		return
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "benchdump: -out is required")
		os.Exit(64)
	}
	b, err := synth.Dump(*n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchdump:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchdump:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d services, %.1f MB\n", *out, *n, float64(len(b))/1e6)
}
