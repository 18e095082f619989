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

Isolation: kcl-lib never runs in mlc's own process. One evaluator child per mlc process
(`_Evaluator`, compiler/policy/kcl_child.py) serves every environment of the run, with
- a wall-clock timeout per evaluation (MLC_POLICY_TIMEOUT seconds, default 20): the child
  is killed when it expires;
- a memory limit (MLC_POLICY_MEMORY_MB, default 2048: RLIMIT_AS set in the child);
- a scrubbed environment (HOME/TMPDIR in a private folder, PATH, a locale; nothing else),
  so `file.read_env` sees no CI secret; mlc's own processes are made non-dumpable, so
  their /proc/<pid>/environ is unreadable too;
- death with its parent (PR_SET_PDEATHSIG), so a killed run leaves no evaluator behind.
A crash (e.g. SIGSEGV from unbounded recursion), a timeout or memory exhaustion is
MLC-E090 at the policy file: the project's file when one is evaluated, else each project
file is evaluated alone to find it. A file found broken that way is remembered for the
rest of the process, so later environments do not wait for it again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import Diagnostic, Location
from compiler.core.procs import hide_environment, owned_tempdir
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
DEFAULT_TIMEOUT = 20.0  # seconds per evaluation (one environment); MLC_POLICY_TIMEOUT overrides
DEFAULT_MEMORY_MB = 2048  # address-space limit of the evaluator; MLC_POLICY_MEMORY_MB overrides
TEMP_PREFIX = "mlc-kcl-"


