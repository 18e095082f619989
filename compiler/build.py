"""The compile driver: selection, cache, parallel workers, and the all-or-nothing write.

Order of events for `mlc compile`:
1. environments whose inputs and outputs are unchanged are skipped (compiler.output.cache);
2. the rest are compiled in worker processes (chunks, all cores): load, validate,
   resolve, plan, check, emit, serialise; each unblocked environment is staged aside;
3. if ANY input error was found, every staged tree is discarded: out/ is untouched (exit 2);
4. otherwise the staged trees are flushed to disk together (writer.make_durable), then
   swapped in one by one (each atomic) and out/ is fsynced once; environments with
   error-level findings are left as they were (exit 1), deleted environments are pruned.

All of it runs holding the out/ lock (compiler.output.lock): exclusive for a compile,
shared for --check. A worker process that dies (out of memory, killed) is detected
(BrokenProcessPool) and ends the run with WorkerDied; out/ is then left as it was.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from compiler.core.diagnostics import Diagnostic, InputError, did_you_mean
from compiler.frontend.project import Project, UsageError
from compiler.output.writer import (
    PLATFORM_DIR,
    STAGING_PREFIX,
    EnvWrite,
    WriteError,
    carry_foreign,
    diff_env,
    leftovers,
    make_durable,
    prune_env,
    recover,
    remove_tree,
    repository_relpath,
    serialise,
    stage_env,
    stale_environments,
    swap_in,
    sync_dir,
    top_level_drift,
    write_top_level,
)
from compiler.pipeline import Mode

if TYPE_CHECKING:
    from compiler.plan.cost import CostEstimate

ATLANTIS_FILE = "atlantis.yaml"
PARALLEL_THRESHOLD = 8  # fewer environments than this compile in-process


@dataclass
class EnvOutcome:
    env: str
    files: tuple[str, ...] = ()  # input files of the env's chain
    findings: list = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    blocked: bool = False
    staged: str | None = None  # staging directory name inside out/
    report: EnvWrite | None = None  # --check: the drift found
    written: list[str] = field(default_factory=list)  # files of the new tree
    content: dict[str, bytes] | None = None  # Mode.MEMORY: the files themselves
    owners: dict[str, str | None] = field(default_factory=dict)  # Mode.MEMORY: path -> component
    cost: CostEstimate | None = None
    stats: dict[str, list[int]] = field(default_factory=dict)  # out/ file -> [size, mtime_ns, ctime_ns, inode], for the cache
    inputs: dict[str, str] = field(default_factory=dict)  # input file -> sha256 of the bytes this compile parsed
    cacheable: bool = True  # False: it reads more than its files (an overrides.manifests folder)
    abstract: bool = False  # a parent only: validated, never compiled
    apply_order: int | None = None  # gitops.apply_order (out/atlantis.yaml); None when not compiled
    max_increase_usd: float | None = None  # budget.max_increase_usd: the cost gate of mlc diff
    platform: dict | None = None  # its platform needs (platform.json), when emitted in this run
    platform_where: dict = field(default_factory=dict)  # cluster-wide setting -> Location of the field that sets it


class WorkerDied(Exception):
    """A worker process ended without an answer (killed, out of memory); nothing was written."""


@dataclass
class BuildResult:
    outcomes: list[EnvOutcome]
    diagnostics: list[Diagnostic]
    writes: list[EnvWrite]
    skipped: list[str]
    skipped_parents: int = 0  # of `skipped`, abstract parents (never compiled, only validated)
    leftovers: list[str] = field(default_factory=list)  # --check: staging / old folders found in out/
    kept: list[str] = field(default_factory=list)  # staging / old folders of a run that still runs

    @property
    def findings(self) -> list:
        from compiler.policy.engine import sort_key

        return sorted((f for o in self.outcomes for f in o.findings), key=sort_key)

    @property
    def blocked(self) -> list[str]:
        return sorted(o.env for o in self.outcomes if o.blocked)


def compile_one(project: Project, env_name: str, today: date, mode: Mode, token: str) -> EnvOutcome:
    """Compile one environment (pipeline.compile_environment) and stage, diff or keep its
    files as `mode` says (Mode.VALIDATE: every input check of a compile, emission included,
    even when findings would block it; nothing is kept). An abstract environment is only
    validated. Input problems land in `diagnostics`.
    """
    from compiler.pipeline import compile_environment
    from compiler.targets.overrides import manifest_folders

    outcome = EnvOutcome(env_name)
    try:
        if project.is_abstract(env_name):
            # a parent only: its own file is validated (by is_abstract), nothing is emitted
            path = project.env_files()[env_name]
            outcome.files = (project.relpath(path),)
            outcome.inputs = {outcome.files[0]: project.document(env_name, path).sha256}
            outcome.abstract = True
            return outcome
        (env,) = project.load_environments([env_name])
        outcome.files = env.files
        outcome.inputs = {doc.path: doc.sha256 for doc in env.documents}
        # a manifests folder is not a file: an environment that copies one is never cached
        outcome.cacheable = not manifest_folders(env.spec)
        outcome.apply_order = int((env.spec.get("gitops") or {}).get("apply_order", 0))
        outcome.max_increase_usd = (env.spec.get("budget") or {}).get("max_increase_usd")
        policies = project.policies_dir if project.policies_dir.is_dir() else None
        result = compile_environment(env, policies, today, mode, project.root)
    except InputError as exc:
        outcome.diagnostics = exc.diagnostics
        return outcome
    outcome.findings = result.findings
    outcome.cost = result.compiled.cost
    outcome.blocked = result.blocked
    artifacts = result.artifacts
    if artifacts is None or mode is Mode.VALIDATE:
        return outcome
    from compiler.targets.platform.needs import NEEDS_FILE, setting_pointer

    outcome.platform = next(a.content for a in artifacts if a.path == NEEDS_FILE)
    outcome.platform_where = {key: env.locate(setting_pointer(key)) for key in outcome.platform["settings"]}
    files = serialise(artifacts)
    outcome.written = sorted(files)
    if mode is Mode.MEMORY:
        outcome.content = files
        outcome.owners = {a.path: a.component for a in artifacts}
        return outcome
    if mode is Mode.WRITE:  # before reading them: an edit after this changes ctime, the cache sees it
        outcome.stats = _stat_outputs(project.out_dir / env_name, files)
    outcome.report = diff_env(project.out_dir, env_name, files)
    if mode is Mode.WRITE and not outcome.report.unchanged:
        outcome.stats = {}
        project.out_dir.mkdir(parents=True, exist_ok=True)
        staging = stage_env(project.out_dir, env_name, files, token, outcome.stats)
        carry_foreign(project.out_dir, env_name, staging, outcome.report.foreign)
        outcome.staged = staging.name
    return outcome


def _stat_outputs(env_dir: os.PathLike[str], files: dict[str, bytes]) -> dict[str, list[int]]:
    prefix = os.path.join(env_dir, "")
    stats = {}
    for rel in files:
        try:
            info = os.lstat(prefix + rel)
        except OSError:
            continue
        stats[rel] = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
    return stats


# --- worker processes ----------------------------------------------------------------
_WORKER_PROJECT: Project | None = None


def _worker_init(root: str, out: str, parent: int) -> None:
    from compiler.core.procs import die_with_parent
    from compiler.output.lock import release_inherited

    global _WORKER_PROJECT
    die_with_parent(parent)  # a killed run leaves no worker behind
    release_inherited()  # the run's main process alone holds the out/ lock
    _WORKER_PROJECT = Project.at(root, out)


def _worker_run(args: tuple[list[str], str, Mode, str]) -> list[EnvOutcome]:
    names, today, mode, token = args
    assert _WORKER_PROJECT is not None
    return [compile_one(_WORKER_PROJECT, name, date.fromisoformat(today), mode, token) for name in names]


def _chunks(names: list[str], jobs: int) -> Iterator[list[str]]:
    # small chunks: the last one decides when the pool finishes (tail ~ chunk x 20 ms/env)
    size = max(1, min(16, len(names) // (jobs * 8) or 1))
    for start in range(0, len(names), size):
        yield names[start : start + size]


Progress = Callable[[int, int], None]  # (environments done, total)


def run_many(
    project: Project, names: list[str], today: date, mode: Mode, jobs: int | None = None, token: str = "", progress: Progress | None = None
) -> list[EnvOutcome]:
    """compile_one over `names`, in parallel when it pays; outcomes in name order."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(names) < PARALLEL_THRESHOLD:
        done: list[EnvOutcome] = []
        for name in names:
            done.append(compile_one(project, name, today, mode, token))
            if progress:
                progress(len(done), len(names))
        return done
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from compiler.core.procs import hide_environment

    hide_environment()  # before forking: neither this process nor its workers expose their environ
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    outcomes: list[EnvOutcome] = []
    # ProcessPoolExecutor, not multiprocessing.Pool: a worker that dies (SIGKILL, out of
    # memory) breaks the executor and every pending future fails, where Pool waits forever
    pool = ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_worker_init, initargs=(str(project.root), str(project.out_dir), os.getpid())
    )
    chunks = list(_chunks(names, jobs))
    try:
        pending = {pool.submit(_worker_run, (chunk, today.isoformat(), mode, token)): chunk for chunk in chunks}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pending.pop(future)
                try:
                    outcomes.extend(future.result())
                except BrokenProcessPool:
                    compiled = {o.env for o in outcomes}
                    unfinished = [n for n in names if n not in compiled]
                    shown = ", ".join(unfinished[:5]) + (", ..." if len(unfinished) > 5 else "")
                    raise WorkerDied(
                        f"a worker process died (killed, or out of memory) before these environments were compiled: {shown}"
                    ) from None
                if progress:
                    progress(len(outcomes), len(names))
    except BaseException:  # a dead worker, an interrupt, an error: stop the others now, never wait for them
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)  # workers exit normally, so their exit handlers (multiprocessing finalizers) run
    return sorted(outcomes, key=lambda o: o.env)


