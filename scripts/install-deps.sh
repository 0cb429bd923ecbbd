#!/usr/bin/env bash
# Installs what building, testing and the demo need, only when missing. Safe to run repeatedly.
# System packages come from Debian (apt-get); Swift 6.3 is expected to be installed already.
set -euo pipefail

need=()
have_dev() { dpkg -s "$1" >/dev/null 2>&1; }
# Build: SQLite for the controller's store, OpenSSL/nghttp2/libcurl for FoundationNetworking.
# Runtime peers the tests and the demo start on loopback: VictoriaMetrics (metrics store, vmalert) and
# Prometheus Alertmanager (the routing peer of the conformance test and the benchmark), PostgreSQL (the
# store several controller replicas share; the store tests start a throwaway server), tinyproxy (the
# corporate HTTPS proxy the agent tunnels through in the proxy tests).
# Images without Docker (make images, scripts/check-images.sh): buildah builds them, skopeo copies them
# between archives and registries, umoci unpacks one, docker-registry (CNCF Distribution) plays GHCR
# and a pull-through cache; binutils (strip) and ca-certificates go into the root filesystems.
for pkg in libsqlite3-dev libssl-dev libnghttp2-dev libcurl4-openssl-dev curl python3 python3-pip victoria-metrics prometheus-alertmanager postgresql tinyproxy-bin \
           buildah skopeo umoci docker-registry binutils ca-certificates; do
  have_dev "$pkg" || need+=("$pkg")
done

if [ "${#need[@]}" -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || { echo "install-deps: apt-get install ${need[*]} failed" >&2; exit 1; }
  # Debian's docker-registry package starts a system-wide registry on :5000 where systemd runs; the
  # tests start their own on free loopback ports, so the one just installed is stopped and disabled.
  if [[ " ${need[*]} " == *" docker-registry "* ]] && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi

command -v swift >/dev/null || { echo "install-deps: swift is not on PATH (Swift 6.3 is required)" >&2; exit 1; }
