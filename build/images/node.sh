#!/usr/bin/env bash
# node.sh: the kind node image, built on this machine with no image registry.
# Output: $IMAGE_REGISTRY/kind-node:v$K8S_VERSION (default v1.34.4).
#
# Parts, each cached under $MESHCHECK_CACHE/node keyed by its own inputs (the
# body of the bash function that builds it plus its versions), so changing one
# part rebuilds only that part:
#   rootfs   debootstrap bookworm minbase + systemd, containerd, runc, CNI
#            plugins ... (a tarball)
#   k8s      kubeadm, kubelet, kubectl and the control-plane binaries, built
#            from the k8s.io/kubernetes module through a generated wrapper
#            module that replaces every staging module with its v0.X release
#   etcd, coredns, crictl, pause, cni   static binaries
#   images   kube-apiserver, kube-controller-manager, kube-scheduler, etcd,
#            coredns, pause (FROM scratch), kube-proxy (FROM debian-slim:12),
#            meshcheck-cni; each labelled meshcheck.inputs=<hash>
# Then a container of the rootfs gets kind's node files (from the kind module
# in the Go module cache), the binaries, the CNI manifest, and every image
# preloaded into containerd's k8s.io namespace and pinned; docker commit.
# The whole image is labelled with the hash of all inputs: a second run with
# unchanged inputs only hashes.
#
# Usage: build/images/node.sh [all|rootfs|k8s|etcd|coredns|crictl|pause|cni]
# Env: K8S_VERSION (1.34.4), ETCD_VERSION / COREDNS_VERSION (default: what
# kubeadm asks for, else the nearest of *_SERVED), CRICTL_VERSION (v1.<minor>.0),
# DEBIAN_MIRROR, MESHCHECK_CACHE, NODE_GOCACHE (Go build cache for these builds).
# Needs root (debootstrap), Docker, Go, the Go module proxy and a Debian mirror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=build/images/lib.sh
source "$here/lib.sh"

[[ $K8S_VERSION =~ ^1\.([0-9]+)\.[0-9]+$ ]] || die "K8S_VERSION=$K8S_VERSION is not 1.MINOR.PATCH"
k8s_minor=${BASH_REMATCH[1]}
KIND_MODULE=sigs.k8s.io/kind
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ETCD_VERSION=${ETCD_VERSION:-}
COREDNS_VERSION=${COREDNS_VERSION:-}
CRICTL_VERSION=${CRICTL_VERSION:-v1.$k8s_minor.0}
# Versions the Go module proxy is known to serve (many listed versions 403);
# used only when the version kubeadm asks for cannot be downloaded.
ETCD_SERVED=${ETCD_SERVED:-3.6.5 3.6.8}
COREDNS_SERVED=${COREDNS_SERVED:-v1.12.1 v1.12.4 v1.15.0}

image="$IMAGE_REGISTRY/kind-node:v$K8S_VERSION"
cache="$MESHCHECK_CACHE/node"
# The project's own code (CNI, pause) builds with the usual Go build cache;
# the external builds with their own, dropped after a successful build
# (the binaries are cached; NODE_KEEP_GOCACHE=1 keeps it, NODE_GOCACHE moves it).
repo_gocache=$(go env GOCACHE)
export GOCACHE=${NODE_GOCACHE:-$cache/go-build}
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$cache"
# The build container of assemble, removed however the script ends.
node_cid=""
trap '[[ -z $node_cid ]] || docker rm -f -v "$node_cid" >/dev/null 2>&1' EXIT

# timed NAME CMD...: runs CMD and logs how long it took.
timed() {
	local name=$1 t0=$SECONDS
	shift
	"$@"
	log "$name: $((SECONDS - t0)) s"
}

# step_hash NAME STRINGS...: the cache key of a part: its function body plus STRINGS.
step_hash() {
	inputs_hash "$(declare -f "$1")" "${@:2}"
}

# gobuild OUT PKG LDFLAGS [GOFLAGS...]: a static, trimmed build at low priority.
gobuild() {
	nice -n 5 go build "${@:4}" -trimpath -ldflags "-s -w ${3:-}" -o "$1" "$2"
}

