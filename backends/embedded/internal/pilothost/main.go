// Command pilothost (installed as meshcheck-pilot) is the embedded
// backend's control plane: Istio's real pilot (pilot/test/xds's
// FakeDiscoveryServer over a fake Kubernetes clientset and an in-memory
// config store) serving ADS on a Unix socket, driven over a second socket
// by the embedded backend (package pilotapi). It runs as a process of its
// own so that it can be built against any Istio source (pilotbuild) and
// so that pilot's environment, which pilot reads when the process starts,
// is set by whoever starts it. Kubernetes Gateway API objects go into the
// fake clientset's Gateway API client, where pilot's own gateway controller
// reads them, as in istiod (gatewayapi.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"istio.io/istio/pilot/pkg/features"

	"github.com/meshcheck/meshcheck/backends/embedded/internal/pilotapi"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "meshcheck-pilot:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("meshcheck-pilot", flag.ContinueOnError)
	control := fs.String("control", "", "Unix socket the embedded backend drives this control plane on")
	xdsSocket := fs.String("xds", "", "Unix socket ADS is served on")
	grace := fs.Duration("event-grace", 2*time.Second, "how long an apply that changes nothing is awaited as a config event")
	debounce := fs.Duration("debounce", 0, "pilot's push debounce")
	source := fs.String("source", "", "the Istio source identity this binary was built for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *control == "" || *xdsSocket == "" {
		return errors.New("--control and --xds are required")
	}
	cp, err := StartControlPlane(ControlPlaneOptions{Socket: *xdsSocket, EventGrace: *grace, Debounce: *debounce})
	if err != nil {
		return err
	}
	defer cp.Close()
	_ = os.Remove(*control)
	ln, err := net.Listen("unix", *control)
	if err != nil {
		return err
	}
	defer os.Remove(*control)
	srv := &http.Server{Handler: handler(cp, info(*source, *xdsSocket)), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// info is what the process says of itself: the Istio module it links and
// the pilot settings it read at start.
func info(source, xdsSocket string) pilotapi.Info {
	i := pilotapi.Info{Source: source, XDS: xdsSocket, Env: map[string]string{
		"PILOT_ENABLE_ALPN_FILTER":       fmt.Sprint(features.ALPNFilter),
		"PILOT_ENABLE_METADATA_EXCHANGE": fmt.Sprint(features.MetadataExchange),
	}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		i.Go = bi.GoVersion
		for _, d := range bi.Deps {
			if d.Path == "istio.io/istio" {
				i.Istio = d.Version
				if d.Replace != nil {
					i.Istio = d.Replace.Path + " " + d.Replace.Version
				}
			}
		}
	}
	return i
}

func handler(cp *ControlPlane, self pilotapi.Info) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pilotapi.PathInfo, func(w http.ResponseWriter, r *http.Request) { reply(w, self, nil) })
	mux.HandleFunc("GET "+pilotapi.PathSync, func(w http.ResponseWriter, r *http.Request) { reply(w, cp.Sync(), nil) })
	mux.HandleFunc("POST "+pilotapi.PathApply, func(w http.ResponseWriter, r *http.Request) {
		var a pilotapi.Apply
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			reply(w, nil, fmt.Errorf("apply: %w", err))
			return
		}
		reply(w, struct{}{}, apply(r.Context(), cp, a))
	})
	mux.HandleFunc("POST "+pilotapi.PathDelete, func(w http.ResponseWriter, r *http.Request) {
		var d pilotapi.Delete
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			reply(w, nil, fmt.Errorf("delete: %w", err))
			return
		}
		reply(w, struct{}{}, remove(r.Context(), cp, d))
	})
	return mux
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		v = pilotapi.Error{Error: err.Error()}
	}
	_ = json.NewEncoder(w).Encode(v)
}
