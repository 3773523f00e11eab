package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/engines/accesslog"
)

func newLogsCmd(s streams) *cobra.Command {
	return newGroupCmd("logs", "read Envoy/Istio access logs: parse records, join hops into flows",
		newLogsParseCmd(s),
		newLogsFlowsCmd(s),
	)
}

// logsOptions are the flags both logs commands take.
type logsOptions struct {
	format string
	output outputFormat
}

func (o *logsOptions) addFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.format, "format", "auto", "auto, istio, istio-1.22, istio-1.8, json, or an Envoy format string")
	completeFlag(c, "format", "auto", "istio", "istio-1.22", "istio-1.8", "json")
	addOutputFlag(c, &o.output)
}

// read checks --format and parses each file; proxyFromName names each
// record's proxy after its file.
func (o *logsOptions) read(s streams, files []string, proxyFromName bool) ([]accesslog.Record, error) {
	if _, err := accesslog.NewParser(o.format); err != nil {
		return nil, usageErr("--format: %w", err)
	}
	var all []accesslog.Record
	for _, name := range files {
		recs, err := readLog(s, o.format, name, proxyFromName)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	return all, nil
}

// readLog parses one file, reporting its counts on stderr.
func readLog(s streams, format, name string, proxyFromName bool) ([]accesslog.Record, error) {
	data, err := readInput(s, name)
	if err != nil {
		return nil, exitWith(exitNoInput, fmt.Errorf("cannot read %s: %w", name, err))
	}
	src, proxy := inputLabel(name), ""
	if proxyFromName && name != "-" {
		proxy, _, _ = strings.Cut(filepath.Base(name), ".")
	}
	res, err := accesslog.Read(bytes.NewReader(data), accesslog.ReadOptions{Format: format, Source: src, Proxy: proxy})
	if err != nil {
		var le *accesslog.LineError
		if errors.As(err, &le) {
			return nil, exitWith(exitBadInput, err)
		}
		return nil, usageErr("%w", err)
	}
	fmt.Fprintf(s.Err, "%s: %d records, %d other lines skipped (format %s)\n", src, len(res.Records), res.Skipped, orDash(res.Profile()))
	return res.Records, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// needFiles requires at least one input argument.
func needFiles(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErr("no input: give %s", what)
		}
		return nil
	}
}

func newLogsParseCmd(s streams) *cobra.Command {
	o := &logsOptions{}
	c := &cobra.Command{
		Use:   "parse FILE... [flags]",
		Short: "parse access-log lines into canonical records",
		Long: `Arguments: FILE... or - for standard input.

--format is auto (detect per line), istio (proxies 1.23+), istio-1.22 (1.9 to
1.22), istio-1.8 (1.8 and earlier), json (Istio's JSON encoding), or any Envoy
format string such as '[%START_TIME%] %RESPONSE_CODE% %UPSTREAM_CLUSTER%'.
Lines of the proxy's own logging are counted and skipped. A line that starts
like an access-log line but does not parse is bad input (exit 65, naming the
file and line).`,
		Example: `  kubectl logs deploy/productpage-v1 -c istio-proxy | meshcheck logs parse -
  meshcheck logs parse gateway.json.log --format json -o json`,
		Args: needFiles("FILE... or -"),
		RunE: func(_ *cobra.Command, args []string) error {
			recs, err := o.read(s, args, false)
			if err != nil {
				return err
			}
			if o.output.json() {
				return writeJSON(s.Out, recs)
			}
			for _, r := range recs {
				fmt.Fprintln(s.Out, r.String())
			}
			return nil
		},
	}
	o.addFlags(c)
	return c
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

// flowsOptions are the flags of logs flows.
type flowsOptions struct {
	logsOptions
	requestID string
}

func newLogsFlowsCmd(s streams) *cobra.Command {
	o := &flowsOptions{}
	c := &cobra.Command{
		Use:   "flows FILE... [flags]",
		Short: "join records of several proxies into each request's hops",
		Long: `Arguments: FILE..., one per proxy; the proxy is named after the file (up to
the first dot), e.g. productpage.log is productpage.

Records are grouped by x-request-id and each group is ordered into the
request's path: a hop follows the hop that caused it (matched by connection
addresses), so the path reads gateway, productpage inbound, productpage
outbound to reviews, reviews inbound, ...

Exit codes: 0 ok, 1 no flow with --request-id, 64 usage, 65 bad line, 66 cannot read.`,
		Example: `  meshcheck logs flows gateway.log productpage.log reviews.log
  meshcheck logs flows gateway.log productpage.log reviews.log --request-id meshcheck-live-0002 -o json`,
		Args: needFiles("FILE..."),
		RunE: func(_ *cobra.Command, args []string) error { return o.run(s, args) },
	}
	o.addFlags(c)
	c.Flags().StringVar(&o.requestID, "request-id", "", "show only this request")
	return c
}

func (o *flowsOptions) run(s streams, files []string) error {
	recs, err := o.read(s, files, true)
	if err != nil {
		return err
	}
	flows := accesslog.Flows(recs)
	if o.requestID != "" {
		f, err := accesslog.FindFlow(flows, o.requestID)
		if err != nil {
			return exitWith(exitFail, err)
		}
		flows = []accesslog.Flow{f}
	}
	if !o.output.json() {
		for _, f := range flows {
			fmt.Fprintln(s.Out, f.String())
		}
		return nil
	}
	js := make([]flowJSON, 0, len(flows))
	for _, f := range flows {
		fj := flowJSON{RequestID: f.RequestID}
		for _, h := range f.Hops {
			fj.Hops = append(fj.Hops, hopJSON{Proxy: h.Proxy, Direction: h.Cluster.Direction.String(), Parent: h.Parent + 1, Record: h.Record})
		}
		js = append(js, fj)
	}
	return writeJSON(s.Out, js)
}
