#!/usr/bin/env bash
# End-to-end checks with the real executables on loopback: controller, agents and qbctl as users
# run them. Complements `swift test`, which drives the same code in process.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build --show-bin-path)
RUN=$(mktemp -d /tmp/qbeast-e2e.XXXXXX)
PORT_BASE=${PORT_BASE:-18000}
source scripts/lib.sh
trap 'stop_all; rm -rf "$RUN"' EXIT

passed=0; failed=0
check() { # description, command...
  local what=$1; shift
  if "$@" >>"$RUN/checks.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $what"
  else
    failed=$((failed + 1)); echo "FAIL $what"; tail -5 "$RUN/checks.log" | sed 's/^/     /'
  fi
}
exit_code() { # expected, command...
  local expected=$1; shift
  "$@" >/dev/null 2>"$RUN/stderr"; local got=$?
  [ "$got" -eq "$expected" ] || { echo "exit $got, expected $expected: $(cat "$RUN/stderr")"; return 1; }
  [ "$(wc -l < "$RUN/stderr")" -eq 1 ] || { echo "expected one line on stderr, got: $(cat "$RUN/stderr")"; return 1; }
}
eventually() { for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; "$@"; }
workspace_observed() { qbctl workspace get acme prod analytics -o json | grep -q "\"observedGeneration\" : $1"; }
not_ready() { ! curl -fsS "$1" >/dev/null; }

make_token
start_slack_sink
cat > "$RUN/routing.yaml" <<'YAML'
route:
  receiver: team-slack
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: team-slack
    slack_configs:
      - webhook_url_env: QBEAST_SLACK_WEBHOOK_URL
YAML
# No helm and no ghcr.io here: chart components are rendered by a stand-in for helm's CLI (not helm).
CONTROLLER_ARGS=(--routing-config "$RUN/routing.yaml" --slack-signing-secret-file "$RUN/slack-signing-secret"
                 --helm-binary "$PWD/scripts/helm-standin.sh")
start_controller "${CONTROLLER_ARGS[@]}"

check "controller /healthz answers" curl -fsS "http://127.0.0.1:${CONTROLLER_METRICS_PORT}/healthz"
check "controller /metrics is Prometheus text" bash -c "curl -fsS http://127.0.0.1:${CONTROLLER_METRICS_PORT}/metrics -o /dev/null -w '%{content_type}' | grep -q 'text/plain; version=0.0.4'"
check "operator API refuses plain HTTP" bash -c "! curl -fsS http://127.0.0.1:${OPERATOR_PORT}/v1/tenants"

check "qbctl tenant create" qbctl tenant create acme
check "qbctl env create" qbctl env create acme prod --cloud aws --mode provided
check "qbctl: invalid name → exit 2, one line" exit_code 2 qbctl tenant get Not_A_Name
check "qbctl: not found → exit 3, one line" exit_code 3 qbctl tenant get nobody
check "qbctl: duplicate → exit 1, one line" exit_code 1 qbctl tenant create acme
check "qbctl: wrong token → exit 4, one line" exit_code 4 env QBEAST_TOKEN=wrong-token-0123456789 "$BIN/qbctl" tenant list
check "qbctl: controller unreachable → exit 5, one line" exit_code 5 env QBEAST_SERVER=https://localhost:1 "$BIN/qbctl" tenant list
check "qbctl: malformed apply file → exit 1, one line" exit_code 1 qbctl workspace apply -f Makefile
check "qbctl -o yaml prints the resource as YAML" bash -c "$BIN/qbctl tenant get acme -o yaml | grep -q '^kind: Tenant'"
# Contexts: a config file instead of QBEAST_* variables, written owner-only.
export QBCTL_CONFIG="$RUN/qbctl/config.yaml"
check "qbctl config set-context" env -u QBEAST_TOKEN -u QBEAST_TOKEN_FILE "$BIN/qbctl" config set-context e2e \
  --server "https://localhost:${OPERATOR_PORT}" --ca "$QBEAST_CA_FILE" --token-file "$RUN/admin-token"