def _names(project: Project, selected: list[str] | None) -> list[str]:
    from compiler.core.diagnostics import Location
    from compiler.frontend.project import MAX_ENVIRONMENTS

    known = project.env_files()
    if len(known) > MAX_ENVIRONMENTS:  # before any file is read
        where = Location(project.relpath(project.env_dir), 1, 1)
        raise InputError([Diagnostic(where, "MLC-E070", f"{len(known)} environment files; the limit is {MAX_ENVIRONMENTS}")])
    if not selected:
        return sorted(known)
    for name in selected:
        if name not in known:
            valid = sorted(known)
            raise UsageError(f'unknown environment "{name}"{did_you_mean(name, valid)}; known: {", ".join(valid) or "(none)"}')
        if project.is_abstract(name):
            raise UsageError(f'environment "{name}" is abstract (a parent only) and is never compiled')
    return list(dict.fromkeys(selected))


def compile_project(
    project: Project,
    selected: list[str] | None,
    today: date,
    check: bool = False,
    use_cache: bool = True,
    jobs: int | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[list[int]], None] | None = None,
) -> BuildResult:
    """Compile (or --check) the selected environments; see the module docstring."""
    from compiler.output.lock import locked

    if project.out_dir.is_symlink():  # e.g. planted in the repository: never write through it
        raise UsageError(
            f"the output directory {project.relpath(project.out_dir)} is a symbolic link; "
            "mlc writes only into a real directory (remove the link, or pass the real path with --out)"
        )
    names = _names(project, selected)  # usage errors before waiting for the lock
    with locked(project.out_dir, exclusive=not check, on_wait=on_wait):
        return _compile_locked(project, names, selected, today, check, use_cache, jobs, progress)


