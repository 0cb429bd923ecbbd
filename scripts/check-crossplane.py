#!/usr/bin/env python3
"""Checks crossplane/ (the QbeastEnvironment XRD, one Composition per cloud, the examples, the package
metadata) against the upstream CRDs kept in ../shared/schemas, offline:

- the XRD against the XRD CRD's schema (its apiVersion's version), each Composition against the
  Composition CRD, each function input against function-patch-and-transform's Resources CRD,
  crossplane.yaml loosely (a Configuration whose dependencies cover every API group composed);
- every composed resource's base against its CRD (the version its apiVersion names), with objects
  CLOSED unless the schema preserves unknown fields or declares additionalProperties;
- every patch: a From patch's fromFieldPath (and combine variables) in the XRD schema (or the XR's
  metadata), its toFieldPath in the composed CRD (or metadata name/labels/annotations); a
  ToCompositeFieldPath's fromFieldPath in the composed CRD and its toFieldPath in the XRD's status;
- rendering: each example XR (validated against the XRD, defaults and CEL rules applied) and a
  "maximal" XR (every optional field filled with a placeholder of its type, so every patch applies) are
  run through a simulation of function-patch-and-transform (patch sets, From/Combine patches, the
  transforms used, Required gating); every rendered resource must then validate WITH required fields
  and the CRD's CEL rules (upjet puts required parameters there) and the Release's values must satisfy
  charts/qbeast-agent/values.schema.json;
- the composed cloud ProviderConfigs authenticate with no stored secret (AWS WebIdentity from a file,
  Azure OIDCTokenFile, GCP ImpersonateServiceAccount) and every composed ProviderConfig has a readiness
  check of type None; every managed resource references its own cloud's composed ProviderConfig;
- no Release carries a token in its values (the enrollment token reaches the cluster only through the
  provider-kubernetes Object's patchesFrom), and the hand-over resources are gated on the token Secret.

A self-test then plants faults (an unknown field in a base, a bad toFieldPath, a bad fromFieldPath, a
missing required field, ...) into copies and asserts each one is reported, so the check is seen to fail
before it is trusted. `--self-test` runs only that.

Exit status 0 with one summary line when everything holds; one line per failure otherwise. Without
../shared/schemas (a user's clone) it prints one line and exits 0.
"""
import base64
import copy
import glob
import hashlib
import json
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SCHEMAS = os.path.normpath(os.path.join(ROOT, "..", "shared", "schemas"))
CROSSPLANE = os.path.join(ROOT, "crossplane")
if not os.path.isdir(SCHEMAS):
    print("check-crossplane: ../shared/schemas not found, skipped")
    sys.exit(0)

sys.path.insert(0, os.path.join(ROOT, ".tools", "python"))
import jsonschema  # noqa: E402
import yaml  # noqa: E402

FUNCTION_PACKAGE = "xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform"
# What each cloud's composed ProviderConfig must authenticate with: trust, no stored secret.
CLOUD_CREDENTIALS = {
    "aws.m.upbound.io": "WebIdentity",
    "azure.m.upbound.io": "OIDCTokenFile",
    "gcp.m.upbound.io": "ImpersonateServiceAccount",
}
HANDOVER_GATE = "spec.agent.enrollmentTokenSecretName"
ENROLLMENT_SECRET_KEY = "token"


class Failures(list):
    def add(self, where, message):
        self.append(f"{where}: {message}")


# --------------------------------------------------------------------------------------------------
# CRDs and OpenAPI schemas
# --------------------------------------------------------------------------------------------------

class StrictLoader(yaml.SafeLoader):
    """Refuses duplicate keys, as the Kubernetes API machinery does (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_all(path):
    with open(path) as f:
        try:
            return [d for d in yaml.load_all(f, Loader=StrictLoader) if d is not None]
        except yaml.YAMLError as e:
            print(f"check-crossplane: {os.path.relpath(path, ROOT)}: {' '.join(str(e).split())}")
            sys.exit(1)


def load_crds():
    """(apiVersion, kind) -> openAPIV3Schema of that served version."""
    crds = {}
    for path in sorted(glob.glob(os.path.join(SCHEMAS, "*", "*.yaml"))):
        for doc in load_yaml_all(path):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    crds[key] = {"schema": version["schema"]["openAPIV3Schema"], "scope": spec["scope"],
                                 "file": os.path.relpath(path, SCHEMAS)}
    return crds


def closed(schema, required=True, _cache={}):
    """OpenAPI v3 (Kubernetes structural) schema -> JSON Schema with every object closed unless it preserves
    unknown fields or declares additionalProperties. `metadata` of a resource is left open (the API server
    owns it; it is checked separately)."""
    key = (id(schema), required)
    if key in _cache:
        return _cache[key][1]

    def convert(s, top=False):
        if not isinstance(s, dict):
            return s
        out = {}
        for k, v in s.items():
            if k.startswith("x-kubernetes-") or k in ("nullable", "format", "description", "example"):
                continue
            if k == "properties":
                out[k] = {name: ({} if top and name == "metadata" else convert(sub)) for name, sub in v.items()}
            elif k == "items":
                out[k] = convert(v)
            elif k == "additionalProperties":
                out[k] = convert(v) if isinstance(v, dict) else v
            elif k in ("allOf", "anyOf", "oneOf"):
                out[k] = [convert(x) for x in v]
            elif k == "not":
                out[k] = convert(v)
            elif k == "required":
                if required:
                    out[k] = v
            else:
                out[k] = v
        if s.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if s.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        preserve = s.get("x-kubernetes-preserve-unknown-fields")
        if s.get("type") == "object" and not preserve and "additionalProperties" not in s:
            out["additionalProperties"] = False
        return out

    result = convert(schema, top=True)
    _cache[key] = (schema, result)  # keep `schema` alive so its id stays unique
    return result


def schema_errors(schema, doc, required=True):
    validator = jsonschema.Draft7Validator(closed(schema, required))
    errors = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in e.absolute_path) or "(root)"
        errors.append(f"{where}: {e.message if len(e.message) < 300 else e.message[:300] + '...'}")
    return errors


def apply_defaults(schema, obj):
    """What the API server does before validation: fill `default`s into present objects."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict) and schema.get("type") == "object":
        for name, sub in (schema.get("properties") or {}).items():
            if name not in obj and "default" in sub:
                obj[name] = copy.deepcopy(sub["default"])
            if name in obj:
                apply_defaults(sub, obj[name])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, value in obj.items():
                if name not in (schema.get("properties") or {}):
                    apply_defaults(extra, value)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        for item in obj:
            apply_defaults(schema["items"], item)


# --------------------------------------------------------------------------------------------------
# Field paths (crossplane-runtime syntax: a.b[0].c, a[some.key/with-dots], a["key"])
# --------------------------------------------------------------------------------------------------

PATH_TOKEN = re.compile(r"""\.?([A-Za-z0-9_$-]+)|\[(\d+)\]|\[["']?([^\]"']+)["']?\]""")


def parse_path(path):
    segments, pos = [], 0
    while pos < len(path):
        m = PATH_TOKEN.match(path, pos)
        if not m or m.end() == pos or (pos == 0 and path.startswith(".")):
            raise ValueError(f"cannot parse field path {path!r}")
        if m.group(1) is not None:
            segments.append(m.group(1))
        elif m.group(2) is not None:
            segments.append(int(m.group(2)))
        else:
            segments.append(m.group(3))
        pos = m.end()
    return segments


OPEN = object()  # a place below which any field is allowed


