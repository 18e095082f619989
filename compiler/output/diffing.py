"""`mlc diff --base REF`: what a change does to the compiled output, per environment and
component: files added / changed / removed with unified diffs, the cost delta, and the
policy findings it introduces or resolves; `_platform` (out/_platform, grouped by cluster) is
diffed like an environment, from the needs of the environments compiled on each side plus, on
the clusters those touch, the unaffected environments' platform.json in out/ (read, never
written). Both sides are compiled in memory by the current compiler; neither out/ nor the
working tree is changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.build import EnvOutcome, run_many
from compiler.frontend.project import Project
from compiler.output.writer import PLATFORM_DIR, serialise
from compiler.pipeline import Mode
from compiler.plan.cost import money

if TYPE_CHECKING:
    from compiler.output.gitbase import BaseTree

MAX_DIFF_LINES = 400  # per file, so a pull-request comment stays readable


@dataclass
class EnvDiff:
    env: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    patches: dict[str, list[str]] = field(default_factory=dict)
    owners: dict[str, str | None] = field(default_factory=dict)
    cost_before: Decimal | None = None
    cost_after: Decimal | None = None
    new_findings: list[Any] = field(default_factory=list)
    resolved_findings: list[Any] = field(default_factory=list)
    blocking: list[Any] = field(default_factory=list)  # head side: error-level findings that keep it from being written
    problems: int = 0  # head side: input problems (the environment does not compile)
    max_increase_usd: float | None = None  # head side: budget.max_increase_usd
    replaced: list[str] = field(default_factory=list)  # Terraform resources destroyed and re-created ("addr (args)")
    destroyed: list[str] = field(default_factory=list)  # Terraform resources removed
    created: list[str] = field(default_factory=list)  # Terraform resources added
    note: str = ""

    @property
    def status(self) -> str:
        """blocked / invalid (head side), added / removed (environment), or changed."""
        if self.problems:
            return "invalid"
        if self.blocking:
            return "blocked"
        if self.cost_before is None and self.cost_after is not None:
            return "added"
        if self.cost_after is None and self.cost_before is not None:
            return "removed"
        return "changed"

    @property
    def empty(self) -> bool:
        return (
            not (self.added or self.changed or self.removed or self.new_findings or self.resolved_findings or self.note)
            and (self.cost_before is None) == (self.cost_after is None)
            and self.cost_before == self.cost_after  # both already rounded to the cent, as mlc cost rounds
        )


def platform_in_memory(needs: dict[str, dict], where: dict[str, dict]) -> EnvOutcome:
    """out/_platform as one more tree to diff, built from the platform needs of environments
    (`where`: the fields' locations of those compiled on this side); its files belong to their cluster."""
    from compiler.targets.platform.emit import cluster_conflicts, emit_platform

    outcome = EnvOutcome(PLATFORM_DIR)
    outcome.diagnostics = cluster_conflicts(needs, where)
    if not outcome.diagnostics:
        artifacts = emit_platform(needs)
        outcome.content = serialise(artifacts) if artifacts else {}
        outcome.owners = {a.path: a.path.split("/", 1)[0] for a in artifacts}
    return outcome


def _recorded_needs(project: Project, names: list[str]) -> dict[str, dict]:
    """platform.json in out/ of these environments, when it is shaped as mlc writes it."""
    import json

    from compiler.targets.platform.needs import NEEDS_FILE, well_formed

    out: dict[str, dict] = {}
    for env in names:
        path = project.out_dir / env / NEEDS_FILE
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if well_formed(data):
            out[env] = data
    return out


def _platform_context(project: Project, unaffected: list[str], today: date) -> dict[str, dict]:
    """The platform needs of the environments whose inputs are the same on both sides (so are
    their needs): what out/ recorded for them, else compiled here (head side), CHUNK at a time."""
    context = _recorded_needs(project, unaffected)
    missing = [n for n in unaffected if n not in context]
    for start in range(0, len(missing), CHUNK):
        for o in run_many(project, missing[start : start + CHUNK], today, Mode.MEMORY):
            if o.platform is not None:
                context[o.env] = o.platform
    return context


def platform_diff(
    project: Project, unaffected: list[str], today: date, sides: dict[str, tuple[dict[str, dict], dict[str, dict]]]
) -> list[EnvDiff]:
    """The `_platform` section: both sides' out/_platform from the needs of the environments
    compiled on that side (`sides`: side -> (needs, locations)) plus those of every unaffected
    environment on a cluster they touch. Nothing when the compiled needs are equal."""
    (base_needs, base_where), (head_needs, head_where) = sides["base"], sides["head"]
    if base_needs == head_needs:
        return []
    clusters = {n["cluster"] for n in (*base_needs.values(), *head_needs.values())}
    context = {env: n for env, n in _platform_context(project, unaffected, today).items() if n["cluster"] in clusters}
    base = platform_in_memory({**context, **base_needs}, base_where)
    head = platform_in_memory({**context, **head_needs}, head_where)
    return [d for d in diff_outcomes({PLATFORM_DIR: base}, {PLATFORM_DIR: head}) if not d.empty]


def _finding_key(finding: Any) -> tuple[str, str | None, str]:
    return (finding.rule, finding.component, finding.message)


def diff_outcomes(base: dict[str, EnvOutcome], head: dict[str, EnvOutcome]) -> list[EnvDiff]:
    diffs = []
    for env in sorted(set(base) | set(head)):
        before, after = base.get(env), head.get(env)
        d = EnvDiff(env)
        old_files = (before.content or {}) if before else {}
        new_files = (after.content or {}) if after else {}
        if after is not None and (after.blocked or after.diagnostics):
            # the head side writes nothing: its files are unknown, not deleted
            old_files = new_files = {}
            d.blocking = [f for f in after.findings if f.blocking]
            d.problems = len(after.diagnostics)
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
                    _lines(old),
                    _lines(new),
                    f"a/out/{env}/{path}",
                    f"b/out/{env}/{path}",
                    lineterm="",
                    n=2,
                )
            )
            d.patches[path] = patch[:MAX_DIFF_LINES] + (
                [f"... {len(patch) - MAX_DIFF_LINES} more lines"] if len(patch) > MAX_DIFF_LINES else []
            )
        if old_files or new_files:
            from compiler.targets.terraform.force_new import plan_markers

            d.replaced, d.destroyed, d.created = plan_markers(old_files, new_files)
        d.cost_before = _total(before)
        d.cost_after = _total(after)
        d.max_increase_usd = after.max_increase_usd if after is not None else None
        old_f = {_finding_key(f): f for f in (before.findings if before else []) if not f.waived}
        new_f = {_finding_key(f): f for f in (after.findings if after else []) if not f.waived}
        d.new_findings = [new_f[k] for k in sorted(set(new_f) - set(old_f), key=str)]
        d.resolved_findings = [old_f[k] for k in sorted(set(old_f) - set(new_f), key=str)]
        if before is not None and before.diagnostics:
            d.note += f"base: invalid input ({len(before.diagnostics)} problem(s)); "
        elif before is not None and before.blocked:
            d.note += "base: blocked by error-level findings; "
        if d.problems:
            d.note += f"head: invalid input ({d.problems} problem(s)): not compiled, run `mlc validate`; "
        elif d.blocking:
            d.note += "head: blocked by error-level findings: out/ would not be written for it; "
        diffs.append(d)
    return [d for d in diffs if not d.empty]