@dataclass(frozen=True)
class PolicyFile:
    path: Path
    display: str  # project-relative path shown in messages, e.g. policies/owner.k
    text: str
    problem: tuple[str, str] | None = None  # (code, message): not read (too large, not UTF-8)


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
    """Built-in .k files, then the project's policies/*.k (sorted; symlinks are not followed).
    A project file larger than MAX_FILE_BYTES or not UTF-8 is kept with `problem` set (and
    no text): `evaluate` reports it (MLC-E001 / MLC-E002) instead of running it."""
    files = [PolicyFile(p, f"{BUILTIN_DISPLAY}/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(BUILTIN_DIR.glob("*.k"))]
    if policies_dir is not None and policies_dir.is_dir():
        for p in sorted(policies_dir.glob("*.k")):
            if p.is_file() and not p.is_symlink():
                files.append(_read_policy(p, f"{policies_dir.name}/{p.name}"))
    return files


def _read_policy(path: Path, display: str) -> PolicyFile:
    from compiler.frontend.loader import MAX_FILE_BYTES

    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return PolicyFile(path, display, "", ("MLC-E001", f"cannot read policy file: {exc.strerror}"))
    if len(raw) > MAX_FILE_BYTES:
        return PolicyFile(path, display, "", ("MLC-E001", f"policy file is larger than the limit of {MAX_FILE_BYTES} bytes"))
    try:
        return PolicyFile(path, display, raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return PolicyFile(path, display, "", ("MLC-E002", f"policy file is not valid UTF-8 (byte {exc.start})"))


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


def _setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def policy_timeout() -> float:
    return _setting("MLC_POLICY_TIMEOUT", DEFAULT_TIMEOUT)


def policy_memory_mb() -> int:
    return int(_setting("MLC_POLICY_MEMORY_MB", DEFAULT_MEMORY_MB))


class EvaluatorFailed(Exception):
    """The evaluator child did not answer: `kind` is timeout, memory or crash."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind, self.detail = kind, detail


_TEMP_ROOT: dict[int, str] = {}  # pid -> that process's temporary folder (workspaces, the child's HOME)


def temp_root() -> str:
    """This process's private temporary folder, `mlc-kcl-<pid>-*`: removed at exit (pool
    workers included), and by any later run if this process is killed."""
    root = _TEMP_ROOT.get(os.getpid())
    if root is not None and os.path.isdir(root):
        return root
    from multiprocessing.util import Finalize

    root = _TEMP_ROOT[os.getpid()] = owned_tempdir(TEMP_PREFIX)
    Finalize(None, shutil.rmtree, args=(root,), kwargs={"ignore_errors": True}, exitpriority=0)
    return root


class _Evaluator:
    """The evaluator child of this process (see the module docstring)."""

    def __init__(self) -> None:
        self.proc: Any = None
        self.pid = 0  # of the process that started the child (a forked worker starts its own)
        self.log: Any = None

    def _start(self) -> None:
        import subprocess
        import tempfile
        from multiprocessing.util import Finalize

        hide_environment()
        home = os.path.join(temp_root(), "home")
        os.makedirs(home, exist_ok=True)
        env = {"HOME": home, "TMPDIR": home, "PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        boot = f"import sys; sys.path.insert(0, {package_parent!r}); from compiler.policy.kcl_child import main; main()"
        self.log = tempfile.TemporaryFile(dir=home)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot, str(os.getpid()), str(policy_memory_mb())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            cwd=home,
            close_fds=True,
        )
        self.pid = os.getpid()
        Finalize(self, _Evaluator.stop, args=(self,), exitpriority=1)

    def stop(self) -> None:
        if self.proc is not None and self.pid == os.getpid():
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def run(self, main: str, plan: str, timeout: float) -> tuple[str, str]:
        """(json result, error text) of one evaluation; EvaluatorFailed when the child
        times out, crashes or runs out of memory (it is then stopped and restarted next time)."""
        import select
        import time

        if self.proc is None or self.pid != os.getpid() or self.proc.poll() is not None:
            self.proc = None if self.pid != os.getpid() else self.proc
            if self.proc is not None:
                self.stop()
            self._start()
        proc = self.proc
        from compiler.policy.kcl_child import pack

        deadline = time.monotonic() + timeout
        try:
            proc.stdin.write(pack(main.encode("utf-8"), plan.encode("utf-8")))
            proc.stdin.flush()
        except OSError:
            raise self._failed() from None
        fd = proc.stdout.fileno()
        buffer = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise EvaluatorFailed("timeout", f"did not finish within {timeout:g} s (an endless loop?)")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise self._failed()
            buffer += chunk
            answer = _unpack(buffer)
            if answer is not None:
                return answer

    def _failed(self) -> EvaluatorFailed:
        import signal

        proc = self.proc
        code = proc.wait() if proc is not None else None
        tail = ""
        if self.log is not None:
            self.log.seek(0, os.SEEK_END)
            self.log.seek(max(0, self.log.tell() - 4096))
            tail = self.log.read().decode("utf-8", "replace")
        self.stop()
        memory = any(hint in tail for hint in ("memory allocation", "MemoryError", "out of memory", "Cannot allocate memory"))
        if memory:
            return EvaluatorFailed("memory", f"exceeded the memory limit of {policy_memory_mb()} MiB")
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = "; unbounded recursion?" if "overflow" in tail or name == "SIGSEGV" else ""
            return EvaluatorFailed("crash", f"crashed the evaluator ({name}{hint})")
        return EvaluatorFailed("crash", f"crashed the evaluator (exit status {code})")


def _unpack(buffer: bytes) -> tuple[str, str] | None:
    """The two strings of a complete answer in `buffer`, or None while it is incomplete."""
    parts, at = [], 0
    for _ in range(2):
        if len(buffer) < at + 4:
            return None
        size = struct.unpack(">I", buffer[at : at + 4])[0]
        if len(buffer) < at + 4 + size:
            return None
        parts.append(buffer[at + 4 : at + 4 + size].decode("utf-8"))
        at += 4 + size
    return parts[0], parts[1]


_EVALUATOR = _Evaluator()
_BROKEN: dict[tuple[str, str], Diagnostic] = {}  # (display, text) -> why, for the rest of the process


def evaluate(files: list[PolicyFile], plan: dict[str, Any], reserved: dict[str, str], components: set[str]) -> KclResult:
    """Evaluate `files` on `plan`. `reserved`: rule id -> where it is already declared."""
    diagnostics: list[Diagnostic] = []
    runnable = []
    for f in files:
        missing = [name for name, pattern in _DEFINES.items() if not pattern.search(f.text)]
        known = _BROKEN.get((f.display, f.text))
        if f.problem is not None:
            diagnostics.append(Diagnostic(Location(f.display, 1, 1), *f.problem))
        elif known is not None:
            diagnostics.append(known)
        elif missing:
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
    Inside this process's temporary folder (`temp_root`), removed when the process exits,
    pool workers included, and by a later run when the process was killed."""
    import tempfile

    key = (os.getpid(), *((f.path.name, f.text) for f in files))
    found = _WORKSPACES.get(key)
    if found is not None and os.path.isdir(found[0]):
        return found
    tmp = tempfile.mkdtemp(prefix="ws-", dir=temp_root())
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
    text = json.dumps(plan, sort_keys=True)
    try:
        return _run_text(files, text)
    except EvaluatorFailed as failure:
        return False, [], _blame(files, text, failure)


def _run_text(files: list[PolicyFile], plan: str) -> tuple[bool, list[dict[str, Any]], list[tuple[int, Diagnostic]]]:
    tmp, first = _workspace(files)
    result, error = _EVALUATOR.run(str(Path(tmp) / MAIN), plan, policy_timeout())
    if not error:
        return True, list(json.loads(result or "{}").get("mlc_out") or []), []
    return False, [], _attribute(_ANSI.sub("", error), tmp, files, first)


def _blame(files: list[PolicyFile], plan: str, failure: EvaluatorFailed) -> list[tuple[int, Diagnostic]]:
    """The project file(s) that made the evaluator fail: the only one, else each alone."""

    def diagnostic(f: PolicyFile, why: EvaluatorFailed) -> Diagnostic:
        found = Diagnostic(Location(f.display, 1, 1), E_BROKEN, f"KCL policy {why.detail}; its evaluation was stopped")
        _BROKEN[(f.display, f.text)] = found
        return found

    own = [k for k, f in enumerate(files) if not f.display.startswith(BUILTIN_DISPLAY + "/")]
    if len(own) == 1:
        return [(own[0], diagnostic(files[own[0]], failure))]
    for k in own:
        try:
            _run_text([files[k]], plan)
        except EvaluatorFailed as alone:
            return [(k, diagnostic(files[k], alone))]
    first = files[own[0]] if own else files[0]
    return [(-1, Diagnostic(Location(first.display, 1, 1), E_BROKEN, f"KCL policies {failure.detail}; their evaluation was stopped"))]


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