# wrapper_module DIR MODULE REQUIRES...: a throwaway module in DIR requiring REQUIRES.
wrapper_module() {
	local dir=$1 name=$2 r
	rm -rf "$dir"
	mkdir -p "$dir"
	{
		printf 'module %s\n\ngo 1.24.0\n\nrequire (\n' "$name"
		for r in "${@:3}"; do printf '\t%s\n' "$r"; done
		printf ')\n'
	} >"$dir/go.mod"
}

# ---- rootfs --------------------------------------------------------------
rootfs_packages=systemd,systemd-sysv,dbus,containerd,runc,iptables,nftables,iproute2,ca-certificates,conntrack,socat,ethtool,util-linux,mount,kmod,libseccomp2,jq,procps,containernetworking-plugins,bash
step_rootfs() { # OUT.tar
	local out=$1 work
	work=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-rootfs.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'; trap - RETURN" RETURN
	command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
	debootstrap --variant=minbase --include="$rootfs_packages" bookworm "$work/r" "$DEBIAN_MIRROR" >"$work/log" 2>&1 ||
		{ tail -20 "$work/log" >&2; die "debootstrap failed (log above)"; }
	local r=$work/r
	# As kind's base image: no services but the ones enabled later, no kmsg in journald.
	rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
		"$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
		"$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
	find "$r"/lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
	echo ReadKMsg=no >>"$r/etc/systemd/journald.conf"
	ln -sf /lib/systemd/systemd "$r/sbin/init"
	mkdir -p "$r/etc/kubernetes/manifests" "$r/opt/cni" "$r/usr/local/bin"
	# Debian's CNI plugins live in /usr/lib/cni; kind's containerd unit runs /usr/local/bin/containerd.
	ln -s /usr/lib/cni "$r/opt/cni/bin"
	ln -s /usr/bin/containerd "$r/usr/local/bin/containerd"
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/var/log/*.log "$r"/tmp/*
	tar -C "$r" --numeric-owner -cf "$out.tmp" .
	mv "$out.tmp" "$out"
}

# ---- Kubernetes ----------------------------------------------------------
k8s_binaries=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
step_k8s() { # OUTDIR
	local out=$1 v=v$K8S_VERSION mod info gomod staging=() m
	mod=$cache/src/k8s-$v
	info=$(cd "$cache" && go mod download -json "k8s.io/kubernetes@$v") || die "go mod download k8s.io/kubernetes@$v failed: $info"
	gomod=$(jq -r .GoMod <<<"$info")
	# Every staging module (k8s.io/api => ./staging/src/k8s.io/api) becomes its v0.MINOR.PATCH release.
	mapfile -t staging < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod")
	((${#staging[@]} > 10)) || die "found only ${#staging[@]} staging modules in $gomod"
	wrapper_module "$mod" meshcheck.local/k8s-build "k8s.io/kubernetes $v"
	grep -E '^godebug ' "$gomod" >>"$mod/go.mod" || true
	for m in "${staging[@]}"; do printf 'replace %s => %s v0.%s\n' "$m" "$m" "${K8S_VERSION#1.}" >>"$mod/go.mod"; done
	local date major=1 ld="" k pkgs=()
	date=$(jq -r .Time "${gomod%.mod}.info")
	for k in gitVersion=$v gitMajor=$major gitMinor=$k8s_minor gitTreeState=clean buildDate=$date; do
		ld+=" -X k8s.io/component-base/version.$k -X k8s.io/client-go/pkg/version.$k"
	done
	for k in "${k8s_binaries[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$k"); done
	mkdir -p "$out.tmp"
	(cd "$mod" && go mod download k8s.io/kubernetes && nice -n 5 go build -mod=mod -trimpath -ldflags "-s -w$ld" -o "$out.tmp/" "${pkgs[@]}")
	grep -qx "$v" <<<"$("$out.tmp/kubeadm" version -o short)" || die "kubeadm reports $("$out.tmp/kubeadm" version -o short), want $v"
	"$out.tmp/kubeadm" config images list --kubernetes-version "$v" >"$out.tmp/images.txt"
	rm -rf "$out"
	mv "$out.tmp" "$out"
}

# ---- etcd, coredns, crictl, pause, the CNI ------------------------------
step_etcd() { # OUTDIR VERSION
	local out=$1 v=v$2 mod=$cache/src/etcd-v$2
	wrapper_module "$mod" meshcheck.local/etcd-build "go.etcd.io/etcd/server/v3 $v" "go.etcd.io/etcd/api/v3 $v" \
		"go.etcd.io/etcd/client/pkg/v3 $v" "go.etcd.io/etcd/client/v3 $v" "go.etcd.io/etcd/pkg/v3 $v"
	mkdir -p "$out"
	(cd "$mod" && go mod download go.etcd.io/etcd/server/v3 && gobuild "$out/etcd" go.etcd.io/etcd/server/v3 "-X go.etcd.io/etcd/api/v3/version.GitSHA=meshcheck" -mod=mod)
	# The output is read whole before grep: with pipefail, grep -q leaving
	# early kills the writer with SIGPIPE and fails a version that matched.
	grep -q "etcd Version: $2" <<<"$("$out/etcd" --version)" || die "etcd --version: $("$out/etcd" --version)"
}

step_coredns() { # OUTDIR VERSION
	local out=$1 v=$2 mod=$cache/src/coredns-$2
	wrapper_module "$mod" meshcheck.local/coredns-build "github.com/coredns/coredns $v"
	mkdir -p "$out"
	(cd "$mod" && go mod download github.com/coredns/coredns && gobuild "$out/coredns" github.com/coredns/coredns "" -mod=mod)
	grep -q "CoreDNS-${v#v}" <<<"$("$out/coredns" -version)" || die "coredns -version: $("$out/coredns" -version)"
}

step_crictl() { # OUTDIR VERSION
	local out=$1 v=$2 mod=$cache/src/crictl-$2 info gomod m
	info=$(cd "$cache" && GONOSUMDB=sigs.k8s.io/cri-tools go mod download -json "sigs.k8s.io/cri-tools@$v") || die "go mod download sigs.k8s.io/cri-tools@$v failed: $info"
	gomod=$(jq -r .GoMod <<<"$info")
	wrapper_module "$mod" meshcheck.local/crictl-build "sigs.k8s.io/cri-tools $v"
	# cri-tools releases pin Kubernetes pre-releases (v0.34.0-rc.2) that
	# sum.golang.org does not know: use the Kubernetes release being built.
	while read -r m; do
		printf 'replace %s => %s v0.%s\n' "$m" "$m" "${K8S_VERSION#1.}" >>"$mod/go.mod"
	done < <(awk '$1 ~ /^k8s\.io\// && $2 ~ /^v0\.[0-9]+\.[0-9]+-(alpha|beta|rc)/ {print $1}' "$gomod")
	mkdir -p "$out"
	(cd "$mod" && export GONOSUMDB=sigs.k8s.io/cri-tools &&
		gobuild "$out/crictl" sigs.k8s.io/cri-tools/cmd/crictl "-X sigs.k8s.io/cri-tools/pkg/version.Version=$v" -mod=mod)
	grep -q "${v#v}" <<<"$("$out/crictl" --version)" || die "crictl --version: $("$out/crictl" --version)"
}

step_pause() { # OUTDIR
	mkdir -p "$1"
	(cd "$repo" && GOCACHE=$repo_gocache gobuild "$1/pause" ./build/images/pause)
}

step_cni() { # OUTDIR
	mkdir -p "$1"
	(cd "$repo" && GOCACHE=$repo_gocache gobuild "$1/meshcheck-cni" ./cmd/meshcheck-cni)
}

# cached PART HASH ARGS...: runs step_PART into $cache/bin/PART-HASH once; prints the dir.
cached() {
	local part=$1 h=$2 dir
	dir=$cache/bin/$part-${h:0:16}
	if [[ -f $dir/.done ]]; then
		log "$part: cached ($dir)"
	else
		log "$part: building into $dir"
		rm -rf "$dir"
		timed "$part" "step_$part" "$dir" "${@:3}" >&2
		touch "$dir/.done"
	fi
	printf '%s\n' "$dir"
}

# served MODULE WANT CANDIDATES...: WANT if the module proxy serves it, else
# the candidate nearest to it (by major.minor.patch distance) that it serves.
served() {
	local mod=$1 want=$2 c
	cd "$cache"
	if go mod download "$mod@$want" >/dev/null 2>&1; then
		printf '%s\n' "$want"
		return
	fi
	for c in $(printf '%s\n' "${@:3}" | awk -v w="$want" '
		function num(s,  a) { sub(/^v/, "", s); split(s, a, "."); return a[1]*1000000 + a[2]*1000 + a[3] }
		{ d = num($0) - num(w); if (d < 0) d = -d; print d, $0 }' | sort -n | cut -d' ' -f2); do
		if go mod download "$mod@$c" >/dev/null 2>&1; then
			log "$mod@$want is not served; using $c"
			printf '%s\n' "$c"
			return
		fi
	done
	die "$mod: neither $want nor any of ${*:3} can be downloaded"
}

# ---- images --------------------------------------------------------------
# component_image NAME:TAG HASH BASE ENTRYPOINT FILE...: FROM BASE (scratch or
# an image) plus FILEs in /usr/local/bin, labelled with HASH.
component_image() {
	local ref=$1 h=$2 base=$3 entry=$4 ctx f
	if image_current "$ref" "$h"; then return; fi
	ctx=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-img.XXXXXX")
	for f in "${@:5}"; do cp "$f" "$ctx/"; done
	{
		if [[ $base == scratch ]]; then
			# CA bundle and a /tmp, as distroless has them.
			printf 'FROM %s AS base\nFROM scratch\nCOPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\nCOPY --from=base /tmp /tmp\n' "$IMAGE_REGISTRY/debian-slim:12"
		else
			printf 'FROM %s\n' "$base"
		fi
		for f in "${@:5}"; do printf 'COPY %s /usr/local/bin/\n' "$(basename "$f")"; done
		printf 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT %s\nLABEL meshcheck.inputs=%s\n' "$entry" "$h"
	} >"$ctx/Dockerfile"
	DOCKER_BUILDKIT=0 nice -n 5 docker build -q -t "$ref" "$ctx" >/dev/null 2>"$ctx/err" ||
		{ cat "$ctx/err" >&2; rm -rf "$ctx"; die "docker build $ref failed"; }
	rm -rf "$ctx"
	log "image $ref"
}

# ---- the node ------------------------------------------------------------
kind_dir() {
	local d
	d=$(cd "$repo" && go list -m -f '{{.Dir}}' "$KIND_MODULE") || die "cannot find $KIND_MODULE in the module cache (go mod download $KIND_MODULE)"
	[[ -d $d/images/base/files ]] || die "$d/images/base/files missing"
	printf '%s\n' "$d"
}

# go_sources DIR...: the non-test Go files under DIRs and go.mod/go.sum, relative to the repository.
go_sources() {
	(cd "$repo" && find "$@" -name '*.go' ! -name '*_test.go' | sort && echo go.mod go.sum)
}

# shellcheck disable=SC2034 # refs reaches assemble through a nameref
main() {
	local what=${1:-all} t0=$SECONDS
	local kind_version kdir cni_hash pause_hash top
	kdir=$(kind_dir)
	kind_version=$(cd "$repo" && go list -m -f '{{.Version}}' "$KIND_MODULE")
	# shellcheck disable=SC2046
	cni_hash=$(cd "$repo" && inputs_hash $(go_sources cmd/meshcheck-cni build/cni))
	# shellcheck disable=SC2046
	pause_hash=$(cd "$repo" && inputs_hash $(go_sources build/images/pause))
	top=$(inputs_hash "$here/node.sh" "$here/lib.sh" "$K8S_VERSION" "$kind_version" "$DEBIAN_MIRROR" \
		"$ETCD_VERSION" "$COREDNS_VERSION" "$CRICTL_VERSION" "$ETCD_SERVED" "$COREDNS_SERVED" "$cni_hash" "$pause_hash" \
		"$(cd "$kdir/images/base/files" && find . -type f | sort | xargs cat | sha256sum)")
	if [[ $what == all ]] && image_current "$image" "$top"; then
		log "$image is current ($((SECONDS - t0)) s)"
		return
	fi
	# kube-proxy's base. Built only when absent: other builders share the tag.
	docker image inspect "$IMAGE_REGISTRY/debian-slim:12" >/dev/null 2>&1 || "$here/base.sh"

	local rootfs
	rootfs="$cache/rootfs/$(step_hash step_rootfs "$rootfs_packages" "$DEBIAN_MIRROR" | cut -c1-16).tar"
	if [[ ! -f $rootfs ]]; then
		mkdir -p "$cache/rootfs"
		log "rootfs: debootstrap into $rootfs"
		timed rootfs step_rootfs "$rootfs"
	else
		log "rootfs: cached ($rootfs)"
	fi
	[[ $what == rootfs ]] && return

	local kbin
	kbin=$(cached k8s "$(step_hash step_k8s "$K8S_VERSION")")
	[[ $what == k8s ]] && return
	local want_etcd want_coredns want_pause
	want_etcd=$(sed -n 's|.*/etcd:\([0-9.]*\)-.*|\1|p' "$kbin/images.txt")
	want_coredns=$(sed -n 's|.*/coredns:\(v[0-9.]*\)$|\1|p' "$kbin/images.txt")
	want_pause=$(sed -n 's|.*/pause:||p' "$kbin/images.txt")
	[[ -n $want_etcd && -n $want_coredns && -n $want_pause ]] || die "cannot read etcd/coredns/pause from $kbin/images.txt: $(cat "$kbin/images.txt")"
	local etcd_v=$ETCD_VERSION coredns_v=$COREDNS_VERSION
	# shellcheck disable=SC2046,SC2086
	[[ -n $etcd_v ]] || etcd_v=$(served go.etcd.io/etcd/server/v3 "v$want_etcd" $(printf 'v%s ' $ETCD_SERVED))
	etcd_v=${etcd_v#v}
	# shellcheck disable=SC2086
	[[ -n $coredns_v ]] || coredns_v=$(served github.com/coredns/coredns "$want_coredns" $COREDNS_SERVED)
	log "versions: kubernetes v$K8S_VERSION, etcd $etcd_v (kubeadm wants $want_etcd), coredns $coredns_v (kubeadm wants $want_coredns), crictl $CRICTL_VERSION, pause $want_pause, kind $kind_version"
	local ebin cbin xbin pbin nbin
	ebin=$(cached etcd "$(step_hash step_etcd "$etcd_v")" "$etcd_v")
	[[ $what == etcd ]] && return
	cbin=$(cached coredns "$(step_hash step_coredns "$coredns_v")" "$coredns_v")
	[[ $what == coredns ]] && return
	xbin=$(cached crictl "$(step_hash step_crictl "$CRICTL_VERSION" "$K8S_VERSION")" "$CRICTL_VERSION")
	[[ $what == crictl ]] && return
	pbin=$(cached pause "$(step_hash step_pause "$pause_hash")")
	[[ $what == pause ]] && return
	nbin=$(cached cni "$(step_hash step_cni "$cni_hash")")
	[[ $what == cni ]] && return

	# Component images, named as kubeadm expects inside the node (retagged there).
	local t1=$SECONDS reg=registry.k8s.io b
	declare -A refs=()
	for b in kube-apiserver kube-controller-manager kube-scheduler; do
		component_image "$IMAGE_REGISTRY/$b:v$K8S_VERSION" "$(inputs_hash "$(declare -f component_image)" "$kbin/$b")" scratch "[\"/usr/local/bin/$b\"]" "$kbin/$b"
		refs[$IMAGE_REGISTRY/$b:v$K8S_VERSION]=$(grep "/$b:" "$kbin/images.txt")
	done
	component_image "$IMAGE_REGISTRY/kube-proxy:v$K8S_VERSION" "$(inputs_hash "$(declare -f component_image)" "$kbin/kube-proxy" "$(docker image inspect -f '{{.Id}}' "$IMAGE_REGISTRY/debian-slim:12")")" \
		"$IMAGE_REGISTRY/debian-slim:12" '["/usr/local/bin/kube-proxy"]' "$kbin/kube-proxy"
	refs[$IMAGE_REGISTRY/kube-proxy:v$K8S_VERSION]=$(grep "/kube-proxy:" "$kbin/images.txt")
	component_image "$IMAGE_REGISTRY/etcd:$etcd_v" "$(inputs_hash "$(declare -f component_image)" "$ebin/etcd")" scratch '["/usr/local/bin/etcd"]' "$ebin/etcd"
	refs[$IMAGE_REGISTRY/etcd:$etcd_v]=$(grep "/etcd:" "$kbin/images.txt")
	component_image "$IMAGE_REGISTRY/coredns:$coredns_v" "$(inputs_hash "$(declare -f component_image)" "$cbin/coredns")" scratch '["/usr/local/bin/coredns"]' "$cbin/coredns"
	refs[$IMAGE_REGISTRY/coredns:$coredns_v]=$(grep "/coredns:" "$kbin/images.txt")
	component_image "$IMAGE_REGISTRY/pause:$want_pause" "$(inputs_hash "$(declare -f component_image)" "$pbin/pause")" scratch '["/usr/local/bin/pause"]' "$pbin/pause"
	refs[$IMAGE_REGISTRY/pause:$want_pause]=$(grep "/pause:" "$kbin/images.txt")
	local cni_image=$IMAGE_REGISTRY/meshcheck-cni:${cni_hash:0:12}
	component_image "$cni_image" "$(inputs_hash "$(declare -f component_image)" "$nbin/meshcheck-cni")" scratch '["/usr/local/bin/meshcheck-cni"]' "$nbin/meshcheck-cni"
	refs[$cni_image]=$cni_image
	# Older meshcheck-cni builds are only ever used through a node image.
	docker images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REGISTRY/meshcheck-cni" | grep -vxF "$cni_image" | xargs -r docker rmi >/dev/null 2>&1 || true
	log "images: $((SECONDS - t1)) s"

	timed assemble assemble "$top" "$rootfs" "$kdir" "$kbin" "$xbin" "$nbin" "$cni_image" "$reg/pause:$want_pause" refs
	log "built $image in $((SECONDS - t0)) s ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec) uncompressed)"
	if [[ -z ${NODE_GOCACHE:-} && ${NODE_KEEP_GOCACHE:-} != 1 && -d $GOCACHE ]]; then
		log "removing the Go build cache of these builds ($(du -sh "$GOCACHE" | cut -f1), $GOCACHE; NODE_KEEP_GOCACHE=1 keeps it)"
		rm -rf "$GOCACHE"
	fi
	log "cache $cache: $(du -sh "$cache" | cut -f1)"
}

# assemble HASH ROOTFS KINDDIR K8SBIN CRICTLBIN CNIBIN CNIIMAGE SANDBOXIMAGE REFS
assemble() {
	local h=$1 rootfs=$2 kdir=$3 kbin=$4 xbin=$5 nbin=$6 cni_image=$7 sandbox=$8
	local -n images=$9
	local base_ref rh stage src
	rh=$(basename "$rootfs" .tar)
	base_ref="$IMAGE_REGISTRY/kind-node-rootfs:$rh"
	if ! image_current "$base_ref" "$rh"; then
		docker import --change "LABEL meshcheck.inputs=$rh" \
			--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			"$rootfs" "$base_ref" >/dev/null
	fi
	stage=$(mktemp -d "${TMPDIR:-/tmp}/meshcheck-node.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$stage'; trap - RETURN" RETURN
	# kind's node files, modes as kind's Dockerfile sets them.
	cp -a "$kdir/images/base/files/." "$stage/"
	chmod -R u+w "$stage"
	find "$stage" -type d -exec chmod 0755 {} +
	find "$stage" -type f -exec chmod 0644 {} +
	chmod 0755 "$stage"/usr/local/bin/* "$stage"/kind/bin/*
	rm -rf "$stage/LICENSES"
	# containerd: the sandbox image kubeadm asks for, and no lowering of
	# oom_score_adj (CAP_SYS_RESOURCE may be missing; see docs/airgap.md).
	sed -i -e "s|^\(\s*sandbox_image = \).*|\1\"$sandbox\"|" \
		-e 's|^\(\s*restrict_oom_score_adj = \).*|\1true|' "$stage/etc/containerd/config.toml"
	if ! grep -q "sandbox_image = \"$sandbox\"" "$stage/etc/containerd/config.toml" ||
		! grep -q 'restrict_oom_score_adj = true' "$stage/etc/containerd/config.toml"; then
		die "could not set sandbox_image and restrict_oom_score_adj in kind's containerd config.toml"
	fi
	if ((k8s_minor >= 35)); then
		sed -i 's|^KUBELET_EXTRA_ARGS=\(.*\)|KUBELET_EXTRA_ARGS=\1 --fail-cgroupv1=false|' "$stage/etc/default/kubelet"
		grep -q -- '--fail-cgroupv1=false' "$stage/etc/default/kubelet" || die "could not add --fail-cgroupv1=false to /etc/default/kubelet"
	fi
	mkdir -p "$stage/usr/bin" "$stage/kind/manifests"
	cp "$kbin/kubeadm" "$kbin/kubelet" "$kbin/kubectl" "$stage/usr/bin/"
	cp "$xbin/crictl" "$stage/usr/local/bin/"
	printf 'v%s\n' "$K8S_VERSION" >"$stage/kind/version"
	"$nbin/meshcheck-cni" manifest --image "$cni_image" >"$stage/kind/manifests/default-cni.yaml"

	local cid
	cid=$(docker run -d --entrypoint sleep --security-opt seccomp=unconfined "$base_ref" infinity)
	node_cid=$cid
	tar -C "$stage" --owner=0 --group=0 -c etc kind usr | docker cp - "$cid:/"
	docker exec "$cid" bash -euc '
		systemctl enable kubelet.service containerd.service undo-mount-hacks.service 2>/dev/null
		systemctl mask systemd-binfmt.service 2>/dev/null
		ctr oci spec \
			| jq ".hooks.createContainer[.hooks.createContainer|length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
			| jq "del(.process.rlimits)" >/etc/containerd/cri-base.json
		test -s /etc/containerd/cri-base.json
		containerd --version; runc --version | head -1; kubeadm version -o short; crictl --version'
	# Preload every image into containerd's k8s.io namespace, pinned.
	docker exec -d "$cid" bash -c 'containerd >/tmp/containerd.log 2>&1'
	docker exec "$cid" bash -c 'for i in $(seq 50); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; cat /tmp/containerd.log; exit 1' ||
		die "containerd did not start in the build container"
	docker save "${!images[@]}" | docker exec -i "$cid" ctr -n k8s.io images import --no-unpack - >/dev/null
	local tagcmds="set -e"
	for src in "${!images[@]}"; do
		if [[ $src != "${images[$src]}" ]]; then
			tagcmds+="; ctr -n k8s.io images tag --force $src ${images[$src]} >/dev/null; ctr -n k8s.io images rm $src >/dev/null"
		fi
		tagcmds+="; ctr -n k8s.io images label ${images[$src]} io.cri-containerd.pinned=pinned >/dev/null"
	done
	docker exec "$cid" bash -c "$tagcmds; ctr -n k8s.io images ls -q | grep -v ^sha256:" >&2
	docker exec "$cid" bash -c 'pkill containerd; for i in $(seq 50); do pgrep containerd >/dev/null || break; sleep 0.2; done; rm -rf /run/containerd /tmp/* /var/log/*'
	# docker 20.10's commit cannot set STOPSIGNAL: a metadata-only build adds it.
	local tmp="$image-build"
	docker commit \
		--change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
		--change 'CMD []' \
		--change 'ENV container=docker' \
		"$cid" "$tmp" >/dev/null
	local out
	out=$(printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL meshcheck.inputs=%s\n' "$tmp" "$h" |
		DOCKER_BUILDKIT=0 docker build -q -t "$image" - 2>&1) || die "docker build $image failed: $out"
	docker rmi "$tmp" >/dev/null
	docker rm -f -v "$cid" >/dev/null
	node_cid=""
}

main "$@"
