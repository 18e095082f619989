"""The compile driver: selection, cache, parallel workers, and the all-or-nothing write.

Order of events for `mlc compile`:
1. environments whose inputs and outputs are unchanged are skipped (compiler.output.cache);
2. the rest are compiled in worker processes (chunks, all cores): load, validate,
   resolve, plan, check, emit, serialise; each unblocked environment is staged aside;
3. if ANY input error was found, every staged tree is discarded: out/ is untouched (exit 2);
4. otherwise the staged trees are flushed to disk together (writer.make_durable), then
   swapped in one by one (each atomic) and out/ is fsynced once; environments with
   error-level findings are left as they were (exit 1), deleted environments are pruned.
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
    make_durable,
    prune_env,
    recover,
    remove_tree,
    serialise,
    stage_env,
    stale_environments,
    swap_in,
    sync_dir,
)
from compiler.pipeline import Mode

if TYPE_CHECKING:
    from compiler.plan.cost import CostEstimate

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
    stats: dict[str, list[int]] = field(default_factory=dict)  # staged file -> [size, mtime_ns], for the cache
    platform: dict | None = None  # its platform needs (platform.json), when emitted in this run
    platform_where: dict = field(default_factory=dict)  # cluster-wide setting -> Location of the field that sets it


@dataclass
class BuildResult:
    outcomes: list[EnvOutcome]
    diagnostics: list[Diagnostic]
    writes: list[EnvWrite]
    skipped: list[str]

    @property
    def findings(self) -> list:
        from compiler.policy.engine import sort_key

        return sorted((f for o in self.outcomes for f in o.findings), key=sort_key)

    @property
    def blocked(self) -> list[str]:
        return sorted(o.env for o in self.outcomes if o.blocked)


def compile_one(project: Project, env_name: str, today: date, mode: Mode, token: str) -> EnvOutcome:
    """Compile one environment (pipeline.compile_environment) and stage, diff or keep its
    files as `mode` says. An abstract environment is only validated. Input problems land
    in `diagnostics`.
    """
    from compiler.pipeline import compile_environment
    from compiler.targets.overrides import manifest_folders

    outcome = EnvOutcome(env_name)
    try:
        if project.is_abstract(env_name):
            # a parent only: its own file is validated (by is_abstract), nothing is emitted
            outcome.files = (project.relpath(project.env_files()[env_name]),)
            return outcome
        (env,) = project.load_environments([env_name])
        # a manifests folder is not a file: an environment that copies one is never cached
        outcome.files = env.files + manifest_folders(env.spec)
        policies = project.policies_dir if project.policies_dir.is_dir() else None
        result = compile_environment(env, policies, today, mode, project.root)
    except InputError as exc:
        outcome.diagnostics = exc.diagnostics
        return outcome
    outcome.findings = result.findings
    outcome.cost = result.compiled.cost
    outcome.blocked = result.blocked
    artifacts = result.artifacts
    if artifacts is None:
        return outcome
    from compiler.targets.platform.needs import NEEDS_FILE, SETTING_POINTERS

    outcome.platform = next(a.content for a in artifacts if a.path == NEEDS_FILE)
    outcome.platform_where = {key: env.locate(pointer) for key, pointer in SETTING_POINTERS.items()}
    files = serialise(artifacts)
    outcome.written = sorted(files)
    if mode is Mode.MEMORY:
        outcome.content = files
        outcome.owners = {a.path: a.component for a in artifacts}
        return outcome
    outcome.report = diff_env(project.out_dir, env_name, files)
    if mode is Mode.WRITE and not outcome.report.unchanged:
        project.out_dir.mkdir(parents=True, exist_ok=True)
        staging = stage_env(project.out_dir, env_name, files, token, outcome.stats)
        carry_foreign(project.out_dir, env_name, staging, outcome.report.foreign)
        outcome.staged = staging.name
    return outcome


# --- worker processes ----------------------------------------------------------------
_WORKER_PROJECT: Project | None = None


def _worker_init(root: str, out: str) -> None:
    global _WORKER_PROJECT
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

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    outcomes: list[EnvOutcome] = []
    pool = context.Pool(jobs, initializer=_worker_init, initargs=(str(project.root), str(project.out_dir)))
    try:
        for batch in pool.imap_unordered(_worker_run, [(chunk, today.isoformat(), mode, token) for chunk in _chunks(names, jobs)]):
            outcomes.extend(batch)
            if progress:
                progress(len(outcomes), len(names))
        pool.close()
        pool.join()  # workers exit normally, so their exit handlers (multiprocessing finalizers) run
    finally:
        pool.terminate()
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
) -> BuildResult:
    """Compile (or --check) the selected environments; see the module docstring."""
    from compiler.output.cache import Cache

    token = uuid.uuid4().hex[:12]
    if project.out_dir.is_symlink():  # e.g. planted in the repository: never write through it
        raise UsageError(
            f"the output directory {project.relpath(project.out_dir)} is a symbolic link; "
            "mlc writes only into a real directory (remove the link, or pass the real path with --out)"
        )
    if not check:
        recover(project.out_dir)
    names = _names(project, selected)
    cache = (
        Cache.open(project.root, project.out_dir, project.schema_path, project.policies_dir, today.isoformat())
        if use_cache and not check
        else None
    )
    skipped = [n for n in names if cache is not None and cache.fresh(n, project.out_dir)]
    todo = [n for n in names if n not in skipped]
    try:
        outcomes = run_many(project, todo, today, Mode.CHECK if check else Mode.WRITE, jobs, token, progress)
    except (OSError, WriteError) as exc:  # staging failed (disk full...): drop this run's staged trees
        for entry in project.out_dir.glob(f"{STAGING_PREFIX}*-{token}") if project.out_dir.is_dir() else []:
            remove_tree(entry)
        raise WriteError(str(exc) if isinstance(exc, WriteError) else f"{exc.strerror or exc}: {exc.filename or ''}") from None
    diagnostics = sorted({d for o in outcomes for d in o.diagnostics})
    if diagnostics:
        _discard(project, outcomes)
        return BuildResult(outcomes, diagnostics, [], skipped)
    writes = [o.report for o in outcomes if o.report is not None]
    try:
        platform_files = platform_output(project, outcomes)
    except InputError as exc:
        _discard(project, outcomes)
        return BuildResult(outcomes, sorted(exc.diagnostics), [], skipped)
    platform_report = diff_env(project.out_dir, PLATFORM_DIR, platform_files)
    stale = stale_environments(project.out_dir, set(project.env_files())) if not selected else []
    if check:
        writes += [diff_env(project.out_dir, env, {}) for env in stale]
        if not platform_report.unchanged:
            writes.append(platform_report)
        return BuildResult(outcomes, [], writes, skipped)
    platform_staged = None
    try:
        if platform_files and not platform_report.unchanged:
            project.out_dir.mkdir(parents=True, exist_ok=True)
            platform_staged = stage_env(project.out_dir, PLATFORM_DIR, platform_files, token)
            carry_foreign(project.out_dir, PLATFORM_DIR, platform_staged, platform_report.foreign)
        staged = [project.out_dir / o.staged for o in outcomes if o.staged is not None]
        staged += [platform_staged] if platform_staged is not None else []
        make_durable(project.out_dir, staged)  # every staged byte on disk before any swap
        for outcome in outcomes:
            if outcome.staged is not None:
                swap_in(project.out_dir, outcome.env, project.out_dir / outcome.staged, sync=False)
                outcome.staged = None
        if platform_staged is not None:
            swap_in(project.out_dir, PLATFORM_DIR, platform_staged, sync=False)
            platform_staged = None
            writes.append(platform_report)
        if staged:
            sync_dir(project.out_dir)  # the swaps, durable together
        if not platform_files and not platform_report.unchanged:
            writes.append(prune_env(project.out_dir, PLATFORM_DIR, token))
        for env in stale:
            writes.append(prune_env(project.out_dir, env, token))
    except (OSError, WriteError) as exc:
        _discard(project, outcomes)
        if platform_staged is not None:
            remove_tree(platform_staged)
        raise WriteError(str(exc)) from None
    if cache is not None:
        for outcome in outcomes:
            if outcome.blocked:
                cache.forget(outcome.env)
            else:  # abstract parents too: no outputs, their file's key only
                cache.record(outcome.env, outcome.files, project.out_dir, outcome.written, outcome.stats)
        for env in stale:
            cache.forget(env)
        cache.save()
    return BuildResult(outcomes, [], writes, skipped)


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


def _discard(project: Project, outcomes: list[EnvOutcome]) -> None:
    for outcome in outcomes:
        if outcome.staged:
            remove_tree(project.out_dir / outcome.staged)
            outcome.staged = None


def check_policies(project: Project, selected: list[str] | None, today: date, jobs: int | None = None) -> BuildResult:
    """Policies only (`mlc check`): nothing is emitted or written."""
    names = _names(project, selected)
    outcomes = run_many(project, names, today, Mode.POLICY, jobs)
    diagnostics = sorted({d for o in outcomes for d in o.diagnostics})
    return BuildResult(outcomes, diagnostics, [], [])
