package envoylab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshcheck/meshcheck/internal/envoybin"
)

// Timeouts bounds every wait of the lab.
type Timeouts struct {
	// Ready is how long Envoy may take to answer LIVE on /ready.
	Ready time.Duration
	// Request bounds one request through Envoy.
	Request time.Duration
	// Log is how long the lab waits for a request's access-log line.
	Log time.Duration
	// Stop is how long Envoy may take to exit after SIGTERM.
	Stop time.Duration
}

// DefaultTimeouts are generous for a loaded two-core machine.
var DefaultTimeouts = Timeouts{Ready: 30 * time.Second, Request: 5 * time.Second, Log: 5 * time.Second, Stop: 5 * time.Second}

// Lab is a running Envoy serving one case, with its echo servers.
type Lab struct {
	Case *Case
	// Port is the listener's port on 127.0.0.1.
	Port     int
	admin    string
	dir      string
	cmd      *exec.Cmd
	exited   chan struct{}
	output   *envoybin.Output
	echoes   map[string]*echoServer
	timeouts Timeouts
	client   *http.Client
	nextID   atomic.Int64
}

var baseID atomic.Int64

// Start runs Envoy (the binary at envoy) for c, writing its files under
// dir. Close stops it. The listener's port is picked free just before Envoy
// binds it; when another process takes it in between, Start tries again
// with another port (three times in all).
func Start(ctx context.Context, envoy string, c *Case, dir string, to Timeouts) (*Lab, error) {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		sub := filepath.Join(dir, fmt.Sprintf("attempt-%d", attempt))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, fmt.Errorf("lab directory: %w", err)
		}
		l := newLab(c, sub, to)
		if err = l.start(ctx, envoy); err == nil {
			return l, nil
		}
		l.Close()
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	return nil, err
}

func newLab(c *Case, dir string, to Timeouts) *Lab {
	l := &Lab{Case: c, dir: dir, echoes: map[string]*echoServer{}, output: &envoybin.Output{}, timeouts: to, exited: make(chan struct{})}
	l.client = &http.Client{
		Timeout:       to.Request,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil,
			// The lab's listener has a throwaway self-signed certificate.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	return l
}

func (l *Lab) start(ctx context.Context, envoy string) error {
	for _, cs := range l.Case.clusterSpecs() {
		if cs.Kind == KindEcho || cs.Kind == KindDNS {
			e, err := startEcho(cs.Name)
			if err != nil {
				return err
			}
			l.echoes[cs.Name] = e
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	l.Port = port
	var tlsSocket map[string]any
	if l.Case.TLS {
		cert, key, err := selfSigned()
		if err != nil {
			return err
		}
		tlsSocket = tlsTransportSocket(cert, key)
	}
	cfg, err := json.MarshalIndent(bootstrap(l.Case, port, filepath.Join(l.dir, "access.log"), l.echoes, tlsSocket), "", "  ")
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	cfgPath, adminPath := filepath.Join(l.dir, "envoy.json"), filepath.Join(l.dir, "admin.address")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	id := int64(os.Getpid())%100000*100 + baseID.Add(1)%100
	l.cmd = exec.Command(envoy, "-c", cfgPath, "--base-id", strconv.FormatInt(id, 10), "--disable-hot-restart",
		"--concurrency", "1", "--log-level", "warn", "--file-flush-interval-msec", "10", "--admin-address-path", adminPath)
	l.cmd.Stdout, l.cmd.Stderr = l.output, l.output
	if err := l.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", envoy, err)
	}
	go func() { _ = l.cmd.Wait(); close(l.exited) }()
	return l.waitReady(ctx, adminPath)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits for the admin address file, then for /ready to say LIVE.
func (l *Lab) waitReady(ctx context.Context, adminPath string) error {
	ctx, cancel := context.WithTimeout(ctx, l.timeouts.Ready)
	defer cancel()
	last := errors.New("no admin address yet")
	for {
		if b, err := os.ReadFile(adminPath); err == nil && len(bytes.TrimSpace(b)) > 0 {
			l.admin = strings.TrimSpace(string(b))
			body, err := l.adminGet(ctx, "/ready")
			if err == nil && strings.TrimSpace(body) == "LIVE" {
				return nil
			}
			last = fmt.Errorf("/ready: %q (%v)", strings.TrimSpace(body), err)
		}
		select {
		case <-l.exited:
			return fmt.Errorf("envoy exited before it was ready (%v); its output:\n%s", l.cmd.ProcessState, l.output.String())
		case <-ctx.Done():
			return fmt.Errorf("envoy not ready within %s (last: %w); its output:\n%s", l.timeouts.Ready, last, l.output.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *Lab) adminGet(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+l.admin+path, nil)
	if err != nil {
		return "", fmt.Errorf("admin %s: %w", path, err)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("admin %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("admin %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("admin %s: status %d", path, resp.StatusCode)
	}
	return string(b), nil
}

// ConfigDump is Envoy's /config_dump?include_eds: what it actually holds.
func (l *Lab) ConfigDump(ctx context.Context) ([]byte, error) {
	s, err := l.adminGet(ctx, "/config_dump?include_eds")
	return []byte(s), err
}

// Output is what Envoy logged so far.
func (l *Lab) Output() string { return l.output.String() }

// Close stops Envoy (SIGTERM, then SIGKILL after Timeouts.Stop) and the echo
// servers.
func (l *Lab) Close() {
	if l.cmd != nil && l.cmd.Process != nil {
		_ = l.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-l.exited:
		case <-time.After(l.timeouts.Stop):
			_ = l.cmd.Process.Kill()
			<-l.exited
		}
	}
	for _, e := range l.echoes {
		e.close()
	}
}

// logLine is one access-log line.
type logLine struct {
	ID      string `json:"id"`
	Details string `json:"details"`
	Flags   string `json:"flags"`
	Route   string `json:"route"`
	Cluster string `json:"cluster"`
}

// accessLog waits for the access-log line of request id.
func (l *Lab) accessLog(id string) (logLine, error) {
	deadline := time.Now().Add(l.timeouts.Log)
	for {
		if line, ok := l.findLog(id); ok {
			return line, nil
		}
		if time.Now().After(deadline) {
			return logLine{}, fmt.Errorf("no access-log line for request %s within %s", id, l.timeouts.Log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *Lab) findLog(id string) (logLine, bool) {
	f, err := os.Open(filepath.Join(l.dir, "access.log"))
	if err != nil {
		return logLine{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ll logLine
		if json.Unmarshal(sc.Bytes(), &ll) == nil && ll.ID == id {
			return ll, true
		}
	}
	return logLine{}, false
}
