"""Test-side validators: check what mlc emits against upstream schemas.

Everything here reads only files inside this repository (``tests/support/upstream_schemas/``) or
shipped by installed packages (``kubernetes-validate``'s Kubernetes JSON schemas), so a clone
without ``../shared/`` runs the same checks.

Public API (each returns a list of human-readable error strings; empty list = valid):

* :func:`validate_k8s_object` - any Kubernetes object: the custom kinds we vendor a CRD
  schema for (strictified, see below) or a built-in kind (kubernetes-validate's strict
  schemas for :data:`K8S_VERSION`). Unknown apiVersion/kind is an error.
* :func:`validate_kustomization` - a ``kustomization.yaml`` document (SchemaStore schema).
* :func:`validate_sarif` - a SARIF 2.1.0 log (OASIS schema, draft-04, with format checks).
* :func:`validate_terraform_json` - one parsed ``*.tf.json`` document against the vendored
  provider schema (hashicorp/aws 6.47.0, hashicorp/google 6.50.0 or hashicorp/azurerm 4.79.0).
* :func:`validate_terraform_module` - several ``*.tf.json`` files of one root module: each
  file as above plus cross-file checks (duplicate addresses, dangling references).
* :func:`validate_manifest_file` / :func:`validate_output_dir` - convenience walkers over
  YAML / JSON files on disk.

Schemas are loaded lazily, once per kind (``functools.cache``), and every validator object
is reused, so validating thousands of objects costs only the instance walk.

Quirks worked around, all in memory (the vendored files stay byte-for-byte upstream):

* CRD schemas are Kubernetes *structural* schemas: unknown fields would pass plain JSON
  Schema. We add ``additionalProperties: false`` to every node that has ``properties``,
  no ``additionalProperties`` and no ``x-kubernetes-preserve-unknown-fields: true``.
* OpenAPI ``nullable: true`` becomes a ``"null"`` type (and ``None`` in an ``enum``);
  ``x-kubernetes-int-or-string`` is honoured (anyOf integer|string).
* ``x-kubernetes-list-type: set|map`` uniqueness (enforced by the API server for custom
  resources) is checked; CEL ``x-kubernetes-validations`` are NOT evaluated.
* The PrometheusRule pattern ``^(?i)(abort|warn)?$`` (Go/RE2 syntax, rejected by Python's
  ``re``) is rewritten to ``(?i)^(abort|warn)?$``.
* ``pattern`` is matched with ECMA-262 / RE2 semantics for ``$`` (end of string only),
  instead of Python's ``$`` that also matches before a trailing newline.
* ``integer`` does not accept floats such as ``1.0`` (Go's JSON decoder rejects them).
* Formats ``int32``/``int64`` (range), ``byte`` (base64), ``date-time`` (RFC 3339) are
  checked for Kubernetes schemas; SARIF gets ``date-time``/``uri``/``uri-reference``
  checkers implemented here because jsonschema only checks them when optional packages
  are installed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib.resources
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft4Validator, Draft7Validator, Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource

__all__ = [
    "K8S_VERSION",
    "SCHEMA_DIR",
    "CRD_SCHEMAS",
    "TERRAFORM_PROVIDER_FILES",
    "validate_k8s_object",
    "validate_kustomization",
    "validate_sarif",
    "validate_terraform_json",
    "validate_terraform_module",
    "validate_manifest_file",
    "validate_output_dir",
    "known_k8s_kinds",
    "known_terraform_resource_types",
]

#: Kubernetes minor version whose built-in schemas (shipped by kubernetes-validate) are used.
#: 1.33 is deliberately not the newest: a field that validates here also exists in every
#: later release, so output stays appliable to the clusters EKS/GKE actually run.
K8S_VERSION = "1.33"

SCHEMA_DIR = Path(__file__).resolve().parent / "upstream_schemas"

#: (apiVersion, kind) -> vendored openAPIV3Schema file, relative to SCHEMA_DIR.
CRD_SCHEMAS: dict[tuple[str, str], str] = {
    ("argoproj.io/v1alpha1", "Workflow"): "argoproj.io/v1alpha1/workflow.json",
    ("argoproj.io/v1alpha1", "WorkflowTemplate"): "argoproj.io/v1alpha1/workflowtemplate.json",
    ("argoproj.io/v1alpha1", "CronWorkflow"): "argoproj.io/v1alpha1/cronworkflow.json",
    ("argoproj.io/v1alpha1", "Application"): "argoproj.io/v1alpha1/application.json",
    ("argoproj.io/v1alpha1", "AppProject"): "argoproj.io/v1alpha1/appproject.json",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "argoproj.io/v1alpha1/applicationset.json",
    ("kubeflow.org/v1beta1", "Experiment"): "kubeflow.org/v1beta1/experiment.json",
    ("ray.io/v1", "RayJob"): "ray.io/v1/rayjob.json",
    ("sparkoperator.k8s.io/v1beta2", "SparkApplication"): "sparkoperator.k8s.io/v1beta2/sparkapplication.json",
    ("sparkoperator.k8s.io/v1beta2", "ScheduledSparkApplication"): "sparkoperator.k8s.io/v1beta2/scheduledsparkapplication.json",
    ("serving.kserve.io/v1beta1", "InferenceService"): "serving.kserve.io/v1beta1/inferenceservice.json",
    ("serving.knative.dev/v1", "Route"): "serving.knative.dev/v1/route.json",
    ("kubeflow.org/v1", "PyTorchJob"): "kubeflow.org/v1/pytorchjob.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "monitoring.coreos.com/v1/servicemonitor.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "monitoring.coreos.com/v1/podmonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com/v1/prometheusrule.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh/v1alpha1/scaledobject.json",
    ("external-secrets.io/v1", "ExternalSecret"): "external-secrets.io/v1/externalsecret.json",
    ("external-secrets.io/v1", "SecretStore"): "external-secrets.io/v1/secretstore.json",
    ("external-secrets.io/v1", "ClusterSecretStore"): "external-secrets.io/v1/clustersecretstore.json",
    ("flink.apache.org/v1beta1", "FlinkDeployment"): "flink.apache.org/v1beta1/flinkdeployment.json",
    ("feast.dev/v1", "FeatureStore"): "feast.dev/v1/featurestore.json",
}

KUSTOMIZE_KINDS = {
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
    ("kustomize.config.k8s.io/v1alpha1", "Component"),
}

TERRAFORM_PROVIDER_FILES = {
    "aws": "terraform/aws-6.47.0.json",
    "google": "terraform/google-6.50.0.json",
    "azurerm": "terraform/azurerm-4.79.0.json",
}

_MAX_ERRORS = 50  # per object; more is noise
_MAX_MSG = 300

# --------------------------------------------------------------------------------------
# shared JSON Schema machinery
# --------------------------------------------------------------------------------------


def _load_json(rel: str) -> Any:
    with open(SCHEMA_DIR / rel, encoding="utf-8") as f:
        return json.load(f)


_INLINE_FLAGS_AFTER_CARET = re.compile(r"^\^\(\?([aiLmsux]+)\)")


@functools.lru_cache(maxsize=4096)
def _compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a schema ``pattern`` with ECMA-262 / RE2 meaning in Python's ``re``.

    * Go allows a global flag group right after ``^`` (``^(?i)...``); Python wants it first.
    * Unescaped ``$`` outside a character class means end of input, so it becomes ``\\Z``
      (Python's ``$`` also matches just before a trailing newline). Left alone in
      multi-line patterns.
    """
    m = _INLINE_FLAGS_AFTER_CARET.match(pattern)
    if m:
        pattern = f"(?{m.group(1)})^" + pattern[m.end() :]
    if "(?m" not in pattern:
        out: list[str] = []
        i, n, in_class = 0, len(pattern), False
        while i < n:
            c = pattern[i]
            if c == "\\":
                out.append(pattern[i : i + 2])
                i += 2
                continue
            if in_class:
                if c == "]":
                    in_class = False
                out.append(c)
            elif c == "[":
                in_class = True
                out.append(c)
                if pattern[i + 1 : i + 2] == "^":
                    out.append("^")
                    i += 1
                if pattern[i + 1 : i + 2] == "]":  # literal ] first in class
                    out.append("]")
                    i += 1
            elif c == "$":
                out.append(r"\Z")
            else:
                out.append(c)
            i += 1
        pattern = "".join(out)
    return re.compile(pattern)


