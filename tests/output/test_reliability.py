"""Issue 18: reliability under concurrency, tampering and hostile policies.

One test (or a few) per numbered item of the issue; each failed before the change:
1 concurrent compiles (the stress test, the lock, ownership of staging folders);
2 an environment file edited during a compile; 3 hostile KCL policies; 4 separators in
JSON; 5 `--base` reads only what it needs; 6 ambiguous environment files; 7 a hand edit
keeping size and mtime; 8 `check --output` through a symlink; 9 the small items.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from compiler.output import writer
from tests.output.test_gitops import PARENT, child
from tests.support.helpers import REPO, aws_env, make_project
from tests.support.spec_strategies import run_main, snapshot

TODAY = "2026-06-01"


def project(root: Path, count: int = 3, extra: str = "") -> Path:
    return make_project(root, {"base": PARENT, **{f"env{i:02d}": child(f"env{i:02d}", extra) for i in range(count)}})


def trees(out: Path) -> dict[str, dict[str, bytes]]:
    return {d.name: snapshot(d) for d in sorted(out.iterdir()) if not d.name.startswith(".")} if out.is_dir() else {}


def leftovers(out: Path) -> list[str]:
    return writer.leftovers(out)


def mlc(*args: str, env: dict[str, str] | None = None, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "compiler", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        **popen,  # type: ignore[call-overload]
    )


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def processes_marked(marker: str) -> list[int]:
    """Processes (other than this one) whose environment or command line names `marker`:
    pool workers inherit the environment; the KCL evaluator has HOME under TMPDIR."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                if handle.read().rpartition(b")")[2].split()[:1] == [b"Z"]:
                    continue  # dead, waiting to be reaped by whoever adopted it
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if marker.encode() in environ or marker.encode() in cmdline:
            found.append(int(entry))
    return found


# --- 1: concurrent runs ------------------------------------------------------------------------
def test_stress_concurrent_compiles_with_random_delays_and_kills(tmp_path: Path) -> None:
    """Rounds of 4 concurrent `mlc compile` of one project, started at random moments, some
    killed (SIGKILL) at random moments. Every run that reports success leaves out/ equal to a
    clean compile; after each round (and one more run) out/ equals it and no staging folder,
    temporary folder or process of the round is left."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc to find leftover processes")
    rng = random.Random(18)
    root = project(tmp_path / "p", count=3)
    marker = f"mlc-stress-{uuid.uuid4().hex}"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"MLC_LOCK_TIMEOUT": "120", "TMPDIR": str(tmp), "MLC_STRESS_MARK": marker}
    args = ("compile", "--project", str(root), "--today", TODAY)
    for round_ in range(3):
        budget = f"budget: {{monthly_usd: {7000 + round_}}}\n"
        for i in range(3):
            (root / "environments" / f"env{i:02d}.yaml").write_text(child(f"env{i:02d}", budget))
        reference_root = tmp_path / f"reference{round_}"
        shutil.copytree(root, reference_root, ignore=shutil.ignore_patterns("out", ".mlc-cache"))
        assert run("compile", "--project", str(reference_root), "--today", TODAY, "--no-cache").returncode == 0
        reference = trees(reference_root / "out")
        runs = []
        for _ in range(4):
            time.sleep(rng.uniform(0, 0.4))
            runs.append((mlc(*args, *(["--no-cache"] if rng.random() < 0.5 else []), env=env), rng.random() < 0.5))
        for process, kill in runs:
            if kill:
                time.sleep(rng.uniform(0, 1.5))
                process.send_signal(signal.SIGKILL)
        for process, kill in runs:
            _, err = process.communicate(timeout=300)
            if process.returncode == 0:
                # all runs compile the same inputs: once one succeeded, out/ stays the reference
                assert trees(root / "out") == reference, f"round {round_}: a run reported success with a wrong tree: {err}"
            else:
                assert kill and process.returncode == -signal.SIGKILL, f"round {round_}: exit {process.returncode}: {err}"
        final = run(*args, env=env)
        assert final.returncode == 0, final.stderr
        assert trees(root / "out") == reference, f"round {round_}"
        assert leftovers(root / "out") == [], f"round {round_}"
        assert [p.name for p in tmp.iterdir()] == [], f"round {round_}: temporary folders left"
        assert processes_marked(marker) == [] and processes_marked(str(tmp)) == [], f"round {round_}: processes left"
        check = run("compile", "--project", str(root), "--today", TODAY, "--check", env=env)
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_second_run_waits_for_the_lock_then_fails_naming_the_holder(tmp_path: Path) -> None:
    from compiler.output.lock import locked

    root = project(tmp_path / "p", count=1)
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")[0] == 0
    before = trees(root / "out")
    (root / "environments" / "env00.yaml").write_text(child("env00", "budget: {monthly_usd: 7000}\n"))
    with locked(root / "out"):
        done = run("compile", "--project", str(root), "--today", TODAY, env={"MLC_LOCK_TIMEOUT": "0.5"})
        assert done.returncode == 2, done.stderr
        assert f"is locked by another mlc run (pid {os.getpid()}); waited" in done.stderr
        assert "waiting for another mlc run (pid" in done.stderr
        assert trees(root / "out") == before
        waiting = mlc("compile", "--project", str(root), "--today", TODAY, env={"MLC_LOCK_TIMEOUT": "120"})
        time.sleep(1)
        assert waiting.poll() is None  # still waiting for this process
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert trees(root / "out") != before


def test_recovery_removes_only_folders_whose_owner_is_gone(tmp_path: Path) -> None:
    root = project(tmp_path / "p", count=1)
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")[0] == 0
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        live = root / "out" / f"{writer.STAGING_PREFIX}{sleeper.pid}-0123456789ab-env00"
        live.mkdir()
        (live / "plan.json").write_text("{}\n")
        dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
        dead = root / "out" / f"{writer.STAGING_PREFIX}{dead_pid}-0123456789ab-env00"
        dead.mkdir()
        code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
        assert code == 0, err
        assert live.is_dir() and not dead.exists()
        assert f"warning: {root.as_posix()}/out/{live.name} belongs to a process that still runs; kept" in err or (
            f"out/{live.name} belongs to a process that still runs; kept" in err
        )
        # --check fails while a staging folder is there (issue item 9)
        code, out, _ = run_main("compile", "--project", str(root), "--today", TODAY, "--check", "--jobs", "1")
        assert code == 1 and f"leftover out/{live.name}: a folder of an interrupted run (mlc compile removes it)" in out
    finally:
        sleeper.kill()
        sleeper.wait()
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")[0] == 0
    assert leftovers(root / "out") == []
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--check", "--jobs", "1")[0] == 0


def _dies_on_env05(args: tuple[list[str], str, str, str]) -> list[object]:
    """A pool worker that is killed (as by the OOM killer) when given env05."""
    from datetime import date

    import compiler.build as build

    names, today, mode, token = args
    if "env05" in names:
        os.kill(os.getpid(), signal.SIGKILL)
    assert build._WORKER_PROJECT is not None
    return [build.compile_one(build._WORKER_PROJECT, n, date.fromisoformat(today), mode, token) for n in names]


def test_a_dead_worker_is_detected_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool worker killed (e.g. by the OOM killer) used to hang the compile forever."""
    import compiler.build as build

    root = project(tmp_path / "p", count=9)  # >= PARALLEL_THRESHOLD: a worker pool
    monkeypatch.setattr(build, "_worker_run", _dies_on_env05)
    code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "2")
    assert code == 2, err
    assert err.startswith("mlc: error: a worker process died (killed, or out of memory) before these environments were compiled: ")
    assert "env05" in err and err.endswith("; out/ was left as it was\n")
    assert trees(root / "out") == {} and leftovers(root / "out") == []


