#!/usr/bin/env bash
# Creates the development PKI under certs-dev/out unless it is already there. Development only.
set -euo pipefail
cd "$(dirname "$0")/.."
out=certs-dev/out
if [ -f "$out/ca.pem" ] && [ -f "$out/agent-globex-staging.pem" ] && [ "${FORCE:-0}" != "1" ]; then
  exit 0
fi
swift build --product qbctl >/dev/null
"$(swift build --show-bin-path)/qbctl" dev-certs --out "$out" --trust-domain qbeast.dev \
  --agent acme/prod --agent globex/staging
