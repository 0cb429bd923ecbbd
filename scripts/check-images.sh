#!/usr/bin/env bash
# The artifact path with real registry software (part of `make test`):
#
#   GHCR ──(pull-through)──▶ the environment's cloud registry ──▶ the cluster
#
# 1. Two Debian `docker-registry` (CNCF Distribution 2.8) on loopback: one stands in for GHCR, the
#    other is a pull-through cache of it (`proxy.remoteurl`), standing in for the environment's ECR
#    pull-through rule / Artifact Registry remote repository / ACR cache rule.
# 2. The agent image is built as `make images` builds it (scripts/build-images.sh: the same root
#    filesystem script, the same Containerfile, buildah), but from the DEBUG binaries of
#    `swift build --show-bin-path` (their Swift runtime .so files come along through the ldd closure):
#    a release build takes ~13 minutes here, too long for every test run. `make images` is the release
#    path. The image is pushed to the GHCR stand-in with skopeo.
# 3. A real controller on loopback gets an environment whose `registry` is the cache, and a workspace
#    whose component uses ghcr.io/qbeast/qbeast-agent by tag and by digest. The component the agent
#    receives (the agent gateway, with an agent certificate) must name the cache, and both references
#    must resolve through it (skopeo inspect); pulling the image through the cache leaves its blobs in
#    the cache's storage.
# 4. The image pulled through the cache is unpacked (umoci) and its agent binary is run from that root
#    filesystem — chroot, as user 65532, with a clean environment and the files the chart mounts
#    (CA bundle, enrollment token) and the kubelet provides (/etc/hosts) — against the controller: it
#    enrolls with a one-time token and reports status, seen through the operator API.
# Skipped (one line, exit 0) only when buildah cannot run on this machine.
# Settings: BIN_DIR (default: swift build --show-bin-path), PORT_BASE (default 20000), KEEP=1 keeps $RUN.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
BIN=${BIN_DIR:-$(swift build --show-bin-path)}
RUN=$(mktemp -d /tmp/qbeast-images.XXXXXX)
PORT_BASE=${PORT_BASE:-20000}
source scripts/lib.sh
cleanup() { stop_all; [ "${KEEP:-0}" = 1 ] && echo "kept $RUN" || rm -rf "$RUN"; }
trap cleanup EXIT

# Buildah must be able to build here (vfs storage, no daemon, no privileges beyond the files).
if ! probe=$(buildah --root "$RUN/probe/storage" --runroot "$RUN/probe/run" --storage-driver vfs from scratch 2>&1); then
  echo "skip images: buildah cannot run here ($(head -1 <<<"$probe"))"
  exit 0
