#!/usr/bin/env bash
# The shippable artifacts, without Docker.
#
#   scripts/build-images.sh images    (make images)   dist/qbeast-agent-<version>.oci.tar, dist/qbeast-controller-<version>.oci.tar
#   scripts/build-images.sh release   (make release)  also dist/<binary>-<version>-linux-<arch>.tar.gz for
#                                                     qbeast-agent, qbeast-controller and qbctl, the two charts
#                                                     as dist/<chart>-<version>.tgz, and dist/SHA256SUMS
#
# The binaries: `swift build -c release --static-swift-stdlib` in .build-release, stamped with the
# version (-Xcc -DQBEAST_VERSION), unless BIN_DIR names a directory that already holds them (then, with
# no VERSION given, the version is what `$BIN_DIR/qbeast-agent --version` prints).
# The images: scripts/image-rootfs.sh assembles each root filesystem; buildah (vfs storage under
# .build-images, nothing global touched) builds the last stage of images/<kind>/Containerfile over it
# (--build-context rootfs=DIR) and writes an OCI archive. See images/README.md.
#
# Settings (environment): VERSION (default scripts/version.sh), BIN_DIR, HELM_BINARY (helm in the
# controller image), IMAGES (default "agent controller"), DIST (default dist), IMAGES_WORK (default
# .build-images), STRIP (see image-rootfs.sh), RELEASE_ALLOW_DYNAMIC=1 (tarballs of binaries that link
# the Swift runtime dynamically, e.g. a debug BIN_DIR; for trying the release path only).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-images}
case "$mode" in images|release) ;; *) echo "usage: $0 images|release" >&2; exit 2 ;; esac
started=$(date +%s)
say() { echo "build-images: $*"; }
fail() { echo "build-images: $*" >&2; exit 1; }

IMAGES=${IMAGES:-agent controller}
DIST=${DIST:-dist}
WORK=${IMAGES_WORK:-.build-images}
products=(qbeast-agent qbeast-controller)
[ "$mode" = release ] && products+=(qbctl)

# The version: given, else the binaries' own (BIN_DIR), else from git.
if [ -z "${VERSION:-}" ] && [ -n "${BIN_DIR:-}" ]; then
  VERSION=$("$BIN_DIR/qbeast-agent" --version 2>/dev/null | tr -d '[:space:]') || VERSION=""
fi
VERSION=${VERSION:-$(scripts/version.sh)}
[[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]] \
  || fail "VERSION \"$VERSION\" is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build])"
