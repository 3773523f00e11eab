package xds_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/engines/xds"
	"github.com/meshcheck/meshcheck/engines/xds/internal/synth"
	"github.com/meshcheck/meshcheck/engines/xds/trace"
)

var (
	synthMu    sync.Mutex
	synthDumps = map[int][]byte{}
)

func synthDump(tb testing.TB, n int) []byte {
	tb.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if b, ok := synthDumps[n]; ok {
		return b
	}
	b, err := synth.Dump(n)
	if err != nil {
		tb.Fatal(err)
	}
	synthDumps[n] = b
	return b
}

var benchSizes = []int{100, 1000, 5000}

// lastRequest is a request to the last generated service, through its
// sidecar's outbound listener.
func lastRequest(n int) trace.Request {
	i := n - 1
	return trace.Request{Role: trace.RoleSidecarOutbound, Address: "10.96.0.1", Port: synth.Port(i), Host: synth.Service(i), Path: "/api"}
}

// The synthetic dumps are real enough to trace: the benchmarks measure work
// that gives the right answer.
func TestSynthDumpTraces(t *testing.T) {
	n := 50
	d, err := xds.Parse(synthDump(t, n), xds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 3*n+1 || len(d.Endpoints) != 3*n || len(d.Routes) != len(synth.Ports) {
		t.Fatalf("clusters %d, endpoints %d, routes %d", len(d.Clusters), len(d.Endpoints), len(d.Routes))
	}
	res, err := trace.Trace(d, lastRequest(n))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Routed() || len(res.Clusters) != 2 || res.Clusters[0].Weight != 90 || len(res.Endpoints[res.Clusters[0].Name]) != 2 {
		t.Fatalf("trace:\n%s", res.Text())
	}
}

// peakHeap runs f and returns the most heap the process held meanwhile,
// above what it held before (sampled every 200µs, and at the end).
func peakHeap(f func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	stop, out := make(chan struct{}), make(chan uint64)
	go func() {
		peak := base
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-stop:
				metrics.Read(s)
				out <- max(peak, s[0].Value.Uint64()) - base
				return
			}
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
		}
	}()
	f()
	close(stop)
	return <-out
}

// BenchmarkParseIndex: parse and index a sidecar dump of N services.
// Reported: MB/s, ms per dump, ns per service (linearity), and peak-x: the
// most heap held while parsing, input included, as a multiple of the dump's
// size (target: at most 4 for 5,000 services, in at most 2 s).
func BenchmarkParseIndex(b *testing.B) {
	for _, n := range benchSizes {
		data := synthDump(b, n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var peak uint64
			for i := 0; i < b.N; i++ {
				var d *xds.Dump
				p := peakHeap(func() {
					var err error
					if d, err = xds.Parse(data, xds.Options{}); err != nil {
						b.Fatal(err)
					}
				})
				peak = max(peak, p)
				runtime.KeepAlive(d)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/dump")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/service")
			b.ReportMetric(float64(peak+uint64(len(data)))/float64(len(data)), "peak-x")
			b.ReportMetric(float64(len(data))/1e6, "dump-MB")
		})
	}
}

// BenchmarkTrace: one request through an indexed dump of N services
// (target: at most 1 ms).
func BenchmarkTrace(b *testing.B) {
	for _, n := range benchSizes {
		d, err := xds.Parse(synthDump(b, n), xds.Options{})
		if err != nil {
			b.Fatal(err)
		}
		req := lastRequest(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				res, err := trace.Trace(d, req)
				if err != nil || !res.Routed() {
					b.Fatalf("trace: %v %v", err, res.Text())
				}
			}
		})
	}
}

// BenchmarkParseLazyAndTrace: what `meshcheck xds trace` does: a lazy parse
// (every resource indexed by name, decoded on first lookup) and one trace.
func BenchmarkParseLazyAndTrace(b *testing.B) {
	for _, n := range benchSizes {
		data := synthDump(b, n)
		req := lastRequest(n)
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				d, err := xds.Parse(data, xds.Options{Lazy: true})
				if err != nil {
					b.Fatal(err)
				}
				res, err := trace.Trace(d, req)
				if err != nil || !res.Routed() {
					b.Fatalf("trace: %v %v", err, res.Text())
				}
			}
		})
	}
}
