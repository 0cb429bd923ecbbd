#!/usr/bin/env bash
# make demo: the split plane on one machine. A controller (SQLite store) and one agent talk over
# mutual TLS on loopback; we drive the controller with qbctl as an operator would.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)
RUN=${RUN:-.data/demo}
PORT_BASE=${PORT_BASE:-8000}
rm -rf "$RUN"
source scripts/lib.sh
trap 'echo; echo "stopping…"; stop_all; echo "stopped. Logs: $RUN/controller.log $RUN/agent-acme-prod.log"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

make_token
step "The team channel: a local stand-in for Slack's incoming webhook on :${SLACK_PORT} (the real Slack is not reachable here)"
start_slack_sink
echo "messages will appear in $RUN/slack.txt"

step "Controller: operator API https://localhost:${OPERATOR_PORT}, agent gateway (mTLS) :${AGENT_PORT}, metrics :${CONTROLLER_METRICS_PORT}"
start_controller --routing-config examples/demo-routing.yaml --slack-signing-secret-file "$RUN/slack-signing-secret"
echo "ready ($(curl -fsS "http://127.0.0.1:${CONTROLLER_METRICS_PORT}/readyz"))"

step "Operator creates tenant acme and environment prod (AWS, customer-provided cluster)"
qbctl tenant create acme --display-name "ACME Corp"
qbctl env create acme prod --cloud aws --mode provided

step "The customer's metrics store: VictoriaMetrics on 127.0.0.1:${VM_PORT} (its data never leaves)"
start_victoria_metrics
push_metric 'qbeast_backend_up{instance="backend-0",pod_ip="10.4.2.17"} 1'
echo "qbeast_backend_up{instance=\"backend-0\"} = 1 (healthy)"

step "Operator makes a one-time enrollment token; the agent starts with nothing but it and the CA bundle"
qbctl env enroll-token acme prod --ttl 15m > "$RUN/enroll-token"
echo "token written to $RUN/enroll-token (shown once, single use, only its hash is stored)"
start_agent_enrolled acme prod "$RUN/enroll-token"
wait_ready "http://127.0.0.1:${AGENT_METRICS_PORT}/healthz" "agent"
for _ in $(seq 1 100); do grep -q '"enrolled"' "$RUN/agent-acme-prod.log" && break; sleep 0.1; done
echo "the agent made its own key (never sent), enrolled, and now holds a 24 h certificate for spiffe://qbeast.dev/tenant/acme/environment/prod:"
qbctl env certificates acme prod
for _ in $(seq 1 100); do grep -q '"desired state received"' "$RUN/agent-acme-prod.log" && break; sleep 0.1; done
echo "agent connected; environment as the controller sees it:"
qbctl env get acme prod

step "Operator applies a workspace with components and an alert rule (examples/demo-workspace.yaml)"
qbctl workspace apply -f examples/demo-workspace.yaml
for _ in $(seq 1 100); do
  qbctl workspace get acme prod analytics -o json | grep -q '"observedGeneration" : 1' && break
  sleep 0.1
done

step "The agent received it at once (long poll), from its log:"
grep '"desired state received"' "$RUN/agent-acme-prod.log" | tail -1

step "Status came back to the controller:"
qbctl workspace get acme prod analytics

step "The backend goes down in the customer's cluster; the agent evaluates the rule locally (for: 10s)…"
for _ in $(seq 1 40); do
  push_metric 'qbeast_backend_up{instance="backend-0",pod_ip="10.4.2.17"} 0'
  qbctl alerts list --tenant acme --state firing -o json | grep -q QbeastBackendDown && break
  sleep 1
done
echo "Only the alert crossed to the controller (no metrics; pod_ip and the internal annotation stayed behind):"
qbctl alerts list --tenant acme

step "The controller grouped it (tenant, environment, alertname) and notified the team channel:"
for _ in $(seq 1 100); do [ -s "$RUN/slack.txt" ] && break; sleep 0.1; done
cat "$RUN/slack.txt"
qbctl alerts groups
GROUP=$(qbctl alerts groups -o json | sed -n 's/.*"id" : "\([0-9a-f]\{16\}\)".*/\1/p' | head -1)

step "Someone clicks Acknowledge in Slack (a signed interaction, checked by the controller): the critical stops repeating"
slack_click "$GROUP" alice
python3 -c 'import sys; t = open(sys.argv[1]).read(); print("┌─" + t.split("┌─")[-1], end="")' "$RUN/slack.txt"
qbctl alerts group "$GROUP" | head -5
echo "Notifications recorded (each one before it was sent):"
qbctl alerts notifications

step "What the agent has sent so far (bytes per message kind, from its /metrics):"
curl -fsS "http://127.0.0.1:${AGENT_METRICS_PORT}/metrics" | grep '^qbeast_agent_bytes_sent_total' || echo "(none yet)"

if [ "${DEMO_EXIT:-0}" = "1" ] || [ ! -t 0 ]; then
  exit 0
fi
step "Running. Try: QBEAST_SERVER=$QBEAST_SERVER QBEAST_CA_FILE=$QBEAST_CA_FILE QBEAST_TOKEN_FILE=$QBEAST_TOKEN_FILE $BIN/qbctl workspace list acme prod"
echo "Ctrl-C stops both processes gracefully."
wait "$CONTROLLER_PID"