def _compile_locked(
    project: Project,
    names: list[str],
    selected: list[str] | None,
    today: date,
    check: bool,
    use_cache: bool,
    jobs: int | None,
    progress: Progress | None,
) -> BuildResult:
    from compiler.output.cache import Cache

    token = uuid.uuid4().hex[:12]
    kept = [] if check else recover(project.out_dir)
    # --check reuses the cache too: an environment whose inputs hash as recorded and whose
    # out/ files are as written needs no compile to know out/ is up to date
    cache = Cache.open(project.root, project.out_dir, project.schema_path, project.policies_dir, today.isoformat()) if use_cache else None
    skipped = [n for n in names if cache is not None and cache.fresh(n, project.out_dir)]
    parents = sum(1 for n in skipped if cache is not None and not cache.envs[n]["outputs"])  # a parent writes nothing
    todo = [n for n in names if n not in skipped]
    outcomes: list[EnvOutcome] = []
    written: list[str] = []  # environments replaced or pruned so far
    try:
        try:
            outcomes = run_many(project, todo, today, Mode.CHECK if check else Mode.WRITE, jobs, token, progress)
        except (OSError, WriteError) as exc:  # staging failed (disk full...)
            raise WriteError(str(exc) if isinstance(exc, WriteError) else f"{exc.strerror or exc}: {exc.filename or ''}") from None
        diagnostics = sorted({d for o in outcomes for d in o.diagnostics})
        if diagnostics:
            return BuildResult(outcomes, diagnostics, [], skipped, parents)
        writes = [o.report for o in outcomes if o.report is not None]
        try:
            platform_files = platform_output(project, outcomes)
        except InputError as exc:
            return BuildResult(outcomes, sorted(exc.diagnostics), [], skipped, parents)
        try:
            platform_report = diff_env(project.out_dir, PLATFORM_DIR, platform_files)
        except OSError as exc:  # out/_platform unreadable (EACCES, EIO; read_manifest raises): nothing written yet
            raise WriteError(f"{exc.strerror or exc}: {exc.filename or ''}") from None
        stale = stale_environments(project.out_dir, set(project.env_files())) if not selected else []
        # out/atlantis.yaml lists every environment, so only a run over all of them rewrites it
        atlantis = _atlantis(project, names, outcomes, cache) if not selected else None
        if check:
            writes += [diff_env(project.out_dir, env, {}) for env in stale]
            if not platform_report.unchanged:
                writes.append(platform_report)
            if atlantis is not None:
                writes += [report for report in [top_level_drift(project.out_dir, ATLANTIS_FILE, atlantis)] if not report.unchanged]
            return BuildResult(outcomes, [], writes, skipped, parents, leftovers=leftovers(project.out_dir))
        current: tuple[str, int | None] | None = None  # (environment being replaced, inode of its new tree)
        try:
            if platform_files and not platform_report.unchanged:
                project.out_dir.mkdir(parents=True, exist_ok=True)
                platform_tree = stage_env(project.out_dir, PLATFORM_DIR, platform_files, token)
                carry_foreign(project.out_dir, PLATFORM_DIR, platform_tree, platform_report.foreign)
                outcomes.append(EnvOutcome(PLATFORM_DIR, staged=platform_tree.name, report=platform_report))
            staged = [project.out_dir / o.staged for o in outcomes if o.staged is not None]
            make_durable(project.out_dir, staged)  # every staged byte on disk before any swap
            for outcome in outcomes:
                if outcome.staged is not None:
                    tree = project.out_dir / outcome.staged
                    current = (outcome.env, os.lstat(tree).st_ino)
                    swap_in(project.out_dir, outcome.env, tree, sync=False)
                    outcome.staged = None
                    written.append(outcome.env)
                    current = None
            if staged:
                sync_dir(project.out_dir)  # the swaps, durable together
            outcomes = [o for o in outcomes if o.env != PLATFORM_DIR]  # swapped in; not an environment
            if platform_files and not platform_report.unchanged:
                writes.append(platform_report)
            if not platform_files and not platform_report.unchanged:
                current = (PLATFORM_DIR, None)
                writes.append(prune_env(project.out_dir, PLATFORM_DIR, token))
                current = None
            for env in stale:
                current = (env, None)
                report = prune_env(project.out_dir, env, token)
                writes.append(report)
                if not report.unchanged:
                    written.append(env)
                current = None
            if atlantis is not None:
                report = top_level_drift(project.out_dir, ATLANTIS_FILE, atlantis)
                if not report.unchanged:
                    write_top_level(project.out_dir, ATLANTIS_FILE, atlantis, token)
                    writes.append(report)
        except (OSError, WriteError, KeyboardInterrupt) as exc:
            if current is not None and _replaced(project, *current):
                written.append(current[0])  # it failed after its swap (cleaning up the old tree)
            if isinstance(exc, KeyboardInterrupt):
                raise Interrupted(written) from None
            raise WriteError(str(exc) if isinstance(exc, WriteError) else f"{exc.strerror or exc}: {exc.filename or ''}", written) from None
    finally:
        _discard(project, outcomes, token)  # this run's staged trees that were not swapped in
    if cache is not None:
        for outcome in outcomes:
            if outcome.blocked or not outcome.cacheable:
                cache.forget(outcome.env)
            else:  # abstract parents too: no outputs, their file's key only
                cache.record(outcome.env, outcome.inputs, project.out_dir, outcome.written, outcome.stats, outcome.apply_order)
            if not outcome.diagnostics and outcome.cacheable:  # `mlc check` reuses them
                cache.record_findings(outcome.env, outcome.inputs, outcome.abstract, outcome.findings)
        for env in stale:
            cache.forget(env)
        cache.save()
    return BuildResult(outcomes, [], writes, skipped, parents, kept=kept)


