"""Faults while writing out/: disk full (ENOSPC), permission denied (EACCES), I/O errors.

Every file-system call the writer makes through `os` (open, fsync, rename, replace,
symlink, unlink, rmdir, ...) and the atomic exchange is counted during a successful run;
then the run is repeated with the k-th call failing, for every k. Each time:
- mlc exits 2 with one clear message (no traceback, no "internal error");
- every environment in out/ is entirely old or entirely new (never mixed, never missing);
- when the failure comes before the first swap, out/ is exactly as it was;
- no staging or old tree is left in out/ (after the next run at the latest: leftovers
  are only acceptable if they are cleaned up by the next run);
- the next run without faults succeeds and writes the new output.
A kill at any point is covered by tests/output/test_gitops.py; the prune of a deleted
environment, which that test does not reach, is covered here (faults and a kill).
"""

from __future__ import annotations

import errno
import os
import types
from pathlib import Path
from typing import Any

import pytest

import compiler.output.writer as writer
from tests.output.test_gitops import PARENT, child
from tests.support.spec_strategies import run_main, snapshot

TODAY = "2026-06-01"
COUNTED = (
    "open",
    "fsync",
    "rename",
    "replace",
    "symlink",
    "unlink",
    "rmdir",
    "mkdir",
    "makedirs",
    "fdopen",
    "link",
    "utime",
    "chmod",
    "scandir",
    "listdir",
)


class Killed(BaseException):
    """Stands in for SIGKILL: no `except OSError` cleanup runs (only `finally` blocks)."""


class FaultyOs(types.ModuleType):
    """`os` as the writer sees it, failing the k-th counted call (k = 0: never) with
    OSError(error), or with Killed when error is 0."""

    def __init__(self, fail_at: int, error: int) -> None:
        super().__init__("os")
        self.fail_at, self.error, self.calls = fail_at, error, []

    def fail(self, target: Any) -> None:
        if self.error == 0:
            raise Killed()
        raise OSError(self.error, os.strerror(self.error), str(target) if target is not None else None)

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if name not in COUNTED or not callable(real):
            return real

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if len(self.calls) == self.fail_at:
                self.fail(args[0] if args else None)
            return real(*args, **kwargs)

        return call


def install(monkeypatch: pytest.MonkeyPatch, fail_at: int, error: int) -> FaultyOs:
    faulty = FaultyOs(fail_at, error)
    monkeypatch.setattr(writer, "os", faulty)
    real_exchange = writer._exchange

    def exchange(a: Path, b: Path) -> bool:
        faulty.calls.append("exchange")
        if len(faulty.calls) == faulty.fail_at:
            faulty.fail(b)
        return real_exchange(a, b)

    monkeypatch.setattr(writer, "_exchange", exchange)
    return faulty


def project(root: Path, count: int = 2, budget: int | None = None) -> Path:
    from tests.support.helpers import make_project

    extra = f"budget: {{monthly_usd: {budget}}}\n" if budget else ""
    files = {"base": PARENT, **{f"env{i:02d}": child(f"env{i:02d}", extra) for i in range(count)}}
    return make_project(root, files)


def trees(out: Path) -> dict[str, dict[str, bytes]]:
    """env -> its files; an environment directory left empty (by a prune stopped between
    its swap and its rmdir) counts as gone: Git does not even see it."""
    found = {d.name: snapshot(d) for d in sorted(out.iterdir()) if not d.name.startswith(".")} if out.is_dir() else {}
    return {env: files for env, files in found.items() if files}


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith((writer.STAGING_PREFIX, writer.OLD_PREFIX))) if out.is_dir() else []


def compile_in_process(root: Path) -> tuple[int, str, str]:
    return run_main("compile", "--project", str(root), "--today", TODAY, "--no-cache", "--jobs", "1")


def prepare(tmp_path: Path, change: str) -> tuple[Path, dict[str, dict[str, bytes]], dict[str, dict[str, bytes]]]:
    """A compiled project (old output) with a pending change; returns (root, old, new)."""
    root = project(tmp_path / "p")
    assert compile_in_process(root)[0] == 0
    old = trees(root / "out")
    if change == "update":
        for i in range(2):
            (root / "environments" / f"env{i:02d}.yaml").write_text(child(f"env{i:02d}", "budget: {monthly_usd: 7000}\n"))
    elif change == "prune":  # env01 deleted: its out/ tree must be pruned
        (root / "environments" / "env01.yaml").unlink()
        (root / "environments" / "env00.yaml").write_text(child("env00", "budget: {monthly_usd: 7000}\n"))
    reference = tmp_path / "reference"
    import shutil

    shutil.copytree(root, reference, ignore=shutil.ignore_patterns("out", ".mlc-cache"))
    assert compile_in_process(reference)[0] == 0
    new = trees(reference / "out")
    return root, old, new


