// Command meshcheck proves a service mesh routes traffic the way its
// configuration says. See README.md for the commands and examples.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	pilotReexec = func(env []string) error {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		return syscall.Exec(self, os.Args, env)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