def _total(outcome: EnvOutcome | None) -> Decimal | None:
    """The monthly total rounded exactly as `mlc cost` rounds it (half up, to the cent)."""

    if outcome is None or outcome.cost is None:
        return None
    return money(outcome.cost.total_usd)  # type: ignore[attr-defined]


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"${value:,}"


def _delta(d: EnvDiff) -> str:
    """Before → after (change), in cents rounded half up exactly as `mlc cost` rounds them, the
    change being the difference of the rounded amounts (so both commands agree to the cent)."""
    if d.cost_before is None or d.cost_after is None:
        return f"{_money(d.cost_before)} → {_money(d.cost_after)}"
    change = d.cost_after - d.cost_before
    sign = "+" if change > 0 else "-" if change < 0 else ""
    return f"{_money(d.cost_before)} → {_money(d.cost_after)} ({sign}${abs(change):,})"


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
        if d.status in ("blocked", "invalid"):
            lines.append(f"== {d.env}: {d.status.upper()}; cost {_delta(d)}")
        else:
            lines.append(f"== {d.env}: {len(d.added)} added, {len(d.changed)} changed, {len(d.removed)} removed; cost {_delta(d)}")
        if d.note:
            lines.append(f"   note: {d.note.rstrip('; ')}")
        for f in d.blocking:
            lines.append(f"  blocking finding: {f.location}: {f.rule} [{f.component or '-'}] {f.message}")
        lines += [f"  replaced (destroyed and re-created): {address}" for address in d.replaced]
        lines += [f"  destroyed: {address}" for address in d.destroyed]
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