def _kw_pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not _compile_pattern(patrn).search(instance):
        yield ValidationError(f"{instance!r} does not match {patrn!r}")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return (type(value).__name__, value) if isinstance(value, bool) else value


def _kw_list_type(validator: Any, list_type: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """x-kubernetes-list-type: the API server rejects duplicates in ``set`` / ``map`` lists of CRs."""
    if not isinstance(instance, list):
        return
    if list_type == "set":
        seen: set[Any] = set()
        for i, item in enumerate(instance):
            key = _freeze(item)
            if key in seen:
                yield ValidationError(f"duplicate entry {item!r} in a list with x-kubernetes-list-type=set", path=[i])
            seen.add(key)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys") or []
        item_props = (schema.get("items") or {}).get("properties") or {}
        defaults = {k: (item_props.get(k) or {}).get("default") for k in keys}
        seen_keys: dict[Any, int] = {}
        for i, item in enumerate(instance):
            if not isinstance(item, dict) or not keys:
                continue
            key = tuple(_freeze(item.get(k, defaults[k])) for k in keys)
            if key in seen_keys:
                shown = {k: item.get(k, defaults[k]) for k in keys}
                yield ValidationError(
                    f"duplicate entry with key {shown} (also at index {seen_keys[key]}) in a list with x-kubernetes-list-type=map",
                    path=[i],
                )
            else:
                seen_keys[key] = i


def _is_int(checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# RFC 3339 date-time (full-date "T" full-time), as required by both JSON Schema and Kubernetes.
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))\Z")


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    m = _RFC3339.match(value)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    import calendar

    return d <= calendar.monthrange(y, mo)[1]


_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*\Z")
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _check_uri_reference(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI_CHARS.match(value))


def _check_uri(value: object) -> bool:
    return not isinstance(value, str) or (bool(_URI_SCHEME.match(value)) and bool(_URI_CHARS.match(value)))


def _int_range(bits: int):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return lo <= value <= hi

    return check


def _check_byte(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _k8s_format_checker() -> FormatChecker:
    fc = FormatChecker(formats=())
    fc.checks("int32")(_int_range(32))
    fc.checks("int64")(_int_range(64))
    fc.checks("byte")(_check_byte)
    fc.checks("date-time")(_check_date_time)
    return fc


_K8S_FORMATS = _k8s_format_checker()

_CRDValidator = jsonschema.validators.extend(
    Draft7Validator,
    {"pattern": _kw_pattern, "x-kubernetes-list-type": _kw_list_type},
    type_checker=Draft7Validator.TYPE_CHECKER.redefine("integer", _is_int),
)
_CoreValidator = jsonschema.validators.extend(
    Draft202012Validator,
    {"pattern": _kw_pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_int),
)


def _fmt_path(path: Iterable[Any]) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(root)"


def _short(msg: str) -> str:
    return msg if len(msg) <= _MAX_MSG else msg[: _MAX_MSG - 3] + "..."


def _schema_errors(validator: Any, instance: Any) -> list[str]:
    errs = []
    for e in validator.iter_errors(instance):
        errs.append((_fmt_path(e.absolute_path), _short(e.message)))
        if len(errs) >= _MAX_ERRORS:
            break
    return [f"{p}: {m}" for p, m in sorted(set(errs))]


# --------------------------------------------------------------------------------------
# metadata (CRD schemas leave it open; the API server checks it)
# --------------------------------------------------------------------------------------

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")

#: Kinds whose name has a stricter rule than a DNS-1123 subdomain: (regex, max length, rule).
_NAME_RULES: dict[str, tuple[re.Pattern[str] | None, int, str]] = {
    "Namespace": (_DNS1123_LABEL, 63, "a DNS-1123 label"),
    "Service": (_DNS1035_LABEL, 63, "a DNS-1035 label"),
    # KServe's admission webhook requires [a-z]([-a-z0-9]*[a-z0-9])?
    "InferenceService": (_DNS1035_LABEL, 63, "a DNS-1035 label (KServe webhook rule)"),
    # The CronJob controller appends an 11-character suffix to Job names.
    "CronJob": (_DNS1123_SUBDOMAIN, 52, "a DNS-1123 subdomain"),
    # Job names end up in the batch.kubernetes.io/job-name pod label (63 characters).
    "Job": (_DNS1123_SUBDOMAIN, 63, "a DNS-1123 subdomain"),
    # RBAC names are path segments (e.g. "system:foo" is legal).
    "Role": (None, 253, "a path segment name"),
    "RoleBinding": (None, 253, "a path segment name"),
    "ClusterRole": (None, 253, "a path segment name"),
    "ClusterRoleBinding": (None, 253, "a path segment name"),
}

#: metadata keys a compiled manifest may carry; server-populated ones (uid, resourceVersion,
#: creationTimestamp, managedFields, ...) must never be written to Git.
_METADATA_KEYS = {"name", "generateName", "namespace", "labels", "annotations", "finalizers"}


def _check_qualified_key(key: str) -> str | None:
    if not isinstance(key, str):
        return f"key {key!r} must be a string"
    prefix, sep, name = key.rpartition("/")
    if sep:
        if not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix):
            return f"key {key!r}: prefix must be a DNS-1123 subdomain"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"key {key!r}: name part must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    return None


