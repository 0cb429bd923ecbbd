#!/usr/bin/env python3
"""Checks the Grafana dashboards in dashboards/ and runs every query they hold against a real
VictoriaMetrics.

- Each file validates against Grafana's classic dashboard JSON schema
  (../shared/schemas/grafana-foundation-sdk/dashboard.jsonschema.json, draft-07); where ../shared is
  absent (a user's clone) that part alone is skipped, with one line.
- Project rules the schema cannot say: the pinned uid, the tag `qbeast`, a `datasource` variable of type
  prometheus and no other datasource uid anywhere, unique panel ids and titles, every panel with a
  query, every panel documented in dashboards/README.md, no Grafana variable that is not defined.
- A real VictoriaMetrics (Debian's `victoria-metrics`, on 127.0.0.1, a free port, a temporary data
  directory) is loaded with deterministic synthetic series named and labelled like the real exporters'
  (the agent's swift-prometheus output, the backend's and MCP server's contract, node_exporter,
  the kubelet) over the last hour at 15 s steps. Every variable query (label_values, query_result) must
  return values; every panel target's expr, with the variables substituted as Grafana would, must be
  accepted and return data, for the variables' defaults and for each value of each query variable; and
  every metric name an expr references must exist.
- A self-test plants faults in copies — a misspelled metric, a selector that matches nothing and a
  syntax error in every target, an unknown key, a hard-coded datasource uid and an undefined
  variable — and requires each to be caught:
  the check is seen to fail before it is trusted. `--self-test` runs only that; the default runs all.

One line per failure and exit status 1; one summary line on success. VictoriaMetrics is stopped on
every exit.
"""
import copy
import glob
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DASHBOARD_DIR = os.path.join(ROOT, "dashboards")
README = os.path.join(DASHBOARD_DIR, "README.md")
SCHEMA = os.path.join(ROOT, "..", "shared", "schemas", "grafana-foundation-sdk", "dashboard.jsonschema.json")
sys.path.insert(0, os.path.join(ROOT, ".tools", "python"))

