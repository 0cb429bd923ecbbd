#!/usr/bin/env bash
# Python tools the checks use, installed into .tools/python (git-ignored), only when missing:
#   helm-sdkpy  Helm's own library (lint renders every template). Its wheel asks for Python ≥ 3.12
#               but is pure Python over a bundled shared library, so it is installed ignoring that
#               and loaded by this machine's Python.
#   pyyaml, cffi, jsonschema  what the checks and helm-sdkpy import (jsonschema: values.schema.json).
#   cfn-lint, python-hcl2, pycep-parser  the onboarding templates: CloudFormation, Terraform, Bicep.
#   openapi-spec-validator, schemathesis  the operator API document, and a running controller against it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=.tools/python
marker="$target/.installed-v6"
[ -f "$marker" ] && exit 0
command -v python3 >/dev/null || { echo "install-tools: python3 is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
python3 -m pip --version >/dev/null 2>&1 || { echo "install-tools: pip is missing (apt-get install python3-pip)" >&2; exit 1; }
mkdir -p "$target"
echo "install-tools: installing helm-sdkpy, pyyaml, cffi into $target"
# One resolver run for all of them, so their shared dependencies (pydantic, jsonschema) agree.
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$target" pyyaml cffi jsonschema cfn-lint python-hcl2 pycep-parser openapi-spec-validator schemathesis
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$target" --no-deps --ignore-requires-python "helm-sdkpy==0.1.32"
touch "$marker"
