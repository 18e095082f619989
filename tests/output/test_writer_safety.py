"""compiler/output/writer.py: what the mutation run found untested (docs/mutation-report.md).

Symlinks in out/ (a symlinked out/<env>, a symlinked manifest, a symlinked directory mlc
did not write), the fallback when the atomic exchange is not supported, and leftovers of an
interrupted run next to real stale environments. Each docstring names the mutant or the
protection it guards.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import sys
from pathlib import Path

import pytest

from compiler.output import writer
from tests.support.helpers import aws_env, make_project
from tests.support.spec_strategies import run_main, snapshot

TODAY = "2026-06-01"
MANIFEST = ".mlc-manifest.json"  # a contract (committed in every out/<env>), not imported from writer
STORE = "data: {type: object_store, size_gb: 1, lifecycle: {expire_after_days: 30}}"
FILES = {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 2\n"}


def staged_name(env: str, token: str) -> str:
    """The staging folder this process makes for `env` (main's owned name: prefix, pid, token, env)."""
    return f".mlc-staging-{os.getpid()}-{token}-{env}"  # a contract (recover, .gitignore), not imported


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside out/ that looks like an environment mlc wrote, with a secret."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "secret.txt").write_text("ssh key\n")
    (directory / "a.yaml").write_text("a: 0\n")
    (directory / MANIFEST).write_text(json.dumps({"files": {"a.yaml": "x", "old.yaml": "x"}, "generated_by": "mlc"}))
    (directory / "old.yaml").write_text("old\n")
    return directory


def project(tmp_path: Path, size: int = 1) -> Path:
    return make_project(tmp_path / "p", {"e1": aws_env("e1", STORE.replace("size_gb: 1", f"size_gb: {size}"))})


def compile_(root: Path, *extra: str) -> tuple[int, str, str]:
    return run_main("compile", "--project", str(root), "--today", TODAY, *extra)


# --- a symlinked out/<env> ---------------------------------------------------------------------
def test_a_symlinked_environment_lists_nothing_from_outside(tmp_path: Path, outside: Path) -> None:
    """Guards existing_files / read_manifest on a symlinked out/<env> (the `is_symlink()`
    check, and fwalk that does not follow the top): the target's files are neither foreign
    (to be copied into the committed tree) nor "written before" (to be removed)."""
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "e1")
    assert writer.existing_files(out / "e1") == {}
    assert writer.read_manifest(out / "e1") == {}
    report = writer.diff_env(out, "e1", FILES)
    assert (report.added, report.changed, report.removed, report.foreign) == (["a.yaml", "sub/b.yaml"], [], [], [])


def test_carry_foreign_never_copies_through_a_symlinked_environment(tmp_path: Path, outside: Path) -> None:
    """Guards the security fix in carry_foreign: it reads through a descriptor of the real
    out/<env>, so even a foreign list naming files of the link's target (out/<env> replaced
    by a link after diff_env ran) copies nothing from outside out/ into the new tree."""
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(outside, out / "e1")
    staging = writer.stage_env(out, "e1", FILES, "t0")
    writer.carry_foreign(out, "e1", staging, ["secret.txt", "old.yaml"])
    assert sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*")) == ["a.yaml", "sub", "sub/b.yaml"]


def test_carry_foreign_skips_files_below_a_symlinked_directory(tmp_path: Path, outside: Path) -> None:
    """Guards _carry_one's O_NOFOLLOW walk: `link/secret.txt` is not copied when `link` is a
    symlinked directory; a real foreign file and a foreign link are carried as they are."""
    out = tmp_path / "out"
    (out / "e1" / "notes").mkdir(parents=True)
    (out / "e1" / "notes" / "mine.txt").write_text("kept\n")
    os.chmod(out / "e1" / "notes" / "mine.txt", 0o600)
    os.symlink(outside, out / "e1" / "link")
    os.symlink("../outside/secret.txt", out / "e1" / "pointer")
    staging = writer.stage_env(out, "e1", FILES, "t1")
    writer.carry_foreign(out, "e1", staging, ["link/secret.txt", "notes/mine.txt", "pointer", "missing.txt"])
    assert not (staging / "link").exists()
    assert (staging / "notes" / "mine.txt").read_text() == "kept\n"
    assert (staging / "notes" / "mine.txt").stat().st_mode & 0o777 == 0o600
    assert (staging / "pointer").is_symlink() and os.readlink(staging / "pointer") == "../outside/secret.txt"


