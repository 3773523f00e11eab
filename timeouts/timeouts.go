// Package timeouts holds every wait and deadline meshcheck uses, in one
// documented struct. Callers start from Default() and override single fields;
// nothing in meshcheck hard-codes a wait elsewhere.
package timeouts

import (
	"fmt"
	"reflect"
	"time"
)

// Timeouts is every wait meshcheck uses, one field per wait, each a
// time.Duration (WithDefaults and Validate walk the fields). A zero field
// means "use the default" (see WithDefaults).
type Timeouts struct {
	// Request bounds one HTTP request, from dial to the last body byte.
	Request time.Duration

	// Convergence bounds the wait for a route to converge: the time in which
	// the required number of successes in a row must be seen.
	Convergence time.Duration

	// ConvergenceInterval is the pause between two attempts while waiting for
	// convergence.
	ConvergenceInterval time.Duration

	// SplitSampling bounds the whole sampling of a weighted split, from the
	// first request until the statistical test decides.
	SplitSampling time.Duration

	// ProxySync bounds the wait for every proxy to be live and to have ACKed
	// the config pilot last sent it.
	ProxySync time.Duration

	// AccessLogFlush bounds the wait for a request's access-log line to
	// appear in a proxy's log: Envoy writes its log file asynchronously
	// (the embedded mesh flushes every 500 ms, istio-agent's sidecars every
	// second), so a log read right after a request can miss the line.
	AccessLogFlush time.Duration

	// ProxyStop bounds how long a stopping Envoy may drain before it is
	// killed (embedded mesh teardown).
	ProxyStop time.Duration

	// PilotEvent bounds how long the embedded control plane waits for the
	// config event of an apply before taking it as a no-op (an object
	// applied unchanged produces no event).
	PilotEvent time.Duration
	// PilotStart bounds the start of the embedded control plane's process
	// until it answers on its control socket.
	PilotStart time.Duration
	// PilotBuild bounds a build of the embedded control plane against an
	// Istio source (a cached one takes no time; a cold build of another
	// Istio module about 8 minutes on 2 cores).
	PilotBuild time.Duration
	// AppCall bounds one call from Bookinfo's productpage to details,
	// reviews or ratings. Upstream productpage uses 3 s per attempt and
	// tries reviews twice; fault-injection results depend on it.
	AppCall time.Duration

	// AppRatingsBlack bounds the call from Bookinfo's reviews to ratings in
	// the black-star version (v2); upstream reviews uses 10 s.
	AppRatingsBlack time.Duration

	// AppRatingsRed bounds the call from Bookinfo's reviews to ratings in
	// the red-star version (v3); upstream reviews uses 2.5 s.
	AppRatingsRed time.Duration

	// AppShutdown bounds the drain of in-flight requests when a sample app
	// (meshcheck workload run) is told to stop.
	AppShutdown time.Duration

	// ReleaseDownload bounds the download of one Istio release artifact
	// (an istioctl or full release archive and its .sha256), from the
	// request to the last byte. The full archive is about 30 MB.
	ReleaseDownload time.Duration

	// Preflight bounds each precondition probe before a kind run: the
	// Docker daemon's ping and the HEAD request on the release URL. It is
	// short on purpose: make e2e must stop at once when either is missing.
	Preflight time.Duration

	// ClusterReady bounds kind's wait for the control-plane node to be
	// Ready after the node containers start.
	ClusterReady time.Duration

	// IstioInstall bounds istioctl install (it waits for istiod and the
	// gateways itself) and istioctl uninstall.
	IstioInstall time.Duration

	// Rollout bounds the wait for a fixture's Deployments to be available
	// on a cluster (image import, init container, sidecar start, readiness).
	Rollout time.Duration

	// ClusterCommand bounds one command on a cluster: an exec into a pod,
	// a command in a node container, a port-forward, a log read.
	ClusterCommand time.Duration

	// ClusterDelete bounds deleting a kind cluster and exporting its logs.
	ClusterDelete time.Duration
}

// Default returns the defaults for every wait.
func Default() Timeouts {
	return Timeouts{
		Request:             10 * time.Second,
		Convergence:         60 * time.Second,
		ConvergenceInterval: 250 * time.Millisecond,
		SplitSampling:       5 * time.Minute,
		ProxySync:           30 * time.Second,
		PilotEvent:          2 * time.Second,
		PilotStart:          time.Minute,
		PilotBuild:          20 * time.Minute,
		ProxyStop:           3 * time.Second,
		AccessLogFlush:      10 * time.Second,
		AppCall:             3 * time.Second,
		AppRatingsBlack:     10 * time.Second,
		AppRatingsRed:       2500 * time.Millisecond,
		AppShutdown:         5 * time.Second,
		ReleaseDownload:     10 * time.Minute,
		Preflight:           5 * time.Second,
		ClusterReady:        2 * time.Minute,
		IstioInstall:        5 * time.Minute,
		Rollout:             3 * time.Minute,
		ClusterCommand:      30 * time.Second,
		ClusterDelete:       2 * time.Minute,
	}
}

// WithDefaults returns t with every zero field set from Default().
func (t Timeouts) WithDefaults() Timeouts {
	d := reflect.ValueOf(Default())
	v := reflect.ValueOf(&t).Elem()
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(d.Field(i))
		}
	}
	return t
}

// Validate reports a negative wait, naming the field.
func (t Timeouts) Validate() error {
	v := reflect.ValueOf(t)
	for i := range v.NumField() {
		if d := time.Duration(v.Field(i).Int()); d < 0 {
			return fmt.Errorf("timeouts: %s is negative (%v)", v.Type().Field(i).Name, d)
		}
	}
	return nil
}