check "qbctl uses the current context" env -u QBEAST_SERVER -u QBEAST_TOKEN -u QBEAST_TOKEN_FILE -u QBEAST_CA_FILE "$BIN/qbctl" tenant get acme
check "qbctl config is written 0600" bash -c "[ \"\$(stat -c %a $RUN/qbctl/config.yaml)\" = 600 ]"
check "qbctl: unknown context → exit 2, one line" exit_code 2 "$BIN/qbctl" tenant list --context nope
unset QBCTL_CONFIG
check "qbctl apply -f creates tenants, environments and workspaces" bash -c "$BIN/qbctl apply -f examples/fleet.yaml | grep -c created | grep -qx 3"
check "qbctl apply -f again changes nothing" bash -c "$BIN/qbctl apply -f examples/fleet.yaml | grep -c unchanged | grep -qx 3"
check "qbctl get workspaces shows the resolved workspace" bash -c "$BIN/qbctl get ws -t initech -e prod-eu | grep -q analytics"
check "qbctl describe environment shows its registry and workspaces" bash -c "$BIN/qbctl describe env prod-eu -t initech | grep -q 'dkr.ecr' && $BIN/qbctl describe env prod-eu -t initech | grep -q analytics"
check "qbctl delete workspace" qbctl delete workspace analytics -t initech -e prod-eu
check "qbctl apply: an unknown kind fails alone, exit 1" bash -c "printf 'kind: Tenant\nname: hooli\n---\nkind: Cluster\nname: x\n' | $BIN/qbctl apply -f - ; [ \$? -eq 1 ] && $BIN/qbctl get tenant hooli >/dev/null"
qbctl tenant create globex-e2e >/dev/null 2>&1
qbctl token create support-acme --role viewer --tenant acme > "$RUN/viewer-token" 2>/dev/null
check "qbctl token create prints the secret once" grep -q '^qbt_' "$RUN/viewer-token"
as_viewer() { QBEAST_TOKEN_FILE="$RUN/viewer-token" "$BIN/qbctl" "$@"; }
check "a viewer token sees only its tenant" bash -c "[ \"\$(QBEAST_TOKEN_FILE=$RUN/viewer-token $BIN/qbctl tenant list -o json | grep -c '\"name\"')\" = 1 ]"
check "…other tenants answer not found → exit 3" exit_code 3 as_viewer tenant get globex-e2e
check "…and it cannot change anything → exit 4" exit_code 4 as_viewer env create acme nope --cloud aws
check "qbctl token list shows it without its secret" bash -c "$BIN/qbctl token list | grep -q support-acme && ! $BIN/qbctl token list -o json | grep -q qbt_"
qbctl tenant delete globex-e2e >/dev/null 2>&1

start_victoria_metrics
start_agent acme prod
ACME_AGENT_PID=$AGENT_PID
check "agent becomes ready after receiving desired state" eventually curl -fsS "http://127.0.0.1:${AGENT_METRICS_PORT}/readyz"
check "qbctl workspace apply" qbctl workspace apply -f examples/workspace.yaml
check "agent reports observedGeneration 1 for the workspace" eventually workspace_observed 1
check "qbctl workspace get shows the Accepted condition" bash -c "$BIN/qbctl workspace get acme prod analytics | grep -Eq 'Accepted +True'"
check "qbctl workspace apply (rules with short durations)" qbctl workspace apply -f examples/demo-workspace.yaml
alert_arrives() {
  for _ in $(seq 1 40); do
    push_metric 'qbeast_backend_up{instance="backend-0",pod_ip="10.4.2.17"} 0'
    qbctl alerts list --tenant acme --state firing -o json | grep -q '"QbeastBackendDown"' && return 0
    sleep 1
  done
  return 1
}
check "a rule evaluated in the environment delivers its alert to the controller" alert_arrives
check "only allowlisted labels crossed (pod_ip stayed behind)" bash -c "! $BIN/qbctl alerts list --tenant acme -o json | grep -q pod_ip"

# Alert delivery to the team channel (a local Slack stand-in), acknowledgement, routing reload.
slack_messages() { [ -f "$RUN/slack.jsonl" ] && wc -l < "$RUN/slack.jsonl" || echo 0; }
group_id() { qbctl alerts groups -o json | python3 -c "import json,sys; print(json.load(sys.stdin)['items'][0]['id'])"; }
check "the team channel got a Block Kit message for the critical alert" eventually grep -q '"header".*QbeastBackendDown' "$RUN/slack.jsonl"
check "the message carries an Acknowledge button for its group" bash -c "grep -q \"\\\"value\\\": \\\"$(group_id)\\\"\" '$RUN/slack.jsonl'"
check "the Slack webhook URL never appears in the controller's log" bash -c "! grep -q demo-secret '$RUN/controller.log'"
forged_click() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CERTS/ca.pem" -H "X-Slack-Request-Timestamp: $(date +%s)" \
      -H 'X-Slack-Signature: v0=0000' --data "payload=%7B%7D" "https://localhost:${OPERATOR_PORT}/slack/interactions")" = 401 ]
}
check "a forged Slack interaction is refused with 401" forged_click
check "a signed Slack click acknowledges the group" slack_click "$(group_id)" alice
check "qbctl alerts group shows who acknowledged" bash -c "$BIN/qbctl alerts group $(group_id) | grep -q 'by alice via slack'"
check "qbctl alerts unack" qbctl alerts unack "$(group_id)"
check "qbctl alerts ack --comment" qbctl alerts ack "$(group_id)" --by bob --comment "looking"
check "qbctl alerts ack of an unknown group → exit 3, one line" exit_code 3 qbctl alerts ack 0123456789abcdef
check "qbctl silence create" qbctl silence create -m 'alertname="Nothing"' --duration 1h --comment "e2e"
check "qbctl silence create without a reason → exit 2" exit_code 2 qbctl silence create -m tenant=acme --duration 1h
cp "$RUN/routing.yaml" "$RUN/routing.good"
printf 'route:\n  receiver: nobody\nreceivers:\n  - name: team-slack\n' > "$RUN/routing.yaml"
kill -HUP "$CONTROLLER_PID"
check "SIGHUP with a broken routing file: refused with the line and reason" eventually grep -q 'line 2: route.receiver: unknown receiver' "$RUN/controller.log"
check "…and the controller keeps running on the old routes" bash -c "$BIN/qbctl routing show | grep -q '\"group_wait\" : \"1s\"'"
check "qbctl routing reload with the broken file → exit 1, one line" exit_code 1 qbctl routing reload
cp "$RUN/routing.good" "$RUN/routing.yaml"
check "qbctl routing reload with a good file" qbctl routing reload