def _atlantis(project: Project, names: list[str], outcomes: list[EnvOutcome], cache: object | None) -> bytes | None:
    """out/atlantis.yaml for every environment that has Terraform in out/ (or gets it now)."""
    from compiler.targets.atlantis import render

    orders: dict[str, int] = {}
    compiled = {o.env: o for o in outcomes}
    for name in names:
        outcome = compiled.get(name)
        if outcome is not None:
            order = outcome.apply_order
            present = outcome.written or (project.out_dir / name / "terraform").is_dir()
        else:  # skipped: fresh in the cache, so out/<env> is as recorded
            entry = cache.envs.get(name, {}) if cache is not None else {}  # type: ignore[attr-defined]
            order, present = entry.get("apply_order"), bool(entry.get("outputs"))
        if order is not None and present:
            orders[name] = order
    if not orders and not (project.out_dir / ATLANTIS_FILE).exists():
        return None  # nothing to deliver, and nothing to update: out/ stays as it was
    return render(orders, repository_relpath(project.out_dir, project.root))


def platform_output(project: Project, outcomes: list[EnvOutcome]) -> dict[str, bytes]:
    """The bytes of out/_platform/ from the platform needs of every environment: those compiled
    in this run from their outcome, the others from their out/<env>/platform.json (which the
    cache keeps equal to a fresh compile). InputError when environments on one cluster conflict."""
    import json

    from compiler.targets.platform.emit import cluster_conflicts, emit_platform
    from compiler.targets.platform.needs import NEEDS_FILE, well_formed

    fresh = {o.env: o for o in outcomes if o.platform is not None}
    recorded: dict[str, dict] = {}  # every environment's platform.json in out/ before this run
    for env in sorted(project.env_files()):
        path = project.out_dir / env / NEEDS_FILE
        if path.is_file() and not path.is_symlink():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if well_formed(data):
                recorded[env] = data
    needs: dict[str, dict] = {}
    for env in sorted(project.env_files()):
        if env in fresh:
            needs[env] = fresh[env].platform  # type: ignore[assignment]
        elif env in recorded:
            needs[env] = recorded[env]
    problems = cluster_conflicts(needs, {env: o.platform_where for env, o in fresh.items()}, recorded)
    if problems:
        raise InputError(problems)
    artifacts = emit_platform(needs)
    return serialise(artifacts) if artifacts else {}