def schema_at(schema, segments):
    """The sub-schema a path leads to, OPEN when it passes a free-form object, None if it does not exist."""
    s = schema
    for seg in segments:
        if s is OPEN:
            return OPEN
        if isinstance(seg, int):
            if s.get("type") != "array":
                return None
            s = s.get("items") or OPEN
            continue
        props = s.get("properties") or {}
        if seg in props:
            s = props[seg]
        elif isinstance(s.get("additionalProperties"), dict):
            s = s["additionalProperties"]
        elif s.get("additionalProperties") is True or s.get("x-kubernetes-preserve-unknown-fields"):
            s = OPEN
        else:
            return None
    return s


def metadata_path_ok(segments, writable):
    """metadata.* paths Crossplane lets a composition read or write."""
    if len(segments) < 2 or segments[0] != "metadata":
        return False
    if segments[1] in ("labels", "annotations"):
        return len(segments) == 3 and isinstance(segments[2], str)
    if writable:
        return segments[1:] == ["name"]
    return len(segments) == 2 and segments[1] in ("name", "namespace", "uid", "generation")


MISSING = object()


def get_value(obj, segments):
    for seg in segments:
        if isinstance(seg, int):
            if not isinstance(obj, list) or seg >= len(obj):
                return MISSING
            obj = obj[seg]
        else:
            if not isinstance(obj, dict) or seg not in obj:
                return MISSING
            obj = obj[seg]
    return obj


def set_value(obj, segments, value):
    """crossplane-runtime's Paved.SetValue: creates objects and arrays on the way (arrays padded with null)."""
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        nxt = None if last else ([] if isinstance(segments[i + 1], int) else {})
        if isinstance(seg, int):
            while len(obj) <= seg:
                obj.append(None)
            if last:
                obj[seg] = value
            else:
                if not isinstance(obj[seg], type(nxt)):
                    obj[seg] = nxt
                obj = obj[seg]
        else:
            if last:
                obj[seg] = value
            else:
                if not isinstance(obj.get(seg), type(nxt)):
                    obj[seg] = nxt
                obj = obj[seg]


# --------------------------------------------------------------------------------------------------
# A small CEL evaluator: the subset the CRDs and the XRD use (has, size, matches, lowerAscii, in,
# comparisons, && || !, + on integers). Anything else is reported as not evaluated, never as passing.
# --------------------------------------------------------------------------------------------------

class CelUnsupported(Exception):
    pass


class CelError(Exception):
    pass


CEL_TOKEN = re.compile(r"\s*(?:(\d+)|('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\||==|!=|<=|>=|[<>!()\[\].,+\-]))")


