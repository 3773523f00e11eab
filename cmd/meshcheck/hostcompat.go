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

	"github.com/meshcheck/meshcheck/harness/hostcompat"
)

// hostCompatOptions are the flags of meshcheck kind host-compat.
type hostCompatOptions struct {
	action      string
	daemonJSON  string
	installPath string
	wrapper     string
	wait        time.Duration
	force       bool
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
			return exitCode(hostCompat(cmd.Context(), s, *o))
		},
	}
	f := c.Flags()
	f.StringVar(&o.daemonJSON, "daemon-json", hostcompat.DefaultDaemonJSON, "Docker daemon configuration file")
	f.StringVar(&o.installPath, "install-path", hostcompat.DefaultInstallPath, "where enable installs the wrapper")
	f.StringVar(&o.wrapper, "wrapper", "", "meshcheck-runc binary to install (default: meshcheck-runc beside this executable, else in $PATH)")
	f.DurationVar(&o.wait, "wait", 20*time.Second, "how long to wait for dockerd to apply the change")
	f.BoolVar(&o.force, "force", false, "disable even while containers use the wrapper")
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

func hostCompat(ctx context.Context, s streams, o hostCompatOptions) int {
	h := hostcompat.Host{DaemonJSON: o.daemonJSON, InstallPath: o.installPath, Wait: o.wait, Log: s.Out}
	fail := func(err error) int {
		fmt.Fprintf(s.Err, "meshcheck kind host-compat %s: %v\n", o.action, err)
		return exitFail
	}
	switch o.action {
	case "enable":
		if o.wrapper == "" {
			o.wrapper = defaultWrapper()
		}
		if _, err := h.Enable(ctx, o.wrapper); err != nil {
			return fail(err)
		}
	case "disable":
		if _, err := h.Disable(ctx, o.force); err != nil {
			return fail(err)
		}
	}
	st, err := h.Status(ctx)
	if err != nil {
		return fail(err)
	}
	fmt.Fprint(s.Out, st)
	switch {
	case o.action == "disable" && (st.Enabled() || st.DockerDefault == hostcompat.RuntimeName):
		fmt.Fprintln(s.Err, "meshcheck kind host-compat disable: the wrapper is still in use (see above)")
		return exitFail
	case o.action == "disable":
		return exitOK
	case !st.OK() && o.action == "status":
		fmt.Fprintln(s.Err, "meshcheck kind host-compat status: the host is not as it should be (see above; run enable or disable)")
		return exitFail
	case !st.OK():
		fmt.Fprintln(s.Err, "meshcheck kind host-compat enable: done, but the host is not as it should be (see above)")
		return exitFail
	}
	return exitOK
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
