// Package cachedir is where meshcheck keeps what it builds or downloads
// between runs (Envoy virtual environments, control plane binaries):
// $MESHCHECK_CACHE, or the user's cache directory's meshcheck folder.
package cachedir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dir is the cache folder for one kind of thing ("envoy", "pilot").
func Dir(name string) (string, error) {
	if d := os.Getenv("MESHCHECK_CACHE"); d != "" {
		return filepath.Join(d, name), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s cache: %w (set MESHCHECK_CACHE)", name, err)
	}
	return filepath.Join(d, "meshcheck", name), nil
}