# --- 2 and 7: the cache ----------------------------------------------------------------------------
def test_an_environment_edited_during_the_compile_does_not_poison_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import compiler.pipeline as pipeline

    root = project(tmp_path / "p", count=1)
    target = root / "environments" / "env00.yaml"
    real = pipeline.plan_environment

    def edit_after_parse(env):  # the worker has parsed the file: now someone saves an edit
        target.write_text(child("env00", "budget: {monthly_usd: 7000}\n"))
        return real(env)

    monkeypatch.setattr(pipeline, "plan_environment", edit_after_parse)
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")[0] == 0
    monkeypatch.undo()
    code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
    assert code == 0 and "1 compiled, 0 unchanged (cached)" in err  # env00 recompiled (the cached abstract base is not counted)
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--check", "--jobs", "1")[0] == 0


def test_a_hand_edit_keeping_size_and_mtime_is_repaired_by_compile(tmp_path: Path) -> None:
    root = project(tmp_path / "p", count=1)
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")[0] == 0
    plan = root / "out" / "env00" / "plan.json"
    original = plan.read_bytes()
    info = os.stat(plan)
    edited = original.replace(b'"env00"', b'"env99"', 1)
    assert len(edited) == len(original) and edited != original
    plan.write_bytes(edited)
    os.utime(plan, ns=(info.st_atime_ns, info.st_mtime_ns))
    code, out, _ = run_main("compile", "--project", str(root), "--today", TODAY, "--check", "--jobs", "1")
    assert code == 1 and "would change out/env00/plan.json" in out
    code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
    assert code == 0 and "1 compiled" in err
    assert plan.read_bytes() == original
    assert run_main("compile", "--project", str(root), "--today", TODAY, "--check", "--jobs", "1")[0] == 0