def test_compile_over_a_symlinked_environment_copies_nothing_from_outside(tmp_path: Path, outside: Path) -> None:
    """End to end (the issue's reproduction): out/e1 planted as a link to a directory that
    looks like an environment; the compile replaces the link, and out/e1 holds only what mlc
    wrote: no secret.txt, no old.yaml; the outside directory is untouched."""
    root = project(tmp_path)
    (root / "out").mkdir()
    os.symlink(outside, root / "out" / "e1")
    before = snapshot(outside)
    code, out, err = compile_(root)
    assert code == 0, err
    env = root / "out" / "e1"
    assert not env.is_symlink() and env.is_dir()
    assert not (env / "secret.txt").exists() and not (env / "old.yaml").exists() and not (env / "a.yaml").exists()
    assert set(snapshot(env)) == set(json.loads((env / MANIFEST).read_text())["files"]) | {MANIFEST}
    assert snapshot(outside) == before
    assert "not written by mlc" not in out + err


# --- the manifest ------------------------------------------------------------------------------
def test_a_symlinked_manifest_is_not_followed(tmp_path: Path, outside: Path) -> None:
    """Guards read_manifest's O_NOFOLLOW: a manifest planted as a link to one that lists
    `a.yaml` must not make mlc treat a.yaml as its own (and remove it): it stays foreign."""
    out = tmp_path / "out"
    (out / "e1").mkdir(parents=True)
    (out / "e1" / "a.yaml").write_text("hand-written\n")
    os.symlink(outside / MANIFEST, out / "e1" / MANIFEST)
    assert writer.read_manifest(out / "e1") == {}
    report = writer.diff_env(out, "e1", {"b.yaml": b"b\n"})
    assert (report.added, report.removed, report.foreign) == (["b.yaml"], [MANIFEST], ["a.yaml"])


def test_a_real_manifest_prunes_what_it_lists_and_ignores_junk(tmp_path: Path) -> None:
    """Guards `rel in written_before or rel == MANIFEST` and the filtering of non-string
    entries; an invalid manifest means "nothing written before"."""
    out = tmp_path / "out"
    (out / "e1").mkdir(parents=True)
    for name in ("old.yaml", "mine.txt", "a.yaml"):
        (out / "e1" / name).write_text(name)
    manifest = out / "e1" / MANIFEST
    manifest.write_text(json.dumps({"files": {"old.yaml": "x", "mine.txt": 3, "a.yaml": "x"}}))
    assert writer.read_manifest(out / "e1") == {"old.yaml": "x", "a.yaml": "x"}
    report = writer.diff_env(out, "e1", {"a.yaml": b"a.yaml"})
    assert (report.added, report.changed, report.removed, report.foreign) == ([], [], [MANIFEST, "old.yaml"], ["mine.txt"])
    manifest.write_text("[1, 2]")
    assert writer.read_manifest(out / "e1") == {}
    manifest.write_bytes(b"\xff\xfe")
    assert writer.read_manifest(out / "e1") == {}


