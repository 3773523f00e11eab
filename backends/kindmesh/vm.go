package kindmesh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/meshcheck/meshcheck/backends/backend"
	"github.com/meshcheck/meshcheck/backends/kindmesh/kindcluster"
)

// KindNetwork is the Docker network kind puts its nodes on.
const KindNetwork = "kind"

// VMOptions describe one VM container.
type VMOptions struct {
	// Namespace and Name identify the VM as a workload (the WorkloadEntry's).
	Namespace, Name string
	// Image and Command run the VM's app; Port is the TCP port it serves,
	// waited for before StartVM returns.
	Image   string
	Command []string
	Port    int
	// Network is the Docker network (default KindNetwork).
	Network string
	// Labels are the container's Docker labels (the run's, for cleanup).
	Labels map[string]string
}

// VM is a running VM container.
type VM struct {
	opts VMOptions
	c    testcontainers.Container
	ip   string
}

// IP is the VM's address on its network.
func (v *VM) IP() string { return v.ip }

// ContainerID is the Docker container's ID.
func (v *VM) ContainerID() string { return v.c.GetContainerID() }

// Workload is the VM as the backend reports it (no proxy).
func (v *VM) Workload() backend.Workload {
	return backend.Workload{Namespace: v.opts.Namespace, Name: v.opts.Name, IP: v.ip, Ports: []int{v.opts.Port}}
}

// Stop removes the container.
func (v *VM) Stop(ctx context.Context) error {
	if err := testcontainers.TerminateContainer(v.c, testcontainers.StopContext(ctx)); err != nil {
		return fmt.Errorf("kindmesh: stopping VM %s/%s (container %s): %w", v.opts.Namespace, v.opts.Name, v.ContainerID(), err)
	}
	return nil
}

// StartVMContainer starts a VM as a container with testcontainers-go on a
// Docker network and waits until its port accepts connections. The image
// must be local: nothing is pulled. testcontainers-go's reaper container
// (ryuk) is an image of its own that cannot be pulled offline, so unless
// TESTCONTAINERS_RYUK_DISABLED is set it is turned off here; meshcheck
// stops its containers itself (Stop, Backend.Down).
func StartVMContainer(ctx context.Context, opts VMOptions) (*VM, error) {
	if opts.Image == "" || opts.Namespace == "" || opts.Name == "" || opts.Port <= 0 {
		return nil, fmt.Errorf("kindmesh: VM %s/%s: image %q and port %d are required", opts.Namespace, opts.Name, opts.Image, opts.Port)
	}
	if opts.Network == "" {
		opts.Network = KindNetwork
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	req := testcontainers.ContainerRequest{
		Image:    opts.Image,
		Cmd:      opts.Command,
		Networks: []string{opts.Network},
		Labels:   opts.Labels,
	}
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true, Logger: quiet{}})
	if err != nil {
		if c != nil {
			_ = testcontainers.TerminateContainer(c)
		}
		return nil, fmt.Errorf("kindmesh: starting VM %s/%s from %s %s on network %s: %w", opts.Namespace, opts.Name, opts.Image, strings.Join(opts.Command, " "), opts.Network, err)
	}
	insp, err := c.Inspect(ctx)
	if err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, fmt.Errorf("kindmesh: VM %s/%s: %w", opts.Namespace, opts.Name, err)
	}
	v := &VM{opts: opts, c: c}
	ep := insp.NetworkSettings.Networks[opts.Network]
	if ep == nil || ep.IPAddress == "" {
		err := v.exited(ctx, "getting an address")
		if err == nil {
			err = fmt.Errorf("kindmesh: VM %s/%s has no IPv4 address on network %s", opts.Namespace, opts.Name, opts.Network)
		}
		_ = testcontainers.TerminateContainer(c)
		return nil, err
	}
	v.ip = ep.IPAddress
	if err := v.waitListening(ctx); err != nil {
		_ = testcontainers.TerminateContainer(c)
		return nil, err
	}
	return v, nil
}

// waitListening dials the VM's port from the host (Linux reaches Docker
// networks directly) until it answers; the VM's image may have no shell
// for an in-container check, and no port is published.
func (v *VM) waitListening(ctx context.Context) error {
	addr := net.JoinHostPort(v.ip, strconv.Itoa(v.opts.Port))
	var last error
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		last = err
		if err := v.exited(ctx, "listening on "+addr); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kindmesh: VM %s/%s not listening on %s: %w (last dial: %v)", v.opts.Namespace, v.opts.Name, addr, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// exited returns an error with the exit code and output when the VM's
// container is no longer running, nil while it runs.
func (v *VM) exited(ctx context.Context, before string) error {
	st, err := v.c.State(ctx)
	if err != nil || st.Running {
		return nil
	}
	logs := ""
	if r, err := v.c.Logs(ctx); err == nil {
		b, _ := io.ReadAll(io.LimitReader(r, 4000))
		r.Close()
		logs = string(b)
	}
	return fmt.Errorf("kindmesh: VM %s/%s exited (code %d) before %s; its output: %s", v.opts.Namespace, v.opts.Name, st.ExitCode, before, strings.TrimSpace(logs))
}

// quiet drops testcontainers-go's progress lines.
type quiet struct{}

func (quiet) Printf(string, ...any) {}

// vmSet is the backend's VMs.
type vmSet struct {
	mu  sync.Mutex
	vms map[string]*VM
}

func newVMSet() *vmSet { return &vmSet{vms: map[string]*VM{}} }

func (s *vmSet) add(v *VM) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vms[v.opts.Namespace+"/"+v.opts.Name] = v
}

func (s *vmSet) workloads() []backend.Workload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]backend.Workload, 0, len(s.vms))
	for _, v := range s.vms {
		out = append(out, v.Workload())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (s *vmSet) stopAll(ctx context.Context) error {
	s.mu.Lock()
	vms := s.vms
	s.vms = map[string]*VM{}
	s.mu.Unlock()
	var errs []error
	for _, v := range vms {
		errs = append(errs, v.Stop(ctx))
	}
	return errors.Join(errs...)
}

// StartVM starts the VM named namespace/name as a container on the kind
// network with Options.VMImage, serving on port 80 as the vm fixture's
// WorkloadEntry expects.
func (b *Backend) StartVM(ctx context.Context, namespace, name string) (backend.Workload, error) {
	if b.cluster == nil {
		return backend.Workload{}, errors.New("kindmesh: StartVM before Up")
	}
	cmd := make([]string, 0, len(b.opts.VMCommand))
	for _, a := range b.opts.VMCommand {
		cmd = append(cmd, strings.ReplaceAll(a, "{name}", name))
	}
	ctx, cancel := context.WithTimeout(ctx, b.tmo.Rollout)
	defer cancel()
	v, err := StartVMContainer(ctx, VMOptions{
		Namespace: namespace, Name: name, Image: b.opts.VMImage, Command: cmd, Port: 80,
		Labels: map[string]string{kindcluster.OwnerLabel: b.cluster.Name()},
	})
	if err != nil {
		return backend.Workload{}, err
	}
	b.vms.add(v)
	return v.Workload(), nil
}
