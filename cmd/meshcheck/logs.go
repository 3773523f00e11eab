package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/meshcheck/meshcheck/harness/accesslog"
)

func logsGroup() group {
	return group{name: "logs", summary: "read Envoy/Istio access logs: parse records, join hops into flows", commands: []command{
		{name: "parse", summary: "parse access-log lines into canonical records", usage: logsParseUsage, run: runLogsParse},
		{name: "flows", summary: "join records of several proxies into each request's hops", usage: logsFlowsUsage, run: runLogsFlows},
	}}
}

const logsParseUsage = `
Arguments: FILE... or - for standard input.

--format is auto (detect per line), istio (proxies 1.23+), istio-1.22 (1.9 to
1.22), istio-1.8 (1.8 and earlier), json (Istio's JSON encoding), or any Envoy
format string such as '[%START_TIME%] %RESPONSE_CODE% %UPSTREAM_CLUSTER%'.
Lines of the proxy's own logging are counted and skipped. A line that starts
like an access-log line but does not parse is bad input (exit 65, naming the
file and line).

Examples:
  kubectl logs deploy/productpage-v1 -c istio-proxy | meshcheck logs parse -
  meshcheck logs parse --format json -o json gateway.log
`

const logsFlowsUsage = `
Arguments: FILE..., one per proxy; the proxy is named after the file (up to
the first dot), e.g. productpage.log is productpage.

Records are grouped by x-request-id and each group is ordered into the
request's path: a hop follows the hop that caused it (matched by connection
addresses), so the path reads gateway, productpage inbound, productpage
outbound to reviews, reviews inbound, ...

Examples:
  meshcheck logs flows gateway.log productpage.log reviews.log
  meshcheck logs flows --request-id 6d293d32-af96-9f87-a8e4-6665632f7236 -o json *.log
Exit codes: 0 ok, 1 no flow with --request-id, 64 usage, 65 bad line, 66 cannot read.
`

// readLogs parses each file; the code is non-zero on error.
func readLogs(s streams, format string, files []string, proxyFromName bool) ([]accesslog.Record, int) {
	var all []accesslog.Record
	for _, name := range files {
		data, err := readInput(s, name)
		if err != nil {
			fmt.Fprintf(s.Err, "meshcheck logs: cannot read %s: %v\n", name, err)
			return nil, exitNoInput
		}
		src, proxy := name, ""
		if name == "-" {
			src = "<stdin>"
		}
		if proxyFromName && name != "-" {
			proxy, _, _ = strings.Cut(filepath.Base(name), ".")
		}
		res, err := accesslog.Read(bytes.NewReader(data), accesslog.ReadOptions{Format: format, Source: src, Proxy: proxy})
		if err != nil {
			fmt.Fprintf(s.Err, "meshcheck logs: %v\n", err)
			var le *accesslog.LineError
			if errors.As(err, &le) {
				return nil, exitBadInput
			}
			return nil, exitUsage
		}
		fmt.Fprintf(s.Err, "%s: %d records, %d other lines skipped (format %s)\n", src, len(res.Records), res.Skipped, orDash(res.Profile()))
		all = append(all, res.Records...)
	}
	return all, 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runLogsParse(ctx context.Context, s streams, args []string) int {
	c := logsGroup().commands[0]
	fs := newFlagSet("logs", c, s)
	format := fs.String("format", "auto", "auto, istio, istio-1.22, istio-1.8, json, or an Envoy format string")
	out := outputFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(s, fs, "no input: give FILE... or -")
	}
	if _, err := accesslog.NewParser(*format); err != nil {
		return usageError(s, fs, "--format: %v", err)
	}
	recs, code := readLogs(s, *format, fs.Args(), false)
	if code != 0 {
		return code
	}
	if *out == "json" {
		return writeJSON(s, recs)
	}
	for _, r := range recs {
		fmt.Fprintln(s.Out, r.String())
	}
	return exitOK
}

// flowJSON is one flow in -o json.
type flowJSON struct {
	RequestID string    `json:"request_id"`
	Hops      []hopJSON `json:"hops"`
}

type hopJSON struct {
	Proxy     string           `json:"proxy,omitempty"`
	Direction string           `json:"direction"`
	Parent    int              `json:"parent"` // 1-based hop number of the cause; 0 for none
	Record    accesslog.Record `json:"record"`
}

func runLogsFlows(ctx context.Context, s streams, args []string) int {
	c := logsGroup().commands[1]
	fs := newFlagSet("logs", c, s)
	format := fs.String("format", "auto", "auto, istio, istio-1.22, istio-1.8, json, or an Envoy format string")
	id := fs.String("request-id", "", "show only this request")
	out := outputFlag(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if code, bad := badOutput(s, fs, *out); bad {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(s, fs, "no input: give FILE...")
	}
	if _, err := accesslog.NewParser(*format); err != nil {
		return usageError(s, fs, "--format: %v", err)
	}
	recs, code := readLogs(s, *format, fs.Args(), true)
	if code != 0 {
		return code
	}
	flows := accesslog.Flows(recs)
	if *id != "" {
		f, err := accesslog.FindFlow(flows, *id)
		if err != nil {
			fmt.Fprintf(s.Err, "meshcheck logs flows: %v\n", err)
			return exitFail
		}
		flows = []accesslog.Flow{f}
	}
	if *out == "json" {
		js := make([]flowJSON, 0, len(flows))
		for _, f := range flows {
			fj := flowJSON{RequestID: f.RequestID}
			for _, h := range f.Hops {
				fj.Hops = append(fj.Hops, hopJSON{Proxy: h.Proxy, Direction: h.Cluster.Direction.String(), Parent: h.Parent + 1, Record: h.Record})
			}
			js = append(js, fj)
		}
		return writeJSON(s, js)
	}
	for _, f := range flows {
		fmt.Fprintln(s.Out, f.String())
	}
	return exitOK
}
