#!/usr/bin/env bash
# Assembles the root filesystem of one image: the binary and nothing it does not need.
#
#   scripts/image-rootfs.sh agent|controller BINARY OUT_DIR
#
# OUT_DIR (emptied first) receives:
#   /usr/local/bin/<qbeast-agent|qbeast-controller>  the binary, its debug info stripped (STRIP=none keeps
#                                     it, STRIP=all drops the symbol table too; Swift's crash backtraces
#                                     need the symbol table, so the default keeps it)
#   every shared library the binary loads (its ldd closure, at the paths the loader finds them) and the
#   dynamic loader itself. A release binary (--static-swift-stdlib) needs only glibc, libstdc++,
#   libgcc_s, zlib (and SQLite for the controller); a debug binary also the Swift runtime .so files,
#   copied to the path its RUNPATH names.
#   /etc/passwd, /etc/group          root, and the user the image runs as: qbeast, 65532:65532
#   /etc/nsswitch.conf               hosts from /etc/hosts first, then DNS (glibc ≥ 2.34 has both built in)
#   /etc/ssl/certs/ca-certificates.crt  the Mozilla CA bundle (Debian's ca-certificates): the controller's
#                                     outbound HTTPS (Slack, OIDC JWKS, webhooks) and an agent's https://
#                                     metrics store
#   /var/lib/dpkg/status.d/<package> one status stanza per Debian package a copied file comes from, so
#                                     image scanners (Trivy, Grype) see glibc and the rest with versions
#   /tmp (1777), and the state directory (/var/lib/qbeast-agent or /var/lib/qbeast-controller, 0700,
#   owned by 65532) — in a cluster a volume is mounted over it
#   /usr/local/bin/helm              controller only, when HELM_BINARY names one (with its libraries, if any)
# No shell, no package manager, no coreutils.
#
# It runs on the build machine (here, `make images`) or in the first stage of images/*/Containerfile
# (official swift:6.3-bookworm image), so both paths make the same tree. Needs ldd, strip (binutils),
# dpkg-query and the ca-certificates package.
set -euo pipefail

usage() { echo "usage: $0 agent|controller BINARY OUT_DIR" >&2; exit 2; }
[ $# -eq 3 ] || usage
kind=$1 binary=$2 out=$3
case "$kind" in
  agent) name=qbeast-agent ;;
  controller) name=qbeast-controller ;;
  *) usage ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "image-rootfs: run as root (the tree is owned by root, its state directory by $((65532)))" >&2; exit 1; }
[ -x "$binary" ] || { echo "image-rootfs: $binary is not an executable" >&2; exit 1; }
uid=65532
state_dir=/var/lib/$name
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_bundle" ] || { echo "image-rootfs: $ca_bundle is missing (apt-get install ca-certificates)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
copied_from=()

# copy_file SOURCE DEST: DEST inside the root filesystem, symlinks followed.
copy_file() {
  mkdir -p "$out$(dirname "$2")"
  cp -L --preserve=mode "$1" "$out$2"
  copied_from+=("$1")
}

# The shared libraries FILE loads, and the loader, at the paths ldd resolves them to.
copy_closure() {
  local file=$1 listing line path
  if ! listing=$(ldd "$file" 2>&1); then
    # A static executable (helm is one) has nothing to copy.
    grep -Eq 'not a dynamic executable|statically linked' <<<"$listing" && return 0
    echo "image-rootfs: ldd $file failed: $listing" >&2; exit 1
  fi
  if grep -q 'not found' <<<"$listing"; then
    echo "image-rootfs: $file needs libraries this machine does not have:" >&2
    grep 'not found' <<<"$listing" >&2; exit 1
  fi
  while read -r line; do
    case "$line" in
      *"=> /"*) path=${line#*=> }; path=${path%% (*} ;;   # libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)
      /*) path=${line%% (*} ;;                            # /lib64/ld-linux-x86-64.so.2 (0x…): the loader
      *) continue ;;                                      # linux-vdso.so.1: in the kernel
    esac
    [ -e "$out$path" ] || copy_file "$path" "$path"
  done <<<"$listing"
}

# The binary.
mkdir -p "$out/usr/local/bin"
case "${STRIP:-debug}" in
  debug) strip --strip-debug -o "$out/usr/local/bin/$name" "$binary" ;;
  all) strip --strip-all -o "$out/usr/local/bin/$name" "$binary" ;;
  none) cp "$binary" "$out/usr/local/bin/$name" ;;
  *) echo "image-rootfs: STRIP must be debug, all or none" >&2; exit 2 ;;
esac
chmod 0755 "$out/usr/local/bin/$name"
copy_closure "$binary"

if [ "$kind" = controller ] && [ -n "${HELM_BINARY:-}" ]; then
  [ -x "$HELM_BINARY" ] || { echo "image-rootfs: HELM_BINARY=$HELM_BINARY is not an executable" >&2; exit 1; }
  copy_file "$HELM_BINARY" /usr/local/bin/helm
  chmod 0755 "$out/usr/local/bin/helm"
  copy_closure "$HELM_BINARY"
fi

# Users, name resolution, CA bundle.
mkdir -p "$out/etc/ssl/certs"
cat > "$out/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
qbeast:x:$uid:$uid:qbeast:$state_dir:/sbin/nologin
EOF
cat > "$out/etc/group" <<EOF
root:x:0:
qbeast:x:$uid:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$out/etc/nsswitch.conf"
chmod 0644 "$out/etc/passwd" "$out/etc/group" "$out/etc/nsswitch.conf"
copy_file "$ca_bundle" "$ca_bundle"
chmod 0644 "$out$ca_bundle"

# Writable places: /tmp, and the state directory owned by the user the image runs as.
install -d -m 1777 "$out/tmp"
install -d -m 0700 -o "$uid" -g "$uid" "$out$state_dir"

# Which Debian packages the copied files come from (for image scanners), as distroless records them.
if command -v dpkg-query >/dev/null; then
  mkdir -p "$out/var/lib/dpkg/status.d"
  for file in "${copied_from[@]}"; do
    package=""
    # usr-merged systems list files under /lib, /usr/lib or both: try the path as given and resolved.
    for candidate in "$file" "$(readlink -f "$file")"; do
      package=$(dpkg-query -S "$candidate" 2>/dev/null | head -1 | cut -d: -f1) || true
      [ -n "$package" ] && break
    done
    [ -n "$package" ] || continue
    [ -f "$out/var/lib/dpkg/status.d/$package" ] && continue
    dpkg-query -W -f='Package: ${Package}\nVersion: ${Version}\nArchitecture: ${Architecture}\nSource: ${source:Package} (${source:Version})\nStatus: install ok installed\n' \
      "$package" > "$out/var/lib/dpkg/status.d/$package"
  done
fi

# Ownership: root everywhere except the state directory.
chown -R 0:0 "$out"
chown "$uid:$uid" "$out$state_dir"
