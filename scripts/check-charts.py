#!/usr/bin/env python3
"""Checks the Helm charts with Helm's own engine (helm-sdkpy) and the project's assertions.

- `helm lint` (which renders every template) with the chart's defaults and with each values file in
  the chart's ci/ directory — one per documented option. Helm's lint mode reports a `required` value
  that is missing as a warning on stderr rather than an error, so stderr is read too: with a ci values
  file there must be none; with the agent chart's defaults exactly the values an installer must give.
- values.schema.json: every ci values file validates; an unknown top-level key or a wrong type does not.
- The agent's Role and both charts' security contexts are asserted, so they cannot silently widen.
- The image each chart runs, as Helm renders it: the default (GHCR, tag = appVersion), through
  global.imageRegistry (a mirror replaces the registry), pinned by digest, with imagePullSecrets, and
  with a development appVersion (its '+' spelled '_' in the tag and the version label); the agent's
  NetworkPolicy allows the ports of the controller URLs, 443 when they name none. Helm's lint
  renders but does not print; a probe template in a copy of the chart hands the rendered Deployment to
  `fail`, whose message Helm logs. Chart.yaml's version and appVersion must equal the VERSION file.
Exit status 0 when everything holds; one line per failure otherwise.
"""
import asyncio
import copy
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".tools", "python"))
import jsonschema  # noqa: E402
import yaml  # noqa: E402
from helm_sdkpy import Configuration  # noqa: E402
from helm_sdkpy.chart import Lint  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def merge(base, override):
    result = copy.deepcopy(base)
    for key, value in override.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def lint(chart, values=None):
    """Lints a copy of `chart` whose values.yaml is the defaults with `values` laid over them."""
    with tempfile.TemporaryDirectory() as work:
        copy_dir = os.path.join(work, os.path.basename(chart))
        shutil.copytree(chart, copy_dir)
        if values is not None:
            with open(os.path.join(chart, "values.yaml")) as f:
                defaults = yaml.safe_load(f)
            with open(os.path.join(copy_dir, "values.yaml"), "w") as f:
                yaml.safe_dump(merge(defaults, values), f)
        # Helm logs template problems (missing required values, `fail`) to the process's stderr.
        with tempfile.TemporaryFile(mode="w+b") as captured:
            saved = os.dup(2)
            os.dup2(captured.fileno(), 2)
            try:
                with Configuration() as config:
                    result = asyncio.run(Lint(config).run(copy_dir))
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            captured.seek(0)
            log = captured.read().decode(errors="replace")
    return result, log


def problems(result, log):
    """Lint errors (severity 3) and template complaints Helm only logged."""
    found = [f"{m.get('Path')}: severity {m.get('Severity')}" for m in result.get("Messages") or [] if m.get("Severity", 0) >= 3]
    found += [line for line in log.splitlines() if "missing required values" in line or "funcMap fail" in line or "level=ERROR" in line]
    return found


def schema_errors(chart, values):
    with open(os.path.join(chart, "values.schema.json")) as f:
        schema = yaml.safe_load(f)
    with open(os.path.join(chart, "values.yaml")) as f:
        defaults = yaml.safe_load(f)
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(merge(defaults, values))]


def check_chart(name, must_fail_with_defaults):
    chart = os.path.join(ROOT, "charts", name)
    found = problems(*lint(chart))
    if must_fail_with_defaults:
        for needed in must_fail_with_defaults:
            check(any(needed in line for line in found), f"{name}: lint with defaults does not name `{needed}`: {found}")
        check(len(found) == len(must_fail_with_defaults), f"{name}: lint with defaults found more than the required values: {found}")
    else:
        check(not found, f"{name}: lint with defaults: {found}")
    ci = os.path.join(chart, "ci")
    for values_file in sorted(os.listdir(ci)) if os.path.isdir(ci) else []:
        with open(os.path.join(ci, values_file)) as f:
            values = yaml.safe_load(f)
        found = problems(*lint(chart, values))
        check(not found, f"{name}: lint with ci/{values_file}: {found}")
        check(not schema_errors(chart, values), f"{name}: ci/{values_file} does not validate: {schema_errors(chart, values)}")
        print(f"ok   helm lint {name} with ci/{values_file}; values.schema.json accepts it")
    check(any("replicaCount" in e for e in schema_errors(chart, {"replicaCount": 3})), f"{name}: values.schema.json accepts an unknown key")
    check(schema_errors(chart, {"persistence": {"size": 5}}), f"{name}: values.schema.json accepts a number as persistence.size")
    print(f"ok   helm lint {name} with defaults; values.schema.json refuses unknown keys and wrong types")


