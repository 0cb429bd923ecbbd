#!/bin/sh
# NOT HELM. A stand-in for `helm template`'s command-line contract, for scripts/e2e.sh: these machines
# have no helm binary and cannot reach ghcr.io, so a real rendering is impossible here. It accepts
#   template <release> <chart ref> [--repo <url>] --version <v> --namespace <ns> --values <file>
# refuses anything else (exit 1, message on stderr, as helm does), and prints a fixed rendering: a
# ServiceAccount and a Deployment named after the release, image ghcr.io/qbeast/<chart>:<version>.
set -eu
[ "${1:-}" = template ] || { echo "helm-standin: only 'template' is supported" >&2; exit 1; }
release=${2:?release}; chart=${3:?chart}; shift 3
version=; namespace=; values=
while [ $# -gt 0 ]; do
  case "$1" in
    --repo) shift 2 ;;
    --version) version=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --values) values=$2; shift 2 ;;
    *) echo "helm-standin: unknown flag $1" >&2; exit 1 ;;
  esac
done
[ -n "$version" ] && [ -n "$namespace" ] && [ -r "$values" ] || { echo "helm-standin: --version, --namespace and a readable --values are required" >&2; exit 1; }
name=${chart##*/}
cat <<YAML
---
# Source: ${name}/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${release}
  namespace: ${namespace}
---
# Source: ${name}/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${release}
  namespace: ${namespace}
spec:
  selector:
    matchLabels: {app.kubernetes.io/instance: ${release}}
  template:
    metadata:
      labels: {app.kubernetes.io/instance: ${release}}
    spec:
      serviceAccountName: ${release}
      containers:
        - name: ${name}
          image: ghcr.io/qbeast/${name}:${version}
YAML