def _metadata_errors(obj: Mapping[str, Any], kind: str) -> list[str]:
    meta = obj.get("metadata")
    if meta is None:
        return ["metadata: required"]
    if not isinstance(meta, dict):
        return ["metadata: must be a mapping"]
    errs = []
    for key in meta:
        if key not in _METADATA_KEYS:
            errs.append(f"metadata: unexpected key {key!r} (allowed: {', '.join(sorted(_METADATA_KEYS))})")
    name = meta.get("name")
    if name is None:
        errs.append("metadata.name: required")
    elif not isinstance(name, str):
        errs.append(f"metadata.name: must be a string, got {type(name).__name__}")
    else:
        regex, max_len, rule = _NAME_RULES.get(kind, (_DNS1123_SUBDOMAIN, 253, "a DNS-1123 subdomain"))
        if regex is None:
            ok = bool(name) and name not in (".", "..") and "/" not in name and "%" not in name
        else:
            ok = bool(regex.match(name))
        if not ok or len(name) > max_len:
            errs.append(f"metadata.name: {name!r} is not {rule} of at most {max_len} characters")
    ns = meta.get("namespace")
    if ns is not None and (not isinstance(ns, str) or len(ns) > 63 or not _DNS1123_LABEL.match(ns)):
        errs.append(f"metadata.namespace: {ns!r} is not a DNS-1123 label")
    gn = meta.get("generateName")
    if gn is not None and not isinstance(gn, str):
        errs.append("metadata.generateName: must be a string")
    for field in ("labels", "annotations"):
        m = meta.get(field)
        if m is None:
            continue
        if not isinstance(m, dict):
            errs.append(f"metadata.{field}: must be a mapping of string to string")
            continue
        for k, v in m.items():
            problem = _check_qualified_key(k)
            if problem:
                errs.append(f"metadata.{field}: {problem}")
            if not isinstance(v, str):
                errs.append(f"metadata.{field}[{k!r}]: value must be a string, got {type(v).__name__} {v!r}")
            elif field == "labels" and v and (len(v) > 63 or not _QUALIFIED_NAME.match(v)):
                errs.append(f"metadata.labels[{k!r}]: value {v!r} is not a valid label value (<=63 chars, alphanumeric ends)")
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        size = sum(len(str(k)) + len(str(v)) for k, v in ann.items())
        if size > 256 * 1024:
            errs.append(f"metadata.annotations: total size {size} exceeds 256 KiB")
    fin = meta.get("finalizers")
    if fin is not None and (not isinstance(fin, list) or not all(isinstance(x, str) for x in fin)):
        errs.append("metadata.finalizers: must be a list of strings")
    return errs


# --------------------------------------------------------------------------------------
# custom resources (vendored CRD schemas)
# --------------------------------------------------------------------------------------

_PROMETHEUS_RULE_QUIRK = ("^(?i)(abort|warn)?$", "(?i)^(abort|warn)?$")