TAG=${VERSION//+/_}   # OCI tags cannot carry '+'; Helm spells it '_' as well
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# Files in the images and tarballs carry the commit's time, so the same commit gives the same digests.
EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
git diff --quiet HEAD 2>/dev/null || say "note: the working tree has uncommitted changes; artifacts are labelled $REVISION all the same"
case "$(uname -m)" in x86_64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac

# Release binaries (a no-op when .build-release is up to date).
if [ -z "${BIN_DIR:-}" ]; then
  flags=(-c release --static-swift-stdlib --scratch-path .build-release -Xcc "-DQBEAST_VERSION=\"$VERSION\"")
  for product in "${products[@]}"; do
    say "swift build ${flags[*]} --product $product"
    swift build "${flags[@]}" --product "$product"
  done
  BIN_DIR=$(swift build "${flags[@]}" --show-bin-path)
fi
for product in "${products[@]}"; do
  [ -x "$BIN_DIR/$product" ] || fail "$BIN_DIR/$product is missing"
  if reported=$("$BIN_DIR/$product" --version 2>/dev/null); then
    [ "$(tr -d '[:space:]' <<<"$reported")" = "$VERSION" ] \
      || fail "$BIN_DIR/$product --version prints \"$reported\", not $VERSION (build it with -Xcc -DQBEAST_VERSION='\"$VERSION\"', or set VERSION)"
  else
    say "note: $BIN_DIR/$product has no --version; labelling it $VERSION"
  fi
done

mkdir -p "$DIST" "$WORK/context"
WORK=$(cd "$WORK" && pwd)
BUILDAH=(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)

# image_summary ARCHIVE: the compressed size (what a registry stores and a node pulls: config and
# layers as pushed), the unpacked size and the manifest digest.
image_summary() {
  python3 - "$1" <<'PY'
import gzip, json, sys, tarfile
with tarfile.open(sys.argv[1]) as archive:
    def blob(digest):
        return archive.extractfile("blobs/" + digest.replace(":", "/")).read()
    index = json.loads(archive.extractfile("index.json").read())
    manifest_descriptor = index["manifests"][0]
    manifest = json.loads(blob(manifest_descriptor["digest"]))
    compressed = manifest["config"]["size"] + sum(layer["size"] for layer in manifest["layers"])
    uncompressed = 0
    for layer in manifest["layers"]:
        uncompressed += len(gzip.decompress(blob(layer["digest"])))
print(f"{compressed / 1e6:.1f} MB compressed, {uncompressed / 1e6:.1f} MB unpacked, manifest {manifest_descriptor['digest']}")
PY
}

if [ "$mode" = images ]; then
  for kind in $IMAGES; do
    name=qbeast-$kind
    t0=$(date +%s)
    rootfs="$WORK/$name-rootfs"
    scripts/image-rootfs.sh "$kind" "$BIN_DIR/$name" "$rootfs"
    "${BUILDAH[@]}" rmi -f "localhost/$name:$TAG" >/dev/null 2>&1 || true
    # Only the last stage is built: the named context `rootfs` stands for the stages before it.
    "${BUILDAH[@]}" bud --quiet --identity-label=false --timestamp "$EPOCH" \
      --build-context "rootfs=$rootfs" \
      --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" \
      -f "images/$kind/Containerfile" -t "localhost/$name:$TAG" "$WORK/context" >/dev/null
    archive="$DIST/$name-$VERSION.oci.tar"
    rm -f "$archive"
    "${BUILDAH[@]}" push --quiet "localhost/$name:$TAG" "oci-archive:$archive:$TAG"
    "${BUILDAH[@]}" rmi -f "localhost/$name:$TAG" >/dev/null
    say "$archive: $(image_summary "$archive"); $(( $(date +%s) - t0 )) s"
  done
else
  # Binaries: the same debug-info-stripped binary as in the image, one per tarball.
  for product in "${products[@]}"; do
    if ldd "$BIN_DIR/$product" 2>/dev/null | grep -q 'libswiftCore\.so' && [ "${RELEASE_ALLOW_DYNAMIC:-0}" != 1 ]; then
      fail "$BIN_DIR/$product links the Swift runtime dynamically; release tarballs carry --static-swift-stdlib binaries (unset BIN_DIR)"
    fi
    stage="$WORK/tarball/$product"
    rm -rf "$stage" && mkdir -p "$stage"
    strip --strip-debug -o "$stage/$product" "$BIN_DIR/$product"
    chmod 0755 "$stage/$product"
    tarball="$DIST/$product-$VERSION-linux-$ARCH.tar.gz"
    tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "$product" | gzip -9n > "$tarball"
    say "$tarball: $(du -k "$tarball" | cut -f1) KiB"
  done
  # Charts: version and appVersion set to VERSION, packaged by Helm's own library, then linted.
  python3 scripts/package-charts.py "$VERSION" "$DIST"
  # Checksums of everything this version ships.
  (
    cd "$DIST"
    files=()
    for file in qbeast-agent-"$VERSION".oci.tar qbeast-controller-"$VERSION".oci.tar \
                qbeast-agent-"$VERSION"-linux-"$ARCH".tar.gz qbeast-controller-"$VERSION"-linux-"$ARCH".tar.gz qbctl-"$VERSION"-linux-"$ARCH".tar.gz \
                qbeast-agent-"$VERSION".tgz qbeast-controller-"$VERSION".tgz; do
      [ -f "$file" ] && files+=("$file") || echo "build-images: note: $DIST/$file is missing (make images first)" >&2
    done
    sha256sum "${files[@]}" > SHA256SUMS
  )
  say "$DIST/SHA256SUMS: $(wc -l < "$DIST/SHA256SUMS") files"
fi
say "$mode $VERSION done in $(( $(date +%s) - started )) s"
