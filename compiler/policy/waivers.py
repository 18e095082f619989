"""Waivers (`exceptions:` in an environment): validation, application, and their own findings.

A waiver names a rule, optionally a component (omitted: environment-level findings only),
a reason and an expiry date. It never hides a finding: the finding stays in every output,
marked waived with the reason, and stops blocking. From the day after `expires` the
waiver no longer applies and is reported itself (MLC-GOV-002); a waiver that matches
nothing is reported as info (MLC-GOV-003). `today` is always a parameter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from compiler.core.diagnostics import Diagnostic, did_you_mean
from compiler.model.environment import Environment
from compiler.policy.catalog import BY_ID, Rule
from compiler.policy.findings import Finding

E_UNKNOWN_RULE = "MLC-E080"
E_NOT_WAIVABLE = "MLC-E081"
E_BAD_DATE = "MLC-E082"
EXPIRED_RULE = "MLC-GOV-002"
UNUSED_RULE = "MLC-GOV-003"


@dataclass(frozen=True)
class Waiver:
    index: int  # position in `exceptions`
    rule: str
    component: str | None
    reason: str
    expires: date | None  # None: not a valid calendar date (see validate_waivers)

    @property
    def pointer(self) -> str:
        return f"/exceptions/{self.index}"

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and finding.component == self.component

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def describe(self) -> str:
        return f"{self.rule}" + (f" on {self.component}" if self.component else " (environment-level)")


def parse_date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)) if len(str(text)) == 10 else None
    except ValueError:
        return None


def parse_waivers(env: Environment) -> list[Waiver]:
    out = []
    for index, entry in enumerate(env.spec.get("exceptions") or []):
        if isinstance(entry, dict):
            component = entry.get("component")
            out.append(
                Waiver(
                    index,
                    str(entry.get("rule", "")),
                    str(component) if component is not None else None,
                    str(entry.get("reason", "")),
                    parse_date(entry.get("expires")),
                )
            )
    return out


def validate_waivers(env: Environment, known_rule_ids: Iterable[str]) -> list[Diagnostic]:
    """Located input errors: unknown rule id (with did-you-mean), a rule that cannot be
    waived, an expiry that is not a calendar date. (Reason and expires are required by the
    schema.)"""
    known = set(known_rule_ids)
    problems = []
    for waiver in parse_waivers(env):
        at_rule = env.locate(f"{waiver.pointer}/rule")
        if waiver.rule not in known:
            problems.append(
                Diagnostic(
                    at_rule,
                    E_UNKNOWN_RULE,
                    f'waiver names unknown rule "{waiver.rule}"{did_you_mean(waiver.rule, known)}; `mlc explain <id>` describes a rule',
                )
            )
        elif waiver.rule in BY_ID and not BY_ID[waiver.rule].waivable:
            problems.append(
                Diagnostic(
                    at_rule, E_NOT_WAIVABLE, f"rule {waiver.rule} ({BY_ID[waiver.rule].title}) cannot be waived; fix the finding instead"
                )
            )
        if waiver.expires is None:
            problems.append(
                Diagnostic(env.locate(f"{waiver.pointer}/expires"), E_BAD_DATE, "waiver expires is not a valid date (YYYY-MM-DD)")
            )
    return sorted(problems)


def apply_waivers(env: Environment, findings: list[Finding], today: date, rules: dict[str, Rule]) -> list[Finding]:
    """Findings with waivers applied, plus the waivers' own findings (expired, unused)."""
    waivers = parse_waivers(env)
    live = [w for w in waivers if w.expires is not None and not w.expired(today)]
    used: set[int] = set()
    out = []
    for finding in findings:
        rule = rules.get(finding.rule)
        waiver = next((w for w in live if w.matches(finding)), None)
        if waiver is not None and (rule is None or rule.waivable):
            used.add(waiver.index)
            finding = dataclasses.replace(finding, waived=True, waiver_reason=waiver.reason)
        out.append(finding)
    for waiver in waivers:
        if waiver.expired(today):
            rule = rules[EXPIRED_RULE]
            out.append(
                Finding(
                    env.locate(f"{waiver.pointer}/expires"),
                    rule.id,
                    rule.severity,
                    f"waiver for {waiver.describe()} expired on {waiver.expires}; it no longer applies",
                    env.name,
                )
            )
        elif waiver.expires is not None and waiver.index not in used:
            rule = rules[UNUSED_RULE]
            hint = ""
            if waiver.component is not None and waiver.component not in env.components:
                hint = f'; there is no component "{waiver.component}"{did_you_mean(waiver.component, set(env.components))}'
            out.append(
                Finding(
                    env.locate(f"{waiver.pointer}/rule"),
                    rule.id,
                    rule.severity,
                    f"waiver for {waiver.describe()} matches no finding{hint}",
                    env.name,
                )
            )
    return out
