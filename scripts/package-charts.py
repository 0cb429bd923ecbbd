#!/usr/bin/env python3
"""Packages charts/qbeast-agent and charts/qbeast-controller as standard Helm chart archives.

    scripts/package-charts.py VERSION DIST

Each chart is copied, its Chart.yaml given `version: VERSION` and `appVersion: VERSION` (so the image
tag it defaults to is the image built from the same commit), packaged with Helm's own library
(helm-sdkpy's Package action, as `helm package` does) into DIST/<chart>-VERSION.tgz, and the archive is
then linted as Helm lints it (helm-sdkpy's Lint on the packaged .tgz) with each of the chart's ci/
values files laid over its defaults. One line per archive; exit 1 on any problem.
"""
import asyncio
import os
import re
import shutil
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".tools", "python"))
import yaml  # noqa: E402
from helm_sdkpy import Configuration  # noqa: E402
from helm_sdkpy.chart import Lint, Package  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CHARTS = ["qbeast-agent", "qbeast-controller"]
SEMVER = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def quiet_stderr(action):
    """Runs `action` with Helm's own log lines (on fd 2) captured; returns (result, log)."""
    with tempfile.TemporaryFile(mode="w+b") as captured:
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            result = action()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        return result, captured.read().decode(errors="replace")


def shown(path):
    """A path as short as it reads well: relative inside the working directory, else absolute."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def set_version(chart_dir, version):
    path = os.path.join(chart_dir, "Chart.yaml")
    with open(path) as f:
        text = f.read()
    # Edit the two lines in place, so the archive's Chart.yaml keeps its comments and order.
    text, versions = re.subn(r"(?m)^version:.*$", f"version: {version}", text)
    text, app_versions = re.subn(r"(?m)^appVersion:.*$", f'appVersion: "{version}"', text)
    if versions != 1 or app_versions != 1:
        raise SystemExit(f"package-charts: {path} must have exactly one version: and one appVersion: line")
    with open(path, "w") as f:
        f.write(text)


def lint_problems(chart, archive, values_file=None):
    """helm lint of the packaged archive; with a ci values file, over a copy whose values.yaml has it merged."""
    with tempfile.TemporaryDirectory() as work:
        target = archive
        if values_file:
            with tarfile.open(archive) as t:
                t.extractall(work, filter="data")
            with open(os.path.join(work, chart, "values.yaml")) as f:
                defaults = yaml.safe_load(f)
            with open(values_file) as f:
                overrides = yaml.safe_load(f)

            def merge(base, over):
                out = dict(base)
                for key, value in over.items():
                    out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
                return out

            with open(os.path.join(work, chart, "values.yaml"), "w") as f:
                yaml.safe_dump(merge(defaults, overrides), f)
            target = os.path.join(work, chart)

        def run():
            with Configuration() as config:
                return asyncio.run(Lint(config).run(target))

        result, log = quiet_stderr(run)
    found = [f"{m.get('Path')}: {m.get('Err') or m.get('Severity')}" for m in result.get("Messages") or [] if m.get("Severity", 0) >= 3]
    found += [line for line in log.splitlines() if "missing required values" in line or "level=ERROR" in line]
    return found


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: package-charts.py VERSION DIST")
    version, dist = sys.argv[1], os.path.abspath(sys.argv[2])
    if not SEMVER.match(version):
        raise SystemExit(f"package-charts: {version!r} is not a semantic version (Helm requires one)")
    os.makedirs(dist, exist_ok=True)
    failures = 0
    for chart in CHARTS:
        with tempfile.TemporaryDirectory() as work:
            chart_dir = os.path.join(work, chart)
            shutil.copytree(os.path.join(ROOT, "charts", chart), chart_dir)
            set_version(chart_dir, version)
            expected = os.path.join(dist, f"{chart}-{version}.tgz")
            if os.path.exists(expected):
                os.remove(expected)

            def package():
                with Configuration() as config:
                    return asyncio.run(Package(config).run(chart_dir, dest_dir=dist))

            archive, _ = quiet_stderr(package)
        if os.path.abspath(archive) != expected:
            print(f"FAIL {chart}: helm packaged {archive}, expected {expected}")
            failures += 1
            continue
        with tarfile.open(archive) as t:
            names = t.getnames()
            chart_yaml = yaml.safe_load(t.extractfile(f"{chart}/Chart.yaml"))
        layout_ok = all(n == chart or n.startswith(chart + "/") for n in names) and f"{chart}/values.schema.json" in names
        versions_ok = chart_yaml.get("version") == version and chart_yaml.get("appVersion") == version
        ci_dir = os.path.join(ROOT, "charts", chart, "ci")
        ci_files = sorted(os.listdir(ci_dir)) if os.path.isdir(ci_dir) else []
        problems = []
        for values in ci_files:
            problems += [f"ci/{values}: {p}" for p in lint_problems(chart, archive, os.path.join(ci_dir, values))]
        if layout_ok and versions_ok and not problems:
            print(f"ok   {shown(archive)}: {len(names)} files under {chart}/, version and appVersion {version}, "
                  f"helm lint clean with {len(ci_files)} ci values files")
        else:
            failures += 1
            print(f"FAIL {shown(archive)}: layout {'ok' if layout_ok else names[:5]}, "
                  f"versions {chart_yaml.get('version')}/{chart_yaml.get('appVersion')}, lint {problems}")
    sys.exit(1 if failures else 0)


main()