def _lines(data: bytes | None) -> list[str]:
    """Lines split on "\n" only: str.splitlines() also splits on U+2028, U+0085, \r, ...,
    which would make a diff line out of part of a value."""
    text = (data or b"").decode("utf-8", "replace")
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


COMMENT_LIMIT = 65_536  # characters GitHub accepts in one pull-request comment
_FILE_WEIGHT = {"terraform": 0, "kubernetes": 1, "argo": 2, "argocd": 3}  # which diffs matter most


def _counts(d: EnvDiff) -> str:
    if d.status in ("blocked", "invalid"):
        return "–"
    return f"+{len(d.added)} ~{len(d.changed)} -{len(d.removed)}"


def _cost_cell(d: EnvDiff) -> str:
    if d.cost_before is None or d.cost_after is None:
        return f"{_money(d.cost_before)} → {_money(d.cost_after)}"
    change = d.cost_after - d.cost_before
    sign = "+" if change > 0 else "-" if change < 0 else ""
    return f"{sign}${abs(change):,} ({_money(d.cost_after)})"


def _summary_row(d: EnvDiff) -> str:
    from compiler.output import markdown as md

    status = {"blocked": "**blocked**", "invalid": "**invalid**"}.get(d.status, md.text(d.status))
    findings = f"{len(d.new_findings)} / {len(d.resolved_findings)}"
    replaced = f"**{len(d.replaced)}**" if d.replaced else "0"
    return f"| {md.code(d.env, table=True)} | {status} | {_counts(d)} | {_cost_cell(d)} | {findings} | {replaced} |"


def _env_section(d: EnvDiff) -> list[str]:
    """What needs attention in one environment. Every string from the specs or policies is
    escaped (compiler.output.markdown): a spec value cannot add headings, links or fences."""
    from compiler.output import markdown as md

    out = ["", f"#### {md.code(d.env)}"]
    if d.note:
        out.append(f"> {md.text(d.note.rstrip('; '))}")
    for f in d.blocking:
        where = md.text(str(f.location))
        out.append(f"- :no_entry: blocking {md.code(f.rule)} on {md.code(f.component or d.env)} ({where}): {md.text(f.message)}")
    for address in d.replaced:
        out.append(f"- :warning: **replaced** (destroyed and re-created): {md.code(address)}")
    if d.destroyed:
        out.append(f"- destroyed: {', '.join(md.code(a) for a in d.destroyed)}")
    if d.created:
        out.append(f"- created: {len(d.created)} resource{'s' if len(d.created) != 1 else ''}")
    for f in d.new_findings:
        out.append(f"- :warning: new {md.code(f.rule)} ({md.text(f.severity)}) on {md.code(f.component or d.env)}: {md.text(f.message)}")
    for f in d.resolved_findings:
        out.append(f"- :white_check_mark: resolved {md.code(f.rule)} on {md.code(f.component or d.env)}")
    for component, verbs in _by_component(d).items():
        summary = ", ".join(f"{len(p)} {v}" for v, p in verbs.items())
        out.append(f"- **{md.text(component)}**: {summary}")
    return out


def _file_details(d: EnvDiff, path: str) -> str:
    import html

    from compiler.core.diagnostics import printable
    from compiler.output import markdown as md

    verb = "added" if path in d.added else "removed" if path in d.removed else "changed"
    # control, format and separator characters as visible escapes: CommonMark would turn a NUL
    # into U+FFFD and a CR into a line break inside the block; the fence outlasts any backtick run
    lines = [printable(line) for line in d.patches.get(path, [])]
    opening, closing = md.fence(lines, "diff")
    # printable: a line break in a name would end the HTML block and start Markdown (a heading)
    summary = f"<code>{html.escape(printable(f'out/{d.env}/{path}'))}</code> ({verb})"
    return "\n".join(["", f"<details><summary>{summary}</summary>", "", opening, *lines, closing, "", "</details>"])


