#!/usr/bin/env python3
"""Checks the onboarding templates the controller serves, for every cloud and both scenarios, with
each cloud's own tooling where it runs here — cfn-lint for CloudFormation, python-hcl2 for
Terraform, pycep-parser for Bicep — and the project's assertions:
- AWS: the role is trusted only by the control plane's role ARN with an sts:ExternalId condition; no
  wildcard actions; no admin managed policies; iam:PassRole only for named roles, with iam:PassedToService.
- Azure: the federated credential pins issuer, exact subject and audience api://AzureADTokenExchange;
  no Owner, Contributor or User Access Administrator role.
- GCP: the provider has an attribute_condition pinning the subject; workloadIdentityUser is granted to
  that principal only; no owner/editor/IAM-admin roles.
Usage: check-onboarding.py <path to qbeast-controller>
"""
import json
import os
import subprocess
import sys
import tempfile

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".tools", "python")
sys.path.insert(0, TOOLS)
import hcl2  # noqa: E402
import yaml  # noqa: E402
from pycep import BicepParser  # noqa: E402

controller = sys.argv[1]
ROLE = "arn:aws:iam::111122223333:role/qbeast-control-plane"
ISSUER = "https://oidc.qbeast.io"
SUBJECT = "qbeast:tenant:acme:environment:prod"
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def render(cloud, mode, *params):
    args = [controller, "onboarding", "--cloud", cloud, "--tenant", "acme", "--environment", "prod", "--mode", mode,
            "--aws-role-arn", ROLE, "--oidc-issuer", ISSUER]
    for param in params:
        args += ["--param", param]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


class CfnLoader(yaml.SafeLoader):
    pass


for tag in ["!Sub", "!Ref", "!GetAtt", "!Join", "!Select", "!If"]:
    CfnLoader.add_constructor(tag, lambda loader, node, tag=tag: {tag: loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node)})


def statements(template):
    for name, resource in template["Resources"].items():
        for policy in resource.get("Properties", {}).get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def check_aws(mode):
    text = render("aws", mode, "cluster=prod-eks", "bucketPrefix=acme-lake")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    lint = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())", f.name], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": TOOLS})
    check(lint.returncode == 0, f"aws/{mode}: cfn-lint: {lint.stdout.strip()[:800]} {lint.stderr.strip()[:300]}")
    os.unlink(f.name)
    template = yaml.load(text, Loader=CfnLoader)
    role = template["Resources"]["QbeastControlPlaneRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    check(len(trust) == 1 and trust[0]["Principal"] == {"AWS": ROLE}, f"aws/{mode}: trusted by something other than the control plane role: {trust}")
    external = trust[0].get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId", "")
    check(external.startswith("qbeast-") and len(external) > 20, f"aws/{mode}: no sts:ExternalId condition")
    for name, statement in statements(template):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            check("*" not in action, f"aws/{mode}: wildcard action {action} in {name}")
        if "iam:PassRole" in actions:
            check(statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService"), f"aws/{mode}: PassRole without iam:PassedToService")
            check(all(isinstance(r, dict) and "!GetAtt" in r for r in statement["Resource"]), f"aws/{mode}: PassRole beyond the stack's roles")
    managed = json.dumps(template)
    for admin in ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"]:
        check(admin not in managed, f"aws/{mode}: admin policy {admin}")
    check(set(template["Outputs"]) >= {"RoleArn", "ExternalId"}, f"aws/{mode}: outputs")
    check("eks:DescribeCluster" in text and "${BucketPrefix}-*" in text, f"aws/{mode}: cluster and bucket scoping")
    print(f"ok   aws/{mode}: cfn-lint clean; ExternalId condition; no wildcard actions; no admin policies")


def check_azure(mode):
    text = render("azure", mode, "cluster=prod-aks", "storageAccount=acmelake")
    with tempfile.NamedTemporaryFile("w", suffix=".bicep", delete=False) as f:
        f.write(text)
    try:
        parsed = BicepParser().parse(text=text)
        check(bool(parsed), f"azure/{mode}: pycep parsed nothing")
    except Exception as error:  # noqa: BLE001 - any parse failure is the finding
        check(False, f"azure/{mode}: pycep-parser refused the Bicep: {error}")
    os.unlink(f.name)
    check(f"issuer: '{ISSUER}'" in text and f"subject: '{SUBJECT}'" in text, f"azure/{mode}: federated credential does not pin issuer and subject")
    check("'api://AzureADTokenExchange'" in text, f"azure/{mode}: audience")
    for admin in ["8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "b24988ac-6180-42a0-ab88-20f7382dd24c", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"]:
        check(admin not in text, f"azure/{mode}: Owner, Contributor or User Access Administrator role assigned")
    check("output clientId" in text and "output tenantId" in text, f"azure/{mode}: outputs")
    if mode == "provided":
        check("scope: aks" in text and "scope: storage" in text, "azure/provided: role assignments not scoped to the cluster and the storage account")
    print(f"ok   azure/{mode}: pycep parses it; federated credential pinned; no admin roles")


def check_gcp(mode):
    text = render("gcp", mode, "cluster=prod-gke", "bucketPrefix=acme-lake", "project=acme-data")
    try:
        parsed = hcl2.loads(text)
    except Exception as error:  # noqa: BLE001
        check(False, f"gcp/{mode}: python-hcl2 refused the Terraform: {error}")
        return
    resources = {}
    for block in parsed.get("resource", []):
        for kind, named in block.items():
            for name, body in named.items():
                resources[f"{kind.strip(chr(34))}.{name.strip(chr(34))}"] = body
    provider = resources.get("google_iam_workload_identity_pool_provider.qbeast", {})
    condition = json.dumps(provider.get("attribute_condition", ""))
    check(SUBJECT in condition, f"gcp/{mode}: attribute_condition does not pin the subject: {condition}")
    member = json.dumps(resources.get("google_service_account_iam_member.workload_identity", {}).get("member", ""))
    check(f"/subject/{SUBJECT}" in member and "principalSet" not in member, f"gcp/{mode}: workloadIdentityUser not limited to the principal: {member}")
    roles = [json.dumps(body.get("role", "")) for key, body in resources.items() if key.startswith("google_project_iam_member")]
    for role in roles:
        check(not any(admin in role for admin in ["roles/owner", "roles/editor", "roles/iam.", "roles/resourcemanager."]), f"gcp/{mode}: admin role {role}")
    check("workload_identity_provider" in text and "service_account_email" in text, f"gcp/{mode}: outputs")
    print(f"ok   gcp/{mode}: python-hcl2 parses it; attribute_condition pins the subject; no owner/editor/IAM-admin roles")


for mode in ["provided", "managed"]:
    check_aws(mode)
    check_azure(mode)
    check_gcp(mode)
for failure in failures:
    print(f"FAIL {failure}")
print(f"onboarding: {'all checks passed' if not failures else f'{len(failures)} failure(s)'}")
sys.exit(1 if failures else 0)