def _strictify(node: Any) -> Any:
    """Copy of a structural schema node with unknown fields closed; see module docstring."""
    if not isinstance(node, dict):
        return node
    n = {k: v for k, v in node.items() if k != "description"}
    props = n.get("properties")
    if isinstance(props, dict):
        n["properties"] = {k: _strictify(v) for k, v in props.items()}
        if "additionalProperties" not in n and n.get("x-kubernetes-preserve-unknown-fields") is not True:
            n["additionalProperties"] = False
    for kw in ("additionalProperties", "items", "not"):
        v = n.get(kw)
        if isinstance(v, dict):
            n[kw] = _strictify(v)
        elif kw == "items" and isinstance(v, list):
            n[kw] = [_strictify(x) for x in v]
    for kw in ("anyOf", "oneOf", "allOf"):
        if isinstance(n.get(kw), list):
            n[kw] = [_strictify(x) for x in n[kw]]
    if isinstance(n.get("patternProperties"), dict):
        n["patternProperties"] = {k: _strictify(v) for k, v in n["patternProperties"].items()}
    if n.get("x-kubernetes-int-or-string") is True and not ({"anyOf", "oneOf", "type"} & n.keys()):
        n["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if n.get("nullable") is True:
        t = n.get("type")
        if isinstance(t, str):
            n["type"] = [t, "null"]
        elif isinstance(t, list) and "null" not in t:
            n["type"] = [*t, "null"]
        if isinstance(n.get("enum"), list) and None not in n["enum"]:
            n["enum"] = [*n["enum"], None]
        if isinstance(n.get("anyOf"), list):
            n["anyOf"] = [*n["anyOf"], {"type": "null"}]
    if n.get("pattern") == _PROMETHEUS_RULE_QUIRK[0]:
        n["pattern"] = _PROMETHEUS_RULE_QUIRK[1]
    return n


@functools.cache
def _crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    schema = _load_json(CRD_SCHEMAS[(api_version, kind)])
    props = schema.get("properties") or {}
    if not {"apiVersion", "kind", "metadata"} <= set(props):
        # fabric8-generated CRDs (Flink operator) declare only spec/status at the top; the API
        # server adds the TypeMeta/ObjectMeta fields to every structural schema itself
        base = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
        schema = {**schema, "properties": {**base, **props}}
    return _strictify(schema)


@functools.cache
def _crd_validator(api_version: str, kind: str) -> Any:
    schema = _crd_schema(api_version, kind)
    return _CRDValidator(schema, format_checker=_K8S_FORMATS)


# --------------------------------------------------------------------------------------
# built-in kinds (kubernetes-validate's strict JSON schemas, loaded once)
# --------------------------------------------------------------------------------------


@functools.cache
def _k8s_schema_dir() -> Path:
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{K8S_VERSION}.0-local-strict"
    path = Path(str(root))
    if not (path / "_definitions.json").is_file():
        raise RuntimeError(f"kubernetes-validate does not ship strict schemas for Kubernetes {K8S_VERSION} ({path})")
    return path


@functools.cache
def _k8s_registry() -> Registry:
    with open(_k8s_schema_dir() / "_definitions.json", encoding="utf-8") as f:
        defs = json.load(f)
    return Resource.from_contents(defs) @ Registry()


def _split_api_version(api_version: str) -> tuple[str, str]:
    group, sep, version = api_version.rpartition("/")
    return (group, version) if sep else ("", api_version)


@functools.cache
def _core_validator(api_version: str, kind: str) -> Any | None:
    """Validator for a built-in kind, or None when kubernetes-validate has no such kind."""
    group, version = _split_api_version(api_version)
    if not kind or not version or "/" in group or not re.fullmatch(r"[A-Za-z0-9]+", kind):
        return None
    short = group.split(".")[0]
    fname = f"{kind.lower()}-{short}-{version}.json" if group else f"{kind.lower()}-{version}.json"
    path = _k8s_schema_dir() / fname
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    # The file name drops the group's domain: make sure the group-version-kind really matches.
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if not any(g.get("group") == group and g.get("version") == version and g.get("kind") == kind for g in gvks):
        return None
    return _CoreValidator(schema, registry=_k8s_registry(), format_checker=_K8S_FORMATS)


@functools.cache
def known_k8s_kinds() -> frozenset[tuple[str, str]]:
    """All (apiVersion, kind) pairs :func:`validate_k8s_object` accepts (slow-ish: reads every file)."""
    kinds = set(CRD_SCHEMAS) | set(KUSTOMIZE_KINDS)
    for path in _k8s_schema_dir().glob("*.json"):
        if path.name.startswith("_"):
            continue
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        for g in schema.get("x-kubernetes-group-version-kind") or []:
            api = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
            kinds.add((api, g["kind"]))
    return frozenset(kinds)


def validate_k8s_object(obj: Mapping[str, Any]) -> list[str]:
    """Validate one Kubernetes object; returns ``"<Kind>/<name>: <path>: <problem>"`` strings.

    Custom kinds listed in :data:`CRD_SCHEMAS` use the strictified vendored schema plus a
    metadata check; built-in kinds use kubernetes-validate's strict schema for
    :data:`K8S_VERSION` plus the same metadata check. ``kustomize.config.k8s.io`` documents
    are passed to :func:`validate_kustomization`. Anything else is an error.
    """
    if not isinstance(obj, Mapping):
        return [f"(object): expected a mapping, got {type(obj).__name__}"]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    label = f"{kind or '?'}/{name or '?'}"
    if not isinstance(api_version, str) or not api_version:
        return [f"{label}: apiVersion: required string"]
    if not isinstance(kind, str) or not kind:
        return [f"{label}: kind: required string"]
    if (api_version, kind) in KUSTOMIZE_KINDS:
        return validate_kustomization(obj)
    obj = dict(obj)
    if (api_version, kind) in CRD_SCHEMAS:
        validator = _crd_validator(api_version, kind)
    else:
        validator = _core_validator(api_version, kind)
        if validator is None:
            hint = ""
            group, _ = _split_api_version(api_version)
            same_kind = sorted(a for a, k in CRD_SCHEMAS if k == kind)
            if same_kind:
                hint = f" (known apiVersion for {kind}: {', '.join(same_kind)})"
            elif group.endswith(".k8s.io") or "." not in group:
                hint = f" (not a built-in kind of Kubernetes {K8S_VERSION})"
            else:
                hint = " (no vendored CRD schema for it: add one under tests/support/upstream_schemas/)"
            return [f"{label}: unknown kind {kind!r} in apiVersion {api_version!r}{hint}"]
    errs = _schema_errors(validator, obj) + _metadata_errors(obj, kind)
    return [f"{label}: {e}" for e in errs]


# --------------------------------------------------------------------------------------
# kustomization.yaml and SARIF
# --------------------------------------------------------------------------------------


@functools.cache
def _kustomize_validator() -> Any:
    schema = _load_json("kustomize/kustomization.json")
    cls = jsonschema.validators.extend(jsonschema.validators.validator_for(schema), {"pattern": _kw_pattern})
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate_kustomization(obj: Mapping[str, Any]) -> list[str]:
    """Validate a parsed kustomization.yaml against SchemaStore's schema.

    The schema leaves apiVersion/kind free; here they must be absent or a real pair
    (kustomize.config.k8s.io/v1beta1 Kustomization or v1alpha1 Component).
    """
    if not isinstance(obj, Mapping):
        return [f"kustomization: expected a mapping, got {type(obj).__name__}"]
    errs = _schema_errors(_kustomize_validator(), dict(obj))
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if (api_version is not None or kind is not None) and (api_version, kind) not in KUSTOMIZE_KINDS:
        errs.append(
            f"apiVersion/kind: {api_version}/{kind} is not a kustomize kind ({', '.join(sorted('/'.join(p) for p in KUSTOMIZE_KINDS))})"
        )
    return [f"kustomization: {e}" for e in errs]


def _sarif_format_checker() -> FormatChecker:
    fc = FormatChecker(formats=())
    fc.checkers = dict(Draft4Validator.FORMAT_CHECKER.checkers)
    # jsonschema checks these only with optional packages (rfc3339-validator, rfc3987):
    if "date-time" not in fc.checkers:
        fc.checks("date-time")(_check_date_time)
    if "uri" not in fc.checkers:
        fc.checks("uri")(_check_uri)
    if "uri-reference" not in fc.checkers:  # not a draft-04 format, but the SARIF schema uses it
        fc.checks("uri-reference")(_check_uri_reference)
    return fc


@functools.cache
def _sarif_validator() -> Any:
    schema = _load_json("sarif/sarif-schema-2.1.0.json")
    cls = jsonschema.validators.extend(Draft4Validator, {"pattern": _kw_pattern})
    return cls(schema, format_checker=_sarif_format_checker())


def validate_sarif(obj: Mapping[str, Any]) -> list[str]:
    """Validate a parsed SARIF log against the OASIS SARIF 2.1.0 schema (draft-04, formats on)."""
    if not isinstance(obj, Mapping):
        return [f"sarif: expected a mapping, got {type(obj).__name__}"]
    return [f"sarif: {e}" for e in _schema_errors(_sarif_validator(), dict(obj))]


# --------------------------------------------------------------------------------------
# Terraform JSON (*.tf.json) against `terraform providers schema -json` output
# --------------------------------------------------------------------------------------

_TF_TOP_LEVEL = {
    "terraform",
    "provider",
    "resource",
    "data",
    "variable",
    "output",
    "locals",
    "module",
    "check",
    "import",
    "moved",
    "removed",
}
_TF_RESOURCE_META = {"depends_on", "count", "for_each", "provider", "lifecycle", "connection", "provisioner"}
_TF_DATA_META = {"depends_on", "count", "for_each", "provider", "lifecycle"}
_TF_LIFECYCLE = {"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by", "precondition", "postcondition"}
_TF_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_TF_BACKENDS = {"s3", "gcs", "azurerm", "remote", "local", "http", "consul", "kubernetes", "pg", "cos", "oss"}
_TF_BACKEND_REQUIRED = {"s3": ("bucket", "key"), "gcs": ("bucket",), "azurerm": ("storage_account_name", "container_name", "key")}
_TF_VARIABLE_KEYS = {"type", "default", "description", "validation", "sensitive", "nullable", "ephemeral"}
_TF_OUTPUT_KEYS = {"value", "description", "sensitive", "depends_on", "precondition", "ephemeral"}
_TF_MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}
_TF_TERRAFORM_KEYS = {"required_version", "required_providers", "backend", "cloud", "experiments", "provider_meta"}
_TF_PROVIDER_ALIASES = {"aws": "aws", "google": "google", "gcp": "google", "azurerm": "azurerm", "azure": "azurerm"}