def cel_tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = CEL_TOKEN.match(text, pos)
        if not m:
            raise CelUnsupported(f"cannot tokenize {text[pos:]!r}")
        if m.group(1):
            out.append(("int", int(m.group(1))))
        elif m.group(2):
            raw = m.group(2)[1:-1]
            out.append(("str", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group(3):
            out.append(("id", m.group(3)))
        else:
            out.append(("op", m.group(4)))
        pos = m.end()
    return out


class CelParser:
    def __init__(self, text):
        self.t = cel_tokens(text)
        self.i = 0

    def peek(self, value=None):
        if self.i < len(self.t) and (value is None or self.t[self.i][1] == value):
            return self.t[self.i]
        return None

    def take(self, value=None):
        tok = self.peek(value)
        if tok is None:
            raise CelUnsupported(f"expected {value!r}")
        self.i += 1
        return tok

    def parse(self):
        e = self.or_()
        if self.i != len(self.t):
            raise CelUnsupported("trailing tokens")
        return e

    def or_(self):
        e = self.and_()
        while self.peek("||"):
            self.take()
            e = ("or", e, self.and_())
        return e

    def and_(self):
        e = self.rel()
        while self.peek("&&"):
            self.take()
            e = ("and", e, self.rel())
        return e

    def rel(self):
        e = self.add()
        for op in ("==", "!=", "<=", ">=", "<", ">", "in"):
            if self.peek(op):
                self.take()
                return ("rel", op, e, self.add())
        return e

    def add(self):
        e = self.unary()
        while self.peek("+") or self.peek("-"):
            op = self.take()[1]
            e = ("arith", op, e, self.unary())
        return e

    def unary(self):
        if self.peek("!"):
            self.take()
            return ("not", self.unary())
        return self.member()

    def member(self):
        e = self.primary()
        while True:
            if self.peek("."):
                self.take()
                name = self.take()[1]
                if self.peek("("):
                    e = ("method", name, e, self.args())
                else:
                    e = ("select", e, name)
            elif self.peek("["):
                self.take()
                index = self.or_()
                self.take("]")
                e = ("index", e, index)
            else:
                return e

    def args(self):
        self.take("(")
        out = []
        while not self.peek(")"):
            out.append(self.or_())
            if self.peek(","):
                self.take()
        self.take(")")
        return out

    def primary(self):
        kind, value = self.take()
        if kind == "int":
            return ("lit", value)
        if kind == "str":
            return ("lit", value)
        if kind == "id":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "null":
                return ("lit", None)
            if self.peek("("):
                return ("call", value, self.args())
            return ("var", value)
        if value == "(":
            e = self.or_()
            self.take(")")
            return e
        if value == "[":
            items = []
            while not self.peek("]"):
                items.append(self.or_())
                if self.peek(","):
                    self.take()
            self.take("]")
            return ("list", items)
        raise CelUnsupported(f"unexpected {value!r}")


def cel_eval(e, env):
    kind = e[0]
    if kind == "lit":
        return e[1]
    if kind == "list":
        return [cel_eval(x, env) for x in e[1]]
    if kind == "var":
        if e[1] not in env:
            raise CelUnsupported(f"variable {e[1]}")
        return env[e[1]]
    if kind == "select":
        obj = cel_eval(e[1], env)
        if not isinstance(obj, dict) or e[2] not in obj:
            raise CelError(f"no such key: {e[2]}")
        return obj[e[2]]
    if kind == "index":
        obj, idx = cel_eval(e[1], env), cel_eval(e[2], env)
        try:
            return obj[idx]
        except (KeyError, IndexError, TypeError):
            raise CelError(f"no such index {idx!r}")
    if kind == "not":
        return not cel_eval(e[1], env)
    if kind == "or":
        return bool(cel_eval(e[1], env)) or bool(cel_eval(e[2], env))
    if kind == "and":
        return bool(cel_eval(e[1], env)) and bool(cel_eval(e[2], env))
    if kind == "arith":
        a, b = cel_eval(e[2], env), cel_eval(e[3], env)
        if not (isinstance(a, int) and isinstance(b, int)):
            raise CelUnsupported("arithmetic on non-integers")
        return a + b if e[1] == "+" else a - b
    if kind == "rel":
        op, a, b = e[1], cel_eval(e[2], env), cel_eval(e[3], env)
        if op == "in":
            return a in b
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if type(a) is not type(b) or not isinstance(a, (int, str)):
            raise CelError(f"cannot compare {a!r} {op} {b!r}")
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if kind == "call":
        name, args = e[1], e[2]
        if name == "has" and len(args) == 1 and args[0][0] == "select":
            try:
                obj = cel_eval(args[0][1], env)
            except CelError:
                return False
            return isinstance(obj, dict) and args[0][2] in obj
        if name == "size" and len(args) == 1:
            return len(cel_eval(args[0], env))
        raise CelUnsupported(f"function {name}")
    if kind == "method":
        name, target, args = e[1], cel_eval(e[2], env), [cel_eval(a, env) for a in e[3]]
        if name == "matches" and isinstance(target, str):
            return re.search(args[0], target) is not None
        if name == "lowerAscii" and isinstance(target, str):
            return target.lower()
        if name == "size":
            return len(target)
        raise CelUnsupported(f"method {name}")
    raise CelUnsupported(kind)


class CelRules:
    """Evaluates the x-kubernetes-validations of a schema over an object; counts what it could not evaluate."""
    skipped = {}
    evaluated = 0

    @classmethod
    def check(cls, schema, obj, where, failures):
        cls._walk(schema, obj, where, failures)

    @classmethod
    def _walk(cls, s, obj, where, failures):
        if not isinstance(s, dict) or obj is MISSING:
            return
        for rule in s.get("x-kubernetes-validations") or []:
            text = rule["rule"]
            if "oldSelf" in text:
                continue  # a transition rule: not checked when an object is created
            try:
                ok = cel_eval(CelParser(text).parse(), {"self": obj})
                cls.evaluated += 1
            except CelUnsupported as e:
                cls.skipped[text] = str(e)
                continue
            except CelError as e:
                ok, text = False, f"{text} ({e})"
            if not ok:
                failures.add(where, f"CEL rule fails: {rule.get('message') or text}")
        if isinstance(obj, dict):
            for name, sub in (s.get("properties") or {}).items():
                if name in obj:
                    cls._walk(sub, obj[name], f"{where}.{name}", failures)
        elif isinstance(obj, list) and isinstance(s.get("items"), dict):
            for i, item in enumerate(obj):
                cls._walk(s["items"], item, f"{where}[{i}]", failures)


# --------------------------------------------------------------------------------------------------
# function-patch-and-transform, simulated
# --------------------------------------------------------------------------------------------------

class RenderError(Exception):
    pass


def go_format(fmt, values):
    """fmt.Sprintf for the verbs compositions use (%s %d %v %%)."""
    out, vi, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1] if i + 1 < len(fmt) else ""
        i += 2
        if verb == "%":
            out.append("%")
            continue
        if vi >= len(values):
            raise RenderError(f"format {fmt!r} has more verbs than values")
        v = values[vi]
        vi += 1
        if verb == "s" and not isinstance(v, str):
            raise RenderError(f"format {fmt!r}: %s given a {type(v).__name__} ({v!r})")
        if verb == "d" and (not isinstance(v, int) or isinstance(v, bool)):
            raise RenderError(f"format {fmt!r}: %d given a {type(v).__name__}")
        if verb not in "sdv":
            raise RenderError(f"format verb %{verb} not simulated")
        out.append(str(v).lower() if isinstance(v, bool) else str(v))
    if vi != len(values):
        raise RenderError(f"format {fmt!r} leaves values unused")
    return "".join(out)


def run_transform(t, value):
    kind = t.get("type")
    if kind == "string":
        st = t["string"]
        stype = st.get("type", "Format")
        if stype == "Format":
            return go_format(st["fmt"], [value])
        if not isinstance(value, str):
            raise RenderError(f"string transform {stype} given a {type(value).__name__}")
        if stype == "Convert":
            conv = st["convert"]
            if conv == "ToUpper":
                return value.upper()
            if conv == "ToLower":
                return value.lower()
            if conv == "ToBase64":
                return base64.b64encode(value.encode()).decode()
            if conv == "FromBase64":
                return base64.b64decode(value).decode()
            if conv in ("ToSha1", "ToSha256", "ToSha512"):
                return hashlib.new(conv[2:].lower(), value.encode()).hexdigest()
            raise RenderError(f"string convert {conv} not simulated")
        if stype == "TrimPrefix":
            return value[len(st["trim"]):] if value.startswith(st["trim"]) else value
        if stype == "TrimSuffix":
            return value[:-len(st["trim"])] if st["trim"] and value.endswith(st["trim"]) else value
        if stype == "Regexp":
            m = re.search(st["regexp"]["match"], value)
            group = st["regexp"].get("group", 0)
            if not m:
                raise RenderError(f"regexp {st['regexp']['match']!r} does not match {value!r}")
            return m.group(group)
        raise RenderError(f"string transform {stype} not simulated")
    if kind == "map":
        key = value if isinstance(value, str) else json.dumps(value)
        if key not in t["map"]:
            raise RenderError(f"map transform has no key {key!r}")
        return copy.deepcopy(t["map"][key])
    if kind == "match":
        m = t["match"]
        for p in m.get("patterns", []):
            if p["type"] == "literal" and value == p.get("literal"):
                return copy.deepcopy(p.get("result"))
            if p["type"] == "regexp" and isinstance(value, str) and re.search(p["regexp"], value):
                return copy.deepcopy(p.get("result"))
        if m.get("fallbackTo", "Value") == "Input":
            return value
        return copy.deepcopy(m.get("fallbackValue"))
    if kind == "convert":
        to = t["convert"]["toType"]
        try:
            if to == "string":
                return str(value).lower() if isinstance(value, bool) else str(value)
            if to in ("int", "int64"):
                return int(value)
            if to == "float64":
                return float(value)
            if to == "bool":
                return value if isinstance(value, bool) else {"true": True, "false": False}[str(value)]
        except (ValueError, KeyError):
            raise RenderError(f"cannot convert {value!r} to {to}")
        raise RenderError(f"convert to {to} not simulated")
    if kind == "math":
        m = t["math"]
        mtype = m.get("type", "Multiply")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise RenderError("math transform given a non-number")
        if mtype == "Multiply":
            return value * m["multiply"]
        if mtype == "ClampMin":
            return max(value, m["clampMin"])
        if mtype == "ClampMax":
            return min(value, m["clampMax"])
    raise RenderError(f"transform {kind} not simulated")


def expand_patches(template, patch_sets):
    out = []
    for p in template.get("patches") or []:
        if p.get("type") == "PatchSet":
            if p.get("patchSetName") not in patch_sets:
                raise RenderError(f"unknown patch set {p.get('patchSetName')!r}")
            out.extend(patch_sets[p["patchSetName"]])
        else:
            out.append(p)
    return out


def render(resources_input, xr):
    """Desired composed resources for `xr`: {template name: resource or None when gated out}."""
    patch_sets = {ps["name"]: ps.get("patches") or [] for ps in resources_input.get("patchSets") or []}
    desired = {}
    for template in resources_input["resources"]:
        name = template["name"]
        resource = copy.deepcopy(template.get("base") or {})
        skipped = False
        for i, p in enumerate(expand_patches(template, patch_sets)):
            ptype = p.get("type", "FromCompositeFieldPath")
            if ptype not in ("FromCompositeFieldPath", "CombineFromComposite"):
                continue
            where = f"patch {i} ({ptype})"
            if ptype == "FromCompositeFieldPath":
                value = get_value(xr, parse_path(p["fromFieldPath"]))
                missing = value is MISSING
            else:
                values = [get_value(xr, parse_path(v["fromFieldPath"])) for v in p["combine"]["variables"]]
                missing = any(v is MISSING for v in values)
                if not missing:
                    try:
                        value = go_format(p["combine"]["string"]["fmt"], values)
                    except RenderError as e:
                        raise RenderError(f"{name}: {where}: {e}")
            if missing:
                if (p.get("policy") or {}).get("fromFieldPath") == "Required":
                    skipped = True  # a new resource is not composed until the field exists
                    break
                continue
            try:
                for t in p.get("transforms") or []:
                    value = run_transform(t, value)
            except RenderError as e:
                raise RenderError(f"{name}: {where}: {e}")
            if (p.get("policy") or {}).get("toFieldPath", "Replace") != "Replace":
                raise RenderError(f"{name}: {where}: toFieldPath policy not simulated")
            set_value(resource, parse_path(p["toFieldPath"]), value)
        desired[name] = None if skipped else resource
    return desired


# --------------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------------

def placeholder(schema, name="x"):
    """A value of the schema's type (its default, first enum value, or a plain value)."""
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type")
    if t == "string":
        return f"placeholder-{name.lower()}"
    if t == "integer":
        return max(schema.get("minimum", 1), 1)
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    if t == "array":
        return [placeholder(schema.get("items") or {}, name)]
    if t == "object":
        return {}
    return f"placeholder-{name.lower()}"


def fill_all(schema, obj, name="x"):
    """Sets every optional field of `obj` the schema declares: the "maximal" XR, so that every patch applies."""
    if schema.get("type") == "object" and isinstance(obj, dict):
        for pname, sub in (schema.get("properties") or {}).items():
            if pname not in obj:
                obj[pname] = placeholder(sub, pname)
            fill_all(sub, obj[pname], pname)
    elif schema.get("type") == "array" and isinstance(obj, list):
        if not obj:
            obj.append(placeholder(schema.get("items") or {}, name))
        for item in obj:
            fill_all(schema.get("items") or {}, item, name)


def group_of(api_version):
    return api_version.split("/")[0]


def check_metadata(meta, where, failures):
    if meta is None:
        return
    if not isinstance(meta, dict):
        failures.add(where, "metadata is not an object")
        return
    for key in meta:
        if key not in ("name", "labels", "annotations"):
            failures.add(where, f"metadata.{key} may not be set in a composed resource")
    for kind in ("labels", "annotations"):
        for k, v in (meta.get(kind) or {}).items():
            if not isinstance(v, str):
                failures.add(where, f"metadata.{kind}[{k}] is not a string")
            elif kind == "labels" and (len(v) > 63 or not re.fullmatch(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", v)):
                failures.add(where, f"label {k}={v!r} is not a valid label value")


def empty_values(obj, path=""):
    """Paths of "" or null in a base: placeholders there would hide a missing patch from the required check."""
    if obj is None or obj == "":
        yield path or "(root)"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from empty_values(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from empty_values(v, f"{path}[{i}]")


def leaf_type(schema):
    if schema is OPEN or schema is None:
        return None
    if schema.get("x-kubernetes-int-or-string"):
        return None
    return schema.get("type")


def type_compatible(source, target):
    if source is None or target is None:
        return True
    return source == target or (source == "integer" and target == "number")


class Checker:
    def __init__(self, crds):
        self.crds = crds
        self.failures = Failures()
        self.stats = {"resources": 0, "patches": 0, "renders": 0, "rendered": 0}

    # ---- the XRD -----------------------------------------------------------------------------------
    def check_xrd(self, xrd, where):
        key = (xrd.get("apiVersion"), xrd.get("kind"))
        if key != ("apiextensions.crossplane.io/v2", "CompositeResourceDefinition"):
            self.failures.add(where, f"expected an apiextensions.crossplane.io/v2 CompositeResourceDefinition, got {key}")
            return None
        crd = self.crds[key]
        for e in schema_errors(crd["schema"], xrd):
            self.failures.add(where, e)
        CelRules.check(crd["schema"], xrd, where, self.failures)
        spec = xrd.get("spec") or {}
        if spec.get("scope") != "Namespaced":
            self.failures.add(where, "scope must be Namespaced (one namespace per tenant)")
        versions = [v for v in spec.get("versions") or [] if v.get("served") and v.get("referenceable")]
        if len(versions) != 1:
            self.failures.add(where, "expected exactly one served, referenceable version")
            return None
        schema = versions[0]["schema"]["openAPIV3Schema"]
        self.check_structural(schema, f"{where}: schema", top=True)
        return {"apiVersion": f"{spec['group']}/{versions[0]['name']}", "kind": spec["names"]["kind"], "schema": schema}

    def check_structural(self, s, where, top=False):
        """A closed, structural, documented schema: types everywhere, no free-form objects, descriptions."""
        if "type" not in s:
            self.failures.add(where, "has no type")
        if not top and not s.get("description"):
            self.failures.add(where, "has no description")
        if s.get("x-kubernetes-preserve-unknown-fields"):
            self.failures.add(where, "preserves unknown fields (the XR schema is closed)")
        if "additionalProperties" in s and "properties" in s:
            self.failures.add(where, "has both properties and additionalProperties (not structural)")
        for rule in s.get("x-kubernetes-validations") or []:
            if "oldSelf" not in rule["rule"]:
                try:
                    CelParser(rule["rule"]).parse()
                except CelUnsupported as e:
                    self.failures.add(where, f"CEL rule {rule['rule']!r} is outside what this check evaluates ({e})")
        for name, sub in (s.get("properties") or {}).items():
            self.check_structural(sub, f"{where}.{name}")
        for name in s.get("required") or []:
            if name not in (s.get("properties") or {}):
                self.failures.add(where, f"requires {name}, which it does not declare")
        if isinstance(s.get("items"), dict):
            sub = s["items"]
            if "type" not in sub:
                self.failures.add(f"{where}[]", "has no type")
            for name, p in (sub.get("properties") or {}).items():
                self.check_structural(p, f"{where}[].{name}")

    def xr_schema(self, xrd_info):
        """The XR as the generated CRD sees it: the XRD's schema plus what Crossplane adds (spec.crossplane,
        status.conditions), and open metadata."""
        s = copy.deepcopy(xrd_info["schema"])
        s.setdefault("properties", {})
        s["properties"]["apiVersion"] = {"type": "string"}
        s["properties"]["kind"] = {"type": "string"}
        s["properties"]["metadata"] = {"type": "object"}
        s["properties"]["spec"].setdefault("properties", {})["crossplane"] = {
            "type": "object", "x-kubernetes-preserve-unknown-fields": True}
        s["properties"].setdefault("status", {"type": "object", "properties": {}})
        s["properties"]["status"].setdefault("properties", {})["conditions"] = {
            "type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
        return s

    def check_example(self, xr, xrd_info, where):
        if (xr.get("apiVersion"), xr.get("kind")) != (xrd_info["apiVersion"], xrd_info["kind"]):
            self.failures.add(where, f"not a {xrd_info['kind']} {xrd_info['apiVersion']}")
            return None
        schema = self.xr_schema(xrd_info)
        xr = copy.deepcopy(xr)
        apply_defaults(schema, xr)
        for e in schema_errors(schema, xr):
            self.failures.add(where, e)
        CelRules.check(schema, xr, where, self.failures)
        meta = xr.get("metadata") or {}
        if not meta.get("name") or not meta.get("namespace"):
            self.failures.add(where, "an XR needs metadata.name and metadata.namespace")
        return xr

    # ---- a Composition -----------------------------------------------------------------------------
    def check_composition(self, comp, xrd_info, function_name, where):
        crd = self.crds.get((comp.get("apiVersion"), comp.get("kind")))
        if not crd or comp.get("kind") != "Composition":
            self.failures.add(where, "not an apiextensions.crossplane.io/v1 Composition")
            return None
        for e in schema_errors(crd["schema"], comp):
            self.failures.add(where, e)
        CelRules.check(crd["schema"], comp, where, self.failures)
        spec = comp.get("spec") or {}
        ref = spec.get("compositeTypeRef") or {}
        if (ref.get("apiVersion"), ref.get("kind")) != (xrd_info["apiVersion"], xrd_info["kind"]):
            self.failures.add(where, f"compositeTypeRef {ref} is not the XRD's {xrd_info['apiVersion']} {xrd_info['kind']}")
        steps = spec.get("pipeline") or []
        if spec.get("mode") != "Pipeline" or len(steps) != 1:
            self.failures.add(where, "expected mode Pipeline with one step")
            return None
        step = steps[0]
        if (step.get("functionRef") or {}).get("name") != function_name:
            self.failures.add(where, f"functionRef must name {function_name!r} (the dependency's Function)")
        inp = step.get("input") or {}
        icrd = self.crds.get((inp.get("apiVersion"), inp.get("kind")))
        if not icrd or inp.get("kind") != "Resources":
            self.failures.add(where, "input is not a pt.fn.crossplane.io Resources")
            return None
        for e in schema_errors(icrd["schema"], inp):
            self.failures.add(f"{where}: input", e)
        CelRules.check(icrd["schema"], inp, f"{where}: input", self.failures)

        xr_schema = self.xr_schema(xrd_info)
        patch_sets = {ps["name"]: ps.get("patches") or [] for ps in inp.get("patchSets") or []}
        names = [t.get("name") for t in inp.get("resources") or []]
        for dup in {n for n in names if names.count(n) > 1}:
            self.failures.add(where, f"resource name {dup!r} is used twice")
        for template in inp.get("resources") or []:
            self.check_template(template, patch_sets, xr_schema, f"{where}: {template.get('name')}")
        return inp

    def check_template(self, template, patch_sets, xr_schema, where):
        base = template.get("base") or {}
        key = (base.get("apiVersion"), base.get("kind"))
        crd = self.crds.get(key)
        self.stats["resources"] += 1
        if not crd:
            self.failures.add(where, f"no CRD in ../shared/schemas serves {key[0]} {key[1]}")
            return
        if crd["scope"] != "Namespaced":
            self.failures.add(where, f"{key[1]} is cluster-scoped; a namespaced XR composes namespaced resources")
        schema = crd["schema"]
        for e in schema_errors(schema, base, required=False):
            self.failures.add(f"{where}: base", e)
        check_metadata(base.get("metadata"), f"{where}: base", self.failures)
        for path in empty_values(base):
            self.failures.add(f"{where}: base", f"{path} is empty; leave it out and let a patch set it")
        try:
            patches = expand_patches(template, patch_sets)
        except RenderError as e:
            self.failures.add(where, str(e))
            return
        for i, p in enumerate(patches):
            self.stats["patches"] += 1
            self.check_patch(p, schema, xr_schema, f"{where}: patch {i}")
        is_provider_config = key[1] == "ProviderConfig"
        checks = template.get("readinessChecks")
        if is_provider_config and checks != [{"type": "None"}]:
            self.failures.add(where, "a composed ProviderConfig needs readinessChecks [{type: None}] (it has no Ready condition)")
        if is_provider_config and group_of(key[0]) in CLOUD_CREDENTIALS:
            self.check_cloud_credentials(base, group_of(key[0]), where)
        if key == ("helm.m.crossplane.io/v1beta1", "Release"):
            self.check_release_values(base, where)
            if not self.is_gated(patches):
                self.failures.add(where, f"the Release must be gated on {HANDOVER_GATE} (policy Required)")
        if key[1] == "Object" and (get_value(base, parse_path("spec.forProvider.manifest.kind")) == "Secret"):
            self.check_enrollment_object(base, patches, where)

    def is_gated(self, patches):
        return any(p.get("type", "FromCompositeFieldPath") == "FromCompositeFieldPath" and p.get("fromFieldPath") == HANDOVER_GATE
                   and (p.get("policy") or {}).get("fromFieldPath") == "Required" for p in patches)

    def check_patch(self, p, schema, xr_schema, where):
        ptype = p.get("type", "FromCompositeFieldPath")
        try:
            if ptype in ("FromCompositeFieldPath", "CombineFromComposite"):
                froms = [p.get("fromFieldPath")] if ptype == "FromCompositeFieldPath" else \
                    [v.get("fromFieldPath") for v in (p.get("combine") or {}).get("variables") or []]
                for f in froms:
                    if not f:
                        self.failures.add(where, "has no fromFieldPath")
                        continue
                    segs = parse_path(f)
                    if segs[0] == "metadata":
                        if not metadata_path_ok(segs, writable=False):
                            self.failures.add(where, f"fromFieldPath {f} is not a readable metadata field")
                    elif segs[0] not in ("spec", "status") or schema_at(xr_schema, segs) is None:
                        self.failures.add(where, f"fromFieldPath {f} does not exist in the XRD schema")
                to = p.get("toFieldPath")
                if not to:
                    self.failures.add(where, "has no toFieldPath")
                    return
                segs = parse_path(to)
                if segs[0] == "metadata":
                    if not metadata_path_ok(segs, writable=True):
                        self.failures.add(where, f"toFieldPath {to} is not a writable metadata field")
                elif schema_at(schema, segs) is None:
                    self.failures.add(where, f"toFieldPath {to} does not exist in the composed resource's CRD")
            elif ptype == "ToCompositeFieldPath":
                f, to = p.get("fromFieldPath"), p.get("toFieldPath")
                if not f or not to:
                    self.failures.add(where, "needs fromFieldPath and toFieldPath")
                    return
                fsegs, tsegs = parse_path(f), parse_path(to)
                source = None
                if fsegs[0] == "metadata":
                    if not metadata_path_ok(fsegs, writable=False):
                        self.failures.add(where, f"fromFieldPath {f} is not a readable metadata field")
                    source = {"type": "string"} if len(fsegs) >= 2 and fsegs[1] != "generation" else None
                else:
                    source = schema_at(schema, fsegs)
                    if source is None:
                        self.failures.add(where, f"fromFieldPath {f} does not exist in the composed resource's CRD")
                target = schema_at(xr_schema, tsegs) if tsegs[0] == "status" else None
                if tsegs[0] != "status" or target is None or tsegs[:2] == ["status", "conditions"]:
                    self.failures.add(where, f"toFieldPath {to} is not a field of the XRD's status")
                elif not p.get("transforms") and not type_compatible(leaf_type(source), leaf_type(target)):
                    self.failures.add(where, f"{f} ({leaf_type(source)}) cannot be written to {to} ({leaf_type(target)})")
            else:
                self.failures.add(where, f"patch type {ptype} is not used by these Compositions (add it to the check first)")
        except ValueError as e:
            self.failures.add(where, str(e))

    def check_cloud_credentials(self, base, group, where):
        creds = (base.get("spec") or {}).get("credentials") or {}
        want = CLOUD_CREDENTIALS[group]
        if creds.get("source") != want:
            self.failures.add(where, f"credentials.source must be {want} (no stored secret), not {creds.get('source')}")
        for path in self.find_keys(base.get("spec") or {}, ("secretRef", "env")):
            self.failures.add(where, f"{path}: a cloud ProviderConfig reads no secret and no environment variable")
        if group == "aws.m.upbound.io":
            token = (creds.get("webIdentity") or {}).get("tokenConfig") or {}
            if token.get("source") != "Filesystem":
                self.failures.add(where, "the web identity token must come from a file (tokenConfig.source Filesystem)")

    def find_keys(self, obj, keys, path="spec"):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in keys:
                    yield f"{path}.{k}"
                yield from self.find_keys(v, keys, f"{path}.{k}")
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                yield from self.find_keys(v, keys, f"{path}[{i}]")

    def check_release_values(self, release, where):
        fp = (release.get("spec") or {}).get("forProvider") or {}
        for field in ("valuesFrom", "set"):
            if fp.get(field):
                self.failures.add(where, f"forProvider.{field} is not used: values are only what the Composition writes")

        def walk(obj, path):
            if isinstance(obj, dict):
                for k, v in obj.items():
                    if re.search("token", k, re.I):
                        self.failures.add(where, f"values.{path}{k}: no token in a Release's values (it would land in the Helm release)")
                    walk(v, f"{path}{k}.")
            elif isinstance(obj, list):
                for v in obj:
                    walk(v, path)
        walk(fp.get("values") or {}, "")
        enrollment = (fp.get("values") or {}).get("enrollment") or {}
        if enrollment.get("method") != "token" or not enrollment.get("existingSecret"):
            self.failures.add(where, "values.enrollment must be {method: token, existingSecret: <the enrollment Secret>}")

    def check_enrollment_object(self, obj, patches, where):
        manifest = obj["spec"]["forProvider"]["manifest"]
        if manifest.get("data") or manifest.get("stringData"):
            self.failures.add(where, "the enrollment Secret's manifest holds data; it must come from spec.references[].patchesFrom")
        refs = (obj.get("spec") or {}).get("references") or []
        if not any((r.get("patchesFrom") or {}).get("kind") == "Secret"
                   and (r.get("patchesFrom") or {}).get("fieldPath") == f"data.{ENROLLMENT_SECRET_KEY}" for r in refs):
            self.failures.add(where, f"the enrollment Secret must be filled by patchesFrom a Secret's data.{ENROLLMENT_SECRET_KEY}")
        if not self.is_gated(patches):
            self.failures.add(where, f"the enrollment Secret must be gated on {HANDOVER_GATE} (policy Required)")

    # ---- rendering -----------------------------------------------------------------------------------
    def check_render(self, inp, xr, where):
        self.stats["renders"] += 1
        try:
            desired = render(inp, xr)
        except (RenderError, ValueError) as e:
            self.failures.add(where, str(e))
            return None
        pcs = {}
        for name, res in desired.items():
            if res and res.get("kind") == "ProviderConfig":
                pcs[group_of(res["apiVersion"])] = (res.get("metadata") or {}).get("name")
        for name, res in desired.items():
            if res is None:
                continue
            self.stats["rendered"] += 1
            rwhere = f"{where}: {name}"
            crd = self.crds.get((res.get("apiVersion"), res.get("kind")))
            if not crd:
                continue  # reported by check_template
            res = copy.deepcopy(res)
            apply_defaults(crd["schema"], res)
            for e in schema_errors(crd["schema"], res):
                self.failures.add(rwhere, f"after patches: {e}")
            CelRules.check(crd["schema"], res, rwhere, self.failures)
            check_metadata(res.get("metadata"), rwhere, self.failures)
            if res["kind"] == "ProviderConfig":
                if not (res.get("metadata") or {}).get("name"):
                    self.failures.add(rwhere, "a composed ProviderConfig needs a name its resources can reference")
                continue
            ref = (res.get("spec") or {}).get("providerConfigRef") or {}
            group = group_of(res["apiVersion"])
            family = next((g for g in pcs if group == g or group.endswith("." + g)), None)
            if family is None:
                self.failures.add(rwhere, f"no composed ProviderConfig for {group}")
            elif ref.get("kind") != "ProviderConfig" or ref.get("name") != pcs[family]:
                self.failures.add(rwhere, f"providerConfigRef {ref} is not the composed ProviderConfig {pcs[family]!r}")
            if res["kind"] == "Release":
                self.check_chart_values(res, rwhere)
        return desired

    def check_chart_values(self, release, where):
        chart = os.path.join(ROOT, "charts", "qbeast-agent")
        with open(os.path.join(chart, "values.schema.json")) as f:
            schema = json.load(f)
        with open(os.path.join(chart, "values.yaml")) as f:
            defaults = yaml.safe_load(f)

        def merge(a, b):
            out = copy.deepcopy(a)
            for k, v in b.items():
                out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
            return out
        values = merge(defaults, release["spec"]["forProvider"].get("values") or {})
        for e in jsonschema.Draft7Validator(schema).iter_errors(values):
            self.failures.add(where, f"chart values {'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")

    # ---- the package -----------------------------------------------------------------------------------
    def check_package(self, package, compositions, where):
        if (package.get("apiVersion"), package.get("kind")) != ("meta.pkg.crossplane.io/v1", "Configuration"):
            self.failures.add(where, "expected a meta.pkg.crossplane.io/v1 Configuration")
            return None
        spec = package.get("spec") or {}
        if not (spec.get("crossplane") or {}).get("version", "").startswith(">=v2"):
            self.failures.add(where, "spec.crossplane.version must require Crossplane v2 (namespaced XRs)")
        packages, function_name = [], None
        for dep in spec.get("dependsOn") or []:
            kinds = [k for k in ("provider", "function", "configuration") if k in dep]
            if len(kinds) != 1 or not re.fullmatch(r"[a-z0-9.-]+/[a-z0-9-]+/[a-z0-9-]+", dep[kinds[0]]):
                self.failures.add(where, f"dependency {dep} needs exactly one of provider/function/configuration with a registry/org/name package")
                continue
            if not re.fullmatch(r">=v\d+\.\d+\.\d+( <v\d+\.\d+\.\d+)?", str(dep.get("version", ""))):
                self.failures.add(where, f"dependency {dep[kinds[0]]} needs a version constraint like '>=v1.2.3 <v2.0.0'")
            packages.append(dep[kinds[0]])
            if kinds[0] == "function" and dep["function"] == FUNCTION_PACKAGE:
                # Crossplane names a dependency's Function after its repository path.
                function_name = "-".join(dep["function"].split("/")[1:])
        if function_name is None:
            self.failures.add(where, f"no dependency on {FUNCTION_PACKAGE}")
        names = {p.split("/")[-1] for p in packages}
        for comp in compositions:
            for template in (((comp.get("spec") or {}).get("pipeline") or [{}])[0].get("input") or {}).get("resources") or []:
                group = group_of((template.get("base") or {}).get("apiVersion", "?/"))
                m = re.fullmatch(r"(?:([a-z0-9]+)\.)?(aws|azure|gcp)\.m\.upbound\.io", group)
                if m:
                    cloud = m.group(2)
                    ok = (f"provider-{cloud}-{m.group(1)}" in names) if m.group(1) else \
                        any(n.startswith(f"provider-{cloud}-") or n == f"provider-family-{cloud}" for n in names)
                    if m.group(1) is None and group == "azure.m.upbound.io" and template["base"].get("kind") != "ProviderConfig":
                        ok = "provider-family-azure" in names
                elif group == "helm.m.crossplane.io":
                    ok = "provider-helm" in names
                elif group == "kubernetes.m.crossplane.io":
                    ok = "provider-kubernetes" in names
                else:
                    ok = False
                if not ok:
                    self.failures.add(where, f"no dependency provides {group} (composed by {comp['metadata']['name']}/{template.get('name')})")
        return function_name


# --------------------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------------------

def load_sources():
    src = {"package": load_yaml_all(os.path.join(CROSSPLANE, "crossplane.yaml"))[0], "xrd": None,
           "compositions": {}, "examples": {}}
    for path in sorted(glob.glob(os.path.join(CROSSPLANE, "apis", "**", "*.yaml"), recursive=True)):
        for doc in load_yaml_all(path):
            rel = os.path.relpath(path, ROOT)
            if doc.get("kind") == "CompositeResourceDefinition":
                src["xrd"] = (rel, doc)
            elif doc.get("kind") == "Composition":
                src["compositions"][rel] = doc
    for path in sorted(glob.glob(os.path.join(CROSSPLANE, "examples", "*.yaml"))):
        for doc in load_yaml_all(path):
            src["examples"][os.path.relpath(path, ROOT)] = doc
    return src


def select_composition(xr, compositions):
    labels = ((((xr.get("spec") or {}).get("crossplane") or {}).get("compositionSelector") or {}).get("matchLabels") or {})
    matches = [(rel, c) for rel, c in compositions.items()
               if labels and all(((c.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in labels.items())]
    return matches


def run(src, crds):
    """All checks over one set of sources. Returns the Checker (failures and counts)."""
    ck = Checker(crds)
    function_name = ck.check_package(src["package"], list(src["compositions"].values()), "crossplane/crossplane.yaml")
    if src["xrd"] is None:
        ck.failures.add("crossplane/apis", "no CompositeResourceDefinition")
        return ck
    xrd_info = ck.check_xrd(src["xrd"][1], src["xrd"][0])
    if xrd_info is None:
        return ck
    inputs = {}
    for rel, comp in src["compositions"].items():
        inp = ck.check_composition(comp, xrd_info, function_name, rel)
        if inp is not None:
            inputs[rel] = inp
        cloud = ((comp.get("metadata") or {}).get("labels") or {}).get("platform.qbeast.io/cloud")
        if cloud not in ("aws", "azure", "gcp"):
            ck.failures.add(rel, "needs the label platform.qbeast.io/cloud: aws|azure|gcp (the XR selects by it)")
    covered = set()
    for rel, raw in src["examples"].items():
        xr = ck.check_example(raw, xrd_info, rel)
        if xr is None:
            continue
        matches = select_composition(xr, src["compositions"])
        if len(matches) != 1:
            ck.failures.add(rel, f"selects {len(matches)} Compositions (spec.crossplane.compositionSelector); needs exactly one")
            continue
        comp_rel, comp = matches[0]
        if comp["metadata"]["labels"].get("platform.qbeast.io/cloud") != xr["spec"].get("cloud"):
            ck.failures.add(rel, f"spec.cloud {xr['spec'].get('cloud')} selects the Composition for another cloud")
        if comp_rel not in inputs:
            continue
        covered.add(comp_rel)
        inp = inputs[comp_rel]
        desired = ck.check_render(inp, xr, f"{rel} -> {comp_rel}")
        if desired is not None:
            gated = sorted(n for n, r in desired.items() if r is None)
            if gated and xr["spec"]["agent"].get("enabled"):
                ck.failures.add(rel, f"hand-over enabled, yet not composed: {', '.join(gated)}")
        # Every optional field set: every patch applies.
        maximal = copy.deepcopy(xr)
        fill_all(ck.xr_schema(xrd_info)["properties"]["spec"], maximal["spec"])
        ck.check_render(inp, maximal, f"{rel} (every optional field set) -> {comp_rel}")
        # Hand-over off: exactly the hand-over resources are left out, the rest still renders.
        off = copy.deepcopy(xr)
        off["spec"]["agent"]["enabled"] = False
        off["spec"]["agent"].pop("enrollmentTokenSecretName", None)
        desired_off = ck.check_render(inp, off, f"{rel} (hand-over off) -> {comp_rel}")
        if desired_off is not None:
            for name, res in desired_off.items():
                base = next(t for t in inp["resources"] if t["name"] == name)["base"]
                handover = base.get("kind") in ("Release", "Object")
                if handover and res is not None:
                    ck.failures.add(rel, f"hand-over off, yet {name} is composed")
                if not handover and res is None:
                    ck.failures.add(rel, f"hand-over off leaves out {name}, which is not part of the hand-over")
        # Existing buckets instead of a new one: the bucket is observed, never created or deleted.
        existing = copy.deepcopy(xr)
        existing["spec"]["storage"] = {"buckets": ["customer-existing-bucket"], "deletionPolicy": "Delete"}
        desired_existing = ck.check_render(inp, existing, f"{rel} (existing bucket) -> {comp_rel}")
        for name, res in (desired_existing or {}).items():
            if res and res["kind"] in ("Bucket", "Account"):
                ann = ((res.get("metadata") or {}).get("annotations") or {}).get("crossplane.io/external-name")
                if res["spec"].get("managementPolicies") != ["Observe"] or ann != "customer-existing-bucket":
                    ck.failures.add(rel, f"with existing buckets, {name} must observe the first one only")
    for rel in inputs:
        if rel not in covered:
            ck.failures.add(rel, "no example XR in crossplane/examples selects this Composition")
    check_consistency(ck, inputs, xrd_info, every_cloud=len(inputs) == 3)
    return ck


HANDOVER_KINDS = {("helm.m.crossplane.io", "ProviderConfig"), ("kubernetes.m.crossplane.io", "ProviderConfig"),
                  ("helm.m.crossplane.io", "Release"), ("kubernetes.m.crossplane.io", "Object")}


def check_consistency(ck, inputs, xrd_info, every_cloud):
    """What the controller relies on must not depend on the cloud: the hand-over is the same in every
    Composition (GCP's ProviderConfigs add an identity), every Composition reports the same status fields,
    and every spec field of the XRD is read by some Composition (no dead contract)."""
    handovers, statuses, reads = {}, {}, set()
    for rel, inp in inputs.items():
        patch_sets = {ps["name"]: ps.get("patches") or [] for ps in inp.get("patchSets") or []}
        handover, status = {}, set()
        for t in inp.get("resources") or []:
            base = t.get("base") or {}
            try:
                patches = expand_patches(t, patch_sets)
            except RenderError:
                continue
            for p in patches:
                ptype = p.get("type", "FromCompositeFieldPath")
                froms = [p.get("fromFieldPath")] if ptype == "FromCompositeFieldPath" else \
                    [v.get("fromFieldPath") for v in (p.get("combine") or {}).get("variables") or []] if ptype == "CombineFromComposite" else []
                reads.update(re.sub(r"\[\d+\]", "", f) for f in froms if f)
                if ptype == "ToCompositeFieldPath" and p.get("toFieldPath"):
                    status.add(p["toFieldPath"])
            if (group_of(base.get("apiVersion", "?/")), base.get("kind")) in HANDOVER_KINDS:
                t = copy.deepcopy(t)
                t["base"].get("spec", {}).pop("identity", None)
                t["patches"] = [p for p in t.get("patches") or [] if not p.get("toFieldPath", "").startswith("spec.identity.")]
                handover[t["name"]] = t
        handover["patchSet handover-gate"] = patch_sets.get("handover-gate")
        handovers[rel], statuses[rel] = handover, status
    rels = sorted(inputs)
    for rel in rels[1:]:
        first = rels[0]
        for name in sorted(set(handovers[first]) | set(handovers[rel])):
            if json.dumps(handovers[first].get(name), sort_keys=True) != json.dumps(handovers[rel].get(name), sort_keys=True):
                ck.failures.add(rel, f"hand-over resource {name!r} differs from {first}'s (keep the hand-over identical across clouds)")
        if statuses[first] != statuses[rel]:
            diff = sorted(statuses[first] ^ statuses[rel])
            ck.failures.add(rel, f"reports other status fields than {first}: {', '.join(diff)}")

    def leaves(s, path):
        props = s.get("properties") or {}
        if s.get("type") == "object" and props:
            for name, sub in props.items():
                yield from leaves(sub, f"{path}.{name}")
        else:
            yield path
    unread = [f for f in leaves(xrd_info["schema"]["properties"]["spec"], "spec") if every_cloud
              and f not in NOT_PATCHED and not any(r == f or r.startswith(f + ".") for r in reads)]
    for f in unread:
        ck.failures.add("crossplane/apis", f"XRD field {f} is read by no Composition")


# Read by no patch on purpose. spec.cloud selects the Composition (and the XRD's CEL rules require that
# cloud's fields); spec.agent.enabled is tied by a CEL rule to spec.agent.enrollmentTokenSecretName, the
# field the hand-over is gated on.
NOT_PATCHED = {"spec.cloud", "spec.agent.enabled"}


# --------------------------------------------------------------------------------------------------
# Self-test: planted faults must be reported
# --------------------------------------------------------------------------------------------------

def first_template(inp, kind=None, needs=None):
    for t in inp["resources"]:
        if (kind is None or t["base"].get("kind") == kind) and (needs is None or needs(t)):
            return t
    raise KeyError(kind)


def plants():
    """(description, needle expected in a failure, mutate(src)[, "all"]): a fault planted in the AWS
    Composition and example, or - with "all" - in the full sources."""
    def comp_input(src):
        rel = next(r for r in src["compositions"] if r.endswith("composition-aws.yaml"))
        return src["compositions"][rel]["spec"]["pipeline"][0]["input"]

    def unknown_field(src):
        first_template(comp_input(src), "VPC")["base"]["spec"]["forProvider"]["enableDnsHostname"] = True

    def bad_to(src):
        t = first_template(comp_input(src), "VPC")
        next(p for p in t["patches"] if p.get("toFieldPath") == "spec.forProvider.cidrBlock")["toFieldPath"] = "spec.forProvider.cidrBlok"

    def bad_from(src):
        t = first_template(comp_input(src), "VPC")
        next(p for p in t["patches"] if p.get("fromFieldPath") == "spec.network.cidr")["fromFieldPath"] = "spec.network.cdir"

    def missing_required(src):
        t = first_template(comp_input(src), "NodeGroup")
        del t["base"]["spec"]["forProvider"]["scalingConfig"]
        t["patches"] = [p for p in t["patches"] if "scalingConfig" not in p.get("toFieldPath", "")]

    def missing_region(src):
        t = first_template(comp_input(src), "InternetGateway")
        t["patches"] = [p for p in t["patches"] if p.get("patchSetName") != "region"]

    def bad_status(src):
        t = first_template(comp_input(src), "Cluster")
        next(p for p in t["patches"] if p.get("toFieldPath") == "status.cluster.endpoint")["toFieldPath"] = "status.cluster.endpiont"

    def wrong_type(src):
        t = first_template(comp_input(src), "NodeGroup")
        next(p for p in t["patches"] if p.get("toFieldPath") == "spec.forProvider.scalingConfig.desiredSize")["fromFieldPath"] = "spec.cluster.instanceType"

    def stored_secret(src):
        creds = first_template(comp_input(src), "ProviderConfig", lambda t: t["base"]["apiVersion"].startswith("aws."))["base"]["spec"]["credentials"]
        creds.clear()
        creds.update({"source": "Secret", "secretRef": {"name": "aws-creds", "namespace": "crossplane-system", "key": "creds"}})

    def no_readiness(src):
        del first_template(comp_input(src), "ProviderConfig")["readinessChecks"]

    def token_in_values(src):
        first_template(comp_input(src), "Release")["base"]["spec"]["forProvider"]["values"]["enrollment"]["token"] = "x"

    def ungated_release(src):
        t = first_template(comp_input(src), "Release")
        t["patches"] = [p for p in t["patches"] if p.get("patchSetName") != "handover-gate"]

    def foreign_provider_config(src):
        t = first_template(comp_input(src), "Subnet")
        t["patches"] = [p for p in t["patches"] if p.get("patchSetName") != "aws-provider-config"]
        t["base"]["spec"]["providerConfigRef"]["name"] = "default"

    def example_unknown_field(src):
        rel = next(r for r in src["examples"] if r.endswith("aws.yaml"))
        src["examples"][rel]["spec"]["network"]["cidrs"] = ["10.0.0.0/16"]

    def example_cel(src):
        rel = next(r for r in src["examples"] if r.endswith("aws.yaml"))
        src["examples"][rel]["spec"]["agent"].pop("enrollmentTokenSecretName")

    def chart_values(src):
        t = first_template(comp_input(src), "Release")
        next(p for p in t["patches"] if p.get("toFieldPath") == "spec.forProvider.values.controller.url")["toFieldPath"] = "spec.forProvider.values.controller.uri"

    def handover_drift(src):
        rel = next(r for r in src["compositions"] if r.endswith("composition-azure.yaml"))
        inp = src["compositions"][rel]["spec"]["pipeline"][0]["input"]
        first_template(inp, "Release")["base"]["spec"]["forProvider"]["skipCreateNamespace"] = False

    def unread_field(src):
        spec = src["xrd"][1]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        spec["properties"]["cluster"]["properties"]["diskSize"] = {"type": "integer", "description": "Disk size."}

    return [
        ("hand-over differs between clouds", "differs from", handover_drift, "all"),
        ("XRD field no Composition reads", "spec.cluster.diskSize is read by no Composition", unread_field, "all"),
        ("unknown field in a base", "enableDnsHostname", unknown_field),
        ("bad toFieldPath", "cidrBlok", bad_to),
        ("bad fromFieldPath", "spec.network.cdir", bad_from),
        ("missing required field (upjet CEL)", "scalingConfig", missing_required),
        ("missing required field (schema)", "'region' is a required property", missing_region),
        ("bad ToCompositeFieldPath", "endpiont", bad_status),
        ("wrong type after patches", "desiredSize", wrong_type),
        ("ProviderConfig with a stored secret", "no stored secret", stored_secret),
        ("ProviderConfig without readiness None", "readinessChecks", no_readiness),
        ("token in Release values", "no token in a Release", token_in_values),
        ("Release not gated", "must be gated", ungated_release),
        ("resource not on the composed ProviderConfig", "providerConfigRef", foreign_provider_config),
        ("unknown field in an example XR", "cidrs", example_unknown_field),
        ("example XR breaks an XRD CEL rule", "enrollmentTokenSecretName is set exactly", example_cel),
        ("chart values outside the chart's schema", "chart values", chart_values),
    ]


def aws_only(src):
    out = copy.deepcopy(src)
    out["compositions"] = {r: c for r, c in out["compositions"].items() if r.endswith("composition-aws.yaml")}
    out["examples"] = {r: x for r, x in out["examples"].items() if r.endswith("aws.yaml")}
    return out


def self_test(src, crds):
    base = aws_only(src)
    clean = run(base, crds)
    problems = [f"self-test: the unchanged AWS sources already fail: {f}" for f in clean.failures]
    caught = 0
    for description, needle, mutate, *scope in plants():
        planted = copy.deepcopy(src if scope == ["all"] else base)
        try:
            mutate(planted)
        except (KeyError, StopIteration) as e:
            problems.append(f"self-test: cannot plant '{description}' ({e!r}); update the self-test")
            continue
        found = run(planted, crds).failures
        if any(needle in f for f in found):
            caught += 1
        else:
            problems.append(f"self-test: planted '{description}' was not reported (expected a failure mentioning {needle!r}; got {found[:3]})")
    return caught, len(plants()), problems


def main():
    crds = load_crds()
    src = load_sources()
    only_self_test = "--self-test" in sys.argv[1:]
    failures, summary = [], []
    if not only_self_test:
        ck = run(src, crds)
        failures += ck.failures
        s = ck.stats
        summary.append(f"{len(src['compositions'])} Compositions, {s['resources']} composed resources, {s['patches']} patches, "
                       f"{s['renders']} renders ({s['rendered']} rendered resources) against {len(crds)} CRD versions")
    caught, planted, problems = self_test(src, crds)
    failures += problems
    summary.append(f"self-test {caught}/{planted} planted faults caught")
    if failures:
        for f in failures:
            print(f"check-crossplane: {f}")
        sys.exit(1)
    skipped = len(CelRules.skipped)
    print(f"check-crossplane: ok - {'; '.join(summary)}; {CelRules.evaluated} CEL rule evaluations"
          + (f", {skipped} distinct CEL rules not evaluated" if skipped else ""))


if __name__ == "__main__":
    main()