# Crash safety with SIGKILL: a firing alert stays the same alert, and a pending one keeps its `for` progress.
alert_field() { # instance field
  qbctl alerts list --tenant acme -o json | python3 -c "import json,sys; print(next((a['$2'] for a in json.load(sys.stdin)['items'] if a['labels'].get('instance') == '$1'), ''))"
}
pending_on_disk() { # instance
  python3 - "$RUN/agent-acme-prod/rules" "$1" <<'PY'
import glob, json, sys
for path in glob.glob(sys.argv[1] + "/analytics-*.json"):
    for rule in json.load(open(path)).values():
        for alert in rule.values():
            if alert["labels"].get("instance") == sys.argv[2] and alert["state"] == "pending":
                sys.exit(0)
sys.exit(1)
PY
}
restart_agent_hard() {
  kill -KILL "$ACME_AGENT_PID"; wait "$ACME_AGENT_PID" 2>/dev/null
  start_agent acme prod
  ACME_AGENT_PID=$AGENT_PID
}
firing_starts_at=$(alert_field backend-0 startsAt)
restart_agent_hard
sleep 16  # long enough for a reset alert to pend its 10 s `for` again and re-fire with a new startsAt
push_metric 'qbeast_backend_up{instance="backend-0",pod_ip="10.4.2.17"} 0'
check "SIGKILL while firing: same alert, same startsAt, still firing" test "$(alert_field backend-0 startsAt)/$(alert_field backend-0 state)" = "$firing_starts_at/firing"

push_metric 'qbeast_backend_up{instance="backend-1"} 0'
check "a second instance goes pending (state on disk)" eventually pending_on_disk backend-1
sleep 6  # over half of its 10 s `for` has passed when the agent is killed
push_metric 'qbeast_backend_up{instance="backend-1"} 0'
restart_agent_hard
restarted=$(date +%s)
fires_soon() {
  for _ in $(seq 1 30); do
    push_metric 'qbeast_backend_up{instance="backend-1"} 0'
    [ "$(alert_field backend-1 state)" = firing ] && return 0
    sleep 0.5
  done
  return 1
}
check "SIGKILL mid-for: the alert still fires" fires_soon
check "…within the rest of its for (≤ 9 s after restart; a reset would need ≥ 10 s more)" test $(( $(date +%s) - restarted )) -le 9
check "agent /metrics counts bytes sent per kind" bash -c "curl -fsS http://127.0.0.1:${AGENT_METRICS_PORT}/metrics | grep -q 'qbeast_agent_bytes_sent_total{kind=\"status\"}'"
# Both sides of the boundary reconcile: the agent's egress journal (kept across its SIGKILL above) and
# the controller's received-bytes counter agree per kind (retried: a heartbeat may be in flight).
journal_matches_controller() { # kind
  local journal controller
  journal=$("$BIN/qbeast-agent" egress tail --state-dir "$RUN/agent-acme-prod" --totals | awk -v k="$1" '$1 == k { sub("bytes=", "", $3); print $3 }')
  controller=$(curl -fsS "http://127.0.0.1:${CONTROLLER_METRICS_PORT}/metrics" |
    awk -v k="qbeast_controller_agent_bytes_received_total{kind=\"$1\"}" '$1 == k { printf "%d", $2 }')
  echo "journal $1=$journal controller $1=$controller"
  [ -n "$journal" ] && [ "$journal" = "$controller" ]
}
check "egress journal: alert bytes equal the controller's received bytes" eventually journal_matches_controller alerts
check "egress journal: status bytes equal the controller's received bytes" eventually journal_matches_controller status
check "egress journal: entries carry kind, size, SHA-256 and label names" bash -c \
  "'$BIN/qbeast-agent' egress tail --state-dir '$RUN/agent-acme-prod' -n 50 | grep '\"kind\":\"alerts\"' | grep -q '\"labelNames\":\\[\"alertname\"'"

