"""Renderers of findings: text, JSON, SARIF 2.1.0, GitHub workflow annotations.

Pure functions of the findings (and the rule metadata): deterministic, no timestamps,
no absolute paths. Waived findings are always rendered, marked as waived.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from compiler.output.serialize import escape_separators
from compiler.policy.catalog import BY_ID, Rule
from compiler.policy.findings import SEVERITIES, Finding

FORMATS = ("text", "json", "sarif", "github")
FAIL_ON = ("error", "warning")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
TOOL_URI = "https://git.example.com/ml/mlc"


def _without_secrets(f: Finding) -> Finding:
    """A finding safe to print: messages, waiver reasons and component names that quote a
    credential-looking value (a component may be *named* like a token) are scrubbed."""
    from dataclasses import replace

    from compiler.core.secrets_scan import PLACEHOLDER, find_secret, scrub

    component = PLACEHOLDER if f.component and find_secret(f.component) else f.component
    reason = scrub(f.waiver_reason) if f.waiver_reason else f.waiver_reason
    return replace(f, message=scrub(f.message), component=component, waiver_reason=reason)


def _order(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.location.file, f.location.line, f.location.col, f.rule, f.env, f.component or "", f.message))


def _rules(rules: Iterable[Rule] | Mapping[str, Rule] | None) -> dict[str, Rule]:
    if rules is None:
        return dict(BY_ID)
    if isinstance(rules, Mapping):
        return {**BY_ID, **rules}
    return {**BY_ID, **{r.id: r for r in rules}}


def render(findings: Iterable[Finding], format: str = "text", rules: Iterable[Rule] | Mapping[str, Rule] | None = None) -> str:
    """`findings` as text | json | sarif | github. `rules` adds metadata of KCL rules (SARIF)."""
    ordered = [_without_secrets(f) for f in _order(findings)]
    if format == "text":
        return render_text(ordered)
    if format == "json":
        return render_json(ordered)
    if format == "sarif":
        return render_sarif(ordered, _rules(rules))
    if format == "github":
        return render_github(ordered)
    raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------------------- text / json


def text_line(f: Finding) -> str:
    from compiler.core.diagnostics import printable

    where = f"{f.env}: {f.component}" if f.component else f.env
    waived = f" (waived: {f.waiver_reason})" if f.waived else ""
    # one line, no control characters: a waiver reason is free text from the spec, and a
    # newline in it would forge lines in CI logs (e.g. a `::error ...` workflow command)
    return printable(f"{f.location}: {f.severity} {f.rule}: {f.message} [{where}]{waived}")


def summary(findings: list[Finding]) -> dict[str, int]:
    counts = {s: sum(1 for f in findings if f.severity == s and not f.waived) for s in SEVERITIES}
    counts["waived"] = sum(1 for f in findings if f.waived)
    return counts


def render_text(findings: list[Finding]) -> str:
    if not findings:
        return ""
    counts = summary(findings)
    tail = ", ".join(f"{counts[s]} {s}{'s' if counts[s] != 1 and s != 'info' else ''}" for s in SEVERITIES)
    return "".join(text_line(f) + "\n" for f in findings) + f"{tail}, {counts['waived']} waived\n"


def render_json(findings: list[Finding]) -> str:
    document = {"findings": [f.to_dict() for f in findings], "summary": summary(findings)}
    return escape_separators(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


# ---------------------------------------------------------------------------- SARIF


def _rule_name(rule: Rule) -> str:
    """A CamelCase name from the title: 'Stores are not public' -> StoresAreNotPublic."""
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", rule.title)) or rule.id.replace("-", "")


def _descriptor(rule_id: str, rule: Rule | None, severity: str) -> dict[str, Any]:
    from compiler.output.markdown import code as md_code
    from compiler.output.markdown import text as md_text

    if rule is None:  # a KCL rule whose metadata was not passed in
        return {"id": rule_id, "shortDescription": {"text": rule_id}, "defaultConfiguration": {"level": SARIF_LEVEL[severity]}}
    return {
        "id": rule.id,
        "name": _rule_name(rule),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {
            "text": f"{rule.fix}\n\nMore: mlc explain {rule.id}",
            "markdown": f"**Fix:** {md_text(rule.fix)}\n\n{md_code('mlc explain ' + rule.id)}",
        },
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        "properties": {"tags": [rule.area.lower()], "source": rule.source, "waivable": rule.waivable},
    }


def _fingerprint(f: Finding) -> str:
    text = "\0".join([f.rule, f.env, f.component or "", f.location.file, f.message])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def render_sarif(findings: list[Finding], rules: dict[str, Rule]) -> str:
    from compiler import __version__

    used = sorted({f.rule: f.severity for f in findings}.items())
    index = {rule_id: n for n, (rule_id, _) in enumerate(used)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.message} [{f.env}: {f.component}]" if f.component else f"{f.message} [{f.env}]"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.location.file},
                        "region": {"startLine": f.location.line, "startColumn": f.location.col},
                    }
                }
            ],
            "partialFingerprints": {"mlcFinding/v1": _fingerprint(f)},
            "properties": {"environment": f.env, **({"component": f.component} if f.component else {})},
        }
        if f.waived:
            result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.waiver_reason or ""}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlc",
                        "informationUri": TOOL_URI,
                        "version": __version__,
                        "rules": [_descriptor(rule_id, rules.get(rule_id), severity) for rule_id, severity in used],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return escape_separators(json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


# ---------------------------------------------------------------------------- GitHub


def escape_data(text: str) -> str:
    """A workflow command's message: % CR LF escaped (actions/toolkit escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ':' and ',' (actions/toolkit escapeProperty)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(f: Finding) -> str:
    command = "notice" if f.waived else GITHUB_COMMAND[f.severity]
    where = f"{f.env}: {f.component}" if f.component else f.env
    message = f"{f.message} [{where}]" + (f" (waived: {f.waiver_reason})" if f.waived else "")
    props = f"file={escape_property(f.location.file)},line={f.location.line},col={f.location.col},title={escape_property(f.rule)}"
    return f"::{command} {props}::{escape_data(message)}"


def render_github(findings: list[Finding]) -> str:
    return "".join(github_line(f) + "\n" for f in findings)


# ---------------------------------------------------------------------------- exit code


def exit_code(findings: Iterable[Finding], fail_on: str = "error") -> int:
    """1 when a finding that is not waived is at or above `fail_on` (error | warning), else 0."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"unknown --fail-on {fail_on!r}; expected error or warning")
    levels = {"error"} if fail_on == "error" else {"error", "warning"}
    return int(any(f.severity in levels and not f.waived for f in findings))