# --- 3: hostile KCL policies -------------------------------------------------------------------------
HOSTILE = {
    "recursion": ("f = lambda n: int -> int {\n    f(n + 1)\n}\nmlc_rules = []\nmlc_findings = [] if f(1) > 0 else []\n", 1, "crashed"),
    "memory": ("_n = sum([1 for i in range(1000000000)])\nmlc_rules = []\nmlc_findings = [] if _n > 0 else []\n", 1, "memory limit"),
    "loop": (
        "_n = [[i for i in range(100000)] for j in range(100000)]\nmlc_rules = []\nmlc_findings = [] if _n else []\n",
        1,
        "did not finish",
    ),
    "env": (
        'import file\n_t = file.read_env("MLC_TEST_SECRET")\nassert _t, "no token"\nmlc_rules = []\nmlc_findings = []\n',
        3,
        "no token",
    ),
}
LIMITS = {"MLC_POLICY_TIMEOUT": "4", "MLC_POLICY_MEMORY_MB": "1024", "MLC_TEST_SECRET": "ghp_" + "Z9" * 18}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_policy_ends_in_a_located_error_and_leaves_nothing(tmp_path: Path, case: str) -> None:
    body, line, words = HOSTILE[case]
    jobs = "2" if case == "loop" else "1"  # the loop also with a pool: it used to hang forever
    root = project(tmp_path / "p", count=9 if case == "loop" else 1)
    (root / "policies" / f"{case}.k").write_text(body)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    done = run("compile", "--project", str(root), "--today", TODAY, "--jobs", jobs, env={**LIMITS, "TMPDIR": str(tmp)}, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = [x for x in done.stderr.splitlines() if "MLC-E090" in x]
    assert lines and all(x.startswith(f"policies/{case}.k:{line}:") for x in lines), done.stderr
    assert words in done.stderr
    assert LIMITS["MLC_TEST_SECRET"] not in done.stdout + done.stderr
    assert not (root / "out").exists()
    assert [p.name for p in tmp.iterdir()] == []  # the evaluators' folders are gone
    assert processes_marked(str(tmp)) == []  # and so are the evaluators


def test_a_policy_sees_no_secret_in_its_environment(tmp_path: Path) -> None:
    root = project(tmp_path / "p", count=1)
    (root / "policies" / "leak.k").write_text(
        'import file\n_t = file.read_env("MLC_TEST_SECRET")\n_h = file.read_env("HOME")\n'
        'mlc_rules = [{id = "MLC-USR-009", title = "t", severity = "warning", rationale = "r", fix = "f"}]\n'
        'mlc_findings = [{rule = "MLC-USR-009", message = "leak=${_t} " + "home=${_h}"}]\n'
    )
    done = run("check", "--project", str(root), "--today", TODAY, "--format", "json", env=LIMITS)
    assert done.returncode == 0, done.stderr
    assert '"message": "leak=Undefined home=' in done.stdout and "mlc-kcl-" in done.stdout
    assert LIMITS["MLC_TEST_SECRET"] not in done.stdout + done.stderr


# --- 4: separators in JSON ----------------------------------------------------------------------------
def test_json_escapes_line_separators_and_yaml_is_unchanged(tmp_path: Path) -> None:
    comps = "job:\n  type: training_job\n  image: 'reg.example.com/t:1.0'\n  env: {NOTE: \"a\\u2028b\\u2029c\\x85d\"}\n"
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", comps)})
    code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
    assert code in (0, 1), err
    plan = (root / "out" / "e1" / "plan.json").read_text(encoding="utf-8")
    assert '"a\\u2028b\\u2029c\\u0085d"' in plan and "\u2028" not in plan and "\x85" not in plan
    yaml_text = "".join(p.read_text(encoding="utf-8") for p in (root / "out" / "e1" / "kubernetes").glob("*job*.yaml"))
    assert '"a\\u2028b\\u2029c\\x85d"' in yaml_text


# --- 5: --base -----------------------------------------------------------------------------------------
def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env={**os.environ, "GIT_AUTHOR_NAME": "t",
                   "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"})  # fmt: skip


