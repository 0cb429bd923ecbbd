# Shared by demo.sh and e2e.sh: start the real binaries on loopback and stop them cleanly.
# Expects: BIN (build output dir), RUN (scratch dir), PORT_BASE.

CERTS=${CERTS:-certs-dev/out}
OPERATOR_PORT=$((PORT_BASE + 443))
AGENT_PORT=$((PORT_BASE + 444))
CONTROLLER_METRICS_PORT=$((PORT_BASE + 90))
ENROLL_PORT=$((PORT_BASE + 445))
AGENT_METRICS_PORT=$((PORT_BASE + 91))
PIDS=()

export QBEAST_SERVER="https://localhost:${OPERATOR_PORT}"
export QBEAST_CA_FILE="$CERTS/ca.pem"
export QBEAST_TOKEN_FILE="$RUN/admin-token"

make_token() {
  mkdir -p "$RUN"
  # A random operator token, readable only by us; never printed.
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN/admin-token"
  chmod 600 "$RUN/admin-token"
}

wait_ready() { # url, what
  for _ in $(seq 1 200); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "timed out waiting for $2 ($1)" >&2
  return 1
}

SLACK_PORT=$((PORT_BASE + 45))

# A local stand-in for Slack's incoming webhook (scripts/slack-sink.py): what the team channel gets
# lands in $RUN/slack.txt (as shown) and $RUN/slack.jsonl (raw Block Kit).
start_slack_sink() {
  python3 scripts/slack-sink.py "$SLACK_PORT" "$RUN" >>"$RUN/slack-sink.log" 2>&1 &
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:${SLACK_PORT}/" "slack stand-in"
  export QBEAST_SLACK_WEBHOOK_URL="http://127.0.0.1:${SLACK_PORT}/services/T0DEMO/B0DEMO/demo-secret"
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN/slack-signing-secret"
  chmod 600 "$RUN/slack-signing-secret"
}

# slack_click GROUP USER: what Slack sends when USER clicks a message's Acknowledge button —
# a form-encoded block_actions payload carrying the clicked message and a response_url, signed with
# the app's signing secret (v0 HMAC-SHA256). The controller answers 200 at once and then replaces the
# message through the response_url (here the Slack stand-in, which shows the replacement).
slack_click() {
  python3 - "$1" "$2" "$RUN/slack-signing-secret" "https://localhost:${OPERATOR_PORT}/slack/interactions" "$CERTS/ca.pem" \
    "$RUN/slack.jsonl" "http://127.0.0.1:${SLACK_PORT}/actions/T0DEMO/1/demo-response" <<'PY'
import hashlib, hmac, json, ssl, sys, time, urllib.parse, urllib.request
group, user, secret_file, url, ca, posted, response_url = sys.argv[1:]
clicked = [m for m in map(json.loads, open(posted)) if group in json.dumps(m.get("blocks", []))][-1]
payload = {"type": "block_actions", "user": {"id": "U0DEMO", "username": user}, "response_url": response_url,
           "message": clicked, "actions": [{"type": "button", "action_id": "qbeast_ack", "value": group}]}
body = ("payload=" + urllib.parse.quote(json.dumps(payload))).encode()
ts = str(int(time.time()))
secret = open(secret_file).read().strip().encode()
signature = "v0=" + hmac.new(secret, b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
request = urllib.request.Request(url, data=body, method="POST", headers={
    "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca)) as response:
    status = response.status
for _ in range(50):  # the replacement follows the answer
    replaced = [m for m in map(json.loads, open(posted)) if m.get("replace_original")]
    if replaced and f"Acknowledged by *{user}*" in json.dumps(replaced[-1]):
        print(status, f"the message in the channel now says: Acknowledged by {user}")
        sys.exit(0)
    time.sleep(0.1)
print(status, "but the message was not replaced", file=sys.stderr)
sys.exit(1)
PY
}

start_controller() {
  "$BIN/qbeast-controller" serve \
    --operator-listen "127.0.0.1:${OPERATOR_PORT}" --agent-listen "127.0.0.1:${AGENT_PORT}" \
    --metrics-listen "127.0.0.1:${CONTROLLER_METRICS_PORT}" --enroll-listen "127.0.0.1:${ENROLL_PORT}" \
    --ca-cert "$CERTS/ca.pem" --ca-key "$CERTS/ca-key.pem" \
    --tls-cert "$CERTS/controller.pem" --tls-key "$CERTS/controller-key.pem" --client-ca "$CERTS/ca.pem" \
    --data-dir "$RUN/controller" --admin-token-file "$RUN/admin-token" "$@" \
    >>"$RUN/controller.log" 2>&1 &
  CONTROLLER_PID=$!
  PIDS+=("$CONTROLLER_PID")
  wait_ready "http://127.0.0.1:${CONTROLLER_METRICS_PORT}/readyz" "controller"
}

VM_PORT=$((PORT_BASE + 428))

# The environment's metrics store: a real VictoriaMetrics on loopback with its own data directory.
start_victoria_metrics() {
  victoria-metrics -httpListenAddr="127.0.0.1:${VM_PORT}" -storageDataPath="$RUN/victoria-metrics" \
    -search.latencyOffset=1s -loggerLevel=ERROR >>"$RUN/victoria-metrics.log" 2>&1 &
  PIDS+=("$!")
  wait_ready "http://127.0.0.1:${VM_PORT}/health" "victoria-metrics"
}

# push_metric 'name{labels} value' — writes one sample at the current time.
push_metric() {
  curl -fsS --data-binary "$1 $(date +%s)000" "http://127.0.0.1:${VM_PORT}/api/v1/import/prometheus"
}

start_agent() { # tenant environment [metrics-port]
  local metrics_port=${3:-$AGENT_METRICS_PORT}
  "$BIN/qbeast-agent" run --controller-url "https://localhost:${AGENT_PORT}" \
    --tls-cert "$CERTS/agent-$1-$2.pem" --tls-key "$CERTS/agent-$1-$2-key.pem" --ca-bundle "$CERTS/ca.pem" \
    --state-dir "$RUN/agent-$1-$2" --metrics-listen "127.0.0.1:${metrics_port}" \
    --metrics-store-url "http://127.0.0.1:${VM_PORT}" \
    >>"$RUN/agent-$1-$2.log" 2>&1 &
  AGENT_PID=$!
  PIDS+=("$AGENT_PID")
  wait_ready "http://127.0.0.1:${metrics_port}/healthz" "agent"
}

# start_agent_enrolled TENANT ENVIRONMENT TOKEN_FILE [metrics-port]: an agent that starts with nothing
# but a one-time token and the CA bundle, enrolls, and keeps its key in its state directory.
start_agent_enrolled() {
  local metrics_port=${4:-$AGENT_METRICS_PORT}
  "$BIN/qbeast-agent" run --controller-url "https://localhost:${AGENT_PORT}" --ca-bundle "$CERTS/ca.pem" \
    --enroll-url "https://localhost:${ENROLL_PORT}" --tenant "$1" --environment "$2" --enrollment-token-file "$3" \
    --state-dir "$RUN/agent-$1-$2" --metrics-listen "127.0.0.1:${metrics_port}" \
    --metrics-store-url "http://127.0.0.1:${VM_PORT}" \
    >>"$RUN/agent-$1-$2.log" 2>&1 &
  AGENT_PID=$!
  PIDS+=("$AGENT_PID")
}

stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

qbctl() { "$BIN/qbctl" "$@"; }