# The built-in terraform_data resource (no provider schema file needed).
_TF_BUILTIN_RESOURCES = {
    "terraform_data": {
        "block": {
            "attributes": {
                "id": {"type": "string", "computed": True},
                "input": {"type": "dynamic", "optional": True},
                "output": {"type": "dynamic", "computed": True},
                "triggers_replace": {"type": "dynamic", "optional": True},
            }
        }
    }
}


@functools.cache
def _tf_provider(provider: str) -> dict[str, Any]:
    key = _TF_PROVIDER_ALIASES.get(provider)
    if key is None:
        raise ValueError(f"provider must be one of {sorted(_TF_PROVIDER_ALIASES)}, got {provider!r}")
    doc = _load_json(TERRAFORM_PROVIDER_FILES[key])
    (address, schema), *rest = doc["provider_schemas"].items()
    assert not rest, "one provider per vendored file"
    return {
        "name": key,
        "address": address,
        "source": address.split("registry.terraform.io/", 1)[-1],
        "version": (doc.get("_meta") or {}).get("provider_version"),
        "resources": {**_TF_BUILTIN_RESOURCES, **schema["resource_schemas"]},
        "data_sources": dict(schema.get("data_source_schemas") or {}),
        "provider_block": (schema.get("provider") or {}).get("block"),
    }


def known_terraform_resource_types(provider: str) -> frozenset[str]:
    """Resource types the vendored schema of ``provider`` ('aws' | 'google' | 'azurerm') knows."""
    return frozenset(_tf_provider(provider)["resources"])


def _is_expr(value: Any) -> bool:
    return isinstance(value, str) and re.search(r"(?<![$%])[$%]\{", value) is not None