# An agent whose environment the controller does not know is refused and never becomes ready.
check "qbctl tenant create globex (no environment)" qbctl tenant create globex
start_agent globex staging $((PORT_BASE + 92))
sleep 1
check "unregistered environment's agent is refused (403 in its log)" grep -q "not registered with this controller" "$RUN/agent-globex-staging.log"
check "unregistered environment's agent stays not ready" not_ready "http://127.0.0.1:$((PORT_BASE + 92))/readyz"

# Identity: an agent that starts with nothing but a one-time token enrolls; the token works once;
# revoking the environment cuts the agent off.
check "qbctl env create acme dev" qbctl env create acme dev --cloud gcp --mode provided
qbctl env enroll-token acme dev --ttl 10m > "$RUN/dev-token" 2>/dev/null
check "qbctl env enroll-token prints a one-time token" grep -q '^qbe_' "$RUN/dev-token"
start_agent_enrolled acme dev "$RUN/dev-token" $((PORT_BASE + 93))
DEV_AGENT_PID=$AGENT_PID
check "the agent enrolls with the token and becomes ready" eventually curl -fsS "http://127.0.0.1:$((PORT_BASE + 93))/readyz"
check "its private key is mode 0600 in its state directory" bash -c "[ \"\$(stat -c %a $RUN/agent-acme-dev/identity/*-key.pem)\" = 600 ]"
check "qbctl env certificates lists the enrolled certificate" bash -c "$BIN/qbctl env certificates acme dev | grep -q ' token '"
journal_matches_agent() { # state-dir metrics-port kind: an agent that has not restarted, its journal and its counter
  local journal agent
  journal=$("$BIN/qbeast-agent" egress tail --state-dir "$1" --totals | awk -v k="$3" '$1 == k { sub("bytes=", "", $3); print $3 }')
  agent=$(curl -fsS "http://127.0.0.1:$2/metrics" | awk -v k="qbeast_agent_bytes_sent_total{kind=\"$3\"}" '$1 == k { printf "%d", $2 }')
  echo "journal $3=$journal agent $3=$agent"
  [ -n "$journal" ] && [ "$journal" = "$agent" ]
}
check "egress journal: status bytes equal the agent's own qbeast_agent_bytes_sent_total" \
  eventually journal_matches_agent "$RUN/agent-acme-dev" $((PORT_BASE + 93)) status
replay() {
  rm -rf "$RUN/agent-replay"
  ! "$BIN/qbeast-agent" run --controller-url "https://localhost:${AGENT_PORT}" --ca-bundle "$CERTS/ca.pem" \
      --enroll-url "https://localhost:${ENROLL_PORT}" --tenant acme --environment dev --enrollment-token-file "$RUN/dev-token" \
      --state-dir "$RUN/agent-replay" --metrics-listen "127.0.0.1:$((PORT_BASE + 94))" > "$RUN/replay.log" 2>&1 &&
    grep -q "already used" "$RUN/replay.log"
}
check "a second agent with the same token is refused (already used) and exits non-zero" replay
check "the token never appears in the controller's log" bash -c "! grep -q \"\$(cat $RUN/dev-token)\" '$RUN/controller.log'"
check "qbctl env revoke" qbctl env revoke acme dev
check "the revoked agent is refused within seconds (403 in its log)" eventually grep -q "was revoked" "$RUN/agent-acme-dev.log"
check "qbctl audit lists the enrollment and the revocation" bash -c "$BIN/qbctl audit | grep -q 'enroll' && $BIN/qbctl audit | grep -q '/v1/tenants/acme/environments/dev/revoke'"
kill -TERM "$DEV_AGENT_PID" 2>/dev/null; wait "$DEV_AGENT_PID" 2>/dev/null

# Graceful shutdown with a long poll open, then restart on the same SQLite file.
kill -TERM "$CONTROLLER_PID"
start=$(date +%s)
wait "$CONTROLLER_PID"; code=$?
check "controller exits 0 on SIGTERM with long polls open" test "$code" -eq 0
check "controller stops within 10 s" test $(( $(date +%s) - start )) -le 10
messages_before_restart=$(slack_messages)
start_controller "${CONTROLLER_ARGS[@]}"
check "after restart the workspace is still there" bash -c "$BIN/qbctl workspace get acme prod analytics -o json | grep -q '\"generation\" : 2'"
check "a changed spec bumps the generation" qbctl workspace apply -f examples/workspace.yaml
check "the reconnected agent observes generation 3" eventually workspace_observed 3
sleep 4  # two group intervals
check "after restart nothing already notified is sent again" test "$(slack_messages)" -eq "$messages_before_restart"

stop_all
echo "e2e: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
