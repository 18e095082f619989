"""The one-pass durability order of compile: all staged bytes flushed before the first swap,
out/ fsynced after the last; and the fsync fallback covers every staged file."""

from __future__ import annotations

import os
from pathlib import Path

from compiler.cli import main
from tests.support.helpers import aws_env, make_project


def _project(tmp_path: Path, n: int) -> Path:
    components = """
    models: {type: object_store, lifecycle: {expire_after_days: 30}}
    """
    return make_project(tmp_path, {f"env{i}": aws_env(f"env{i}", components) for i in range(n)})


def test_flush_happens_once_before_any_swap_and_out_is_synced_after(tmp_path: Path, monkeypatch) -> None:
    import compiler.build as build

    root = _project(tmp_path, 3)
    events: list[tuple[str, object]] = []
    real_durable, real_swap, real_sync = build.make_durable, build.swap_in, build.sync_dir

    def durable(out_dir: Path, staged: object) -> None:
        trees = list(staged)  # type: ignore[call-overload]
        assert all(t.is_dir() for t in trees)
        events.append(("durable", sorted(t.name for t in trees)))
        real_durable(out_dir, trees)

    def swap(out_dir: Path, env: str, staging: Path, sync: bool = True) -> None:
        events.append(("swap", env))
        assert sync is False
        real_swap(out_dir, env, staging, sync)

    def sync(path: Path) -> None:
        events.append(("sync", path.name))
        real_sync(path)

    monkeypatch.setattr(build, "make_durable", durable)
    monkeypatch.setattr(build, "swap_in", swap)
    monkeypatch.setattr(build, "sync_dir", sync)
    assert main(["compile", "--project", str(root), "--jobs", "1"]) == 0
    kinds = [kind for kind, _ in events]
    assert kinds == ["durable", "swap", "swap", "swap", "swap", "sync"]
    assert len(events[0][1]) == 4  # type: ignore[arg-type]  # the environments and out/_platform
    assert [env for kind, env in events if kind == "swap"] == ["env0", "env1", "env2", "_platform"]


def test_fsync_fallback_flushes_every_staged_file_and_directory(tmp_path: Path, monkeypatch) -> None:
    import compiler.output.writer as writer

    out = tmp_path / "out"
    staging = writer.stage_env(out, "e", {"a.yaml": b"a\n", "sub/b.yaml": b"b\n", "sub/deeper/c.json": b"{}\n"}, "t")
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else str(fd))
        real_fsync(fd)

    monkeypatch.setattr(writer, "_SYNCFS", None)
    monkeypatch.setattr(writer.os, "fsync", fsync)
    writer.make_durable(out, [staging])
    assert len(synced) == 3 + 3  # three files, three directories (the tree, sub, sub/deeper)
    if os.path.exists("/proc/self/fd"):
        names = {Path(p).relative_to(staging).as_posix() if p != str(staging) else "." for p in synced}
        assert names == {".", "a.yaml", "sub", "sub/b.yaml", "sub/deeper", "sub/deeper/c.json"}


def test_nothing_is_flushed_when_nothing_changed(tmp_path: Path, monkeypatch) -> None:
    import compiler.output.writer as writer

    root = _project(tmp_path, 2)
    assert main(["compile", "--project", str(root)]) == 0
    calls = []
    monkeypatch.setattr(writer, "_syncfs", lambda d: calls.append(d) or True)
    assert main(["compile", "--project", str(root), "--no-cache"]) == 0
    assert calls == []