def render_markdown(diffs: list[EnvDiff], ref: str, limit: int = COMMENT_LIMIT) -> str:
    """A pull-request comment: a summary table (one row per environment), then per
    environment what needs attention (blocked, replaced resources, findings), then each
    file's diff folded in <details>. Stays under `limit` characters: file diffs are added
    in order of importance (Terraform first, plan.json last) while they fit; what is left
    out is named in a note with the command that shows everything."""
    from compiler.output import markdown as md

    head = [f"### mlc: compiled output against {md.code(ref)}", ""]
    if not diffs:
        return "\n".join(head + ["No change to compiled output."]) + "\n"
    full = md.code(f"mlc diff --base {ref}")
    table = [
        "| environment | status | files (+ ~ -) | monthly cost | findings new / resolved | replaced |",
        "|---|---|---:|---|---:|---:|",
    ]
    rows = [_summary_row(d) for d in diffs]
    sections = [_env_section(d) for d in diffs]
    reserve = 400  # the truncation notes
    budget = limit - reserve - sum(len(x) + 1 for x in head + table)
    kept_rows: list[str] = []
    for row in rows:
        if budget - len(row) - 1 < 0:
            break
        kept_rows.append(row)
        budget -= len(row) + 1
    notes: list[str] = []
    if len(kept_rows) < len(rows):
        notes.append(f"_{len(rows) - len(kept_rows)} more environments changed; run {full} to see them._")
    chosen_sections: list[list[str]] = []
    for section in sections[: len(kept_rows)]:
        size = sum(len(x) + 1 for x in section)
        if budget - size < 0:
            break
        chosen_sections.append(section)
        budget -= size
    if len(chosen_sections) < len(kept_rows):
        notes.append(f"_Details of {len(kept_rows) - len(chosen_sections)} environments left out to fit; run {full}._")
    files = sorted(
        (
            (_FILE_WEIGHT.get(p.split("/", 1)[0], 4), len(d.patches.get(p, [])), d.env, p, d)
            for d in diffs[: len(chosen_sections)]
            for p in d.added + d.changed + d.removed
        ),
        key=lambda t: t[:4],
    )
    details: dict[str, list[str]] = {}
    left_out = 0
    for _weight, _size, env, path, d in files:
        block = _file_details(d, path)
        if budget - len(block) - 1 < 0:
            left_out += 1
            continue
        details.setdefault(env, []).append(block)
        budget -= len(block) + 1
    if left_out:
        notes.append(
            f"_{left_out} file diff{'s' if left_out != 1 else ''} left out to stay under GitHub's {COMMENT_LIMIT:,}-character "
            f"comment limit; run {full} to see everything._"
        )
    out = head + table + kept_rows
    for d, section in zip(diffs, chosen_sections, strict=False):
        out += section + details.get(d.env, [])
    if notes:
        out += ["", *notes]
    return "\n".join(out) + "\n"


CHUNK = 64  # environments compiled (both sides) and diffed at a time: memory stays bounded


def _read(path: Path | None) -> bytes | None:
    try:
        return path.read_bytes() if path is not None else None
    except OSError:
        return None


def _inputs_shared_by_all_differ(head: Project, base: BaseTree) -> bool:
    """The schema or a policy file differs: every environment is affected."""
    from compiler.output.gitbase import SCHEMA_FILE

    if not base.same(base.others.get(SCHEMA_FILE), _read(head.root / SCHEMA_FILE)):
        return True
    ours = {}
    if head.policies_dir.is_dir():
        ours = {f"policies/{p.name}": p for p in head.policies_dir.glob("*.k") if p.is_file() and not p.is_symlink()}
    theirs = {rel for rel in base.others if rel.startswith("policies/")}
    return set(ours) != theirs or any(not base.same(base.others[rel], _read(path)) for rel, path in ours.items())


def _manifests_differ(head: Project, base: BaseTree, name: str, path: Path) -> bool:
    """An environment file whose overrides copy manifests folders: does any of them differ?"""
    from compiler.core.diagnostics import InputError
    from compiler.frontend.loader import load_file

    try:
        doc = load_file(str(path), path.name)
    except (InputError, OSError):
        return True
    overrides = doc.data.get("overrides")
    folders = overrides.get("manifests") if isinstance(overrides, dict) else None
    for folder in folders if isinstance(folders, list) else []:
        if not isinstance(folder, str):
            return True
        theirs = base.folder(folder)
        directory = head.root / folder.strip("/")
        ours = {}
        if directory.is_dir() and not directory.is_symlink():
            ours = {f"{folder.strip('/')}/{p.name}": p for p in directory.iterdir() if p.suffix in (".yaml", ".yml")}
        if set(ours) != set(theirs) or any(not base.same(theirs[rel], _read(p)) for rel, p in ours.items()):
            return True
    return False