def _replaced(project: Project, env: str, new_inode: int | None) -> bool:
    """After a failure: is out/<env> now the new tree (inode `new_inode`), or, for a prune
    (None), are mlc's files gone?"""
    from compiler.output.writer import read_manifest

    env_dir = project.out_dir / env
    if new_inode is None:
        return not read_manifest(env_dir)
    try:
        return os.lstat(env_dir).st_ino == new_inode
    except OSError:
        return False


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while swapping: `written` environments were replaced, the rest left as they were."""

    def __init__(self, written: list[str]):
        super().__init__()
        self.written = sorted(written)


def _discard(project: Project, outcomes: list[EnvOutcome], token: str) -> None:
    """Remove this run's staging trees: those of `outcomes` not swapped in, and any a
    failing or interrupted worker left (their names carry the run's token)."""
    for outcome in outcomes:
        if outcome.staged:
            remove_tree(project.out_dir / outcome.staged)
            outcome.staged = None
    if project.out_dir.is_dir() and not project.out_dir.is_symlink():
        for entry in project.out_dir.glob(f"{STAGING_PREFIX}*-{token}-*"):
            remove_tree(entry)


def check_policies(
    project: Project, selected: list[str] | None, today: date, jobs: int | None = None, use_cache: bool = True
) -> BuildResult:
    """Policies only (`mlc check`): nothing is emitted or written. An environment whose inputs
    hash as when its findings were recorded (compiler.output.cache) is not compiled again:
    its findings are read from the cache; `skipped` lists those environments."""
    from compiler.output.cache import Cache

    names = _names(project, selected)
    cache = None
    if use_cache:  # only the findings are read, never the outputs' state
        cache = Cache.open(project.root, project.out_dir, project.schema_path, project.policies_dir, today.isoformat(), outputs=False)
    reused: list[EnvOutcome] = []
    todo = []
    for name in names:
        found = cache.cached_findings(name) if cache is not None else None
        if found is None:
            todo.append(name)
            continue
        files, abstract, findings = found
        reused.append(EnvOutcome(name, files, findings, blocked=any(f.blocking for f in findings), abstract=abstract))
    outcomes = run_many(project, todo, today, Mode.POLICY, jobs)
    diagnostics = sorted({d for o in outcomes for d in o.diagnostics})
    if cache is not None:
        for outcome in outcomes:
            if not outcome.diagnostics and outcome.cacheable:
                cache.record_findings(outcome.env, outcome.inputs, outcome.abstract, outcome.findings)
        cache.save()
    every = sorted(outcomes + reused, key=lambda o: o.env)
    return BuildResult(every, diagnostics, [], [o.env for o in reused], sum(1 for o in reused if o.abstract))
