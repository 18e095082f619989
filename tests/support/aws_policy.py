"""Render the IAM policies mlc emits to the JSON AWS evaluates, the way Terraform does.

Workload policies are `aws_iam_policy_document` data sources; other policies are JSON
strings (`jsonencode`-free: the emitter writes the JSON). `policy_of(files, value)` accepts
either and returns the IAM policy document (dict), keeping `${...}` references as text so
the caller can resolve them.
"""

from __future__ import annotations

import json
import re
from typing import Any

_DATA_REF = re.compile(r"^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$")


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def render_policy_document(body: dict[str, Any]) -> dict[str, Any]:
    """aws_iam_policy_document -> IAM JSON (provider semantics: effect defaults to Allow; a
    single action/resource/value becomes a string; conditions group by test then variable)."""
    statements = []
    for st in body.get("statement") or []:
        out: dict[str, Any] = {}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        out["Effect"] = st.get("effect", "Allow")
        for key, name in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"), ("not_resources", "NotResource")):
            if st.get(key):
                out[name] = _one_or_list(sorted(st[key]))
        for key, name in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            if st.get(key):
                principal: dict[str, Any] = {}
                for p in st[key]:
                    principal[p["type"]] = _one_or_list(sorted(p["identifiers"]))
                out[name] = principal
        if st.get("condition"):
            cond: dict[str, dict[str, Any]] = {}
            for c in st["condition"]:
                cond.setdefault(c["test"], {})[c["variable"]] = _one_or_list(list(c["values"]))
            out["Condition"] = cond
        statements.append(out)
    return {"Version": body.get("version", "2012-10-17"), "Statement": statements}


def data_sources(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in files.values():
        out.update((doc.get("data") or {}).get("aws_iam_policy_document") or {})
    return out


def policy_of(files: dict[str, dict[str, Any]], value: str) -> dict[str, Any]:
    """The policy a `policy` / `assume_role_policy` attribute holds."""
    m = _DATA_REF.match(value)
    if m:
        return render_policy_document(data_sources(files)[m[1]])
    return json.loads(value)
