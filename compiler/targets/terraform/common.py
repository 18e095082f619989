"""Shared machinery of the Terraform emitters (AWS and GCP): Terraform JSON documents,
references, escaping of spec-derived strings, policy documents, labels and GPU facts.

Escaping rule: in Terraform JSON syntax every string is a template, so `${` and `%{` in a
value taken from the spec would be evaluated. Emitters build documents from two kinds of
strings: plain `str` (spec-derived or constant text: always escaped by `finalize`) and
`Expr` (a Terraform expression/template written by the emitter, e.g. a reference: kept).
`finalize` is applied to every document before it becomes an Artifact, so escaping is
systematic, not per call site. Policy documents are JSON strings built by `policy_json`
from dicts: their plain leaves are escaped before `json.dumps`, their `Expr` leaves are
kept, and the result is itself an `Expr`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from compiler.model.environment import Component, Environment
from compiler.model.kinds import Trait
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.artifact import Artifact

TERRAFORM_REQUIRED_VERSION = ">= 1.10"  # S3 backend native locking (use_lockfile) needs 1.10+
AWS_PROVIDER = {"source": "hashicorp/aws", "version": "~> 6.47"}
GOOGLE_PROVIDER = {"source": "hashicorp/google", "version": "~> 6.50"}

# EKS/GKE API spelling of the Kubernetes taint effect the Kubernetes emitter tolerates
TAINT_EFFECT = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}[naming.TAINT_EFFECT]

SENSITIVE_CLASSES = ("confidential", "pii")  # audit-logged, data-event trails
ABORT_MULTIPART_DAYS = 7  # incomplete multipart uploads are aborted after a week
NONCURRENT_VERSION_DAYS = 90  # replaced/deleted object versions are kept this long
ACCESS_LOG_RETENTION_DAYS = 365  # access logs and audit trails are kept a year


class Expr(str):
    """A Terraform expression or template written by the emitter: never escaped."""


def ref(rtype: str, name: str, attr: str) -> Expr:
    """`${<rtype>.<name>.<attr>}`: a reference Checkov's graph and Terraform both follow."""
    return Expr(f"${{{rtype}.{name}.{attr}}}")


def lit(value: object) -> Expr:
    """A literal (spec-derived) piece to embed in an Expr: escaped here, kept afterwards."""
    return Expr(escape_tf(str(value)))


def var(name: str) -> Expr:
    return Expr(f"${{var.{name}}}")


def escape_tf(value: str) -> str:
    """Make a literal string safe in a Terraform template: `${` -> `$${`, `%{` -> `%%{`."""
    return value.replace("${", "$${").replace("%{", "%%{")


def finalize(value: Any) -> Any:
    """A plain-data copy of `value` with every non-Expr string (keys too) escaped.

    Dispatches on the exact type (hot path: every Terraform document goes through it);
    a string without "{" cannot hold `${` or `%{` and is returned as is.
    """
    t = type(value)
    if t is str:
        return escape_tf(value) if "{" in value else value
    if t is dict:
        return {finalize(k): finalize(v) for k, v in value.items()}
    if t is list or t is tuple:
        return [finalize(v) for v in value]
    if isinstance(value, Expr):
        return str(value)
    if isinstance(value, str):
        return escape_tf(value)
    return value


def policy_json(document: dict[str, Any]) -> Expr:
    """A policy document as a JSON string (sorted keys), spec-derived leaves escaped."""
    return Expr(json.dumps(finalize(document), sort_keys=True))


def iam_policy(statements: list[dict[str, Any]]) -> Expr:
    return policy_json({"Version": "2012-10-17", "Statement": statements})


def rname(component: Component | str) -> str:
    """Terraform resource name (identifier) of a component or node pool: dashes become
    underscores. Environment-level resources use names WITH a dash ("access-logs", valid in
    HCL identifiers), so they can never collide with a component's resource."""
    name = component if isinstance(component, str) else component.name
    return name.replace("-", "_")