def _as_bodies(value: Any, path: str, errs: list[str], what: str = "block") -> list[tuple[dict[str, Any], str]]:
    """HCL JSON: a block is an object, several blocks of one type are an array of objects."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [(value, path)]
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            if isinstance(v, dict):
                out.append((v, f"{path}[{i}]"))
            else:
                errs.append(f"{path}[{i}]: {what} must be a JSON object, got {type(v).__name__}")
        return out
    errs.append(f"{path}: {what} must be a JSON object (or an array of objects), got {type(value).__name__} {value!r:.60}")
    return []


def _labeled(value: Any, nlabels: int, path: str, errs: list[str]) -> Iterator[tuple[tuple[str, ...], dict[str, Any], str]]:
    """Walk ``{"label1": {"label2": {body}}}`` where every level may also be an array of objects."""
    for obj, p in _as_bodies(value, path, errs):
        for label, inner in obj.items():
            if label == "//":
                continue
            if nlabels == 1:
                for body, bp in _as_bodies(inner, f"{p}.{label}", errs):
                    yield (label,), body, bp
            else:
                for rest, body, bp in _labeled(inner, nlabels - 1, f"{p}.{label}", errs):
                    yield (label, *rest), body, bp


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _check_tf_value(value: Any, tf_type: Any, path: str, errs: list[str], blocks_like: bool = False) -> None:
    """Loose check of a JSON value against a Terraform type, following Terraform's own conversions
    (number/bool -> string, numeric string -> number, "true"/"false" -> bool). A string holding
    ``${`` or ``%{`` is an expression and fits any type.

    ``blocks_like``: the value is a list/set-of-objects argument given as a JSON array, which
    Terraform may read as nested blocks ("attributes as blocks"), where absent attributes are
    null; then missing object attributes are not reported."""
    if value is None or _is_expr(value) or tf_type == "dynamic":
        return
    bad = f"{path}: expected {json.dumps(tf_type)}, got {_type_name(value)} {json.dumps(value)[:60]}"
    if tf_type == "string":
        if not isinstance(value, (str, int, float)):  # bool is an int
            errs.append(bad)
    elif tf_type == "number":
        if isinstance(value, bool):
            errs.append(bad)
        elif isinstance(value, str):
            try:
                float(value)
            except ValueError:
                errs.append(bad)
        elif not isinstance(value, (int, float)):
            errs.append(bad)
        elif isinstance(value, float) and not math.isfinite(value):
            errs.append(bad)
    elif tf_type == "bool":
        if not (isinstance(value, bool) or value in ("true", "false")):
            errs.append(bad)
    elif isinstance(tf_type, list) and len(tf_type) == 2:
        kind, inner = tf_type
        if kind in ("list", "set"):
            if not isinstance(value, list):
                errs.append(bad)
            else:
                for i, v in enumerate(value):
                    _check_tf_value(v, inner, f"{path}[{i}]", errs, blocks_like=blocks_like)
        elif kind == "map":
            if not isinstance(value, dict):
                errs.append(bad)
            else:
                for k, v in value.items():
                    _check_tf_value(v, inner, f"{path}[{k!r}]", errs)
        elif kind == "object":
            if not isinstance(value, dict):
                errs.append(bad)
            else:
                for k, v in value.items():
                    if k not in inner:
                        errs.append(f"{path}: object attribute {k!r} is not one of {sorted(inner)}")
                    else:
                        _check_tf_value(v, inner[k], f"{path}.{k}", errs)
                # Terraform's object conversion needs every attribute (null for "unset").
                missing = sorted(k for k in inner if k not in value)
                if missing and not blocks_like:
                    errs.append(f"{path}: object attributes {missing} are required by the type (set them to null if unused)")
        elif kind == "tuple":
            if not isinstance(value, list) or len(value) != len(inner):
                errs.append(bad)
            else:
                for i, (v, t) in enumerate(zip(value, inner, strict=True)):
                    _check_tf_value(v, t, f"{path}[{i}]", errs)
    # unknown type shapes: accept


def _root_name(traversal: str) -> str:
    return re.split(r"[.\[]", traversal.strip(), maxsplit=1)[0]


def _check_lifecycle(value: Any, block: Mapping[str, Any], path: str, errs: list[str]) -> None:
    for body, p in _as_bodies(value, path, errs):
        for k, v in body.items():
            if k == "//":
                continue
            if k not in _TF_LIFECYCLE:
                errs.append(f"{p}: unknown lifecycle argument {k!r} (allowed: {', '.join(sorted(_TF_LIFECYCLE))})")
            elif k in ("create_before_destroy", "prevent_destroy"):
                _check_tf_value(v, "bool", f"{p}.{k}", errs)
            elif k == "ignore_changes":
                if v == "all" or _is_expr(v):
                    continue
                if not isinstance(v, list):
                    errs.append(f'{p}.ignore_changes: must be "all" or a list of attribute names')
                    continue
                known = set(block.get("attributes") or {}) | set(block.get("block_types") or {})
                for i, item in enumerate(v):
                    if not isinstance(item, str):
                        errs.append(f"{p}.ignore_changes[{i}]: must be a string")
                    elif not _is_expr(item) and _root_name(item) not in known:
                        errs.append(f"{p}.ignore_changes[{i}]: {item!r} is not an attribute of this resource")
            elif k == "replace_triggered_by":
                if not isinstance(v, list):
                    errs.append(f"{p}.replace_triggered_by: must be a list")
            else:  # precondition / postcondition
                for cond, cp in _as_bodies(v, f"{p}.{k}", errs):
                    if set(cond) - {"condition", "error_message", "//"}:
                        errs.append(f"{cp}: only condition and error_message are allowed")
                    for req in ("condition", "error_message"):
                        if req not in cond:
                            errs.append(f"{cp}: {req} is required")


def _check_meta(key: str, value: Any, block: Mapping[str, Any], path: str, errs: list[str]) -> None:
    p = f"{path}.{key}"
    if key == "count":
        _check_tf_value(value, "number", p, errs)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and (value < 0 or value != int(value)):
            errs.append(f"{p}: must be a whole number >= 0")
    elif key == "for_each":
        if not (_is_expr(value) or isinstance(value, (dict, list))):
            errs.append(f"{p}: must be a map, a set of strings or an expression")
    elif key == "depends_on":
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            errs.append(f"{p}: must be a list of references (strings)")
    elif key == "provider":
        if not isinstance(value, str) or not re.fullmatch(r"(\$\{)?[a-z][a-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)?\}?", value):
            errs.append(f'{p}: must be a provider reference like "aws" or "aws.<alias>", got {value!r}')
    elif key == "lifecycle":
        _check_lifecycle(value, block, p, errs)
    elif key in ("connection", "provisioner"):
        if not isinstance(value, (dict, list)):
            errs.append(f"{p}: must be an object or an array of objects")


def _check_block(
    body: Mapping[str, Any], block: Mapping[str, Any], path: str, errs: list[str], meta: frozenset[str] | set[str] = frozenset()
) -> None:
    attrs: Mapping[str, Any] = block.get("attributes") or {}
    btypes: Mapping[str, Any] = block.get("block_types") or {}
    dynamic_types: set[str] = set()
    for key, value in body.items():
        if key == "//":
            continue
        if key in meta:
            _check_meta(key, value, block, path, errs)
        elif key in attrs:
            a = attrs[key]
            if a.get("computed") and not a.get("optional") and not a.get("required"):
                errs.append(f"{path}.{key}: attribute is computed-only (read-only) and must not be set")
            else:
                t = a.get("type", "dynamic")
                _check_tf_value(value, t, f"{path}.{key}", errs, blocks_like=isinstance(t, list) and t[0] in ("list", "set"))
        elif key in btypes:
            pass  # checked below with counts
        elif key == "dynamic" and btypes:
            for dbody, dp in _as_bodies(value, f"{path}.dynamic", errs):
                for dname, dval in dbody.items():
                    if dname == "//":
                        continue
                    if dname not in btypes:
                        errs.append(f"{dp}.{dname}: unknown nested block type for dynamic (known: {', '.join(sorted(btypes)) or 'none'})")
                        continue
                    dynamic_types.add(dname)
                    for spec, sp in _as_bodies(dval, f"{dp}.{dname}", errs):
                        extra = set(spec) - {"for_each", "iterator", "labels", "content", "//"}
                        if extra:
                            errs.append(f"{sp}: unexpected dynamic block arguments {sorted(extra)}")
                        if "for_each" not in spec or "content" not in spec:
                            errs.append(f"{sp}: dynamic block needs for_each and content")
                        for content, cp in _as_bodies(spec.get("content"), f"{sp}.content", errs):
                            _check_block(content, btypes[dname]["block"], cp, errs)
        else:
            known = sorted(set(attrs) | set(btypes))
            close = [k for k in known if _similar(k, key)]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            errs.append(f"{path}.{key}: unknown attribute or block{hint}")
    for name, a in attrs.items():
        if a.get("required") and body.get(name) is None:
            errs.append(f"{path}: required attribute {name!r} is missing")
    for name, bt in btypes.items():
        mode = bt.get("nesting_mode", "list")
        sub = bt.get("block") or {}
        value = body.get(name)
        items: list[tuple[dict[str, Any], str]] = []
        if mode == "map":
            if value is not None:
                for mobj, mp in _as_bodies(value, f"{path}.{name}", errs):
                    for label, inner in mobj.items():
                        if label != "//":
                            items.extend(_as_bodies(inner, f"{mp}.{label}", errs))
        else:
            items = _as_bodies(value, f"{path}.{name}", errs)
        for ibody, ip in items:
            _check_block(ibody, sub, ip, errs)
        if name in dynamic_types:
            continue
        n = len(items)
        max_items = bt.get("max_items") or (1 if mode in ("single", "group") else 0)
        min_items = bt.get("min_items") or 0
        if max_items and n > max_items:
            errs.append(f"{path}.{name}: at most {max_items} block(s) allowed ({mode}), got {n}")
        if n < min_items:
            errs.append(f"{path}: at least {min_items} {name!r} block(s) required, got {n}")


def _similar(a: str, b: str) -> bool:
    if a == b:
        return False
    if a.replace("_", "") == b.replace("_", "").replace("-", "").lower():
        return True
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def _version_tuple(v: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[0-9A-Za-z.-]+)?", v.strip())
    if not m:
        return None
    return tuple(int(x) for x in m.groups() if x is not None)


def _constraint_admits(constraint: str, version: str) -> bool | None:
    """Terraform version constraint check; None when the constraint cannot be parsed."""
    have = _version_tuple(version)
    if have is None:
        return None
    for part in constraint.split(","):
        m = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*(\S+)\s*", part)
        if not m:
            return None
        op, want_s = m.group(1) or "=", m.group(2)
        want = _version_tuple(want_s)
        if want is None:
            return None
        padded = want + (0,) * (3 - len(want))
        ok = {
            "=": have == padded,
            "!=": have != padded,
            ">": have > padded,
            ">=": have >= padded,
            "<": have < padded,
            "<=": have <= padded,
            "~>": have >= padded and have[: max(len(want) - 1, 1)] == want[: max(len(want) - 1, 1)],
        }[op]
        if not ok:
            return False
    return True


def _check_terraform_block(value: Any, prov: Mapping[str, Any], errs: list[str]) -> None:
    backends = 0
    for body, p in _as_bodies(value, "terraform", errs):
        for key in body:
            if key == "//":
                continue
            if key not in _TF_TERRAFORM_KEYS:
                errs.append(f"{p}.{key}: unknown terraform setting (allowed: {', '.join(sorted(_TF_TERRAFORM_KEYS))})")
        if "required_version" in body and not isinstance(body["required_version"], str):
            errs.append(f"{p}.required_version: must be a string")
        for rp, rpp in _as_bodies(body.get("required_providers"), f"{p}.required_providers", errs):
            for pname, spec in rp.items():
                if pname == "//":
                    continue
                sp = f"{rpp}.{pname}"
                if not isinstance(spec, dict):
                    errs.append(f"{sp}: must be an object with source and version")
                    continue
                for k in spec:
                    if k not in ("source", "version", "configuration_aliases"):
                        errs.append(f"{sp}.{k}: unknown key")
                for req in ("source", "version"):
                    if not isinstance(spec.get(req), str) or not spec.get(req):
                        errs.append(f"{sp}: {req} is required (a string)")
                src = spec.get("source")
                if pname == prov["name"] and isinstance(src, str) and src.lower() not in (prov["source"], prov["address"]):
                    errs.append(f"{sp}.source: {src!r} is not {prov['source']!r}, the provider the vendored schema describes")
                ver = spec.get("version")
                if pname == prov["name"] and isinstance(ver, str) and prov["version"]:
                    admits = _constraint_admits(ver, prov["version"])
                    if admits is None:
                        errs.append(f"{sp}.version: cannot parse version constraint {ver!r}")
                    elif not admits:
                        errs.append(f"{sp}.version: {ver!r} does not admit {prov['version']}, the version the vendored schema describes")
        if "backend" in body:
            for bobj, bp in _as_bodies(body["backend"], f"{p}.backend", errs):
                names = [k for k in bobj if k != "//"]
                backends += len(names)
                for bname in names:
                    conf = bobj[bname]
                    if bname not in _TF_BACKENDS:
                        errs.append(f"{bp}.{bname}: unknown backend type (known: {', '.join(sorted(_TF_BACKENDS))})")
                    if not isinstance(conf, dict):
                        errs.append(f"{bp}.{bname}: backend configuration must be one JSON object")
                        continue
                    for req in _TF_BACKEND_REQUIRED.get(bname, ()):
                        if conf.get(req) in (None, ""):
                            errs.append(f"{bp}.{bname}: {req!r} is required")
                    for k, v in conf.items():
                        if _is_expr(v) or (isinstance(v, (list, dict)) and _is_expr(json.dumps(v))):
                            errs.append(f"{bp}.{bname}.{k}: backend configuration cannot use expressions")
    if backends > 1:
        errs.append(f"terraform.backend: exactly one backend allowed, got {backends}")


def _check_provider_block(value: Any, prov: Mapping[str, Any], errs: list[str]) -> None:
    for (pname,), body, p in _labeled(value, 1, "provider", errs):
        if pname == prov["name"] and prov["provider_block"] is not None:
            _check_block(body, prov["provider_block"], p, errs, meta={"alias", "version"})
        alias = body.get("alias")
        if alias is not None and (not isinstance(alias, str) or not _TF_IDENT.match(alias)):
            errs.append(f"{p}.alias: must be an identifier")


def _declared(doc: Mapping[str, Any]) -> tuple[dict[str, set[str]], list[str]]:
    """Addresses a document declares: resources, data, var, local, module, provider aliases."""
    scratch: list[str] = []
    out: dict[str, set[str]] = {"resource": set(), "data": set(), "var": set(), "local": set(), "module": set(), "provider": set()}
    for (t, n), _, _ in _labeled(doc.get("resource"), 2, "resource", scratch):
        out["resource"].add(f"{t}.{n}")
    for (t, n), _, _ in _labeled(doc.get("data"), 2, "data", scratch):
        out["data"].add(f"{t}.{n}")
    for (n,), _, _ in _labeled(doc.get("variable"), 1, "variable", scratch):
        out["var"].add(n)
    for (n,), _, _ in _labeled(doc.get("module"), 1, "module", scratch):
        out["module"].add(n)
    for body, _ in _as_bodies(doc.get("locals"), "locals", scratch):
        out["local"].update(k for k in body if k != "//")
    for (n,), body, _ in _labeled(doc.get("provider"), 1, "provider", scratch):
        out["provider"].add(f"{n}.{body['alias']}" if isinstance(body.get("alias"), str) else n)
    return out, scratch


def validate_terraform_json(doc: Mapping[str, Any], provider: str) -> list[str]:
    """Check one parsed ``*.tf.json`` document against the vendored provider schema.

    ``provider`` is ``"aws"`` or ``"google"`` (``"gcp"`` is accepted as an alias).
    Checks: Terraform JSON top-level keys; resource types known to the provider schema;
    attribute/block names known; required attributes present; computed-only attributes not
    set; nested block nesting mode and min/max items; loose value types (``${...}`` strings
    fit any type); resource meta-arguments; ``provider`` block (aws: against the provider
    schema; google: object only); ``terraform`` block (required_providers source+version,
    one backend). Data sources are checked against their schema where the vendored file has one
    (aws: aws_iam_policy_document), else for shape only.
    """
    prov = _tf_provider(provider)
    if not isinstance(doc, Mapping):
        return [f"(document): must be a JSON object, got {type(doc).__name__}"]
    errs: list[str] = []
    for key in doc:
        if key != "//" and key not in _TF_TOP_LEVEL:
            errs.append(f"{key}: unknown top-level key in Terraform JSON (allowed: {', '.join(sorted(_TF_TOP_LEVEL))})")
    if "terraform" in doc:
        _check_terraform_block(doc["terraform"], prov, errs)
    if "provider" in doc:
        _check_provider_block(doc["provider"], prov, errs)
    seen: dict[str, str] = {}
    resources = prov["resources"]
    for (rtype, rname), body, p in _labeled(doc.get("resource"), 2, "resource", errs):
        addr = f"{rtype}.{rname}"
        if addr in seen:
            errs.append(f"{p}: duplicate resource {addr} (also at {seen[addr]})")
        seen.setdefault(addr, p)
        if not _TF_IDENT.match(rname):
            errs.append(f"{p}: resource name {rname!r} is not a valid identifier")
        if rtype not in resources:
            close = [t for t in resources if _similar(t, rtype)]
            hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
            errs.append(f"{p}: unknown resource type {rtype!r} for provider {prov['source']} {prov['version']}{hint}")
            continue
        if "count" in body and "for_each" in body:
            errs.append(f"{p}: count and for_each are mutually exclusive")
        _check_block(body, resources[rtype]["block"], p, errs, meta=_TF_RESOURCE_META)
    for (dtype, dname), body, p in _labeled(doc.get("data"), 2, "data", errs):
        if not _TF_IDENT.match(dname) or not _TF_IDENT.match(dtype):
            errs.append(f"{p}: data source type and name must be identifiers")
        elif dtype in prov["data_sources"]:  # the vendored file has this data source's schema
            _check_block(body, prov["data_sources"][dtype]["block"], p, errs, meta=_TF_DATA_META)
    for _vname, body, p in _labeled(doc.get("variable"), 1, "variable", errs):
        for k in body:
            if k != "//" and k not in _TF_VARIABLE_KEYS:
                errs.append(f"{p}.{k}: unknown variable argument (allowed: {', '.join(sorted(_TF_VARIABLE_KEYS))})")
    for _oname, body, p in _labeled(doc.get("output"), 1, "output", errs):
        for k in body:
            if k != "//" and k not in _TF_OUTPUT_KEYS:
                errs.append(f"{p}.{k}: unknown output argument (allowed: {', '.join(sorted(_TF_OUTPUT_KEYS))})")
        if "value" not in body:
            errs.append(f"{p}: value is required")
    for _mname, body, p in _labeled(doc.get("module"), 1, "module", errs):
        if not isinstance(body.get("source"), str):
            errs.append(f"{p}: source is required (a string)")
    if "locals" in doc:
        _as_bodies(doc["locals"], "locals", errs, what="locals")
    return errs


# References inside ${...}: resource.attr, data.T.N, var.X, local.X, module.M
_TF_TRAVERSAL = re.compile(
    r"(?<![\w.\"'])([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?(?:\.([A-Za-z_][A-Za-z0-9_-]*))?"
)
_TF_INTERP = re.compile(r"(?<!\$)\$\{(.*?)\}")  # `$${` is an escaped literal, not an interpolation


def _walk_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk_strings(v)


def validate_terraform_module(files: Mapping[str, Mapping[str, Any]], provider: str) -> list[str]:
    """Validate all ``*.tf.json`` files of one root module (``{filename: parsed document}``).

    Each file gets :func:`validate_terraform_json`; across files it also checks duplicate
    resource/variable/output addresses, that exactly one backend is configured, and that
    references inside ``${...}`` (``<type>.<name>[.<attr>]``, ``data.*``, ``var.*``,
    ``local.*``, ``module.*``) name something declared, with known attributes for resources.
    """
    prov = _tf_provider(provider)
    errs: list[str] = []
    declared: dict[str, set[str]] = {"resource": set(), "data": set(), "var": set(), "local": set(), "module": set(), "provider": set()}
    where: dict[tuple[str, str], str] = {}
    backends = 0
    for fname in sorted(files):
        doc = files[fname]
        errs.extend(f"{fname}: {e}" for e in validate_terraform_json(doc, provider))
        if not isinstance(doc, Mapping):
            continue
        decl, _ = _declared(doc)
        for kind, names in decl.items():
            for n in names:
                if kind in ("resource", "data", "var", "module") and (kind, n) in where:
                    errs.append(f"{fname}: {kind} {n} is also declared in {where[(kind, n)]}")
                where.setdefault((kind, n), fname)
            declared[kind] |= names
        for body, _ in _as_bodies(doc.get("terraform"), "terraform", []):
            b = body.get("backend")
            if isinstance(b, dict):
                backends += len([k for k in b if k != "//"])
    if backends != 1:
        errs.append(f"(module): expected exactly one terraform backend across files, found {backends}")
    resources = prov["resources"]
    for fname in sorted(files):
        doc = files[fname]
        if not isinstance(doc, Mapping):
            continue
        for s in _walk_strings({k: v for k, v in doc.items() if k != "terraform"}):
            for expr in _TF_INTERP.findall(s):
                for m in _TF_TRAVERSAL.finditer(expr):
                    a, b, c, d = m.groups()
                    if a == "var" and b not in declared["var"]:
                        errs.append(f"{fname}: reference var.{b} to an undeclared variable")
                    elif a == "local" and b not in declared["local"]:
                        errs.append(f"{fname}: reference local.{b} to an undeclared local value")
                    elif a == "module" and b not in declared["module"]:
                        errs.append(f"{fname}: reference module.{b} to an undeclared module")
                    elif a == "data" and c and f"{b}.{c}" not in declared["data"]:
                        errs.append(f"{fname}: reference data.{b}.{c} to an undeclared data source")
                    elif a in resources:
                        if f"{a}.{b}" not in declared["resource"]:
                            errs.append(f"{fname}: reference {a}.{b} to an undeclared resource")
                        elif c:
                            blk = resources[a]["block"]
                            if c not in (blk.get("attributes") or {}) and c not in (blk.get("block_types") or {}):
                                errs.append(f"{fname}: reference {a}.{b}.{c}: {a} has no attribute {c!r}")
        for _labels, body, p in _labeled(doc.get("resource"), 2, "resource", []):
            ref = body.get("provider")
            if isinstance(ref, str) and ref.strip("${}") not in declared["provider"] and "." in ref:
                errs.append(f"{fname}: {p}.provider: {ref!r} names a provider configuration that no file declares")
    return sorted(set(errs), key=errs.index)


# --------------------------------------------------------------------------------------
# files on disk
# --------------------------------------------------------------------------------------


def validate_manifest_file(path: str | os.PathLike[str]) -> list[str]:
    """Validate every document of a YAML/JSON manifest file (kustomization.yaml included)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        docs = list(yaml.safe_load_all(text)) if p.suffix in (".yaml", ".yml") else [json.loads(text)]
    except (OSError, ValueError, yaml.YAMLError) as e:
        return [f"{p}: cannot parse: {e}"]
    errs: list[str] = []
    for i, doc in enumerate(d for d in docs if d is not None):
        if p.name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            found = validate_kustomization(doc)
        else:
            found = validate_k8s_object(doc)
        prefix = f"{p}" if len(docs) == 1 else f"{p}#{i}"
        errs.extend(f"{prefix}: {e}" for e in found)
    return errs


def validate_output_dir(env_dir: str | os.PathLike[str], provider: str | None = None) -> list[str]:
    """Validate a compiled ``out/<env>/`` tree: kubernetes/, argo/, argocd/ manifests and
    terraform/*.tf.json (as one module). ``provider`` defaults to whatever the resource type
    prefixes say (aws_*, google_* or azurerm_*)."""
    root = Path(env_dir)
    errs: list[str] = []
    for sub in ("kubernetes", "argo", "argocd"):
        d = root / sub
        if d.is_dir():
            for f in sorted(d.rglob("*")):
                if f.is_file() and f.suffix in (".yaml", ".yml", ".json"):
                    errs.extend(validate_manifest_file(f))
    tf_dir = root / "terraform"
    if tf_dir.is_dir():
        files = {}
        for f in sorted(tf_dir.glob("*.tf.json")):
            try:
                files[f.name] = json.loads(f.read_text(encoding="utf-8"))
            except ValueError as e:
                errs.append(f"{f}: cannot parse JSON: {e}")
        if files:
            prov = provider
            if prov is None:
                types = " ".join(
                    t
                    for doc in files.values()
                    if isinstance(doc, dict)
                    for t in (doc.get("resource") or {})
                    if isinstance(doc.get("resource"), dict)
                )
                prov = "azurerm" if "azurerm_" in types else "google" if "google_" in types and "aws_" not in types else "aws"
            errs.extend(f"{tf_dir}/{e}" for e in validate_terraform_module(files, prov))
    return errs
