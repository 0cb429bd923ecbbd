#!/usr/bin/env bash
# schemathesis against a running controller (the real binary on loopback): every operation of the
# OpenAPI document, generated and negative data included, must get no server error and only
# responses the document describes (status codes, content types, headers, bodies).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)
RUN=$(mktemp -d /tmp/qbeast-api.XXXXXX)
PORT_BASE=${PORT_BASE:-19000}
source scripts/lib.sh
trap 'stop_all; rm -rf "$RUN"' EXIT
make_token
printf 'route:\n  receiver: none\nreceivers:\n  - name: none\n' > "$RUN/routing.yaml"
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN/slack-secret"
start_controller --routing-config "$RUN/routing.yaml" --slack-signing-secret-file "$RUN/slack-secret"
PYTHONPATH=.tools/python python3 -c "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())" run \
  Sources/Controller/Resources/openapi.yaml --url "https://localhost:${OPERATOR_PORT}" \
  -H "Authorization: Bearer $(cat "$RUN/admin-token")" --tls-verify "$CERTS/ca.pem" -n "${API_EXAMPLES:-30}" --request-timeout 10 \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,missing_required_header,unsupported_method,allow_header_conformance,ignored_auth \
  > "$RUN/schemathesis.log" 2>&1
code=$?
grep -q "❌" "$RUN/schemathesis.log" && code=1
sed -n '/SUMMARY/,$p' "$RUN/schemathesis.log" | grep -E "Failures|❌|✅|Test cases|failures|passed" | sed 's/^/  /'
if [ "$code" -ne 0 ]; then
  sed -n "/FAILURES/,/SUMMARY/p" "$RUN/schemathesis.log" | head -60
  echo "controller log (last lines):"; tail -20 "$RUN/controller.log"
  echo "api: schemathesis found problems"
  exit 1
fi
echo "api: schemathesis passed"
