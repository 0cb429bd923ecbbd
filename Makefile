# The two commands that matter: `make demo` and `make test`. Everything installs what it needs.
SHELL := /bin/bash
SWIFT_BUILD_FLAGS ?=

.PHONY: all deps tools build certs demo test unit-test e2e bench fuzz images release clean format

all: build

deps:
	@scripts/install-deps.sh

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

# Development PKI (dev CA, controller certificate, agent certificates) in certs-dev/out.
certs: deps
	@scripts/make-dev-certs.sh

# Controller (SQLite) + agent on loopback; creates a tenant, environment and workspace through
# the API and shows the spec arriving at the agent and its status coming back. Ctrl-C stops it.
demo: build certs
	@scripts/demo.sh

test: deps certs tools
	@python3 scripts/check-imports.py
	# Formatting as .swift-format says (make format fixes it).
	swift format lint --strict --recursive --parallel Sources Tests bench fuzz
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build $(SWIFT_BUILD_FLAGS) --skip ReplicaFailoverTests
	# Three controller processes and PostgreSQL under an alert storm: run alone, so their load does not
	# skew the timing of the conformance tests beside them.
	swift test --skip-build $(SWIFT_BUILD_FLAGS) --filter ReplicaFailoverTests
	@scripts/e2e.sh
	# The artifact path: the agent image (assembled as make images does, from this debug build) through a
	# GHCR stand-in and a pull-through cache (docker-registry), run from its root filesystem.
	@scripts/check-images.sh
	@python3 scripts/check-openapi.py
	@scripts/check-api.sh
	@python3 scripts/check-charts.py
	@python3 scripts/check-crossplane.py
	@python3 scripts/check-onboarding.py "$$(swift build --show-bin-path $(SWIFT_BUILD_FLAGS))/qbeast-controller"
	# A short run of every fuzz target (make fuzz runs longer).
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-20} scripts/fuzz.sh
	@python3 scripts/check-dashboards.py

# Python tools for the chart checks (Helm's engine via helm-sdkpy), in .tools/ (git-ignored).
tools: deps
	@scripts/install-tools.sh

unit-test: deps
	swift test $(SWIFT_BUILD_FLAGS)

e2e: build certs
	@scripts/e2e.sh

# libFuzzer on the parsers hostile input reaches first (templates, JSON, SPIFFE IDs, CSRs, routing YAML).
fuzz: deps
	@scripts/fuzz.sh

# Benchmarks against peers on this machine (not tests): release build, then bench/README.md figures.
bench: deps
	swift build -c release --scratch-path .build-release
	BENCH_BIN=$$(swift build -c release --scratch-path .build-release --show-bin-path) \
	  $$(swift build -c release --scratch-path .build-release --show-bin-path)/qbeast-bench

# OCI images without Docker (buildah): release binaries (--static-swift-stdlib, stamped with the version)
# in .build-release, then dist/qbeast-agent-<version>.oci.tar and dist/qbeast-controller-<version>.oci.tar.
# BIN_DIR=… uses binaries built already; HELM_BINARY=… puts helm in the controller image (images/README.md).
images: deps
	@scripts/build-images.sh images

# make images, plus the binaries as tarballs, the charts packaged (.tgz) and dist/SHA256SUMS.
release: images tools
	@scripts/build-images.sh release

# Formats every Swift file as .swift-format says.
format:
	swift format format --in-place --recursive --parallel Sources Tests bench fuzz

clean:
	rm -rf .build .build-images .data certs-dev/out dist