def rendered_template(chart, values, app_version=None, template="deployment.yaml"):
    """The chart's Deployment (or another `template`) as Helm renders it with `values` over the defaults (and `app_version` in
    Chart.yaml): a probe template in a copy of the chart fails with the rendered text as its message."""
    with tempfile.TemporaryDirectory() as work:
        copy_dir = os.path.join(work, os.path.basename(chart))
        shutil.copytree(chart, copy_dir)
        if app_version:
            path = os.path.join(copy_dir, "Chart.yaml")
            with open(path) as f:
                text = re.sub(r"(?m)^appVersion:.*$", f'appVersion: "{app_version}"', f.read())
            with open(path, "w") as f:
                f.write(text)
        with open(os.path.join(copy_dir, "templates", "zz-render-probe.yaml"), "w") as f:
            f.write('{{ fail (printf "RENDERED<<%s>>" (include (print $.Template.BasePath "/TEMPLATE") .)) }}\n'.replace("TEMPLATE", template))
        _, log = lint(copy_dir, values)
    match = re.search(r'message="RENDERED<<(.*?)>>"', log, re.S)
    if not match:
        return None
    # Helm logs the message quoted as Go quotes strings; JSON reads those escapes.
    return yaml.safe_load(json.loads('"' + match.group(1) + '"'))