# Stable uids: links, bookmarks and provisioning refer to them, so a change must be deliberate.
UIDS = {
    "qbeast-backend.json": "qbeast-backend",
    "shuffle-storage.json": "qbeast-shuffle-storage",
    "mcp-server.json": "qbeast-mcp-server",
    "qbeast-agent.json": "qbeast-agent",
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRAFANA_BUILTIN_DATASOURCE = {"type": "grafana", "uid": "-- Grafana --"}

# The window the queries see: the last 30 minutes of an hour of data (so [30m] windows are full).
RANGE_SECONDS = 1800
STEP_SECONDS = 60
BUILTINS = {
    "__rate_interval": "1m",  # Grafana: max(4 × scrape interval, $__interval + scrape interval) at 15 s
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "30m",
    "__range_s": str(RANGE_SECONDS),
    "__range_ms": str(RANGE_SECONDS * 1000),
}
MAX_VALUES_PER_VARIABLE = 6


# ----------------------------------------------------------------------------- dashboard model

def all_panels(dashboard):
    """Every panel, rows and the panels collapsed rows hold included, in order."""
    for panel in dashboard.get("panels", []):
        yield panel
        for nested in panel.get("panels", []) or []:
            yield nested


def query_panels(dashboard):
    return [p for p in all_panels(dashboard) if p.get("type") != "row"]


def variables(dashboard):
    return dashboard.get("templating", {}).get("list", [])


def variable_query(variable):
    query = variable.get("query", "")
    if isinstance(query, dict):  # newer Grafana: {"query": "...", "refId": ...}
        query = query.get("query", "")
    return query


VARIABLE_REF = re.compile(r"\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def referenced_variables(text):
    names = set()
    for match in VARIABLE_REF.finditer(text):
        name = match.group(1) or match.group(2) or match.group(3)
        if not name.isdigit():  # $1 in label_replace is a capture group, not a variable
            names.add(name)
    return names


def prom_regex_escape(value):
    """What Grafana's Prometheus datasource does to a value of a multi-value or include-All variable."""
    return re.sub(r"([\\^$*+?.()|{}\[\]'])", r"\\\\\1", value)


def interpolate(text, values):
    """Substitutes Grafana variables as Grafana would; returns (text, undefined variable names)."""
    undefined = []

    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name.isdigit():
            return match.group(0)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in values:
            return values[name]
        undefined.append(name)
        return match.group(0)

    return VARIABLE_REF.sub(replace, text), undefined


# ----------------------------------------------------------------------------- structural rules

def lint(name, dashboard, readme_text):
    """Project rules beyond the schema; one message per problem."""
    problems = []
    where = name
    if name in UIDS and dashboard.get("uid") != UIDS[name]:
        problems.append(f"{where}: uid is {dashboard.get('uid')!r}, pinned to {UIDS[name]!r} (links and provisioning use it)")
    if name not in UIDS:
        problems.append(f"{where}: not in the pinned uid table of scripts/check-dashboards.py")
    if "qbeast" not in dashboard.get("tags", []):
        problems.append(f"{where}: tags lack 'qbeast'")
    if not dashboard.get("title"):
        problems.append(f"{where}: no title")
    var_list = variables(dashboard)
    names = [v.get("name") for v in var_list]
    if len(names) != len(set(names)):
        problems.append(f"{where}: duplicate variable names")
    ds = [v for v in var_list if v.get("name") == "datasource"]
    if not ds or ds[0].get("type") != "datasource" or variable_query(ds[0]) != "prometheus":
        problems.append(f"{where}: needs a variable 'datasource' of type datasource, query 'prometheus'")

    def walk(node, path):  # every datasource reference in the whole document
        if isinstance(node, dict):
            if "datasource" in node and node["datasource"] is not None:
                ref = node["datasource"]
                builtin = ref == GRAFANA_BUILTIN_DATASOURCE and path.startswith("annotations")
                if ref != DATASOURCE and not builtin:
                    problems.append(f"{where}: {path}.datasource is {json.dumps(ref)}, not the ${{datasource}} variable")
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(dashboard, "")
    ids = [p.get("id") for p in all_panels(dashboard)]
    if None in ids or len(ids) != len(set(ids)):
        problems.append(f"{where}: panel ids missing or not unique")
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row" and not panel.get("collapsed") and panel.get("panels"):
            problems.append(f"{where}: row {panel.get('title')!r} is open but holds panels (Grafana shows only a collapsed row's)")
    for panel in all_panels(dashboard):
        grid = panel.get("gridPos", {})
        if grid and grid.get("x", 0) + grid.get("w", 0) > 24:
            problems.append(f"{where}: panel {panel.get('title')!r} is wider than the grid")
    titles = [p.get("title") for p in query_panels(dashboard)]
    for title in sorted({t for t in titles if t and titles.count(t) > 1}):
        problems.append(f"{where}: two panels are titled {title!r} (dashboards/README.md documents panels by title)")
    for panel in query_panels(dashboard):
        title = panel.get("title")
        if not title:
            problems.append(f"{where}: panel {panel.get('id')} has no title")
            continue
        if readme_text is not None and f"| {title} |" not in readme_text:
            problems.append(f"{where}: panel {title!r} is not documented in dashboards/README.md")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: panel {title!r} has no query")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)) or None in refs:
            problems.append(f"{where}: panel {title!r}: refIds missing or not unique")
        for target in targets:
            if not (target.get("expr") or "").strip():
                problems.append(f"{where}: panel {title!r} target {target.get('refId')}: no expr")
    defined = set(names)
    texts = [variable_query(v) for v in var_list] + [t.get("expr", "") for p in query_panels(dashboard) for t in p.get("targets") or []]
    for text in texts:
        for ref in sorted(referenced_variables(text) - defined - set(BUILTINS)):
            problems.append(f"{where}: ${ref} is used but not defined")
    return problems


def schema_problems(name, dashboard, validator):
    found = []
    for error in validator.iter_errors(dashboard):
        path = "/".join(str(p) for p in error.absolute_path) or "(root)"
        # oneOf(Panel, RowPanel) failures: name the deepest reason, not the whole panel.
        detail = min(error.context, key=lambda e: -len(e.absolute_path)).message if error.context else error.message
        found.append(f"{name}: schema: {path}: {detail[:200]}")
    return found


# ----------------------------------------------------------------------------- synthetic series

PROVIDED, MANAGED = "qbeast-provided", "qbeast-managed"  # a namespace-scoped install, a managed one
POD_SUFFIX = ["x2k4q", "h7m3z"]  # per namespace, as a Deployment's pod names end
STEPS = 241  # one hour at 15 s, the last one at `now`
GIB = 1024 ** 3
SWIFT_TIMER_BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0"]  # swift-prometheus Duration
JOB_BUCKETS = ["30", "60", "120", "300", "600", "1200", "1800", "3600", "7200"]
MCP_BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"]


def wave(i, phase, period=23.0):
    """Deterministic variation in [0, 1]."""
    return (math.sin(i / period * 2 * math.pi + phase) + 1) / 2


class Series:
    def __init__(self):
        self.lines = []
        self.names = set()

    def add(self, name, labels, values):
        self.names.add(name)
        rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for i, value in enumerate(values):
            self.lines.append((name, rendered, value, i))

    def histogram(self, name, labels, buckets, observations):
        """observations: per step, a list of observed values; writes _bucket (cumulative), _sum, _count."""
        counts = {le: 0 for le in buckets + ["+Inf"]}
        total, count = 0.0, 0
        series = {le: [] for le in counts}
        sums, counts_out = [], []
        for step in observations:
            for value in step:
                for le in buckets:
                    if value <= float(le):
                        counts[le] += 1
                counts["+Inf"] += 1
                total += value
                count += 1
            for le in counts:
                series[le].append(counts[le])
            sums.append(round(total, 6))
            counts_out.append(count)
        for le, values in series.items():
            self.add(f"{name}_bucket", dict(labels, le=le), values)
        self.add(f"{name}_sum", labels, sums)
        self.add(f"{name}_count", labels, counts_out)

    def text(self, now):
        start = now - (STEPS - 1) * 15
        return "".join(f"{name}{{{labels}}} {value} {(start + 15 * i) * 1000}\n" for name, labels, value, i in self.lines)


def counter(increments):
    total, out = 0, []
    for value in increments:
        total += value
        out.append(total)
    return out


def synthetic(now):
    s = Series()
    start = now - (STEPS - 1) * 15
    for n, ns in enumerate([PROVIDED, MANAGED]):
        backend(s, ns, n, start)
        mcp(s, ns, n)
        agent(s, ns, n)
    shuffle_sidecar(s, PROVIDED)
    shuffle_kubelet(s, MANAGED)
    return s


def scrape(ns, job, pod, port):
    return {"namespace": ns, "job": job, "pod": pod, "instance": f"10.0.{len(ns) % 7}.{len(pod) % 200}:{port}"}


def backend(s, ns, n, start):
    """The backend's contract (dashboards/README.md): optimisation jobs per table."""
    base = scrape(ns, "qbeast-backend", f"qbeast-backend-7d9f8b6c5-{POD_SUFFIX[n]}", 9090)
    for k, table in enumerate(["sales.orders", "sales.customers", "web.events"]):
        labels = dict(base, table=table)
        period = 8 + 3 * k  # a job ends every 2–4 minutes per table
        ok = [1 if i % period == 0 and i % 9 != 4 else 0 for i in range(STEPS)]
        failed = [1 if i % period == 0 and i % 9 == 4 else 0 for i in range(STEPS)]
        s.add("qbeast_optimization_jobs_total", dict(labels, status="succeeded"), counter(ok))
        s.add("qbeast_optimization_jobs_total", dict(labels, status="failed"), counter(failed))
        s.histogram("qbeast_optimization_job_duration_seconds", labels, JOB_BUCKETS,
                    [[45 + 900 * wave(i, k)] * (ok[i] + failed[i]) for i in range(STEPS)])
        s.add("qbeast_optimization_jobs_running", labels, [(i // 5 + k) % 3 for i in range(STEPS)])
        last, last_success = start - 3600 * (k + 1), []
        for i in range(STEPS):
            if ok[i]:
                last = start + 15 * i
            last_success.append(last)
        s.add("qbeast_optimization_last_success_timestamp_seconds", labels, last_success)


def mcp(s, ns, n):
    """The MCP server's contract: JSON-RPC requests per method, errors per code, tool calls."""
    base = scrape(ns, "qbeast-mcp-server", f"qbeast-mcp-server-5b7c9d8f6-{POD_SUFFIX[n]}", 8080)
    methods = {  # requests per 15 s, error share, JSON-RPC error codes, typical latency
        "initialize": (1, 0.02, ["-32602"], 0.004),
        "tools/list": (3, 0.01, ["-32603"], 0.006),
        "tools/call": (14, 0.06, ["-32602", "-32603"], 0.35),
        "resources/read": (6, 0.03, ["-32002"], 0.03),
    }
    for k, (method, (per_step, error_share, codes, latency)) in enumerate(methods.items()):
        labels = dict(base, method=method)
        requests = [per_step + int(per_step * wave(i, k)) for i in range(STEPS)]
        errors = [int(r * error_share * 3 * wave(i, k + 1, 31)) for i, r in enumerate(requests)]
        s.add("mcp_server_requests_total", dict(labels, status="ok"), counter([r - e for r, e in zip(requests, errors)]))
        s.add("mcp_server_requests_total", dict(labels, status="error"), counter(errors))
        for c, code in enumerate(codes):
            s.add("mcp_server_request_errors_total", dict(labels, code=code),
                  counter([(e + c) // len(codes) for e in errors]))
        s.histogram("mcp_server_request_duration_seconds", labels, MCP_BUCKETS,
                    [[latency * (0.3 + 3 * wave(j, k, 7)) for j in range(r)] for r in requests])
    for t, tool in enumerate(["query_table", "describe_table", "optimize_table"]):
        calls = [max(1, 14 // (t + 2) + int(3 * wave(i, t))) for i in range(STEPS)]
        failed = [1 if (i + t) % 11 == 0 else 0 for i in range(STEPS)]
        s.add("mcp_server_tool_calls_total", dict(base, tool=tool, status="ok"), counter(calls))
        s.add("mcp_server_tool_calls_total", dict(base, tool=tool, status="error"), counter(failed))
    s.add("mcp_server_sessions", base, [3 + i % 4 for i in range(STEPS)])


def agent(s, ns, n):
    """The agent's /metrics exactly as it exports them (Sources/Agent, swift-prometheus 2)."""
    base = scrape(ns, "qbeast-agent", f"qbeast-agent-6c8d9f7b5-{POD_SUFFIX[n]}", 9091)
    s.add("qbeast_agent_rule_groups", base, [3] * STEPS)
    for w, (workspace, groups) in enumerate([("analytics", 2), ("ingest", 1)]):
        labels = dict(base, workspace=workspace)
        # Each group evaluates every minute (every 4th step); a Timer is a histogram in seconds.
        s.histogram("qbeast_agent_rule_group_duration_seconds", labels, SWIFT_TIMER_BUCKETS,
                    [[0.01 + 0.4 * wave(i, w + g) for g in range(groups) if (i + g) % 4 == 0] for i in range(STEPS)])
        # The counter exists from a workspace's first failure on.
        s.add("qbeast_agent_rule_evaluation_failures_total", labels,
              counter([2 if i == 0 else (1 if w == 1 and i % 40 == 20 else 0) for i in range(STEPS)]))
    outage = range(100, 150)  # the controller is away for a while: batches pile up, then drain
    s.add("qbeast_agent_outbox_batches", base, [(i - 99) // 3 if i in outage else 0 for i in range(STEPS)])
    s.add("qbeast_agent_outbox_dropped_total", base, [1 if i < 140 else 4 for i in range(STEPS)])
    s.add("qbeast_agent_bytes_sent_total", dict(base, kind="status"),
          counter([1830 + 40 * n if i % 2 == 0 and i not in outage else 0 for i in range(STEPS)]))
    s.add("qbeast_agent_bytes_sent_total", dict(base, kind="alerts"),
          counter([920 if i % 10 == 3 and i not in outage else (2600 if i == 150 else 0) for i in range(STEPS)]))
    s.add("qbeast_agent_desired_revision", base, [41 if i < 180 else 42 for i in range(STEPS)])
    s.add("qbeast_agent_kubernetes_applies_total", dict(base, result="applied"),
          counter([6 if i % 20 == 0 or i == 181 else 0 for i in range(STEPS)]))
    s.add("qbeast_agent_kubernetes_applies_total", dict(base, result="failed"),
          counter([1 if i % 60 == 30 else 0 for i in range(STEPS)]))
    s.add("qbeast_agent_kubernetes_prunes_total", base, counter([2 if i in (0, 181) else 0 for i in range(STEPS)]))


SHUFFLE_VOLUMES = [  # free bytes at the start, bytes per step it shrinks (negative: freed), wobble
    (60 * GIB, 0.55 * GIB / 4, 0),        # fills within the hour ahead
    (75 * GIB, 0.05 * GIB / 4, 2 * GIB),  # fills in about a day
    (85 * GIB, 0, 6 * GIB),               # writes and cleans up
]


def shuffle_sidecar(s, ns):
    """node_exporter as a sidecar of each Spark executor, the shuffle PVC mounted at /shuffle/<volume>."""
    for e, (free0, per_step, wobble) in enumerate(SHUFFLE_VOLUMES, start=1):
        pod = f"spark-optimize-3f2a9c-exec-{e}"
        base = scrape(ns, "spark-shuffle-fs", pod, 9100)
        fs = dict(base, device="/dev/nvme1n1", fstype="ext4", mountpoint="/shuffle/spark-local-dir-1")
        root = dict(base, device="overlay", fstype="overlay", mountpoint="/")  # the sidecar's own root: not shuffle
        size = 100 * GIB
        free = [free0 - per_step * i - wobble * wave(i, e) for i in range(STEPS)]
        s.add("node_filesystem_size_bytes", fs, [size] * STEPS)
        s.add("node_filesystem_free_bytes", fs, [int(f) for f in free])
        s.add("node_filesystem_avail_bytes", fs, [int(f - 0.05 * size) for f in free])  # ext4 reserves 5 %
        s.add("node_filesystem_files", fs, [6553600] * STEPS)
        s.add("node_filesystem_files_free", fs, [6553600 - 2000 * e - 30 * i for i in range(STEPS)])
        for name, value in [("node_filesystem_size_bytes", 80 * GIB), ("node_filesystem_free_bytes", 50 * GIB),
                            ("node_filesystem_avail_bytes", 46 * GIB), ("node_filesystem_files", 5242880),
                            ("node_filesystem_files_free", 5000000)]:
            s.add(name, root, [value] * STEPS)


def shuffle_kubelet(s, ns):
    """kubelet_volume_stats_* as the kubelet reports every mounted PVC (managed mode: cluster-wide scraping)."""
    node = {"job": "kubelet", "instance": "ip-10-0-1-23.eu-west-1.compute.internal", "metrics_path": "/metrics"}
    claims = [(ns, f"spark-optimize-9c1e7d-exec-{e}-pvc-0", v) for e, v in enumerate(SHUFFLE_VOLUMES, start=1)]
    claims += [(ns, "qbeast-agent-state", (0.9 * GIB, 0, 0)),  # not shuffle space: the pvc regex leaves it out
               ("monitoring", "vmsingle-data", (40 * GIB, 0, 0))]  # another namespace without shuffle volumes
    for e, (namespace, claim, (free0, per_step, wobble)) in enumerate(claims, start=1):
        labels = dict(node, namespace=namespace, persistentvolumeclaim=claim)
        size = 100 * GIB if "exec" in claim else 1 * GIB if "agent" in claim else 50 * GIB
        available = [int(min(size, free0 - per_step * i - wobble * wave(i, e))) for i in range(STEPS)]
        s.add("kubelet_volume_stats_capacity_bytes", labels, [size] * STEPS)
        s.add("kubelet_volume_stats_available_bytes", labels, available)
        s.add("kubelet_volume_stats_used_bytes", labels, [int(size - a - 0.05 * size) for a in available])
        s.add("kubelet_volume_stats_inodes", labels, [6553600] * STEPS)
        s.add("kubelet_volume_stats_inodes_free", labels, [6553600 - 1500 * e - 25 * i for i in range(STEPS)])
        s.add("kubelet_volume_stats_inodes_used", labels, [1500 * e + 25 * i for i in range(STEPS)])


# ----------------------------------------------------------------------------- VictoriaMetrics

class VictoriaMetrics:
    """Debian's victoria-metrics on 127.0.0.1, a free port, a temporary data directory."""

    def __init__(self):
        self.process, self.log, self.directory = None, None, None

    def start(self):
        self.binary = os.environ.get("QBEAST_VICTORIA_METRICS") or shutil.which("victoria-metrics")
        if not self.binary:
            self.binary = install_victoria_metrics()
        self.directory = tempfile.mkdtemp(prefix="qbeast-dashboards-vm-")
        self.log = open(os.path.join(self.directory, "victoria-metrics.log"), "w+")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [self.binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={self.directory}/data",
             # Written history is queried at once: no result cache, no "too fresh" cut-off.
             "-search.disableCache", "-search.latencyOffset=0s", "-loggerLevel=ERROR"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.get("/health", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.log.seek(0)
        tail = " | ".join(self.log.read().strip().splitlines()[-3:])
        self.stop()
        raise RuntimeError(f"victoria-metrics did not become ready on 127.0.0.1:{self.port}: {tail}")

    def request(self, path, params=None, data=None, timeout=30):
        url = self.url + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def get(self, path, params=None, timeout=30):
        return self.request(path, params, timeout=timeout)

    def import_prometheus(self, text):
        status, body = self.request("/api/v1/import/prometheus", data=text.encode())
        if status != 204:
            raise RuntimeError(f"import answered {status}: {body[:200]}")
        self.get("/internal/force_flush")

    def version(self):
        # Debian builds without version ldflags: `-version` and vm_app_version are empty. Ask dpkg then.
        try:
            out = subprocess.run([self.binary, "-version"], capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            out = ""
        if out:
            return out
        try:
            package = subprocess.run(["dpkg-query", "-S", os.path.realpath(self.binary)], capture_output=True, text=True,
                                     timeout=10).stdout.split(":")[0].strip() or "victoria-metrics"
            version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True,
                                     timeout=10).stdout.strip()
            if version:
                return f"{package} {version} (Debian package)"
        except OSError:
            pass
        return "unknown version"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def install_victoria_metrics():
    """As scripts/install-deps.sh does: Debian's package, when it is missing."""
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (sudo + ["apt-get", "update", "-qq"],
                    sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "victoria-metrics"]):
        if subprocess.run(command, env=env, capture_output=True).returncode != 0:
            raise RuntimeError("victoria-metrics is not installed and apt-get install victoria-metrics failed (scripts/install-deps.sh)")
    binary = shutil.which("victoria-metrics")
    if not binary:
        raise RuntimeError("victoria-metrics is still not on PATH after apt-get install")
    return binary


# ----------------------------------------------------------------------------- queries

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "inf", "nan", "atan2", "start", "end"}


def metric_names(expr):
    """Metric names an expr selects (a rough PromQL/MetricsQL lexer: enough for these dashboards)."""
    names = set()
    for matcher in re.finditer(r'__name__\s*=~?\s*"([^"]*)"', expr):
        names.update(n for n in matcher.group(1).split("|") if re.fullmatch(r"[a-zA-Z_:][\w:]*", n))
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    for match in re.finditer(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zA-Z]*|([a-zA-Z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if name and not call and name.lower() not in KEYWORDS:
            names.add(name)
    return names


class Runner:
    def __init__(self, vm, now):
        self.vm, self.now = vm, now
        self.queries = 0
        self.series_cache = {}

    def params_range(self):
        return {"start": self.now - RANGE_SECONDS, "end": self.now}

    def query(self, expr, instant):
        """(error or None, result list) for one expr."""
        self.queries += 1
        if instant:
            status, body = self.vm.get("/api/v1/query", {"query": expr, "time": self.now})
        else:
            status, body = self.vm.get("/api/v1/query_range", dict(self.params_range(), query=expr, step=STEP_SECONDS))
        try:
            answer = json.loads(body)
        except ValueError:
            return f"HTTP {status}: {body[:160]}", []
        if status != 200 or answer.get("status") != "success" or answer.get("error"):
            message = str(answer.get("error") or body[:160]).replace("\n", " ")
            reason = re.search(r"error when executing query=.* for \(time=\d+, step=\d+\): (.*)$", message)  # the query is shown anyway
            return f"VictoriaMetrics rejects it: {reason.group(1) if reason else message}", []
        data = answer.get("data", {})
        result = data.get("result")
        if data.get("resultType") == "scalar":
            result = [] if result is None or result[1] in ("NaN", "+Inf", "-Inf") else [{"value": result}]
        if data.get("resultType") == "matrix":
            result = [r for r in result or [] if r.get("values")]
        return None, result or []

    def metric_exists(self, name):
        if name not in self.series_cache:
            self.queries += 1
            status, body = self.vm.get("/api/v1/series", dict(self.params_range(), **{"match[]": f'{{__name__="{name}"}}'}))
            self.series_cache[name] = status == 200 and bool(json.loads(body).get("data"))
        return self.series_cache[name]

    def check_expr(self, expr, instant):
        """Problems with one interpolated expr: rejected, empty, or naming a metric that does not exist."""
        problems = [f"no series named {name}" for name in sorted(metric_names(expr)) if not self.metric_exists(name)]
        error, result = self.query(expr, instant)
        if error:
            problems.append(error)
        elif not result:
            problems.append("empty result")
        return problems

    def variable_values(self, variable, values):
        """(problem or None, values) of a query variable, as Grafana's Prometheus datasource computes them."""
        query, undefined = interpolate(variable_query(variable), values)
        if undefined:
            return f"undefined variable(s) {', '.join(undefined)}", []
        range_params = self.params_range()
        match = re.fullmatch(r"\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*", query, re.S)
        if match:
            selector, label = match.groups()
            params = dict(range_params)
            if selector:
                for name in metric_names(selector):
                    if not self.metric_exists(name):
                        return f"no series named {name}", []
                params["match[]"] = selector
            self.queries += 1
            status, body = self.vm.get(f"/api/v1/label/{label}/values", params)
            try:
                answer = json.loads(body)
            except ValueError:
                answer = {}
            if status != 200 or answer.get("status") != "success":
                return f"VictoriaMetrics: {answer.get('error') or body[:160]}", []
            found = answer.get("data") or []
        else:
            match = re.fullmatch(r"\s*query_result\((.+)\)\s*", query, re.S)
            if not match:
                return f"unsupported variable query {query!r} (label_values or query_result)", []
            problems = [f"no series named {n}" for n in sorted(metric_names(match.group(1))) if not self.metric_exists(n)]
            if problems:
                return problems[0], []
            error, result = self.query(match.group(1), instant=True)
            if error:
                return error, []
            found = []
            for item in result:  # Grafana's text for each result: name{labels} value timestamp
                metric = dict(item.get("metric", {}))
                name = metric.pop("__name__", "")
                labels = ",".join(f'{k}="{v}"' for k, v in metric.items())
                found.append(f"{name}{{{labels}}} {item['value'][1]} {int(float(item['value'][0]) * 1000)}")
        regex = variable.get("regex") or ""
        if regex:
            pattern = re.compile(regex.strip("/"))
            extracted = []
            for text in found:
                hit = pattern.search(text)
                if hit:
                    groups = hit.groupdict()
                    extracted.append(groups.get("value") or groups.get("text") or (hit.group(1) if hit.groups() else hit.group(0)))
            found = extracted
        found = sorted(set(found))
        return (None if found else "no values"), found


def default_value(variable, options):
    """The string a variable puts into a query by default."""
    kind = variable.get("type")
    if kind in ("query", "custom") and variable.get("includeAll"):
        return variable.get("allValue") or "(" + "|".join(prom_regex_escape(o) for o in options) + ")"
    if kind in ("query", "custom"):
        return options[0] if options else ""
    current = (variable.get("current") or {}).get("value")
    if isinstance(current, list):
        current = current[0] if current else ""
    return current if current not in (None, "") else variable_query(variable)


def resolve(runner, dashboard, pinned=None):
    """Values of every variable (pinned ones fixed), in dependency order; and each query variable's options."""
    pinned = pinned or {}
    var_list = [v for v in variables(dashboard) if v.get("type") != "datasource"]
    values, options, problems = {}, {}, []
    pending = list(var_list)
    while pending:
        progressed = False
        for variable in list(pending):
            name = variable.get("name")
            needs = referenced_variables(variable_query(variable)) - {name} - set(BUILTINS)
            if needs - set(values):
                continue
            pending.remove(variable)
            progressed = True
            found = []
            if variable.get("type") == "query":
                problem, found = runner.variable_values(variable, values)
                if problem:
                    problems.append((name, problem))
            elif variable.get("type") == "custom":
                found = [o.strip() for o in variable_query(variable).split(",") if o.strip()]
            options[name] = found
            if name in pinned:
                multi = variable.get("multi") or variable.get("includeAll")
                values[name] = prom_regex_escape(pinned[name]) if multi else pinned[name]
            else:
                values[name] = default_value(variable, found)
        if not progressed:
            problems.extend((v.get("name"), "its query refers to variables that never resolve") for v in pending)
            break
    return values, options, problems


def check_queries(runner, name, dashboard):
    """Runs every variable query and every target under each scenario; returns (problems, counts)."""
    problems = []
    values, options, var_problems = resolve(runner, dashboard)
    problems += [f"{name}: variable ${var}: {problem}" for var, problem in var_problems]
    scenarios = [("defaults", values)]
    for variable in variables(dashboard):
        if variable.get("type") == "query":
            for option in options.get(variable["name"], [])[:MAX_VALUES_PER_VARIABLE]:
                pinned_values, _, more = resolve(runner, dashboard, {variable["name"]: option})
                problems += [f"{name}: variable ${var} with {variable['name']}={option}: {p}" for var, p in more]
                scenarios.append((f"{variable['name']}={option}", pinned_values))
    reported = set()
    targets = 0
    for panel in query_panels(dashboard):
        for target in panel.get("targets") or []:
            targets += 1
            for label, scenario in scenarios:
                expr, undefined = interpolate(target.get("expr", ""), scenario)
                found = [f"undefined variable ${u}" for u in undefined] or runner.check_expr(expr, bool(target.get("instant")))
                for problem in found:
                    # One line per target and kind of problem, for the first variable setting that shows it.
                    key = (panel.get("title"), target.get("refId"), problem.split(":")[0])
                    if key not in reported:
                        reported.add(key)
                        problems.append(f"{name}: panel {panel.get('title')!r} {target.get('refId')} [{label}]: {problem}: {expr[:160]}")
    return problems, targets, len(scenarios)


# ----------------------------------------------------------------------------- self-test

def misspell(expr):
    """The expr with its first metric name misspelled (a letter dropped), or None."""
    names = sorted(metric_names(expr), key=expr.find)
    if not names:
        return None
    name = names[0]
    cut = max(1, len(name) - 3)
    return expr.replace(name, name[:cut] + name[cut + 1:], 1)


def break_syntax(expr):
    """The expr with its last closing parenthesis removed (or one too many)."""
    at = expr.rfind(")")
    return expr[:at] + expr[at + 1:] if at >= 0 else expr + ")"


def self_test(runner, dashboards, validator, readme_text):
    """Plants faults in copies and requires each to be caught; returns (problems, planted)."""
    problems, planted = [], 0
    for name, dashboard in dashboards.items():
        values, _, _ = resolve(runner, dashboard)
        for panel in query_panels(dashboard):
            for target in panel.get("targets") or []:
                expr, _ = interpolate(target.get("expr", ""), values)
                instant = bool(target.get("instant"))
                where = f"{name}: panel {panel.get('title')!r} {target.get('refId')}"
                typo = misspell(expr)
                if typo is None:
                    problems.append(f"self-test: {where}: no metric name found to misspell in {expr[:120]}")
                else:
                    planted += 1
                    if not runner.check_expr(typo, instant):
                        problems.append(f"self-test: {where}: a misspelled metric was not caught: {typo[:160]}")
                # Every metric exists but nothing matches: only the "returns data" requirement catches it.
                if 'namespace=~"' in expr:
                    planted += 1
                    nowhere = re.sub(r'namespace=~"[^"]*"', 'namespace=~"no-such-namespace"', expr)
                    if "empty result" not in runner.check_expr(nowhere, instant):
                        problems.append(f"self-test: {where}: a selector matching nothing was not caught: {nowhere[:160]}")
                else:
                    problems.append(f"self-test: {where}: no namespace matcher to empty: {expr[:120]}")
                broken = break_syntax(expr)
                planted += 1
                error, _ = runner.query(broken, instant)
                if not error:
                    problems.append(f"self-test: {where}: a syntax error was not caught: {broken[:160]}")
    # One file, three more faults: each must be reported by the checks above.
    name, original = next(iter(dashboards.items()))
    faults = []
    if validator is not None:
        unknown = copy.deepcopy(original)
        unknown["panelz"] = []
        faults.append(("an unknown top-level key (schema)", lambda: schema_problems(name, unknown, validator)))
    hard_coded = copy.deepcopy(original)
    query_panels(hard_coded)[0]["datasource"] = {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
    faults.append(("a hard-coded datasource uid", lambda: lint(name, hard_coded, readme_text)))
    undefined = copy.deepcopy(original)
    target = query_panels(undefined)[0]["targets"][0]
    target["expr"] = target["expr"].replace("$namespace", "$namespaec", 1) if "$namespace" in target["expr"] else target["expr"] + " * $namespaec"
    faults.append(("an undefined variable", lambda: lint(name, undefined, readme_text)))
    for what, run in faults:
        planted += 1
        if not run():
            problems.append(f"self-test: {name}: {what} was not caught")
    return problems, planted


# ----------------------------------------------------------------------------- main

def main():
    only_self_test = "--self-test" in sys.argv[1:]
    unknown_args = [a for a in sys.argv[1:] if a != "--self-test"]
    if unknown_args:
        print(f"usage: {sys.argv[0]} [--self-test]", file=sys.stderr)
        return 2
    failures = []
    files = sorted(glob.glob(os.path.join(DASHBOARD_DIR, "*.json")))
    dashboards = {}
    for path in files:
        try:
            with open(path) as f:
                dashboards[os.path.basename(path)] = json.load(f)
        except ValueError as error:
            failures.append(f"{os.path.basename(path)}: not JSON: {error}")
    for expected in sorted(set(UIDS) - set(dashboards)):
        failures.append(f"{expected}: missing from dashboards/")
    readme_text = open(README).read() if os.path.exists(README) else None
    if readme_text is None:
        failures.append("dashboards/README.md is missing")

    validator = None
    if os.path.exists(SCHEMA):
        try:
            import jsonschema  # noqa: PLC0415 - from .tools/python, only when the schema is there
        except ImportError:
            failures.append("jsonschema is not installed: run scripts/install-tools.sh (make tools)")
        else:
            with open(SCHEMA) as f:
                validator = jsonschema.Draft7Validator(json.load(f))
    else:
        print("skip schema validation: ../shared/schemas is absent")

    if not only_self_test:
        for name, dashboard in dashboards.items():
            failures += lint(name, dashboard, readme_text)
            if validator is not None:
                failures += schema_problems(name, dashboard, validator)

    def interrupted(signum, _frame):  # SIGTERM/SIGINT unwind through `finally`, which stops VictoriaMetrics
        print(f"FAIL interrupted by signal {signum}")
        sys.exit(130)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    counts = {"panels": 0, "targets": 0, "scenarios": 0, "planted": 0}
    vm = VictoriaMetrics()
    try:
        vm.start()
        version = vm.version()
        now = int(time.time())
        series = synthetic(now)
        vm.import_prometheus(series.text(now))
        runner = Runner(vm, now)
        missing = [n for n in sorted(series.names) if not runner.metric_exists(n)]
        if missing:
            failures.append(f"synthetic series not queryable after import: {', '.join(missing[:5])}")
        if not only_self_test:
            for name, dashboard in dashboards.items():
                found, targets, scenarios = check_queries(runner, name, dashboard)
                failures += found
                counts["panels"] += len(query_panels(dashboard))
                counts["targets"] += targets
                counts["scenarios"] += scenarios
        found, counts["planted"] = self_test(runner, dashboards, validator, readme_text)
        failures += found
    except RuntimeError as error:
        failures.append(str(error))
    except Exception as error:  # noqa: BLE001 - a bug in this script is a failure too, on one line
        frame = traceback.extract_tb(error.__traceback__)[-1]
        failures.append(f"check-dashboards.py crashed: {type(error).__name__}: {error} (line {frame.lineno})")
    finally:
        vm.stop()

    for failure in failures:
        print(f"FAIL {failure}")
    if failures:
        print(f"dashboards: {len(failures)} failure(s)")
        return 1
    if only_self_test:
        print(f"dashboards self-test: {counts['planted']} planted faults caught ({version})")
    else:
        schema = "schema-valid" if validator is not None else "schema skipped"
        print(f"dashboards: {len(dashboards)} dashboards ({schema}), {counts['panels']} panels, {counts['targets']} targets "
              f"run under {counts['scenarios']} variable settings — {runner.queries} queries, all with data; "
              f"self-test caught {counts['planted']} planted faults; {version} on 127.0.0.1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
