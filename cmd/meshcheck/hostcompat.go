package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshcheck/meshcheck/build/runcwrap"
)

// hostCompatOptions are the flags of meshcheck kind host-compat.
type hostCompatOptions struct {
	action      string
	daemonJSON  string
	installPath string
	wrapper     string
	wait        time.Duration
	force       bool
	output      outputFormat
}

// hostCompatActions are the actions kind host-compat takes.
var hostCompatActions = []string{"status", "enable", "disable"}

func newKindHostCompatCmd(s streams) *cobra.Command {
	o := &hostCompatOptions{}
	c := &cobra.Command{
		Use:   "host-compat status|enable|disable [flags]",
		Short: "status|enable|disable: the runc wrapper for hosts without CAP_SYS_RESOURCE",
		Long: `kind starts its nodes privileged, which fails on hosts whose capability
bounding set lacks CAP_SYS_RESOURCE ("unable to apply caps: operation not
permitted"). enable, only on such a host, installs the meshcheck-runc wrapper
(--wrapper) at --install-path, makes it Docker's default runtime in
--daemon-json (other keys kept, a backup kept beside it), reloads dockerd
with SIGHUP and waits until docker info agrees. disable undoes exactly that,
and refuses while containers created with the wrapper exist (unless
--force). status prints what is in place. See docs/airgap.md.

Exit codes: 0 done (status: the host is as it should be), 1 failed (status:
the wrapper is needed but not in place, or in place but not needed), 64 usage.`,
		Example: `  meshcheck kind host-compat status
  sudo meshcheck kind host-compat enable --wrapper bin/meshcheck-runc
  sudo meshcheck kind host-compat disable`,
		ValidArgs: hostCompatActions,
		Args:      hostCompatArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.action = args[0]
			if o.wait <= 0 {
				return usageErr("--wait must be positive")
			}
			return hostCompat(cmd.Context(), s, *o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.daemonJSON, "daemon-json", runcwrap.DefaultDaemonJSON, "Docker daemon configuration file")
	f.StringVar(&o.installPath, "install-path", runcwrap.DefaultInstallPath, "where enable installs the wrapper")
	f.StringVar(&o.wrapper, "wrapper", "", "meshcheck-runc binary to install (default: meshcheck-runc beside this executable, else in $PATH)")
	f.DurationVar(&o.wait, "wait", 20*time.Second, "how long to wait for dockerd to apply the change")
	f.BoolVar(&o.force, "force", false, "disable even while containers use the wrapper")
	addOutputFlag(c, &o.output)
	return c
}

// hostCompatArgs wants exactly one action.
func hostCompatArgs(_ *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageErr("want an action: status, enable or disable")
	case !slices.Contains(hostCompatActions, args[0]):
		return usageErr("unknown action %q: want status, enable or disable", args[0])
	case len(args) > 1:
		return usageErr("unexpected arguments %q", args[1:])
	}
	return nil
}

// hostCompatJSON is the JSON output of kind host-compat: what status found
// after the action.
type hostCompatJSON struct {
	Action        string `json:"action"`
	CapBnd        string `json:"capBnd"`
	Missing       bool   `json:"capSysResourceMissing"`
	ConfigDefault string `json:"daemonJSONDefaultRuntime"`
	ConfigPath    string `json:"daemonJSONWrapperPath,omitempty"`
	DockerDefault string `json:"dockerDefaultRuntime,omitempty"`
	DockerErr     string `json:"dockerError,omitempty"`
	InstallPath   string `json:"installPath"`
	Installed     bool   `json:"installed"`
	OK            bool   `json:"ok"`
}

func hostCompat(ctx context.Context, s streams, o hostCompatOptions) error {
	log := s.Out
	if o.output.json() {
		log = s.Err // stdout holds the JSON only
	}
	h := runcwrap.Host{DaemonJSON: o.daemonJSON, InstallPath: o.installPath, Wait: o.wait, Log: log}
	var err error
	switch o.action {
	case "enable":
		if o.wrapper == "" {
			o.wrapper = defaultWrapper()
		}
		_, err = h.Enable(ctx, o.wrapper)
	case "disable":
		_, err = h.Disable(ctx, o.force)
	}
	if err != nil {
		return exitWith(exitFail, err)
	}
	st, err := h.Status(ctx)
	if err != nil {
		return exitWith(exitFail, err)
	}
	if err := writeHostCompat(s, o, st); err != nil {
		return err
	}
	switch {
	case o.action == "disable" && (st.Enabled() || st.DockerDefault == runcwrap.RuntimeName):
		return exitWith(exitFail, fmt.Errorf("the wrapper is still in use (see above)"))
	case o.action == "disable":
		return nil
	case !st.OK() && o.action == "status":
		return exitWith(exitFail, fmt.Errorf("the host is not as it should be (see above; run enable or disable)"))
	case !st.OK():
		return exitWith(exitFail, fmt.Errorf("done, but the host is not as it should be (see above)"))
	}
	return nil
}

// writeHostCompat prints the state status found, as text or JSON.
func writeHostCompat(s streams, o hostCompatOptions, st runcwrap.State) error {
	if !o.output.json() {
		_, err := fmt.Fprint(s.Out, st)
		return err
	}
	j := hostCompatJSON{Action: o.action, CapBnd: fmt.Sprintf("%016x", st.CapBnd), Missing: st.Missing,
		ConfigDefault: st.ConfigDefault, ConfigPath: st.ConfigPath, DockerDefault: st.DockerDefault,
		InstallPath: st.InstallPath, Installed: st.Installed, OK: st.OK()}
	if st.DockerErr != nil {
		j.DockerErr = st.DockerErr.Error()
	}
	return writeJSON(s.Out, j)
}

// defaultWrapper is meshcheck-runc beside this executable, else in $PATH.
func defaultWrapper() string {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "meshcheck-runc")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("meshcheck-runc"); err == nil {
		return p
	}
	return ""
}