def test_base_reads_only_what_compilation_needs_bounded_by_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.frontend.loader import MAX_FILE_BYTES
    from compiler.output import gitbase

    root = project(tmp_path / "p", count=2)
    (root / "data").mkdir()
    (root / "data" / "big.bin").write_bytes(os.urandom(3 * MAX_FILE_BYTES))
    (root / "environments" / "notes").mkdir()
    (root / "environments" / "notes" / "x.yaml").write_text("not read\n")
    (root / "environments" / "env01.yaml").write_text(child("env01") + "# " + "x" * (MAX_FILE_BYTES + 10) + "\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    (root / "environments" / "env01.yaml").write_text(child("env01"))
    read: list[Path] = []
    real = gitbase._stream_blobs
    monkeypatch.setattr(gitbase, "_stream_blobs", lambda r, blobs: (read.extend(t for _, t in blobs), real(r, blobs))[1])
    code, out, err = run_main("diff", "--project", str(root), "--base", "HEAD", "--today", TODAY)
    assert code == 0, err
    names = sorted(p.relative_to(p.parents[1]).as_posix() for p in read)
    assert "data/big.bin" not in names and "notes/x.yaml" not in names
    # env00 has the same blob on both sides (compared by blob id: never read); env01, the one
    # changed, is oversized at the base (a sparse placeholder, never read or parsed, so its
    # parent is not needed either): only the schema is read
    assert names == ["schemas/environment.schema.json"]
    assert "note: base: invalid input (1 problem(s))" in out  # the oversized base file: MLC-E001, never read


def test_an_unknown_base_ref_is_a_clear_message(tmp_path: Path) -> None:
    root = project(tmp_path / "p", count=1)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    code, _, err = run_main("diff", "--project", str(root), "--base", "no-such-branch", "--today", TODAY)
    assert code == 2
    assert 'mlc: error: unknown Git revision "no-such-branch": no commit of that name in this repository' in err
    assert "unknown error" not in err


# --- 6: environment files --------------------------------------------------------------------------------
@pytest.mark.parametrize("other", ["env00.yml", "ENV00.yaml", "Env00.YML"])
def test_two_files_for_one_environment_are_an_error(tmp_path: Path, other: str) -> None:
    root = project(tmp_path / "p", count=1)
    (root / "environments" / other).write_text("not: [valid\n")
    code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
    assert code == 2
    names = " and ".join(sorted(["env00.yaml", other]))
    assert f'environments/env00.yaml:1:1: error MLC-E013: environment "env00" is defined by 2 files ({names}); keep exactly one' in err
    assert f"environments/{other}:1:1: error MLC-E013" in err
    assert not (root / "out").exists()


def test_an_upper_case_extension_is_an_error_and_ignored_entries_are_reported(tmp_path: Path) -> None:
    root = project(tmp_path / "p", count=1)
    (root / "environments" / "README.md").write_text("docs\n")
    (root / "environments" / "drafts").mkdir()
    (root / "environments" / "drafts" / "env09.yaml").write_text(child("env09"))
    code, _, err = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
    assert code == 0, err
    assert "warning: environments/README.md is ignored: not an environment file (*.yaml, *.yml)" in err
    assert "warning: environments/drafts/ is ignored: a folder (environments are not read from subfolders)" in err
    (root / "environments" / "env05.YAML").write_text(child("env05"))
    code, _, err = run_main("validate", "--project", str(root), "--today", TODAY)
    assert code == 2
    assert 'environments/env05.YAML:1:1: error MLC-E011: file name "env05.YAML": the extension of an environment file is .yaml' in err


# --- 8 and 9: small items -------------------------------------------------------------------------------
def test_check_output_refuses_a_symlink(tmp_path: Path) -> None:
    root = project(tmp_path / "p", count=1)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    link = tmp_path / "report.sarif"
    link.symlink_to(victim)
    code, _, err = run_main("check", "--project", str(root), "--today", TODAY, "--output", str(link))
    assert code == 2 and f"mlc: error: --output {link} is a symbolic link" in err
    assert victim.read_text() == "keep\n"
    report = tmp_path / "report.json"
    assert run_main("check", "--project", str(root), "--today", TODAY, "--format", "json", "--output", str(report))[0] == 0
    assert '"findings"' in report.read_text()


@pytest.mark.parametrize("value", ["-3", "0", "x"])
def test_jobs_must_be_at_least_one(tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "p", count=1)
    from compiler.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["compile", "--project", str(root), "--jobs", value])
    assert exit_.value.code == 2
    assert "argument --jobs: must be" in capsys.readouterr().err


@pytest.mark.parametrize("path", ["", "  ", "components..x", "."])
def test_trace_with_an_empty_path_is_a_usage_error(path: str) -> None:
    code, out, err = run_main("trace", "--project", str(REPO), "prod", path)
    assert code == 2 and out == "" and "mlc: error: trace needs a dotted path like components.ranker.replicas.max" in err


def test_validate_rejects_what_compile_rejects(tmp_path: Path) -> None:
    """A component named like an object mlc generates: compile fails at emission (MLC-E052)."""
    comps = "mlc-default-deny: {type: training_job, image: 'registry.example.com/t:1.0'}\n"
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", comps)})
    compiled = run_main("compile", "--project", str(root), "--today", TODAY, "--jobs", "1")
    validated = run_main("validate", "--project", str(root), "--today", TODAY)
    assert compiled[0] == validated[0] == 2
    line = next(x for x in compiled[2].splitlines() if "MLC-E052" in x)
    assert line.startswith("environments/e1.yaml:") and line in validated[2].splitlines()
