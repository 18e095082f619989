"""The mlc benchmark (`make bench`): measure compile scenarios on synthetic projects, write RESULTS.md.

    python bench/run.py [--sizes 10,100,1000] [--quick] [--work DIR] [--report FILE]

For every N it generates a project (bench/generate.py, fixed seed) and measures, each as
the median of several repetitions (see REPS):
  cold       `mlc compile` into an empty out/ with no cache (a fresh process every time);
  no-change  `mlc compile` again, nothing edited;
  one env    `mlc compile` after one environment file changed (a serving replicas.max);
  parent     `mlc compile` after a shared abstract parent changed (a driver memory of the
             feature ETL job, inherited by every environment of one region);
  check      `mlc check --no-cache` (policies of every environment);
  floor      serialise the same output with compiler.output.serialize and write the same files to a
             fresh directory, in this process, with no compiler logic: every file of the cold
             run's out/ is loaded into plain data first (not timed), then only dump + write is
             timed (no fsync, one process);
  memory     max RSS of the compile process tree (from wait4: the largest single process)
             and a sampled sum of the tree's RSS during one extra cold run;
  start-up   `mlc --version`, median of 10;
  PR         at N=100 and N=1000: check, compile --check, diff --base and cost --base after a
             one-environment change, by this checkout and by the compiler at --before
             (default: the commit this work started from), interleaved (measure_pr).
Then a cProfile of an in-process cold compile (--jobs 1) of a sample project, and of the
slowest scenarios where a target is missed. `--quick` (N=3, 1 repetition) keeps the
script working in the test suite; it makes no claim about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import report  # noqa: E402

TODAY = "2026-12-01"  # fixed, so waiver expiry cannot change results between runs
REPS = {3: 1, 10: 5, 100: 5, 1000: 3}  # repetitions per scenario (fewer for the largest N)
STARTUP_REPS = 10


def reps_for(n: int) -> int:
    return REPS.get(n, 5 if n <= 300 else 3)


def mlc_command() -> list[str]:
    script = Path(sys.executable).with_name("mlc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "compiler"]


@dataclass
class Run:
    seconds: float
    rc: int
    maxrss_kib: int  # largest single process of the tree (wait4 rusage: self + waited-for children)
    tree_peak_kib: int = 0  # sampled sum of the tree's RSS (0 when not sampled)
    stderr: str = ""
    cpu: float = 0.0  # user + system seconds of the process tree (wait4 rusage)
    user: float = 0.0  # user seconds alone: what the compiler's own code costs


def _tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over `root` and its descendants (Linux /proc); 0 elsewhere."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                    pending.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_mlc(args: list[str], work: Path, sample_memory: bool = False, code: Path | None = None) -> Run:
    """Run `mlc ARGS` as a subprocess; wall time, exit code and peak memory. `code`: the
    folder holding the `compiler` package to run (default: this checkout's)."""
    out_path, err_path = work / "last.stdout", work / "last.stderr"
    command = [sys.executable, "-m", "compiler"] if code is not None else mlc_command()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        # cwd: `python -m compiler` would import ./compiler first, whatever PYTHONPATH says
        proc = subprocess.Popen(command + args, stdout=out, stderr=err, env=_environment(code), cwd=code or work)
        peak = [0]
        stop = threading.Event()
        sampler = None
        if sample_memory:

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], _tree_rss_kib(proc.pid))
                    stop.wait(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        if sampler is not None:
            sampler.join()
    stderr = err_path.read_text(errors="replace")[-4000:]
    return Run(seconds, proc.returncode, int(usage.ru_maxrss), peak[0], stderr, usage.ru_utime + usage.ru_stime, usage.ru_utime)


def _environment(code: Path | None = None) -> dict[str, str]:
    """The subprocess environment: this checkout's compiler/ (or `code`) first on the path (so
    that a copy of the repository measures its own code, not the one the venv was installed
    from). Bytecode is cached as for any installed package (PYTHONDONTWRITEBYTECODE is
    dropped: without it every process would recompile ~90 modules, 0.3-0.4 s)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code or REPO), env.get("PYTHONPATH", "")) if p)
    return env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------------- scenarios


def _fresh_output(project: Path) -> None:
    for sub in ("out", ".mlc-cache"):
        shutil.rmtree(project / sub, ignore_errors=True)


def compile_args(project: Path, out: Path | None = None) -> list[str]:
    return ["compile", "--project", str(project), "--today", TODAY] + (["--out", str(out)] if out is not None else [])


# Nothing is deleted while measuring. ext4 avoids re-using an inode deleted in the last
# 60-300 s, and its allocator then reads every such inode's dtime: creating 69,000 files
# right after deleting as many cost up to 50 s of system time (perf: recently_deleted()
# under ext4_create), so a benchmark that rm -rf's out/ before each cold run measures the
# file system's memory of its own previous run. Each cold run and floor run writes to a
# fresh directory instead; everything is removed once, at the very end (`_trash`).
_TRASH: list[Path] = []


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        _TRASH.append(path.rename(path.with_name(f"{path.name}.old{len(_TRASH)}")))
    _TRASH.append(path)
    return path


def empty_trash() -> None:
    for path in _TRASH:
        shutil.rmtree(path, ignore_errors=True)
    _TRASH.clear()


def _ok(run: Run, what: str) -> Run:
    if run.rc != 0:
        raise BenchError(f"{what} exited {run.rc}:\n{run.stderr.strip()[-2000:]}")
    return run


class BenchError(Exception):
    pass


def _edit_yaml(path: Path, change: Any) -> None:
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(generate.dump(doc), encoding="utf-8")


def _toggle_env(path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        serving = next(name for name, body in doc["components"].items() if isinstance(body, dict) and body.get("runtime"))
        replicas = doc["components"][serving]["replicas"]
        replicas["max"] = replicas["max"] + 1 if replicas["max"] % 2 == 0 else replicas["max"] - 1

    _edit_yaml(path, change)


def _raise_max_replicas(path: Path, by: int) -> None:
    def change(doc: dict[str, Any]) -> None:
        serving = next(name for name, body in doc["components"].items() if isinstance(body, dict) and body.get("runtime"))
        doc["components"][serving]["replicas"]["max"] += by

    _edit_yaml(path, change)


def _toggle_parent(path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        driver = doc["components"]["feature-etl"]["driver"]
        driver["memory"] = "6Gi" if driver["memory"] == "4Gi" else "4Gi"

    _edit_yaml(path, change)


def output_stats(out: Path) -> tuple[int, int]:
    files = size = 0
    for root, _, names in os.walk(out):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(root, name))
    return files, size


class Floor:
    """The serialisation floor: every file of a compiled out/ loaded into plain data once
    (untimed); `run` then times only dump (compiler.output.serialize) + write into a fresh directory."""

    def __init__(self, out: Path):
        import yaml

        from compiler.output import serialize

        self.serialize = serialize
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.items: list[tuple[str, str, Any]] = []
        self.mismatches = 0  # files whose re-serialised bytes differ (0 expected: the same serialiser)
        self.user: list[float] = []
        for root, _, names in os.walk(out):
            for name in sorted(names):
                path = Path(root, name)
                raw = path.read_bytes()
                kind = "json" if name.endswith(".json") else "yaml"
                data = json.loads(raw) if kind == "json" else yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader
                text = serialize.dump_json(data) if kind == "json" else serialize.dump_yaml(data)
                self.mismatches += text.encode("utf-8") != raw
                self.items.append((path.relative_to(out).as_posix(), kind, data))

    def run(self, target: Path) -> tuple[float, float]:
        """(wall seconds, CPU seconds) of one dump + write pass into the new directory `target`;
        user seconds alone are appended to `self.user`."""
        target.mkdir(parents=True)
        os.sync()  # start from a quiet disk, like every compile run
        serialize = self.serialize
        serialize._str_cache.clear()  # a fresh process starts with empty string caches
        serialize._json_cache.clear()
        made: set[str] = set()
        dump_json, dump_yaml = serialize.dump_json, serialize.dump_yaml
        base = os.fspath(target)
        cpu, start, user = time.process_time(), time.perf_counter(), os.times().user
        for rel, kind, data in self.items:
            parent = rel.rpartition("/")[0]
            if parent not in made:
                os.makedirs(f"{base}/{parent}", exist_ok=True)
                made.add(parent)
            text = dump_json(data) if kind == "json" else dump_yaml(data)
            with open(f"{base}/{rel}", "wb") as handle:
                handle.write(text.encode("utf-8"))
        wall = time.perf_counter() - start
        self.user.append(os.times().user - user)
        return wall, time.process_time() - cpu


def io_probe(target: Path, dirs: int = 100, files: int = 69) -> float:
    """Seconds to create dirs x files small files (2 KiB) in the new directory `target`:
    how fast this disk creates files at the moment."""
    os.sync()
    payload = b"x" * 2048
    start = time.perf_counter()
    for d in range(dirs):
        os.makedirs(target / f"d{d}")
        for f in range(files):
            with open(target / f"d{d}" / f"f{f}.yaml", "wb") as handle:
                handle.write(payload)
    return time.perf_counter() - start


@dataclass
class SizeResult:
    n: int
    reps: int
    components: int = 0
    files: int = 0
    bytes: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # user + system seconds per run
    io_probe: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average before and after
    maxrss_kib: int = 0
    tree_peak_kib: int = 0
    floor_mismatches: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    parent_envs: int = 0
    error: str | None = None

    def med(self, key: str) -> float:
        return median(self.times.get(key, []))

    def cpu_med(self, key: str) -> float:
        return median(self.cpu.get(key, []))

    def add(self, key: str, run: Run) -> None:
        self.times.setdefault(key, []).append(run.seconds)
        self.cpu.setdefault(key, []).append(run.cpu)
        self.cpu.setdefault(f"{key}_user", []).append(run.user)


def measure_size(n: int, work: Path, seed: int, reps: int, log: Any) -> SizeResult:
    project = work / f"n{n}"
    summary = generate.generate(n, project, seed)
    result = SizeResult(n, reps, components=summary["components"])
    parent_file = project / "environments" / f"{summary['shared_parent']}.yaml"
    env_file = project / "environments" / f"{summary['sample_env']}.yaml"
    result.parent_envs = sum(1 for i in range(n) if i % len(generate.REGIONS) == 0)
    try:
        result.load.append(os.getloadavg()[0])
        result.io_probe.append(io_probe(_fresh_dir(work / f"probe-n{n}-a")))
        shutil.rmtree(project / ".mlc-cache", ignore_errors=True)
        log(f"N={n}: memory (sampled cold run)")  # first: the runner is still small when it forks
        run = _ok(run_mlc(compile_args(project, _fresh_dir(project / "out")), work, sample_memory=True), "cold compile")
        result.maxrss_kib, result.tree_peak_kib = run.maxrss_kib, run.tree_peak_kib
        result.files, result.bytes = output_stats(project / "out")
        floor = Floor(project / "out")
        result.floor_mismatches = floor.mismatches
        log(f"N={n}: cold compile and floor x{reps}, interleaved")
        for rep in range(reps):
            shutil.rmtree(project / ".mlc-cache", ignore_errors=True)
            os.sync()
            result.add("cold", _ok(run_mlc(compile_args(project, _fresh_dir(project / f"out-cold-{rep}")), work), "cold compile"))
            wall, cpu = floor.run(_fresh_dir(work / f"floor-n{n}-{rep}"))
            result.times.setdefault("floor", []).append(wall)
            result.cpu.setdefault("floor", []).append(cpu)
        result.cpu["floor_user"] = floor.user
        del floor
        shutil.rmtree(project / ".mlc-cache", ignore_errors=True)
        _ok(run_mlc(compile_args(project), work), "compile")  # out/ and the cache, as a user has them
        log(f"N={n}: no-change, one env, one parent x{reps}")
        for _ in range(reps):
            result.add("nochange", _ok(run_mlc(compile_args(project), work), "no-change compile"))
        for key, toggle, path in (("one_env", _toggle_env, env_file), ("parent", _toggle_parent, parent_file)):
            for _ in range(reps):
                toggle(path)
                result.add(key, _ok(run_mlc(compile_args(project), work), f"{key} compile"))
        log(f"N={n}: check x{reps}")
        for _ in range(reps):
            run = run_mlc(["check", "--project", str(project), "--today", TODAY, "--format", "json", "--no-cache"], work)
            if run.rc not in (0, 1):
                raise BenchError(f"mlc check exited {run.rc}:\n{run.stderr[-2000:]}")
            result.add("check", run)
        result.findings = _count_findings(work / "last.stdout")
        result.io_probe.append(io_probe(_fresh_dir(work / f"probe-n{n}-b")))
        result.load.append(os.getloadavg()[0])
    except BenchError as exc:
        result.error = str(exc)
    return result


# ------------------------------------------------------------------------- pull-request commands

# main just before the incremental pull-request commands (issue 19) were merged into it: the
# generator's projects hold Azure environments, which fab2447 (where that work started) cannot
# compile (its worker crashes on them and the pool hangs)
BEFORE_REF = "2082eda"
PR_COMMANDS = ("check", "compile --check", "diff --base", "cost --base")


@dataclass
class PrResult:
    n: int
    reps: int
    before_ref: str | None  # None: no "before" compiler could be extracted
    after: dict[str, list[Run]] = field(default_factory=dict)
    before: dict[str, list[Run]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)
    note: str = ""
    error: str | None = None


def extract_compiler(ref: str, work: Path) -> Path | None:
    """The `compiler` package as it was at `ref`, in work/before-<ref>/ (git archive; the
    repository is only read). None when the ref or git is not available."""
    target = work / f"before-{ref}"
    if (target / "compiler" / "__init__.py").is_file():
        return target
    try:
        data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, "compiler"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    import io
    import tarfile

    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(target, filter="data")
    return target


def _git(project: Path, *args: str) -> None:
    identity = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench"}
    identity["GIT_COMMITTER_EMAIL"] = "bench@example.com"
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, env={**os.environ, **identity})


def measure_pr(n: int, work: Path, reps: int, before_ref: str | None, log: Any) -> PrResult:
    """The four pull-request commands after one environment file changed, on the project
    measure_size left (out/ compiled and committed, the cache as a user has it), each run by
    this checkout's compiler ("after") and by the one at `before_ref` ("before"), interleaved
    so both see the same machine. Every repetition changes the environment again, so its
    new inputs are never in the cache."""
    project = work / f"n{n}"
    before = extract_compiler(before_ref, work) if before_ref else None
    result = PrResult(n, reps, before_ref if before is not None else None)
    if before_ref and before is None:
        result.note = f"the compiler at {before_ref} could not be extracted (git archive): no before numbers"
    env_file = _sample_env_file(project)
    name = env_file.stem
    base = ["--project", str(project)]
    commands = {
        "check": ["check", *base, "--today", TODAY, "--format", "json"],
        "compile --check": ["compile", "--check", *base, "--today", TODAY],
        "diff --base": ["diff", "--base", "HEAD", *base, "--today", TODAY],
        "cost --base": ["cost", name, "--base", "HEAD", *base],
    }
    try:
        shutil.rmtree(project / ".git", ignore_errors=True)
        _ok(run_mlc(compile_args(project), work), "compile")  # the cache, also the findings (mlc check's part)
        run_mlc(["check", *base, "--today", TODAY, "--format", "json"], work)  # findings recorded (exit 1 on findings is fine)
        _git(project, "init", "-q")
        _git(project, "add", "-A")
        _git(project, "commit", "-qm", "base")
        result.load.append(os.getloadavg()[0])
        log(f"N={n}: pull-request commands x{reps}, after and before interleaved")
        original = env_file.read_text(encoding="utf-8")
        for rep in range(reps):
            env_file.write_text(original, encoding="utf-8")
            _raise_max_replicas(env_file, rep + 1)  # differs from HEAD, and inputs the cache has not seen
            for key in PR_COMMANDS:
                for side, code in (("after", None), ("before", before)):
                    if side == "before" and code is None:
                        continue
                    # memory sampled after exec: the runner is large by now, and wait4's max RSS of
                    # a forked child counts the runner's pages it held before exec
                    run = run_mlc(commands[key], work, sample_memory=True, code=code)
                    if run.rc not in (0, 1):
                        raise BenchError(f"{side}: mlc {key} exited {run.rc}:\n{run.stderr[-2000:]}")
                    (result.after if side == "after" else result.before).setdefault(key, []).append(run)
        result.load.append(os.getloadavg()[0])
    except (BenchError, subprocess.CalledProcessError) as exc:
        result.error = str(exc) + (f"\n{exc.stderr!r}" if isinstance(exc, subprocess.CalledProcessError) else "")
        log(f"N={n}: pull-request commands failed: {result.error[:500]}")
    finally:
        _git_restore(project, env_file)
    return result


def _git_restore(project: Path, env_file: Path) -> None:
    try:
        _git(project, "checkout", "-q", "--", str(env_file.relative_to(project)))
    except (subprocess.CalledProcessError, ValueError):
        pass


def _count_findings(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "[]")
    except ValueError:
        return {}
    items = data.get("findings", data) if isinstance(data, dict) else data
    counts: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and not item.get("waived"):
            counts[str(item.get("severity"))] = counts.get(str(item.get("severity")), 0) + 1
    return counts


def measure_startup(work: Path, reps: int) -> list[float]:
    return [_ok(run_mlc(["--version"], work), "mlc --version").seconds for _ in range(reps)]


# ------------------------------------------------------------------------- profiles


def profile_cold(work: Path, envs: int, seed: int, top: int = 15) -> str:
    """cProfile of an in-process cold compile (--jobs 1) of a sample project."""
    project = work / f"profile-n{envs}"
    generate.generate(envs, project, seed)
    _fresh_output(project)
    return profile_call(project, use_cache=False, top=top)


def profile_call(project: Path, use_cache: bool, top: int = 15) -> str:
    import cProfile
    import io
    import pstats
    from datetime import date

    from compiler.build import compile_project
    from compiler.frontend.project import Project

    profiler = cProfile.Profile()
    profiler.enable()
    compile_project(Project.at(project), None, date.fromisoformat(TODAY), use_cache=use_cache, jobs=1)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(top)
    text = stream.getvalue()
    text = text.replace(str(REPO) + "/", "").replace(sys.prefix + "/", "")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


# ------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="mlc benchmark: writes bench/RESULTS.md")
    ap.add_argument("--sizes", default="10,100,1000", help="comma-separated environment counts")
    ap.add_argument("--quick", action="store_true", help="N=3, one repetition (smoke test)")
    ap.add_argument("--work", type=Path, default=BENCH / "work", help="scratch directory (generated projects)")
    ap.add_argument("--report", type=Path, default=BENCH / "RESULTS.md")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile-envs", type=int, default=20, help="environments in the profiled sample")
    ap.add_argument("--before", default=BEFORE_REF, help="Git revision whose compiler the pull-request commands are compared with")
    ap.add_argument("--pr-sizes", default="100,1000", help="N at which the pull-request commands are measured (of --sizes)")
    args = ap.parse_args(argv)
    sizes = [3] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    args.work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    started = time.time()
    args.work = args.work.resolve()  # commands run with the work folder as their current directory
    results = [measure_size(n, args.work, args.seed, 1 if args.quick else reps_for(n), log) for n in sizes]
    for r in results:
        if r.error:
            log(f"N={r.n} failed: {r.error[:500]}")
    pr_sizes = sizes if args.quick else [n for n in (int(s) for s in args.pr_sizes.split(",") if s.strip()) if n in sizes]
    pr_results = [
        measure_pr(n, args.work, 1 if args.quick else reps_for(n), args.before, log)
        for n in pr_sizes
        if not next(r for r in results if r.n == n).error
    ]
    log("start-up")
    startup = measure_startup(args.work, 3 if args.quick else STARTUP_REPS)
    log("profiles")
    profiles: dict[str, str] = {}
    try:
        profiles["cold"] = profile_cold(args.work, 3 if args.quick else args.profile_envs, args.seed)
        largest = max(results, key=lambda r: r.n)
        if not largest.error and not args.quick:
            # the no-change path and one changed environment at the largest N, in-process
            project = args.work / f"n{largest.n}"
            profiles["nochange"] = profile_call(project, use_cache=True)
            _toggle_env(_sample_env_file(project))
            profiles["one_env"] = profile_call(project, use_cache=True)
    except Exception as exc:  # noqa: BLE001 - a failed profile is reported, not fatal
        profiles["error"] = f"{type(exc).__name__}: {exc}"
    text = report.render(results, startup, profiles, quick=args.quick, seconds=time.time() - started, pr=pr_results)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    log(f"wrote {args.report}")
    empty_trash()
    return 1 if any(r.error for r in results) or any(r.error for r in pr_results) else 0


def _sample_env_file(project: Path) -> Path:
    names = sorted(
        p for p in (project / "environments").glob("*.yaml") if not p.stem.endswith("-base") and not p.stem.startswith(("team-", "tier-"))
    )
    return names[0]


if __name__ == "__main__":
    sys.exit(main())