def test_an_unreadable_manifest_is_an_error_not_an_empty_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the `raise` in read_manifest: EACCES is not "no manifest" (which would make a
    prune silently skip the environment, or report mlc's own files as foreign)."""
    out = tmp_path / "out"
    (out / "e1").mkdir(parents=True)
    (out / "e1" / MANIFEST).write_text("{}")
    real_open = os.open

    def deny(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path == MANIFEST:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(writer.os, "open", deny)
    with pytest.raises(PermissionError):
        writer.read_manifest(out / "e1")


# --- symlinked directories mlc did not write ---------------------------------------------------
def test_a_foreign_symlinked_directory_is_kept_as_a_link(tmp_path: Path, outside: Path) -> None:
    """Guards existing_files' `+ links` (a symlinked directory is listed, not walked): a
    link to a directory that someone put in out/e1 is reported and carried over as the same
    link on the next compile; it is never followed (outside is untouched)."""
    root = project(tmp_path)
    assert compile_(root)[0] == 0
    os.symlink(outside, root / "out" / "e1" / "shared")
    assert "shared" in writer.existing_files(root / "out" / "e1")
    assert not any(rel.startswith("shared/") for rel in writer.existing_files(root / "out" / "e1"))
    before = snapshot(outside)
    (root / "environments" / "e1.yaml").write_text(aws_env("e1", STORE.replace("size_gb: 1", "size_gb: 2")))
    code, out, err = compile_(root)
    assert code == 0, err
    link = root / "out" / "e1" / "shared"
    assert link.is_symlink() and os.readlink(link) == str(outside)
    assert snapshot(outside) == before


# --- the atomic exchange and its fallback ------------------------------------------------------
def _failing_renameat2(code: int):  # type: ignore[no-untyped-def]
    calls = []

    def renameat2(*args):  # type: ignore[no-untyped-def]
        calls.append(args)
        ctypes.set_errno(code)
        return -1

    return renameat2, calls


def _staged_over_old(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    (out / "e1").mkdir(parents=True)
    (out / "e1" / "old.yaml").write_text("old\n")
    return out, writer.stage_env(out, "e1", FILES, "t2")


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP])
def test_an_exchange_the_filesystem_cannot_do_falls_back_to_two_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Guards _exchange's `err in (22, 38, 95)` and swap_in's fallback: renameat2 failing with
    EINVAL (e.g. a filesystem without RENAME_EXCHANGE) must not fail the write; the new tree
    is in place, the old one gone, nothing left (the old tree's temporary name is unique to
    this write, so a leftover of another run is never in the way: recover removes those)."""
    out, staging = _staged_over_old(tmp_path)
    (out / "e1" / "old.yaml").write_text("old\n")
    fake, calls = _failing_renameat2(code)
    monkeypatch.setattr(writer, "_RENAMEAT2", fake)
    writer.swap_in(out, "e1", staging)
    assert len(calls) == 1 and calls[0][4] == 2  # RENAME_EXCHANGE was tried first
    assert snapshot(out) == {"e1/a.yaml": b"a: 1\n", "e1/sub/b.yaml": b"b: 2\n"}


def test_an_exchange_error_that_is_not_unsupported_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards `raise OSError` in _exchange: EBUSY is a real failure, not "unsupported": the
    caller must see it (and out/e1 stays old) instead of renaming around it."""
    out, staging = _staged_over_old(tmp_path)
    fake, _ = _failing_renameat2(errno.EBUSY)
    monkeypatch.setattr(writer, "_RENAMEAT2", fake)
    with pytest.raises(OSError) as raised:
        writer.swap_in(out, "e1", staging)
    assert raised.value.errno == errno.EBUSY
    assert snapshot(out / "e1") == {"old.yaml": b"old\n"} and not [n for n in os.listdir(out) if n.startswith(".mlc-old-")]


def test_without_renameat2_the_swap_uses_two_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards `if _RENAMEAT2 is None: return False` (other systems)."""
    out, staging = _staged_over_old(tmp_path)
    monkeypatch.setattr(writer, "_RENAMEAT2", None)
    writer.swap_in(out, "e1", staging)
    assert snapshot(out) == {"e1/a.yaml": b"a: 1\n", "e1/sub/b.yaml": b"b: 2\n"}


def test_the_exchange_keeps_the_old_tree_until_it_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards `remove_tree(staging)` after a successful exchange (the staging name then holds
    the old tree) and the out/ fsync: nothing but the new tree is left."""
    if writer._RENAMEAT2 is None:
        pytest.skip("renameat2 is not available on this platform")
    out, staging = _staged_over_old(tmp_path)
    synced: list[Path] = []
    monkeypatch.setattr(writer, "_fsync_dir", synced.append)
    writer.swap_in(out, "e1", staging)
    assert snapshot(out) == {"e1/a.yaml": b"a: 1\n", "e1/sub/b.yaml": b"b: 2\n"} and synced == [out]
    synced.clear()
    staging = writer.stage_env(out, "e1", {"c.yaml": b"c\n"}, "t3")
    writer.swap_in(out, "e1", staging, sync=False)
    assert snapshot(out) == {"e1/c.yaml": b"c\n"} and synced == []


# --- leftovers and stale environments ----------------------------------------------------------
def test_leftover_mlc_folders_are_not_stale_environments(tmp_path: Path) -> None:
    """Guards `not entry.name.startswith(".")` in stale_environments: a leftover staging or
    old tree of an interrupted run holds a manifest too, but `mlc check` must not report it
    as an environment to prune; a real stale environment is reported; a directory without
    a manifest, a symlink and a file are not environments."""
    root = project(tmp_path)
    assert compile_(root)[0] == 0
    out = root / "out"
    for name in (".mlc-staging-gone-0123456789ab", ".mlc-old-gone", "gone", "notmine"):
        (out / name).mkdir()
        (out / name / "x.yaml").write_text("x\n")
    for name in (".mlc-staging-gone-0123456789ab", ".mlc-old-gone", "gone"):
        (out / name / MANIFEST).write_text(json.dumps({"files": {"x.yaml": "x"}}))
    os.symlink(out / "gone", out / "linked")
    (out / "plain-file").write_text("x")
    assert writer.stale_environments(out, {"e1"}) == ["gone"]
    code, stdout, stderr = run_main("compile", "--project", str(root), "--today", TODAY, "--check")
    assert code == 1, stdout + stderr
    # the leftovers are reported as such (main's --check), never as files of an environment to prune
    lines = (stdout + stderr).splitlines()
    assert [line for line in lines if line.startswith(("would remove", "leftover"))] == [
        "would remove out/gone/.mlc-manifest.json",
        "would remove out/gone/x.yaml",
        "leftover out/.mlc-old-gone: a folder of an interrupted run (mlc compile removes it)",
        "leftover out/.mlc-staging-gone-0123456789ab: a folder of an interrupted run (mlc compile removes it)",
    ], stdout + stderr
    code, stdout, stderr = run_main("check", "--project", str(root), "--today", TODAY)
    assert code == 0 and "gone" not in stdout + stderr, stdout + stderr


def test_prune_removes_only_what_mlc_wrote_and_the_empty_directory(tmp_path: Path) -> None:
    """Guards prune_env: files listed in the manifest go, a foreign file stays (so the
    directory stays); without foreign files the directory itself goes; without a manifest
    nothing is touched."""
    out = tmp_path / "out"
    for env in ("a", "b", "c"):
        (out / env).mkdir(parents=True)
        (out / env / "x.yaml").write_text("x\n")
    for env in ("a", "b"):
        (out / env / MANIFEST).write_text(json.dumps({"files": {"x.yaml": "x"}}))
    (out / "a" / "mine.txt").write_text("mine\n")
    report = writer.prune_env(out, "a", "t4")
    assert (report.removed, report.foreign) == ([MANIFEST, "x.yaml"], ["mine.txt"])
    assert snapshot(out / "a") == {"mine.txt": b"mine\n"}
    writer.prune_env(out, "b", "t5")
    assert not (out / "b").exists()
    report = writer.prune_env(out, "c", "t6")
    assert report == writer.EnvWrite("c") and snapshot(out / "c") == {"x.yaml": b"x\n"}
    assert sorted(p.name for p in out.iterdir()) == ["a", "c"]


def test_recover_restores_a_half_swapped_environment(tmp_path: Path) -> None:
    """Guards recover(): a staging tree is dropped; an old tree whose environment is missing
    (killed between the two renames of the fallback) becomes the environment again; an old
    tree next to its environment is dropped."""
    out = tmp_path / "out"
    (out / ".mlc-staging-e1-0123").mkdir(parents=True)
    (out / ".mlc-old-e1").mkdir()
    (out / ".mlc-old-e1" / "x.yaml").write_text("e1\n")
    (out / "e2").mkdir()
    (out / ".mlc-old-e2").mkdir()
    (out / ".mlc-old-e2" / "x.yaml").write_text("stale\n")
    writer.recover(out)
    assert snapshot(out) == {"e1/x.yaml": b"e1\n"} and sorted(p.name for p in out.iterdir()) == ["e1", "e2"]


# --- the system calls behind the guarantees ------------------------------------------------------
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 and syncfs are Linux system calls")


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@linux_only
def test_on_linux_the_exchange_and_syncfs_are_the_real_system_calls(tmp_path: Path) -> None:
    """Guards _libc / _libc_renameat2 / _libc_syncfs (found, with errno captured): on Linux
    the swap is one renameat2(RENAME_EXCHANGE) and a failure reports the kernel's errno
    (ENOENT here), so the EINVAL fallback is taken only when the kernel says so."""
    assert writer._RENAMEAT2 is not None and writer._SYNCFS is not None
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x").write_text("a")
    assert writer._exchange(tmp_path / "a", tmp_path / "b") is True
    assert (tmp_path / "b" / "x").read_text() == "a" and not (tmp_path / "a" / "x").exists()
    with pytest.raises(OSError) as raised:
        writer._exchange(tmp_path / "a", tmp_path / "missing")
    assert raised.value.errno == errno.ENOENT
    assert writer._syncfs(tmp_path) is True


@linux_only
def test_syncfs_unsupported_falls_back_to_fsync_and_a_writeback_error_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards _syncfs's `err in (38, 95)` (ENOSYS / EOPNOTSUPP: fall back to per-file fsync)
    and its `raise` for any other errno (EIO: the disk failed, the write must fail), and
    that the directory descriptor is closed either way."""
    (tmp_path / "t" / "d").mkdir(parents=True)
    (tmp_path / "t" / "d" / "f").write_text("x")
    flushed: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(writer.os, "fsync", lambda fd: (flushed.append(fd), real_fsync(fd))[1])
    before = _open_fds()
    for code in (errno.ENOSYS, errno.EOPNOTSUPP):

        def unsupported(fd: int, code: int = code) -> int:
            ctypes.set_errno(code)
            return -1

        monkeypatch.setattr(writer, "_SYNCFS", unsupported)
        flushed.clear()
        assert writer._syncfs(tmp_path) is False
        writer.make_durable(tmp_path, [tmp_path / "t"])
        assert len(flushed) == 3  # the file, then d and t
    assert _open_fds() == before

    def failing(fd: int) -> int:
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(writer, "_SYNCFS", failing)
    with pytest.raises(OSError) as raised:
        writer.make_durable(tmp_path, [tmp_path / "t"])
    assert raised.value.errno == errno.EIO and _open_fds() == before
    monkeypatch.setattr(writer, "_SYNCFS", None)
    assert writer._syncfs(tmp_path) is False


@linux_only
def test_fsync_of_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards _fsync_dir / sync_dir: the directory is flushed once, a missing directory is
    skipped without error, and no descriptor is left open."""
    flushed: list[int] = []
    monkeypatch.setattr(writer.os, "fsync", flushed.append)
    before = _open_fds()
    writer.sync_dir(tmp_path)
    writer._fsync_dir(tmp_path / "missing")
    assert len(flushed) == 1 and _open_fds() == before


@linux_only
def test_the_exchange_works_with_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards _AT_FDCWD: `mlc compile --out out` gives relative paths, resolved against the
    working directory by renameat2 only with AT_FDCWD (another value is EBADF)."""
    monkeypatch.chdir(tmp_path)
    out, staging = _staged_over_old(Path("."))
    writer.swap_in(out, "e1", Path("out") / staging.name)
    assert snapshot(tmp_path / "out") == {"e1/a.yaml": b"a: 1\n", "e1/sub/b.yaml": b"b: 2\n"}


def test_the_fsync_fallback_skips_carried_over_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the fallback flush of make_durable with a foreign symlink carried into the
    staged tree: a link is not opened (O_NOFOLLOW would fail with ELOOP and abort the write;
    following it would open a file outside out/); its directory is flushed instead."""
    out = tmp_path / "out"
    (out / "e1").mkdir(parents=True)
    os.symlink("/etc/hostname", out / "e1" / "link")
    staging = writer.stage_env(out, "e1", FILES, "t7")
    writer.carry_foreign(out, "e1", staging, ["link"])
    monkeypatch.setattr(writer, "_SYNCFS", None)
    writer.make_durable(out, [staging])
    assert (staging / "link").is_symlink()


def test_a_leftover_staging_tree_of_the_same_name_is_replaced(tmp_path: Path, outside: Path) -> None:
    """Guards stage_env's `staging.exists() or staging.is_symlink()` -> remove_tree: an old
    tree (or a planted link) at the staging name is removed, never written through."""
    out = tmp_path / "out"
    (out / staged_name("e1", "t8")).mkdir(parents=True)
    (out / staged_name("e1", "t8") / "stale.yaml").write_text("stale\n")
    staging = writer.stage_env(out, "e1", FILES, "t8")
    assert snapshot(staging) == {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 2\n"}
    os.symlink(outside, out / staged_name("e1", "t9"))
    staging = writer.stage_env(out, "e1", FILES, "t9")
    assert not staging.is_symlink() and snapshot(staging) == {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 2\n"}
    assert sorted(p.name for p in outside.iterdir()) == [MANIFEST, "a.yaml", "old.yaml", "secret.txt"]


def test_a_link_where_mlc_writes_a_file_is_changed_even_if_its_target_has_the_bytes(tmp_path: Path) -> None:
    """Guards _read_regular's `return None` for a non-regular file: a symlink whose target
    holds exactly the new bytes is still "changed" (it must become a real file), and the
    report lists come out sorted whatever order they were found in."""
    out = tmp_path / "out"
    (out / "e1").mkdir(parents=True)
    (tmp_path / "same").write_bytes(b"a: 1\n")
    os.symlink(tmp_path / "same", out / "e1" / "a.yaml")
    for name in ("z.txt", "m.txt", "b.txt"):
        (out / "e1" / name).write_text(name)
    report = writer.diff_env(out, "e1", {"sub/b.yaml": b"b\n", "a.yaml": b"a: 1\n", "c.yaml": b"c\n"})
    assert (report.added, report.changed, report.foreign) == (["c.yaml", "sub/b.yaml"], ["a.yaml"], ["b.txt", "m.txt", "z.txt"])
    assert writer._read_regular(out / "e1" / "missing") is None


@linux_only
def test_small_helpers_fail_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards _is_link (a name that vanished is not a link), _open_env_dir (EACCES is raised,
    not taken for "no environment") and read_manifest closing its descriptor."""
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        assert writer._is_link("vanished", fd) is False
    finally:
        os.close(fd)
    (tmp_path / "e1").mkdir()
    (tmp_path / "e1" / MANIFEST).write_text('{"files": {"a": "b"}}')
    before = _open_fds()
    assert writer.read_manifest(tmp_path / "e1") == {"a": "b"} and _open_fds() == before
    real_open = os.open

    def deny(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("e1"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(writer.os, "open", deny)
    with pytest.raises(PermissionError):
        writer._open_env_dir(tmp_path / "e1")


@linux_only
def test_staging_writes_exact_modes_and_stats_and_cleans_up_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards stage_env: out/ is created if missing (parents=True), files are 0644 under
    umask 022, `stats` receives [size, mtime_ns, ctime_ns, inode] of each file as written, no descriptor is
    left open, and a failing write removes the half-written staging tree (WriteError)."""
    old_umask = os.umask(0o022)
    try:
        out = tmp_path / "new" / "out"
        stats: dict[str, list[int]] = {}
        before = _open_fds()
        staging = writer.stage_env(out, "e1", FILES, "ta", stats)
        assert _open_fds() == before
        for rel in FILES:
            info = os.stat(staging / rel)
            assert stats[rel] == [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino] and info.st_mode & 0o777 == 0o644
        assert sorted(stats) == sorted(FILES)

        def full(fd: int, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(writer.os, "write", full)
        with pytest.raises(writer.WriteError, match="No space left on device"):
            writer.stage_env(out, "e1", FILES, "tb")
        assert not (out / staged_name("e1", "tb")).exists() and (out / staged_name("e1", "ta")).is_dir() and _open_fds() == before
    finally:
        os.umask(old_umask)


@linux_only
def test_carried_files_keep_their_times_and_no_descriptor_leaks(tmp_path: Path) -> None:
    """Guards _carry_one: nested parents are created (parents=True), the copy keeps the
    source's mtime (os.utime), and every directory descriptor opened on the way is closed."""
    out = tmp_path / "out"
    (out / "e1" / "deep" / "er").mkdir(parents=True)
    source = out / "e1" / "deep" / "er" / "f.txt"
    source.write_text("mine\n")
    os.utime(source, ns=(1_600_000_000_000_000_000, 1_600_000_000_123_456_789))
    staging = writer.stage_env(out, "e1", FILES, "tc")
    before = _open_fds()
    writer.carry_foreign(out, "e1", staging, ["deep/er/f.txt"])
    assert _open_fds() == before
    copied = staging / "deep" / "er" / "f.txt"
    assert copied.read_text() == "mine\n" and copied.stat().st_mtime_ns == 1_600_000_000_123_456_789


def test_a_first_swap_renames_and_syncs_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards swap_in's first branch (no out/<env> yet: one rename) and its `if sync`."""
    synced: list[Path] = []
    monkeypatch.setattr(writer, "_fsync_dir", synced.append)
    out = tmp_path / "out"
    writer.swap_in(out, "e1", writer.stage_env(out, "e1", FILES, "td"))
    assert synced == [out]
    writer.swap_in(out, "e2", writer.stage_env(out, "e2", FILES, "te"), sync=False)
    assert synced == [out] and sorted(p.name for p in out.iterdir()) == ["e1", "e2"]
    monkeypatch.setattr(writer, "_RENAMEAT2", None)
    synced.clear()
    writer.swap_in(out, "e1", writer.stage_env(out, "e1", {"c.yaml": b"c\n"}, "tf"), sync=False)
    assert synced == [] and snapshot(out / "e1") == {"c.yaml": b"c\n"}
    writer.swap_in(out, "e1", writer.stage_env(out, "e1", {"d.yaml": b"d\n"}, "tg"))
    assert synced == [out] and snapshot(out / "e1") == {"d.yaml": b"d\n"}


def test_write_env_flushes_before_the_swap_touches_nothing_when_unchanged_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards write_env: out/ and its parents are created, the staged tree is made durable
    before the swap, an unchanged environment is not swapped at all (same directory inode),
    and a failing swap removes the staged tree and raises WriteError naming the env."""
    out = tmp_path / "a" / "b" / "out"
    events: list[str] = []
    real_durable, real_swap = writer.make_durable, writer.swap_in

    def durable(o: Path, staged: list[Path]) -> None:
        events.append(f"durable {[p.name for p in staged]}")
        real_durable(o, staged)

    def swap(o: Path, e: str, st: Path, sync: bool = True) -> None:
        events.append(f"swap {st.name}")
        real_swap(o, e, st, sync)

    monkeypatch.setattr(writer, "make_durable", durable)
    monkeypatch.setattr(writer, "swap_in", swap)
    report = writer.write_env(out, "e1", FILES, "th")
    name = staged_name("e1", "th")
    assert report.added == ["a.yaml", "sub/b.yaml"] and events == [f"durable ['{name}']", f"swap {name}"]
    inode = os.stat(out / "e1").st_ino
    events.clear()
    assert writer.write_env(out, "e1", FILES, "ti").unchanged and events == [] and os.stat(out / "e1").st_ino == inode

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(writer, "swap_in", refuse)
    with pytest.raises(writer.WriteError, match="cannot replace e1: Permission denied"):
        writer.write_env(out, "e1", {"c.yaml": b"c\n"}, "tj")
    assert sorted(p.name for p in out.iterdir()) == ["e1"] and snapshot(out / "e1") == {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 2\n"}


def test_no_stale_environments_without_a_real_out_directory(tmp_path: Path, outside: Path) -> None:
    """Guards stale_environments' first check: a missing out/ has none, and a symlinked out/
    is never listed (its target's directories are not environments to prune)."""
    assert writer.stale_environments(tmp_path / "missing", set()) == []
    (outside / "gone").mkdir()
    (outside / "gone" / MANIFEST).write_text("{}")
    os.symlink(outside, tmp_path / "out")
    assert writer.stale_environments(tmp_path / "out", set()) == []


def test_staging_a_deeper_directory_before_its_parent(tmp_path: Path) -> None:
    """Guards stage_env's makedirs(exist_ok=True): "a/b/c.yaml" creates a/ before "a/d.yaml"
    asks for it (paths are staged in sorted order, so this happens in every real tree)."""
    staging = writer.stage_env(tmp_path / "out", "e1", {"a/b/c.yaml": b"c\n", "a/d.yaml": b"d\n"}, "tk")
    assert snapshot(staging) == {"a/b/c.yaml": b"c\n", "a/d.yaml": b"d\n"}
