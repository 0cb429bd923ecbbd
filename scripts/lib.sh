# Shared by demo.sh and e2e.sh: start the real binaries on loopback and stop them cleanly.
# Expects: BIN (build output dir), RUN (scratch dir), PORT_BASE.

CERTS=${CERTS:-certs-dev/out}
OPERATOR_PORT=$((PORT_BASE + 443))
AGENT_PORT=$((PORT_BASE + 444))
CONTROLLER_METRICS_PORT=$((PORT_BASE + 90))
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

start_controller() {
  "$BIN/qbeast-controller" serve \
    --operator-listen "127.0.0.1:${OPERATOR_PORT}" --agent-listen "127.0.0.1:${AGENT_PORT}" \
    --metrics-listen "127.0.0.1:${CONTROLLER_METRICS_PORT}" \
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

stop_all() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

qbctl() { "$BIN/qbctl" "$@"; }