def camel(name: str) -> str:
    """`raw-events` -> `RawEvents` (IAM statement ids allow [A-Za-z0-9] only)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


class TfFile:
    """One `*.tf.json` document under construction, in a fixed block order."""

    def __init__(self, path: str, component: str | None = None):
        self.path = path
        self.component = component
        self.blocks: dict[str, Any] = {}

    def _add(self, kind: str, labels: tuple[str, ...], body: Any) -> None:
        node = self.blocks.setdefault(kind, {})
        for label in labels[:-1]:
            node = node.setdefault(label, {})
        if labels[-1] in node:
            raise AssertionError(f"{self.path}: duplicate {kind} {'.'.join(labels)}")  # an emitter bug
        node[labels[-1]] = body

    def resource(self, rtype: str, name: str, body: dict[str, Any]) -> str:
        """Add a resource; returns its address `<rtype>.<name>`."""
        self._add("resource", (rtype, name), body)
        return f"{rtype}.{name}"

    def data(self, dtype: str, name: str, body: dict[str, Any]) -> None:
        self._add("data", (dtype, name), body)

    def variable(self, name: str, body: dict[str, Any]) -> None:
        self._add("variable", (name,), body)

    def local(self, name: str, value: Any) -> None:
        self._add("locals", (name,), value)

    def set(self, kind: str, value: Any) -> None:
        self.blocks[kind] = value

    def artifact(self) -> Artifact:
        order = ("//", "terraform", "provider", "variable", "locals", "data", "resource", "output")
        doc = {k: self.blocks[k] for k in order if k in self.blocks}
        return Artifact(self.path, finalize(doc), "json", self.component)


def money(value: float | int) -> Decimal:
    """A US-dollar amount rounded to cents (half up), exactly as written in the spec."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def percent(ratio: float) -> int | float:
    """`warn_ratio` as a percentage without float noise (0.85 -> 85, 0.125 -> 12.5)."""
    value = Decimal(str(ratio)) * 100
    return int(value) if value == value.to_integral_value() else float(value)


# --- GCP labels --------------------------------------------------------------------------
_GCP_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


def gcp_label_key(key: str) -> str:
    """GCP label key: lower-case, [a-z0-9_-], starts with a letter, at most 63 characters."""
    out = _GCP_LABEL_BAD.sub("_", key.lower())
    if not out[:1].isalpha():
        out = f"l{out}"
    return out[:63]


def gcp_label_value(value: str) -> str:
    """GCP label value: lower-case, [a-z0-9_-], at most 63 characters (may be empty)."""
    return _GCP_LABEL_BAD.sub("_", str(value).lower())[:63]


def gcp_labels(labels: dict[str, str]) -> dict[str, str]:
    """Sanitised labels, sorted; when two keys sanitise alike the first in key order wins."""
    out: dict[str, str] = {}
    for key in sorted(labels):
        out.setdefault(gcp_label_key(key), gcp_label_value(labels[key]))
    return dict(sorted(out.items()))


@dataclass
class TerraformContext:
    """What both providers' emitters share: the compiled environment and the variables used."""

    compiled: Compiled
    used_variables: set[str] = field(default_factory=set)
    variables: ClassVar[dict[str, dict[str, Any]]] = {}  # the provider's declarable inputs

    @property
    def env(self) -> Environment:
        return self.compiled.env

    @property
    def account_literal(self) -> str | None:
        """cloud.account as written (AWS account id / GCP project id), if any."""
        account = self.env.spec["cloud"].get("account")
        return str(account) if account else None

    @property
    def region(self) -> str:
        return self.env.region

    def effective_class(self, component: Component) -> str:
        return self.compiled.effective_class(component.name)  # a monitor workload: its store's class

    def is_sensitive(self, component: Component) -> bool:
        return self.effective_class(component) in SENSITIVE_CLASSES

    def sensitive_buckets(self) -> list[Component]:
        """Bucket-backed stores whose effective (lineage) classification is sensitive."""
        return [c for c in self.env.with_trait(Trait.BUCKET) if self.is_sensitive(c)]

    def var(self, name: str) -> Expr:
        """A reference to input variable `name`, declared later because it was used."""
        assert name in self.variables, name
        self.used_variables.add(name)
        return var(name)
