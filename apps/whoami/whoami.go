package whoami

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Options configures one whoami app.
type Options struct {
	// Hostname is printed as "Hostname: "; empty takes the host's name
	// (os.Hostname), as upstream does. Set it to the pod's name: a network
	// namespace shares the host's name.
	Hostname string
	// Name, when set, is printed first as "Name: " (upstream's --name or
	// WHOAMI_NAME).
	Name string
	// IPs are printed as "IP: " lines; nil lists the addresses of the
	// interfaces this process sees (its network namespace), on every
	// request, as upstream does.
	IPs []string
}

// Info is what /api answers; the keys are upstream's.
type Info struct {
	Hostname   string      `json:"hostname,omitempty"`
	IP         []string    `json:"ip,omitempty"`
	Headers    http.Header `json:"headers,omitempty"`
	URL        string      `json:"url,omitempty"`
	Host       string      `json:"host,omitempty"`
	Method     string      `json:"method,omitempty"`
	Name       string      `json:"name,omitempty"`
	RemoteAddr string      `json:"remoteAddr,omitempty"`
}

// New returns the whoami app:
//
//   - any path not below: the text output; ?wait=<duration> delays the
//     answer (cut short when the client goes away).
//   - /api: Info as JSON, with CORS headers allowing any origin.
//   - /health: GET answers the current status with no body; POST with a
//     status code as the JSON body (such as 503) sets it. Codes outside
//     200-599 are refused with 400.
//   - /bench: "1".
func New(o Options) http.Handler {
	a := &app{o: o, health: http.StatusOK}
	mux := http.NewServeMux()
	mux.HandleFunc("/", a.whoami)
	mux.HandleFunc("/api", a.api)
	mux.HandleFunc("/health", a.healthz)
	mux.HandleFunc("/bench", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "1")
	})
	return mux
}

type app struct {
	o      Options
	mu     sync.Mutex
	health int
}

func (a *app) hostname() string {
	if a.o.Hostname != "" {
		return a.o.Hostname
	}
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}

func (a *app) ips() []string {
	if a.o.IPs != nil {
		return a.o.IPs
	}
	return InterfaceIPs()
}

// InterfaceIPs lists the addresses of every interface this process sees,
// in the order the system reports them; an interface whose addresses
// cannot be read is skipped.
func InterfaceIPs() []string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []string
	for _, i := range ifaces {
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, addr := range addrs {
			switch v := addr.(type) {
			case *net.IPNet:
				out = append(out, v.IP.String())
			case *net.IPAddr:
				out = append(out, v.IP.String())
			}
		}
	}
	return out
}

func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	if wait := r.URL.Query().Get("wait"); wait != "" {
		if d, err := time.ParseDuration(wait); err == nil && d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
	}
	if a.o.Name != "" {
		fmt.Fprintln(w, "Name:", a.o.Name)
	}
	fmt.Fprintln(w, "Hostname:", a.hostname())
	for _, ip := range a.ips() {
		fmt.Fprintln(w, "IP:", ip)
	}
	fmt.Fprintln(w, "RemoteAddr:", r.RemoteAddr)
	// The request in wire format, as the standard library writes it: the
	// request line, Host, User-Agent, the other headers sorted, the body.
	if err := r.Write(w); err != nil {
		fmt.Fprintf(w, "\nerror writing the request: %v\n", err)
	}
}

func (a *app) api(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "*")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Info{
		Hostname:   a.hostname(),
		IP:         a.ips(),
		Headers:    r.Header,
		URL:        r.URL.RequestURI(),
		Host:       r.Host,
		Method:     r.Method,
		Name:       a.o.Name,
		RemoteAddr: r.RemoteAddr,
	})
}

func (a *app) healthz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		a.mu.Lock()
		code := a.health
		a.mu.Unlock()
		w.WriteHeader(code)
		return
	}
	var code int
	if err := json.NewDecoder(io.LimitReader(r.Body, 1024)).Decode(&code); err != nil {
		http.Error(w, fmt.Sprintf("want a status code as the JSON body: %v", err), http.StatusBadRequest)
		return
	}
	if code < 200 || code > 599 {
		http.Error(w, fmt.Sprintf("status code %d: want 200 to 599", code), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.health = code
	a.mu.Unlock()
}