@pytest.mark.parametrize(
    "error,change", [(errno.ENOSPC, "update"), (errno.EACCES, "update"), (errno.ENOSPC, "prune"), (errno.EACCES, "prune")]
)
def test_a_write_fault_at_every_step_leaves_out_old_or_new_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str, error: int
) -> None:
    """Guards the per-environment atomic swap (writer.stage_env / swap_in / recover) and the
    CLI's WriteError handling (exit 2, one message, "out/ was left as it was")."""
    root, old, new = prepare(tmp_path, change)
    import shutil

    saved = tmp_path / "saved-out"
    shutil.copytree(root / "out", saved, symlinks=True)
    counter = install(monkeypatch, 0, error)  # a clean run counts the calls
    assert compile_in_process(root)[0] == 0 and trees(root / "out") == new
    total = len(counter.calls)
    assert total >= 5, counter.calls
    monkeypatch.undo()
    outcomes = set()
    for k in range(1, total + 1):
        shutil.rmtree(root / "out")
        shutil.copytree(saved, root / "out", symlinks=True)
        faulty = install(monkeypatch, k, error)
        code, out, err = compile_in_process(root)
        monkeypatch.undo()
        step = f"fault {os.strerror(error)} at call {k}/{total} ({faulty.calls[k - 1] if len(faulty.calls) >= k else '?'})"
        assert "Traceback" not in err and "internal error" not in err, f"{step}: {err}"
        if code == 0:
            # a failure the writer may ignore (e.g. fsync of a directory, or cleanup of the
            # old tree after the swap); the result must still be complete
            assert trees(root / "out") == new, step
            outcomes.add("tolerated")
        else:
            assert code == 2, f"{step}: exit {code}: {err}"
            assert os.strerror(error) in err, f"{step}: {err}"
            assert len([line for line in err.splitlines() if line.strip()]) <= 3, f"{step}: {err}"
            now = trees(root / "out")
            for env in set(old) | set(new):
                assert now.get(env) in (old.get(env), new.get(env)), f"{step}: {env} is neither old nor new"
            # the message is true: it names exactly the environments that changed
            changed = sorted(env for env in set(old) | set(new) if now.get(env) != old.get(env))
            if changed:
                assert f"already replaced: {', '.join(changed)} (each complete and new)" in err, f"{step}: {err}"
                assert "; out/ was left as it was" not in err, f"{step}: {err}"
            else:
                assert "; out/ was left as it was" in err and "already replaced" not in err, f"{step}: {err}"
            outcomes.add("old" if now == old else "mixed")
        # leftovers, if any, are cleaned up by the next run, which completes the change
        assert compile_in_process(root)[0] == 0, step
        assert trees(root / "out") == new and not leftovers(root / "out"), step
    assert "old" in outcomes


def test_failures_before_the_first_swap_leave_out_exactly_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards compile_project's cleanup of this run's staged trees on a write error.
    Staging happens entirely before any swap: a fault there must change nothing, and must
    not leave staging trees behind."""
    root, old, _ = prepare(tmp_path, "update")
    counter = install(monkeypatch, 0, errno.ENOSPC)
    import shutil

    saved = tmp_path / "saved"
    shutil.copytree(root / "out", saved)
    assert compile_in_process(root)[0] == 0
    monkeypatch.undo()
    first_swap = next(i for i, name in enumerate(counter.calls, start=1) if name in ("exchange", "rename", "replace"))
    for k in range(1, first_swap):
        shutil.rmtree(root / "out")
        shutil.copytree(saved, root / "out")
        install(monkeypatch, k, errno.ENOSPC)
        code, _, err = compile_in_process(root)
        monkeypatch.undo()
        if code == 0:
            continue  # an ignored failure (directory fsync)
        assert code == 2, err
        assert trees(root / "out") == old, f"fault at call {k}: out/ changed"
        assert not leftovers(root / "out"), f"fault at call {k}: staging left behind: {leftovers(root / 'out')}"


def test_read_only_out_directory_is_a_clear_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    root, old, _ = prepare(tmp_path, "prune")
    os.chmod(root / "out", 0o500)
    try:
        code, _, err = compile_in_process(root)
    finally:
        os.chmod(root / "out", 0o755)
    assert code == 2 and "Permission denied" in err and "Traceback" not in err
    assert trees(root / "out") == old


@pytest.mark.parametrize("change", ["update", "prune"])
def test_a_kill_at_every_write_step_including_the_prune_of_a_deleted_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """test_gitops kills real processes at 12 moments while environments are written; this
    stops the writer at EVERY one of its file-system calls (no cleanup handler runs, as
    with SIGKILL), including the prune of an environment whose file was deleted, which
    timed kills rarely reach. Each environment is old or new (a pruned one: old or gone);
    the next run finishes the job."""
    import shutil

    root, old, new = prepare(tmp_path, change)
    saved = tmp_path / "saved"
    shutil.copytree(root / "out", saved)
    counter = install(monkeypatch, 0, 0)
    assert compile_in_process(root)[0] == 0
    monkeypatch.undo()
    total = len(counter.calls)
    killed_in_prune = 0
    for k in range(1, total + 1):
        shutil.rmtree(root / "out")
        shutil.copytree(saved, root / "out")
        faulty = install(monkeypatch, k, 0)
        with pytest.raises(Killed):
            compile_in_process(root)
        monkeypatch.undo()
        now = trees(root / "out")
        for env in set(old) | set(new):
            assert now.get(env) in (old.get(env), new.get(env)), (
                f"{env} is neither old nor new after a kill at call {k}/{total} ({faulty.calls[-1]})"
            )
        killed_in_prune += change == "prune" and now.get("env00") == new["env00"] and "env01" in now
        assert compile_in_process(root)[0] == 0
        assert trees(root / "out") == new and not leftovers(root / "out"), f"not recovered after a kill at call {k}"
    assert change != "prune" or killed_in_prune  # some kills did land inside the prune
