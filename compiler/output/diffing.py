"""`mlc diff --base REF`: what a change does to the compiled output, per environment and
component: files added / changed / removed with unified diffs, the cost delta, and the
policy findings it introduces or resolves; `_platform` (out/_platform, grouped by cluster) is
diffed like an environment. Both sides are compiled in memory by the current compiler;
neither out/ nor the working tree is touched.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compiler.build import EnvOutcome, run_many
from compiler.frontend.project import Project
from compiler.output.writer import PLATFORM_DIR, serialise
from compiler.pipeline import Mode

MAX_DIFF_LINES = 400  # per file, so a pull-request comment stays readable


@dataclass
class EnvDiff:
    env: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    patches: dict[str, list[str]] = field(default_factory=dict)
    owners: dict[str, str | None] = field(default_factory=dict)
    cost_before: float | None = None
    cost_after: float | None = None
    new_findings: list[Any] = field(default_factory=list)
    resolved_findings: list[Any] = field(default_factory=list)
    note: str = ""

    @property
    def empty(self) -> bool:
        return (
            not (self.added or self.changed or self.removed or self.new_findings or self.resolved_findings or self.note)
            and self.cost_before == self.cost_after
        )


def compile_in_memory(project: Project, today: date) -> dict[str, EnvOutcome]:
    names = [n for n in sorted(project.env_files()) if not project.is_abstract(n)]
    outcomes = {o.env: o for o in run_many(project, names, today, Mode.MEMORY)}
    outcomes[PLATFORM_DIR] = platform_in_memory(outcomes)
    return outcomes


def platform_in_memory(outcomes: dict[str, EnvOutcome]) -> EnvOutcome:
    """out/_platform as one more tree to diff, built from the platform needs of the environments
    compiled here (every environment is, so out/ is not read); its files belong to their cluster."""
    from compiler.targets.platform.emit import cluster_conflicts, emit_platform

    outcome = EnvOutcome(PLATFORM_DIR)
    needs = {env: o.platform for env, o in outcomes.items() if o.platform is not None}
    outcome.diagnostics = cluster_conflicts(needs, {env: outcomes[env].platform_where for env in needs})
    if not outcome.diagnostics:
        artifacts = emit_platform(needs)
        outcome.content = serialise(artifacts) if artifacts else {}
        outcome.owners = {a.path: a.path.split("/", 1)[0] for a in artifacts}
    return outcome


def _finding_key(finding: Any) -> tuple[str, str | None, str]:
    return (finding.rule, finding.component, finding.message)


def diff_outcomes(base: dict[str, EnvOutcome], head: dict[str, EnvOutcome]) -> list[EnvDiff]:
    diffs = []
    for env in sorted(set(base) | set(head)):
        before, after = base.get(env), head.get(env)
        d = EnvDiff(env)
        old_files = (before.content or {}) if before else {}
        new_files = (after.content or {}) if after else {}
        d.owners = {**(before.owners if before else {}), **(after.owners if after else {})}
        for path in sorted(set(old_files) | set(new_files)):
            if path.startswith(".mlc-manifest"):
                continue
            old, new = old_files.get(path), new_files.get(path)
            if old == new:
                continue
            (d.added if old is None else d.removed if new is None else d.changed).append(path)
            patch = list(
                difflib.unified_diff(
                    (old or b"").decode().splitlines(),
                    (new or b"").decode().splitlines(),
                    f"a/out/{env}/{path}",
                    f"b/out/{env}/{path}",
                    lineterm="",
                    n=2,
                )
            )
            d.patches[path] = patch[:MAX_DIFF_LINES] + (
                [f"... {len(patch) - MAX_DIFF_LINES} more lines"] if len(patch) > MAX_DIFF_LINES else []
            )
        d.cost_before = before.cost.total_usd if before and before.cost is not None else None  # type: ignore[attr-defined]
        d.cost_after = after.cost.total_usd if after and after.cost is not None else None  # type: ignore[attr-defined]
        old_f = {_finding_key(f): f for f in (before.findings if before else []) if not f.waived}
        new_f = {_finding_key(f): f for f in (after.findings if after else []) if not f.waived}
        d.new_findings = [new_f[k] for k in sorted(set(new_f) - set(old_f), key=str)]
        d.resolved_findings = [old_f[k] for k in sorted(set(old_f) - set(new_f), key=str)]
        for side, outcome in (("base", before), ("head", after)):
            if outcome is not None and outcome.diagnostics:
                d.note += f"{side}: invalid input ({len(outcome.diagnostics)} problem(s)); "
            elif outcome is not None and outcome.blocked:
                d.note += f"{side}: blocked by error-level findings; "
        diffs.append(d)
    return [d for d in diffs if not d.empty]


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _delta(d: EnvDiff) -> str:
    if d.cost_before is None or d.cost_after is None:
        return f"{_money(d.cost_before)} → {_money(d.cost_after)}"
    change = d.cost_after - d.cost_before
    return f"{_money(d.cost_before)} → {_money(d.cost_after)} ({'+' if change >= 0 else '-'}${abs(change):,.2f})"


def _by_component(d: EnvDiff) -> dict[str, dict[str, list[str]]]:
    groups: dict[str, dict[str, list[str]]] = {}
    for verb, paths in (("added", d.added), ("changed", d.changed), ("removed", d.removed)):
        for path in paths:
            groups.setdefault(d.owners.get(path) or "(environment)", {}).setdefault(verb, []).append(path)
    return dict(sorted(groups.items()))


def render_text(diffs: list[EnvDiff], ref: str) -> str:
    if not diffs:
        return f"no change to compiled output against {ref}\n"
    lines = []
    for d in diffs:
        lines.append(f"== {d.env}: {len(d.added)} added, {len(d.changed)} changed, {len(d.removed)} removed; cost {_delta(d)}")
        if d.note:
            lines.append(f"   note: {d.note.rstrip('; ')}")
        for component, verbs in _by_component(d).items():
            lines.append(f"  {component}:")
            for verb, paths in verbs.items():
                lines += [f"    {verb} {p}" for p in paths]
        for f in d.new_findings:
            lines.append(f"  new finding: {f.severity} {f.rule} [{f.component or '-'}] {f.message}")
        for f in d.resolved_findings:
            lines.append(f"  resolved finding: {f.rule} [{f.component or '-'}] {f.message}")
        for path in d.added + d.changed + d.removed:
            lines += d.patches.get(path, [])
    return "\n".join(lines) + "\n"


def render_markdown(diffs: list[EnvDiff], ref: str) -> str:
    out = [f"### mlc: compiled output against `{ref}`", ""]
    if not diffs:
        return "\n".join(out + ["No change to compiled output."]) + "\n"
    out += ["| environment | added | changed | removed | monthly cost |", "|---|---:|---:|---:|---|"]
    out += [f"| `{d.env}` | {len(d.added)} | {len(d.changed)} | {len(d.removed)} | {_delta(d)} |" for d in diffs]
    for d in diffs:
        out += ["", f"#### `{d.env}`"]
        if d.note:
            out.append(f"> {d.note.rstrip('; ')}")
        for component, verbs in _by_component(d).items():
            summary = ", ".join(f"{len(p)} {v}" for v, p in verbs.items())
            out.append(f"- **{component}**: {summary}")
        for f in d.new_findings:
            out.append(f"- :warning: new `{f.rule}` ({f.severity}) on `{f.component or d.env}`: {f.message}")
        for f in d.resolved_findings:
            out.append(f"- :white_check_mark: resolved `{f.rule}` on `{f.component or d.env}`")
        patches = [line for p in d.added + d.changed + d.removed for line in d.patches.get(p, [])]
        if patches:
            out += ["", "<details><summary>diff</summary>", "", "```diff", *patches, "```", "", "</details>"]
    return "\n".join(out) + "\n"


def diff_against_base(project: Project, ref: str, today: date, fmt: str) -> str:
    from compiler.output.gitbase import checkout_base

    head = compile_in_memory(project, today)
    checkout = checkout_base(project.root, ref)
    with checkout:
        base = compile_in_memory(Project.at(checkout.project_root), today)  # type: ignore[attr-defined]
    diffs = diff_outcomes(base, head)
    return render_markdown(diffs, ref) if fmt == "markdown" else render_text(diffs, ref)