fi
for tool in skopeo umoci docker-registry chroot; do
  command -v "$tool" >/dev/null || { echo "FAIL images: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

passed=0; failed=0
check() { # description, command...
  local what=$1; shift
  if "$@" >"$RUN/check.out" 2>&1; then
    passed=$((passed + 1)); echo "ok   $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"; tail -5 "$RUN/check.out" | sed 's/^/     /'
  fi
  cat "$RUN/check.out" >>"$RUN/checks.log"
}
eventually() { for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; "$@"; }
finish() {
  echo "images: $passed passed, $failed failed in $(( $(date +%s) - started )) s"
  [ "$failed" -eq 0 ]
  exit $?
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- 1. the agent image, assembled as make images does, from the debug build ------------------------
VERSION=$("$BIN/qbeast-agent" --version 2>/dev/null | tr -d '[:space:]')
[ -n "$VERSION" ] || VERSION=$(scripts/version.sh)
TAG=${VERSION//+/_}
ARCHIVE="$RUN/dist/qbeast-agent-$VERSION.oci.tar"
check "agent image built from the debug binaries (scripts/build-images.sh, buildah)" \
  env BIN_DIR="$BIN" VERSION="$VERSION" IMAGES=agent DIST="$RUN/dist" IMAGES_WORK="$RUN/build" scripts/build-images.sh images
[ -f "$ARCHIVE" ] || finish
grep -o 'qbeast-agent-.*oci.tar: .*' "$RUN/check.out" | sed 's/^/     /'
image_config() { skopeo inspect --config "oci-archive:$ARCHIVE" > "$RUN/config.json"; }
config_is() { # python expression over `c` (the image config)
  python3 -c "import json,sys; c=json.load(open('$RUN/config.json')); sys.exit(0 if ($1) else 1)"
}
check "image config readable" image_config
check "runs as 65532:65532, Entrypoint is the agent binary, the state directory is a volume" \
  config_is "c['config']['User'] == '65532:65532' and c['config']['Entrypoint'] == ['/usr/local/bin/qbeast-agent'] and '/var/lib/qbeast-agent' in c['config']['Volumes']"
check "OCI labels: version $VERSION, revision, source, licenses Apache-2.0, title" \
  config_is "(lambda l: l['org.opencontainers.image.version'] == '$VERSION' and len(l['org.opencontainers.image.revision']) == 40 and l['org.opencontainers.image.source'].startswith('https://') and l['org.opencontainers.image.licenses'] == 'Apache-2.0' and l['org.opencontainers.image.title'] == 'qbeast-agent')(c['config']['Labels'])"

# --- 2. the GHCR stand-in and the pull-through cache ------------------------------------------------
# Distribution's proxy keeps a repository's path as it is, while the clouds' pull-through rules drop
# their prefix (ECR: <account>.dkr.ecr…/<prefix>/<path> pulls ghcr.io/<path>). The controller wants a
# prefix on the environment's registry, so the GHCR stand-in holds the image under that prefix too;
# the mapping ghcr.io/<path> → <registry>/<path> under test is the same.
PREFIX=${REGISTRY_PREFIX-ghcr}
UPSTREAM_PORT=$(free_port); CACHE_PORT=$(free_port)
start_registry() { # name port [remote]
  mkdir -p "$RUN/$1"
  cat > "$RUN/$1.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $RUN/$1}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$2, secret: $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
EOF
  [ -n "${3:-}" ] && echo "proxy: {remoteurl: $3}" >> "$RUN/$1.yml"
  docker-registry serve "$RUN/$1.yml" >>"$RUN/$1.log" 2>&1 &
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:$2/v2/" "$1 registry"
}
check "GHCR stand-in: docker-registry on 127.0.0.1:$UPSTREAM_PORT" start_registry ghcr "$UPSTREAM_PORT"
check "pull-through cache: docker-registry on 127.0.0.1:$CACHE_PORT, proxy.remoteurl the GHCR stand-in" \
  start_registry cache "$CACHE_PORT" "http://127.0.0.1:$UPSTREAM_PORT"
UPSTREAM_REF="127.0.0.1:$UPSTREAM_PORT/${PREFIX:+$PREFIX/}qbeast/qbeast-agent"
check "skopeo copy oci-archive → GHCR stand-in ($TAG)" \
  skopeo copy -q --dest-tls-verify=false "oci-archive:$ARCHIVE" "docker://$UPSTREAM_REF:$TAG"
DIGEST=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$UPSTREAM_REF:$TAG" 2>>"$RUN/checks.log")
check "the GHCR stand-in serves it by digest ($DIGEST)" [ -n "$DIGEST" ]
check "…and nothing is in the cache yet" bash -c "[ ! -d '$RUN/cache/docker/registry/v2/blobs' ]"

# --- 3. a real controller resolves a component to the cache ------------------------------------------
make_token
start_controller
REGISTRY="127.0.0.1:$CACHE_PORT${PREFIX:+/$PREFIX}"
check "qbctl tenant create acme" qbctl tenant create acme
check "qbctl env create acme prod --registry $REGISTRY" qbctl env create acme prod --cloud aws --mode provided --registry "$REGISTRY"
cat > "$RUN/workspace.yaml" <<EOF
apiVersion: qbeast.io/v1
kind: Workspace
tenant: acme
environment: prod
name: canary
spec:
  components:
    - name: agent-canary
      manifests:
        - apiVersion: apps/v1
          kind: Deployment
          metadata: {name: agent-canary}
          spec:
            selector: {matchLabels: {app: agent-canary}}
            template:
              metadata: {labels: {app: agent-canary}}
              spec:
                initContainers:
                  - {name: pinned, image: "ghcr.io/qbeast/qbeast-agent@$DIGEST", args: ["--version"]}
                containers:
                  - {name: agent, image: "ghcr.io/qbeast/qbeast-agent:$TAG", args: ["--help"]}
EOF
check "qbctl workspace apply (a Deployment using ghcr.io/qbeast/qbeast-agent by tag and by digest)" qbctl workspace apply -f "$RUN/workspace.yaml"
# What the agent receives: the desired state and the component by its hash, from the agent gateway
# with the environment's agent certificate (certs-dev).
received_images() {
  python3 - "https://localhost:${AGENT_PORT}" "$CERTS/agent-acme-prod.pem" "$CERTS/agent-acme-prod-key.pem" "$CERTS/ca.pem" <<'PY'
import json, ssl, sys, urllib.request
base, cert, key, ca = sys.argv[1:]
context = ssl.create_default_context(cafile=ca)
context.load_cert_chain(cert, key)
def get(path):
    with urllib.request.urlopen(base + path, context=context, timeout=10) as response:
        return json.load(response)
def images(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            else:
                yield from images(value)
    elif isinstance(node, list):
        for value in node:
            yield from images(value)
desired = get("/agent/v1/desired")
for workspace in desired["workspaces"]:
    for component in workspace["components"]:
        for image in images(get("/agent/v1/components/" + component["hash"])):
            print(image)
PY
}
received_images > "$RUN/received.txt" 2>>"$RUN/checks.log"
BY_TAG="$REGISTRY/qbeast/qbeast-agent:$TAG"
BY_DIGEST="$REGISTRY/qbeast/qbeast-agent@$DIGEST"
check "the agent receives the image rewritten to the cache, by tag ($BY_TAG)" grep -qxF "$BY_TAG" "$RUN/received.txt"
check "…and by digest" grep -qxF "$BY_DIGEST" "$RUN/received.txt"
check "skopeo inspect of the received reference by tag resolves through the cache to the pushed digest" \
  bash -c "[ \"\$(skopeo inspect --tls-verify=false --format '{{.Digest}}' 'docker://$BY_TAG')\" = '$DIGEST' ]"
check "skopeo inspect of the received reference by digest resolves through the cache" \
  skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$BY_DIGEST"
check "pull by digest through the cache (skopeo copy → OCI layout)" \
  skopeo copy -q --src-tls-verify=false "docker://$BY_DIGEST" "oci:$RUN/pulled:agent"
cache_holds_blobs() { # the manifest, its config and every layer, in the cache's own storage
  python3 - "$RUN/pulled" "$RUN/cache/docker/registry/v2/blobs" "$DIGEST" <<'PY'
import json, os, sys
layout, blobs, digest = sys.argv[1:]
def blob_path(root, d):
    algorithm, hex_ = d.split(":")
    return os.path.join(root, algorithm, hex_[:2], hex_, "data")
manifest = json.load(open(os.path.join(layout, "blobs", *digest.split(":"))))
wanted = [digest, manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
missing = [d for d in wanted if not os.path.exists(blob_path(blobs, d))]
print(f"cache holds {len(wanted) - len(missing)} of {len(wanted)} blobs", file=sys.stderr)
sys.exit(1 if missing else 0)
PY
}
check "the cache's storage now holds the manifest, the config and every layer" eventually cache_holds_blobs

# --- 4. the agent from the image, against the controller ---------------------------------------------
BUNDLE="$RUN/bundle"
ROOTFS="$BUNDLE/rootfs"
check "umoci unpack of the image pulled through the cache" umoci unpack --image "$RUN/pulled:agent" "$BUNDLE"
check "no shell, package manager or coreutils in it" \
  bash -c "for f in bin/sh bin/bash bin/busybox usr/bin/apt usr/bin/dpkg bin/ls usr/bin/env; do [ ! -e '$ROOTFS'/\$f ] || { echo \"found \$f\"; exit 1; }; done"
check "the state directory belongs to 65532" bash -c "[ \"\$(stat -c %u:%g '$ROOTFS/var/lib/qbeast-agent')\" = 65532:65532 ]"
qbctl env enroll-token acme prod --ttl 10m > "$RUN/enroll-token" 2>>"$RUN/checks.log"
check "qbctl env enroll-token acme prod" grep -q . "$RUN/enroll-token"
# What the chart mounts (controller CA ConfigMap, enrollment Secret) and the kubelet provides (/etc/hosts).
install -D -m 0444 "$CERTS/ca.pem" "$ROOTFS/etc/qbeast/controller-ca/ca.pem"
install -D -m 0444 "$RUN/enroll-token" "$ROOTFS/etc/qbeast/enrollment/token"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' > "$ROOTFS/etc/hosts"
IMAGE_AGENT_METRICS_PORT=$((PORT_BASE + 96))
AGENT_ARGS=(run --controller-url "https://localhost:${AGENT_PORT}" --enroll-url "https://localhost:${ENROLL_PORT}"
            --ca-bundle /etc/qbeast/controller-ca/ca.pem --tenant acme --environment prod
            --enrollment-token-file /etc/qbeast/enrollment/token --state-dir /var/lib/qbeast-agent
            --metrics-listen "127.0.0.1:${IMAGE_AGENT_METRICS_PORT}")
# As a container runtime starts it: in the image's root filesystem, as 65532:65532, a clean
# environment, with /proc (Swift reads its arguments from /proc/self/cmdline), a minimal /dev and a
# read-only /sys mounted — in a private mount namespace, so nothing outlives the process.
mkdir -p "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/sys"
if unshare --mount --propagation private mount -t proc proc "$ROOTFS/proc" 2>/dev/null; then
  HOW="chroot, user 65532"
  unshare --mount --propagation private /bin/sh -c '
    r=$1; shift
    mount -t proc proc "$r/proc" && mount -t tmpfs -o mode=755,nosuid dev "$r/dev" || exit 111
    for node in null zero full random urandom; do touch "$r/dev/$node" && mount --bind "/dev/$node" "$r/dev/$node" || exit 111; done
    mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys" 2>/dev/null || mount --rbind -o ro /sys "$r/sys" || exit 111
    exec env -i /usr/sbin/chroot --userspec=65532:65532 "$r" "$@"' sh "$ROOTFS" /usr/local/bin/qbeast-agent "${AGENT_ARGS[@]}" \
    >>"$RUN/agent-image.log" 2>&1 &
else
  # No mount namespace here (no CAP_SYS_ADMIN): the image's own loader and libraries, from the unpacked
  # root filesystem, with the chart's files at their paths inside it.
  HOW="the image's loader and libraries, not chroot: this machine cannot mount /proc in a namespace"
  as_user=(); [ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=65532 --regid=65532 --clear-groups) && chmod o+x "$RUN" "$BUNDLE"
  libs=$(find "$ROOTFS" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
  loader=$(find "$ROOTFS/lib64" "$ROOTFS/lib" -maxdepth 2 -name 'ld-linux*' | head -1)
  args=("${AGENT_ARGS[@]}")
  args=("${args[@]//\/etc\/qbeast/$ROOTFS/etc/qbeast}"); args=("${args[@]//\/var\/lib\/qbeast-agent/$ROOTFS/var/lib/qbeast-agent}")
  env -i "${as_user[@]}" "$loader" --library-path "$libs" "$ROOTFS/usr/local/bin/qbeast-agent" "${args[@]}" \
    >>"$RUN/agent-image.log" 2>&1 &
fi
PIDS+=("$!")
check "the agent from the image ($HOW) enrolls with the one-time token and becomes ready" \
  eventually curl -fsS "http://127.0.0.1:${IMAGE_AGENT_METRICS_PORT}/readyz"
check "…its key and certificate are in its state directory, owned by 65532" \
  bash -c "[ -n \"\$(find '$ROOTFS/var/lib/qbeast-agent' -name '*.pem' -user 65532)\" ]"
agent_reported() {
  qbctl env get acme prod -o json | python3 -c "
import json, sys
e = json.load(sys.stdin)
sys.exit(0 if e.get('agent', {}).get('version') == '$VERSION' and e.get('agentLastSeen') else 1)"
}
check "the operator API shows the agent's facts: version $VERSION, last seen" eventually agent_reported
check "…and the workspace it received (observedGeneration 1)" \
  eventually bash -c "$BIN/qbctl workspace get acme prod canary -o json | grep -q '\"observedGeneration\" : 1'"
[ "$failed" -eq 0 ] || { echo "agent log (last lines):"; tail -5 "$RUN/agent-image.log"; }
finish
