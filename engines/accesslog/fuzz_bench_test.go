package accesslog

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func FuzzCompile(f *testing.F) {
	for _, p := range profiles {
		if p.Format != "" {
			f.Add(p.Format)
		}
	}
	f.Add(`%START_TIME(%Y-%m-%dT%H:%M:%S%z)% %REQ(X-B3-TRACEID):16% 100%% %RESPONSE_CODE%`)
	f.Add(`%A%%B%-%C(x?y):3%`)
	f.Fuzz(func(t *testing.T, format string) {
		fm, err := Compile(format)
		if err != nil {
			return
		}
		ops := fm.Operators()
		if len(ops) == 0 {
			t.Fatalf("compiled %q without operators", format)
		}
		// A line with every value absent ("-") parses when every operator
		// is followed by a literal free of '-' and newlines.
		var b strings.Builder
		simple := true
		for i, s := range fm.segs {
			if s.op != nil {
				b.WriteString("-")
				if i+1 < len(fm.segs) && fm.segs[i+1].op != nil {
					simple = false
				}
				continue
			}
			if strings.ContainsAny(s.lit, "-\n\r") {
				simple = false
			}
			b.WriteString(s.lit)
		}
		p := &Parser{cands: []candidate{{name: "custom", format: fm}}}
		r, ok, err := p.ParseLine(b.String())
		if simple && (!ok || err != nil) {
			t.Fatalf("format %q: the all-absent line %q: ok=%v err=%v", format, b.String(), ok, err)
		}
		if ok && r.present != 0 && simple {
			t.Fatalf("format %q: all-absent line gave present fields %b", format, r.present)
		}
	})
}

func FuzzParseLine(f *testing.F) {
	for _, name := range []string{"testdata/seed001_istio.log", "testdata/envoy/gateway.istio.log", "testdata/envoy/productpage.json.log"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f.Add(l)
		}
	}
	f.Add(line18)
	f.Add(`[2026-11-21 06:26:24.985][22564][info][main] initializing`)
	f.Fuzz(func(t *testing.T, line string) {
		p, _ := NewParser("")
		r, ok, err := p.ParseLine(line)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("ok with an error: %v", err)
		}
		b, _ := r.MarshalJSON()
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %s", b)
		}
		if r.present == 0 && len(r.Extra) == 0 {
			return // a line of dashes: nothing to read back
		}
		// The canonical JSON reads back to the same record.
		back, ok, err := p.ParseLine(string(b))
		if !ok || err != nil {
			t.Fatalf("JSON %s does not read back: ok=%v err=%v", b, ok, err)
		}
		if b2, _ := back.MarshalJSON(); string(b2) != string(b) {
			t.Fatalf("round trip:\n %s\n %s", b, b2)
		}
	})
}

func benchLines(b *testing.B, files ...string) []string {
	var lines []string
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(string(data)), "\n")...)
	}
	return lines
}

func benchParse(b *testing.B, format string, lines []string) {
	p, err := NewParser(format)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok, err := p.ParseLine(lines[i%len(lines)]); !ok || err != nil {
			b.Fatalf("line %d: ok=%v err=%v", i%len(lines), ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseText is the target: at least 200,000 lines per
// second per core (the benchmark runs on one goroutine).
func BenchmarkParseText(b *testing.B) {
	lines := benchLines(b, "testdata/seed001_istio.log", "testdata/envoy/gateway.istio.log",
		"testdata/envoy/productpage.istio.log", "testdata/envoy/reviews.istio.log")
	b.Run("auto", func(b *testing.B) { benchParse(b, "", lines) })
	b.Run("istio", func(b *testing.B) { benchParse(b, "istio", lines) })
}

func BenchmarkParseJSON(b *testing.B) {
	lines := benchLines(b, "testdata/envoy/gateway.json.log", "testdata/envoy/productpage.json.log", "testdata/envoy/reviews.json.log")
	b.Run("auto", func(b *testing.B) { benchParse(b, "", lines) })
}