def check_images():
    with open(os.path.join(ROOT, "VERSION")) as f:
        version = f.read().strip()
    for name in ["qbeast-agent", "qbeast-controller"]:
        chart = os.path.join(ROOT, "charts", name)
        with open(os.path.join(chart, "Chart.yaml")) as f:
            meta = yaml.safe_load(f)
        check(meta["version"] == version and meta["appVersion"] == version,
              f"{name}: Chart.yaml version {meta['version']} / appVersion {meta['appVersion']} must equal VERSION ({version})")
        ci = os.path.join(chart, "ci")
        required = {}
        if name == "qbeast-agent":
            with open(os.path.join(ci, "token-values.yaml")) as f:
                required = yaml.safe_load(f)
        digest = "sha256:" + "ab" * 32
        cases = [  # values, appVersion, expected image, expected imagePullSecrets
            ({}, None, f"ghcr.io/qbeast/{name}:{version}", None),
            ({"global": {"imageRegistry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr"}}, None,
             f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/ghcr/qbeast/{name}:{version}", None),
            ({"global": {"imageRegistry": "registry.acme.internal:5000/mirror"}, "imagePullSecrets": [{"name": "regcred"}]}, None,
             f"registry.acme.internal:5000/mirror/qbeast/{name}:{version}", [{"name": "regcred"}]),
            ({"image": {"digest": digest}}, None, f"ghcr.io/qbeast/{name}@{digest}", None),
            ({"image": {"tag": "1.2.3"}}, None, f"ghcr.io/qbeast/{name}:1.2.3", None),
            ({}, "0.2.0-dev+gabc1234", f"ghcr.io/qbeast/{name}:0.2.0-dev_gabc1234", None),
        ]
        for values, app_version, image, pull_secrets in cases:
            deployment = rendered_template(chart, merge(required, values), app_version)
            if deployment is None:
                check(False, f"{name}: could not render the Deployment with {values} {app_version or ''}")
                continue
            pod = deployment["spec"]["template"]["spec"]
            got = pod["containers"][0]["image"]
            check(got == image, f"{name}: with {values} {app_version or ''} the image is {got}, expected {image}")
            check(pod.get("imagePullSecrets") == pull_secrets, f"{name}: imagePullSecrets {pod.get('imagePullSecrets')}, expected {pull_secrets}")
            if app_version:
                label = deployment["metadata"]["labels"]["app.kubernetes.io/version"]
                check(label == app_version.replace("+", "_"), f"{name}: version label {label} is not a valid label value")
        check(schema_errors(chart, {"global": {"imageRegistry": "https://ghcr.example/"}}), f"{name}: schema accepts a registry with a scheme")
        check(schema_errors(chart, {"image": {"digest": "latest"}}), f"{name}: schema accepts a digest that is not sha256:<hex>")
        check(schema_errors(chart, {"imagePullSecrets": ["regcred"]}), f"{name}: schema accepts imagePullSecrets as plain strings")
        if name == "qbeast-agent":
            with open(os.path.join(ci, "networkpolicy-values.yaml")) as f:
                policy_values = yaml.safe_load(f)
            on_443 = merge(policy_values, {"controller": {"url": "https://agents.qbeast.example", "enrollUrl": "https://enroll.qbeast.example:443"}})
            for values, ports in [(policy_values, [8444, 8445]), (on_443, [443])]:
                policy = rendered_template(chart, values, template="networkpolicy.yaml")
                got = [p["port"] for p in policy["spec"]["egress"][0]["ports"]] if policy else None
                check(got == ports, f"{name}: NetworkPolicy egress to the controller allows ports {got}, expected {ports} for {values['controller']['url']}")
            print(f"ok   {name}: the NetworkPolicy lets the agent reach the controller on the ports of its URLs (8444/8445, or 443 alone)")
        print(f"ok   {name}: image ghcr.io/qbeast/{name}:<appVersion> by default, global.imageRegistry replaces the registry, "
              f"digest pins it, imagePullSecrets reach the pod; Chart.yaml at VERSION {version}")


def literal_yaml(path):
    """A template with its template lines dropped and inline actions replaced: enough to read the
    parts that are deliberately kept literal (rules, security contexts)."""
    with open(path) as f:
        lines = [line for line in f if not line.strip().startswith("{{")]
    text = re.sub(r"\{\{[^}]*\}\}", "x", "".join(lines))
    return yaml.safe_load(text)


def check_role():
    role = literal_yaml(os.path.join(ROOT, "charts/qbeast-agent/templates/role.yaml"))
    check(role["kind"] == "Role", "agent: RBAC must be a namespaced Role, not a ClusterRole")
    for rule in role["rules"]:
        verbs, resources, groups = rule.get("verbs", []), rule.get("resources", []), rule.get("apiGroups", [])
        check("*" not in verbs + resources + groups, f"agent Role: wildcard in {rule}")
        check(not {"escalate", "bind", "impersonate"} & set(verbs), f"agent Role: forbidden verb in {rule}")
        check("nonResourceURLs" not in rule, f"agent Role: nonResourceURLs in {rule}")
        check(not {"nodes", "namespaces", "clusterroles", "clusterrolebindings", "customresourcedefinitions"} & set(resources),
              f"agent Role: cluster-scoped resource in {rule}")
        if "secrets" in resources:
            check("list" in verbs, "agent Role: secrets rule changed shape; review it")
    # events.k8s.io: create only, for the Events the agent shows the customer (support access requests).
    allowed = {"", "apps", "batch", "networking.k8s.io", "policy", "autoscaling", "discovery.k8s.io", "rbac.authorization.k8s.io", "events.k8s.io"}
    for rule in role["rules"]:
        if "events.k8s.io" in rule["apiGroups"]:
            check(rule["verbs"] == ["create"], f"agent Role: events.k8s.io must be create-only, got {rule['verbs']}")
    check({g for r in role["rules"] for g in r["apiGroups"]} <= allowed, "agent Role: an API group was added; review and update the check")
    print("ok   agent Role: namespaced, no wildcards, no escalate/bind/impersonate, no cluster-scoped resources")


def check_security(chart):
    deployment = literal_yaml(os.path.join(ROOT, f"charts/{chart}/templates/deployment.yaml"))
    spec = deployment["spec"]["template"]["spec"]
    pod = spec["securityContext"]
    check(pod.get("runAsNonRoot") is True and pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{chart}: pod security context")
    check(not spec.get("hostNetwork") and not spec.get("hostPID"), f"{chart}: host namespaces")
    for container in spec["containers"]:
        sc = container["securityContext"]
        check(sc.get("allowPrivilegeEscalation") is False, f"{chart}: allowPrivilegeEscalation must be false")
        check(sc.get("readOnlyRootFilesystem") is True, f"{chart}: readOnlyRootFilesystem must be true")
        check(sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("capabilities", {}).get("add"), f"{chart}: capabilities")
        check(not sc.get("privileged"), f"{chart}: privileged")
        check(container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz", f"{chart}: liveness probe")
        check(container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", f"{chart}: readiness probe")
    check(deployment["spec"]["strategy"]["type"] == "Recreate", f"{chart}: strategy must be Recreate")
    print(f"ok   {chart}: restricted pod security, probes, Recreate")


check_chart("qbeast-agent", must_fail_with_defaults=["controller.url is required", "controller.enrollUrl is required", "tenant is required",
                                                     "environment is required", "controller.caBundle is required"])
check_chart("qbeast-controller", must_fail_with_defaults=None)
check_images()
check_role()
check_security("qbeast-agent")
check_security("qbeast-controller")
for failure in failures:
    print(f"FAIL {failure}")
print(f"charts: {'all checks passed' if not failures else f'{len(failures)} failure(s)'}")
sys.exit(1 if failures else 0)
