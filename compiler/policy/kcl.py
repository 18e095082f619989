"""KCL policies: every `.k` file of the built-in set and of the project's policies/, run
through kcl-lib in ONE evaluation per environment.

Convention for a policy file (see policies/README.md):

    _plan = option("plan")          # plan.json of the environment, plus `spec` and `labels`
    mlc_rules = [{id = "MLC-USR-001", title = "...", severity = "warning", rationale = "...", fix = "..."}]
    mlc_findings = [{rule = "MLC-USR-001", component = c.name, pointer = "/components/${c.name}/x",
                     key = False, message = "..."} for c in _plan.components if ...]

Isolation: KCL compiles every file given to one call as ONE package, so two files that
both define `mlc_rules` clash, and private `_x` variables of two files silently overwrite
each other (tested with kcl-lib 0.13). So each file is copied into its own package
directory of a temporary folder (`m0/`, `m1/`, ...), and a generated main file imports
them all and collects `mN.mlc_rules` / `mN.mlc_findings`: one exec_program call, each
file its own namespace. A file that fails (syntax, runtime, contract) is reported as a
located diagnostic and the remaining files are evaluated again without it.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import Diagnostic, Location
from compiler.core.secrets_scan import scrub
from compiler.policy.catalog import RULE_ID, Rule

BUILTIN_DIR = Path(__file__).parent / "kcl"
BUILTIN_DISPLAY = "compiler/policy/kcl"
MAIN = "__mlc_main__.k"
E_BROKEN = "MLC-E090"  # a policy file that does not evaluate
E_CONTRACT = "MLC-E091"  # a policy file that evaluates but breaks the convention
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DEFINES = {name: re.compile(rf"^{name}\s*(:[^=\n]*)?=", re.MULTILINE) for name in ("mlc_rules", "mlc_findings")}
RULE_FIELDS = ("id", "title", "severity", "rationale", "fix")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class PolicyFile:
    path: Path
    display: str  # project-relative path shown in messages, e.g. policies/owner.k
    text: str


@dataclass(frozen=True)
class RawFinding:
    rule: Rule
    component: str | None
    pointer: str | None
    key: bool
    message: str


@dataclass(frozen=True)
class KclResult:
    rules: tuple[Rule, ...]
    findings: tuple[RawFinding, ...]
    diagnostics: tuple[Diagnostic, ...]


def policy_files(policies_dir: Path | None) -> list[PolicyFile]:
    """Built-in .k files, then the project's policies/*.k (sorted; symlinks are not followed)."""
    files = [PolicyFile(p, f"{BUILTIN_DISPLAY}/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(BUILTIN_DIR.glob("*.k"))]
    if policies_dir is not None and policies_dir.is_dir():
        for p in sorted(policies_dir.glob("*.k")):
            if p.is_file() and not p.is_symlink():
                files.append(PolicyFile(p, f"{policies_dir.name}/{p.name}", p.read_text(encoding="utf-8")))
    return files


def empty_plan() -> dict[str, Any]:
    """The input used to read rule metadata without an environment (`mlc explain`)."""
    spec = {
        "metadata": {"name": "", "labels": {}},
        "cloud": {},
        "cluster": {"node_pools": {}},
        "compliance": {},
        "access": [],
        "exceptions": [],
    }
    return {
        "schema_version": 1,
        "environment": "",
        "provider": "",
        "region": "",
        "namespace": "",
        "extends": [],
        "components": [],
        "edges": [],
        "order": [],
        "generations": [],
        "iam": {},
        "cost": None,
        "findings": [],
        "labels": {},
        "spec": spec,
    }


@functools.cache
def _api() -> Any:
    import kcl_lib.api as api

    return api


def evaluate(files: list[PolicyFile], plan: dict[str, Any], reserved: dict[str, str], components: set[str]) -> KclResult:
    """Evaluate `files` on `plan`. `reserved`: rule id -> where it is already declared."""
    diagnostics: list[Diagnostic] = []
    runnable = []
    for f in files:
        missing = [name for name, pattern in _DEFINES.items() if not pattern.search(f.text)]
        if missing:
            diagnostics.append(
                Diagnostic(
                    Location(f.display, 1, 1),
                    E_CONTRACT,
                    f"a policy file must define top-level {' and '.join(missing)} (see policies/README.md)",
                )
            )
        else:
            runnable.append(f)
    outputs: dict[int, dict[str, Any]] = {}
    remaining = list(range(len(runnable)))
    while remaining:
        ok, result, broken = _run([runnable[i] for i in remaining], plan)
        if ok:
            outputs = {remaining[k]: out for k, out in enumerate(result)}
            break
        diagnostics += [diagnostic for _, diagnostic in broken]
        if not broken or any(k < 0 for k, _ in broken):  # not attributable to a file: stop
            break
        failed = {remaining[k] for k, _ in broken}
        remaining = [i for i in remaining if i not in failed]
    rules: list[Rule] = []
    findings: list[RawFinding] = []
    taken = dict(reserved)
    for index in sorted(outputs):
        file_rules, file_findings, problems = _read_output(runnable[index], outputs[index], taken, components)
        rules += file_rules
        findings += file_findings
        diagnostics += problems
    return KclResult(tuple(rules), tuple(findings), tuple(sorted(set(diagnostics))))


_WORKSPACES: dict[tuple[Any, ...], tuple[str, int]] = {}


def _workspace(files: list[PolicyFile]) -> tuple[str, int]:
    """(folder, line of the first collector) holding `files` as packages m0, m1, ... and the
    generated main file. Written once per process and set of files, then reused for every
    environment: creating and deleting ~8 files per environment cost more than evaluating
    them, and ext4 makes every file created soon after a deletion dearer (bench/ANALYSIS.md).
    Removed when the process exits, pool workers included (a multiprocessing finalizer);
    a killed process leaves it in the temp folder, as the per-call folder did before."""
    import os
    from multiprocessing.util import Finalize

    key = (os.getpid(), *((f.path.name, f.text) for f in files))
    found = _WORKSPACES.get(key)
    if found is not None and os.path.isdir(found[0]):
        return found
    tmp = tempfile.mkdtemp(prefix="mlc-kcl-")
    Finalize(None, shutil.rmtree, args=(tmp,), kwargs={"ignore_errors": True}, exitpriority=0)
    lines = []
    for index, f in enumerate(files):
        package = Path(tmp) / f"m{index}"
        package.mkdir()
        (package / f.path.name).write_text(f.text, encoding="utf-8")
        lines.append(f"import m{index}")
    first = len(lines) + 1  # line of the first collector: line first+k belongs to file k
    lines += [f"_mlc_{k} = {{rules = m{k}.mlc_rules, findings = m{k}.mlc_findings}}" for k in range(len(files))]
    lines.append("mlc_out = [" + ", ".join(f"_mlc_{k}" for k in range(len(files))) + "]")
    (Path(tmp) / MAIN).write_text("\n".join(lines) + "\n", encoding="utf-8")
    _WORKSPACES[key] = (tmp, first)
    return tmp, first


def _run(files: list[PolicyFile], plan: dict[str, Any]) -> tuple[bool, list[dict[str, Any]], list[tuple[int, Diagnostic]]]:
    api = _api()
    tmp, first = _workspace(files)
    main = Path(tmp) / MAIN
    args = api.ExecProgramArgs(k_filename_list=[str(main)], args=[api.Argument(name="plan", value=json.dumps(plan, sort_keys=True))])
    try:
        result = api.API().exec_program(args)
        error = result.err_message
    except Exception as exc:  # kcl-lib raises on compile errors
        result, error = None, str(exc) or type(exc).__name__
    if not error and result is not None:
        return True, list(json.loads(result.json_result or "{}").get("mlc_out") or []), []
    return False, [], _attribute(_ANSI.sub("", error), tmp, files, first)


_TITLE = re.compile(r"(?:error\[\w+\]:\s*(\w*)|^(\w+Error)\s*$)", re.MULTILINE)


def _attribute(text: str, tmp: str, files: list[PolicyFile], first: int) -> list[tuple[int, Diagnostic]]:
    """The first error of each failing file, located in that file (KCL cascades errors)."""
    where = re.compile(re.escape(tmp) + r"/(?:m(\d+)/[^:\s]+|" + re.escape(MAIN) + r"):(\d+)(?::(\d+))?(:\s*(.*))?")
    found: dict[int, Diagnostic] = {}
    matches = list(where.finditer(text))
    for n, m in enumerate(matches):
        line, col = int(m.group(2)), int(m.group(3) or 1)
        if m.group(1) is not None:
            k = int(m.group(1))
        else:  # the generated main file: a missing attribute of module k
            k = line - first
            if not 0 <= k < len(files):
                continue
            line, col = 1, 1
        titles = [t.group(1) or t.group(2) for t in _TITLE.finditer(text, 0, m.start())]
        title = titles[-1] if titles else "error"
        segment = text[m.end() : matches[n + 1].start() if n + 1 < len(matches) else len(text)]
        message = (m.group(5) or "").strip() or _annotation(segment)
        if k not in found:
            detail = f"{title}: {message}" if message else title
            found[k] = Diagnostic(Location(files[k].display, line, col), E_BROKEN, f"KCL policy does not evaluate: {scrub(detail)}")
    if not found:
        summary = next((ln.strip() for ln in text.splitlines() if ln.strip()), "unknown error")
        return [(-1, Diagnostic(Location(f.display, 1, 1), E_BROKEN, f"KCL policies do not evaluate: {scrub(summary)}")) for f in files][:1]
    return sorted(found.items())


def _annotation(segment: str) -> str:
    for raw in segment.splitlines():
        m = re.match(r"\s*\|\s*\^*\s*(\S.*)$", raw)
        if m:
            return m.group(1).strip()
    return ""


def _locate_text(f: PolicyFile, needle: str) -> Location:
    for number, line in enumerate(f.text.splitlines(), 1):
        col = line.find(needle)
        if needle and col >= 0:
            return Location(f.display, number, col + 1)
    return Location(f.display, 1, 1)


def _read_output(
    f: PolicyFile, out: dict[str, Any], taken: dict[str, str], components: set[str]
) -> tuple[list[Rule], list[RawFinding], list[Diagnostic]]:
    problems: list[Diagnostic] = []

    def bad(needle: str, message: str) -> None:
        problems.append(Diagnostic(_locate_text(f, needle), E_CONTRACT, message))

    rules: dict[str, Rule] = {}
    declared = out.get("rules")
    if not isinstance(declared, list):
        bad("mlc_rules", "mlc_rules must be a list of {id, title, severity, rationale, fix}")
        declared = []
    for entry in declared:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry.get(k) for k in RULE_FIELDS):
            rid = entry.get("id") if isinstance(entry, dict) else None
            bad(
                rid if isinstance(rid, str) and rid else "mlc_rules",
                f"each mlc_rules entry needs non-empty string fields {', '.join(RULE_FIELDS)}",
            )
            continue
        rid = entry["id"]
        if not RULE_ID.match(rid):
            bad(rid, f'rule id "{scrub(rid)}" must look like MLC-<SEC|IAM|NET|BUD|GOV|REL|COST|USR>-<3 digits>, e.g. MLC-USR-001')
        elif entry["severity"] not in SEVERITIES:
            bad(rid, f'rule {rid}: severity "{scrub(entry["severity"])}" must be error, warning or info')
        elif rid in taken:
            bad(rid, f"rule id {rid} is already declared by {taken[rid]}; pick an unused id (MLC-USR-nnn is reserved for project rules)")
        else:
            taken[rid] = f.display
            rules[rid] = Rule(rid, entry["title"], entry["severity"], entry["rationale"], entry["fix"], True, f.display)
    findings: list[RawFinding] = []
    raw = out.get("findings")
    if not isinstance(raw, list):
        bad("mlc_findings", "mlc_findings must be a list of {rule, message, component?, pointer?, key?}")
        raw = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("message"), str) or not isinstance(entry.get("rule"), str):
            bad("mlc_findings", "each mlc_findings entry needs string fields rule and message")
            continue
        rule = rules.get(entry["rule"])
        component, pointer, key = entry.get("component"), entry.get("pointer"), entry.get("key", False)
        if rule is None:
            bad(entry["rule"], f'finding names rule "{scrub(entry["rule"])}", which this file does not declare in mlc_rules')
        elif component is not None and (not isinstance(component, str) or component not in components):
            bad(
                entry["rule"],
                f'a finding of {rule.id} names component "{scrub(str(component))}", which is not a component of the environment',
            )
        elif pointer is not None and (not isinstance(pointer, str) or (pointer and not pointer.startswith("/"))):
            bad(
                entry["rule"],
                f'a finding of {rule.id} has pointer "{scrub(str(pointer))}"; a pointer is a JSON pointer like /components/x/replicas',
            )
        elif not isinstance(key, bool):
            bad(entry["rule"], f"a finding of {rule.id} has a non-boolean key")
        else:
            findings.append(RawFinding(rule, component, pointer or None, key, scrub(entry["message"])))
    return list(rules.values()), findings, problems
