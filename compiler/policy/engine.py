"""The policy engine: built-in Python checks + KCL policies -> Findings, waivers applied.

    run_policies(compiled, policies_dir, today) -> list[Finding]    (sorted, deterministic)
    validate_waivers(env, known_rule_ids) -> list[Diagnostic]
    all_rules(policies_dir) -> tuple[Rule, ...]
    explain(rule_id, policies_dir) -> str

Python checks and KCL policies produce the same Finding; every finding's location is
the YAML line the author must change, and no message echoes a credential.
"""

from __future__ import annotations

import functools
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import Diagnostic, InputError, Location, did_you_mean
from compiler.core.secrets_scan import scrub
from compiler.model.environment import Environment
from compiler.plan.compiled import Compiled, plan_document
from compiler.policy.catalog import AREAS, BY_ID, CATALOG, Rule
from compiler.policy.findings import Finding
from compiler.policy.hits import Hit, fix_at, is_set
from compiler.policy.kcl import KclResult, PolicyFile, RawFinding, empty_plan, evaluate, policy_files
from compiler.policy.registry import CHECKS
from compiler.policy.waivers import apply_waivers, validate_waivers
from compiler.targets.overrides import OverrideResult

__all__ = ["PolicyError", "all_rules", "explain", "run_policies", "validate_waivers", "kcl_input"]


class PolicyError(InputError):
    """A KCL policy file does not evaluate or breaks the convention (exit code 2).

    `findings` holds what the other rules found, for callers that want to show them too.
    """

    def __init__(self, diagnostics: list[Diagnostic], findings: list[Finding]):
        super().__init__(diagnostics)
        self.findings = findings


def _reserved() -> dict[str, str]:
    return {rule.id: "the built-in catalog" for rule in CATALOG}


@functools.lru_cache(maxsize=16)
def _metadata(files: tuple[PolicyFile, ...]) -> KclResult:
    return evaluate(list(files), empty_plan(), _reserved(), set())


def all_rules(policies_dir: Path | None) -> tuple[Rule, ...]:
    """Every rule: the Python catalog, built-in KCL rules and the project's KCL rules.

    Reads KCL metadata by evaluating the policies on an empty plan (cached per content);
    a policy that does not evaluate raises PolicyError.
    """
    result = _metadata(tuple(policy_files(policies_dir)))
    if result.diagnostics:
        raise PolicyError(list(result.diagnostics), [])
    return CATALOG + result.rules


def kcl_input(compiled: Compiled) -> dict[str, Any]:
    """What a KCL policy gets as option("plan"): plan.json (without findings), plus the
    resolved top-level fields as `spec` (metadata, cloud, cluster, budget, compliance,
    access, exceptions, ...) and the environment's `labels`."""
    env = compiled.env
    document = plan_document(compiled, [])
    document["spec"] = {k: v for k, v in env.spec.items() if k != "components"}
    document["labels"] = env.labels
    return document


def _location(env: Environment, hit: Hit) -> Location:
    if isinstance(hit.at, Location):
        return hit.at
    return env.locate(hit.at, key=hit.key)


def _kcl_hit(env: Environment, raw: RawFinding) -> Hit:
    if raw.pointer:
        if is_set(env, raw.pointer):
            return Hit(raw.component, raw.pointer, raw.message, raw.key)
        return fix_at(raw.component, env, raw.pointer, raw.message)
    if raw.component:
        return Hit(raw.component, f"/components/{raw.component}", raw.message, key=True)
    return Hit(None, "/metadata", raw.message, key=True)


def _finding(env: Environment, rule: Rule, hit: Hit) -> Finding:
    return Finding(_location(env, hit), rule.id, rule.severity, scrub(hit.message), env.name, hit.component)


def sort_key(f: Finding) -> tuple:
    return (f.env, f.location.file, f.location.line, f.location.col, f.rule, f.component or "", f.message)


def python_findings(compiled: Compiled) -> list[Finding]:
    env = compiled.env
    return [_finding(env, BY_ID[rule_id], hit) for rule_id, check in CHECKS for hit in check(compiled)]


def run_policies(compiled: Compiled, policies_dir: Path | None, today: date, overrides: OverrideResult | None = None) -> list[Finding]:
    """Every finding of one environment, waivers applied, sorted; with `overrides`, also the
    rules on the patched output (checks_overrides).

    Raises PolicyError (an InputError: exit 2) for a broken KCL policy and InputError for
    an invalid waiver.
    """
    env = compiled.env
    findings = python_findings(compiled)
    if overrides is not None:
        from compiler.policy.checks_overrides import override_hits

        findings += [_finding(env, BY_ID[rule_id], hit) for rule_id, hit in override_hits(env, overrides)]
    result = evaluate(policy_files(policies_dir), kcl_input(compiled), _reserved(), set(env.components))
    findings += [_finding(env, raw.rule, _kcl_hit(env, raw)) for raw in result.findings]
    if result.diagnostics:
        raise PolicyError(list(result.diagnostics), sorted(set(findings), key=sort_key))
    rules = {**BY_ID, **{rule.id: rule for rule in result.rules}}
    problems = validate_waivers(env, set(rules))
    if problems:
        raise InputError(problems)
    return sorted(set(apply_waivers(env, findings, today, rules)), key=sort_key)


def find_rule(rule_id: str, policies_dir: Path | None) -> Rule:
    """The rule with this id (built-in first, so a broken user policy cannot hide them)."""
    from compiler.frontend.project import UsageError

    if rule_id in BY_ID:
        return BY_ID[rule_id]
    rules = {rule.id: rule for rule in all_rules(policies_dir)}
    if rule_id not in rules:
        raise UsageError(f'unknown rule "{rule_id}"{did_you_mean(rule_id.upper(), set(rules))}; rule ids look like MLC-SEC-002')
    return rules[rule_id]


def explain(rule_id: str, policies_dir: Path | None) -> str:
    """Title, severity, rationale and fix of a rule (Python or KCL), as plain text."""
    rule = find_rule(rule_id, policies_dir)
    wrap = functools.partial(textwrap.fill, width=88, initial_indent="  ", subsequent_indent="  ")
    source = "built-in (Python)" if rule.source == "built-in" else rule.source
    return "\n".join(
        [
            f"{rule.id}: {rule.title}",
            (
                f"severity: {rule.severity}    area: {AREAS.get(rule.area, rule.area)}    source: {source}    "
                f"waivable: {'yes' if rule.waivable else 'no'}"
            ),
            "",
            "Why:",
            wrap(rule.rationale),
            "",
            "Fix:",
            wrap(rule.fix),
            "",
        ]
    )
