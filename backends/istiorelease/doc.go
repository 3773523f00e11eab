// Package istiorelease downloads an Istio release's artifacts (the istioctl
// archive, and the full release archive for its samples), verifies each
// against the release's .sha256 file and keeps them in a per-user cache.
//
// Layout of the cache (Options.CacheDir, by default
// os.UserCacheDir()/meshcheck/istio):
//
//	<CacheDir>/<X.Y.Z>/<artifact>.tar.gz         the verified archive
//	<CacheDir>/<X.Y.Z>/<artifact>.tar.gz.sha256  the checksum it was verified against
//	<CacheDir>/<X.Y.Z>/<os>-<arch>/bin/istioctl  istioctl, extracted
//	<CacheDir>/<X.Y.Z>/<os>-<arch>/istio-X.Y.Z/  the full release, extracted
//
// Every file and directory appears by rename once complete and verified: a
// download that fails half way, or an archive whose checksum does not match,
// never becomes a cache hit. A cache hit makes no request at all; the archive
// is hashed again against the stored checksum, so a damaged cache entry is
// downloaded anew instead of being used.
//
// Extraction refuses entries that would land outside the target directory
// (absolute paths, "..", links pointing out) and every kind of entry other
// than files, directories and links.
package istiorelease