def affected_environments(head: Project, base: BaseTree) -> list[str]:
    """The environments whose inputs differ between the working tree and the revision: a
    file that differs (or exists on one side only), one whose overrides' manifests folders
    differ, and every environment that extends one of those, transitively; all of them when
    the schema or the policies differ. Working-tree files are compared with the revision's
    by blob id, so the revision's unchanged files are never read; files are read one at a
    time (never the whole tree at once), and only those that mention an affected name are
    parsed (to read their `extends`)."""
    from compiler.core.diagnostics import InputError
    from compiler.frontend.resolve import parents_of

    head_files = head.env_files()
    names = sorted(set(head_files) | set(base.environments))
    if _inputs_shared_by_all_differ(head, base):
        return names
    affected = set()
    for name in names:
        data = _read(head_files.get(name))
        if not base.same(base.environments.get(name), data):
            affected.add(name)
        elif data is not None and b"manifests" in data and _manifests_differ(head, base, name, head_files[name]):
            affected.add(name)
    frontier = set(affected)
    while frontier:
        needles = [name.encode() for name in frontier]
        frontier = set()
        for name in names:
            if name in affected:
                continue
            # not affected: the same bytes on both sides, so the working tree's file says it
            text = _read(head_files[name])
            if text is None or not any(needle in text for needle in needles):
                continue
            try:
                parents = set(parents_of(head.document(name, head_files[name])))
            except InputError:
                parents = set(affected)  # unreadable: compile it, its problems are reported
            if parents & affected:
                frontier.add(name)
        affected |= frontier
    return sorted(affected)


def diff_against_base(project: Project, ref: str, today: date, stats: dict[str, list[str]] | None = None) -> list[EnvDiff]:
    """Compile, on both sides, only the environments whose inputs differ, CHUNK at a time, and
    diff them; only those environments (and their ancestors) are read from the revision.
    `stats` (optional) receives the names compiled per side."""
    from compiler.output.gitbase import BaseTree

    tree = BaseTree(project.root, ref)
    names = affected_environments(project, tree)
    diffs: list[EnvDiff] = []
    with tree.materialise([n for n in names if n in tree.environments]) as checkout:
        base_project = Project.at(checkout.project_root)
        head_names = [n for n in names if n in project.env_files() and not project.is_abstract(n)]
        base_names = [n for n in names if n in base_project.env_files() and not base_project.is_abstract(n)]
        if stats is not None:
            stats["head"], stats["base"] = head_names, base_names
        sides: dict[str, tuple[dict[str, dict], dict[str, dict]]] = {"base": ({}, {}), "head": ({}, {})}
        for start in range(0, len(names), CHUNK):
            chunk = set(names[start : start + CHUNK])
            head = {o.env: o for o in run_many(project, [n for n in head_names if n in chunk], today, Mode.MEMORY)}
            base = {o.env: o for o in run_many(base_project, [n for n in base_names if n in chunk], today, Mode.MEMORY)}
            for side, outcomes in (("base", base), ("head", head)):
                for o in outcomes.values():
                    if o.platform is not None:  # kept: small, and out/_platform is the union over a cluster
                        sides[side][0][o.env], sides[side][1][o.env] = o.platform, o.platform_where
            for o in head.values():  # the head side writes nothing for these: their platform stays the base's
                if not (o.blocked or o.diagnostics):
                    continue
                for part in (0, 1):
                    sides["head"][part].pop(o.env, None)
                    if o.env in sides["base"][part]:
                        sides["head"][part][o.env] = sides["base"][part][o.env]
            diffs += diff_outcomes(base, head)  # the outcomes (whole trees) are dropped here
        affected = set(names)
        unaffected = [n for n in sorted(project.env_files()) if n not in affected and not project.is_abstract(n)]
        diffs += platform_diff(project, unaffected, today, sides)  # last: it follows from the environments' changes
    return diffs


def render(diffs: list[EnvDiff], ref: str, fmt: str) -> str:
    return render_markdown(diffs, ref) if fmt == "markdown" else render_text(diffs, ref)
