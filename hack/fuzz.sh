#!/usr/bin/env bash
# Runs every fuzz target in the module for the given time each (default 10s).
# Corpora live in each package's testdata/fuzz/<FuzzName>/ and are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-10s}
status=0
while read -r file; do
	dir=$(dirname "$file")
	for f in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)' "$file" | awk '{print $2}'); do
		echo "== $dir $f ($t)"
		go test "./$dir" -run '^$' -fuzz "^${f}\$" -fuzztime "$t" || status=1
	done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz')
exit $status
