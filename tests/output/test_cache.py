"""compiler/output/cache.py on its own: the key, freshness of outputs, what is recorded and
saved. test_gitops covers the cache through `mlc compile`; these pin what the mutation run
found unchecked (each docstring names the mutant or protection it guards)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from compiler.output import cache as cache_module
from compiler.output.cache import Cache, compiler_fingerprint

CACHE_DIR = ".mlc-cache"  # a contract (README, .gitignore), not imported: a mutant of it must fail here
STATE_VERSION = 4  # the state format this compiler reads and writes (an older state is ignored)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "base.yaml").write_text("base\n")
    (tmp_path / "environments" / "e1.yaml").write_text("e1\n")
    (tmp_path / "schema.json").write_text("{}")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.k").write_text("rule\n")
    (tmp_path / "policies" / "notes.txt").write_text("ignored\n")
    return tmp_path


def open_cache(root: Path, today: str = "2026-06-01", out: str = "out") -> Cache:
    return Cache.open(root, root / out, str(root / "schema.json"), root / "policies", today)


FILES = ("environments/base.yaml", "environments/e1.yaml")


def write_outputs(root: Path) -> list[str]:
    (root / "out" / "e1" / "k").mkdir(parents=True, exist_ok=True)
    (root / "out" / "e1" / "a.yaml").write_text("a\n")
    (root / "out" / "e1" / "k" / "b.yaml").write_text("bb\n")
    return ["a.yaml", "k/b.yaml"]


def inputs_of(root: Path) -> dict[str, str]:
    """What a compile hands record(): each file of the chain -> sha256 of the bytes it parsed."""
    return {rel: hashlib.sha256((root / rel).read_bytes()).hexdigest() for rel in FILES}


def stats_of(root: Path, written: list[str]) -> dict[str, list[int]]:
    """What the writer hands record(): [size, mtime_ns, ctime_ns, inode] of each output."""
    infos = {rel: os.lstat(root / "out" / "e1" / rel) for rel in written}
    return {rel: [i.st_size, i.st_mtime_ns, i.st_ctime_ns, i.st_ino] for rel, i in infos.items()}


def test_the_fingerprint_covers_the_compiler_sources() -> None:
    assert len(compiler_fingerprint()) == 64 and compiler_fingerprint() == compiler_fingerprint()


def test_the_shared_key_depends_on_schema_policies_and_date_not_on_other_files(root: Path) -> None:
    """Guards Cache.open's digest: schema bytes, policy files (.k/.yaml/.yml only), today."""
    key = open_cache(root).shared_key
    assert open_cache(root).shared_key == key
    assert open_cache(root, today="2026-06-02").shared_key != key
    (root / "policies" / "notes.txt").write_text("changed\n")
    assert open_cache(root).shared_key == key
    (root / "policies" / "p.k").write_text("rule 2\n")
    assert open_cache(root).shared_key != key
    key = open_cache(root).shared_key
    (root / "policies" / "p.k").rename(root / "policies" / "p2.k")  # same bytes, same order, another name
    assert open_cache(root).shared_key != key
    key = open_cache(root).shared_key
    (root / "policies" / "r.yaml").write_text("r\n")
    assert open_cache(root).shared_key != key
    key = open_cache(root).shared_key
    (root / "policies" / "sub").mkdir()
    (root / "policies" / "sub" / "q.yml").write_text("q\n")
    assert open_cache(root).shared_key != key
    key = open_cache(root).shared_key
    (root / "schema.json").write_text("{ }")
    assert open_cache(root).shared_key != key


def test_the_key_of_an_environment_hashes_names_and_bytes_of_its_files(root: Path) -> None:
    """Guards Cache.key: None when a file is missing; a change of bytes or of the file list
    changes it; the digest of a file is computed once per run; the digests of the bytes the
    compile parsed (`digests`) are used instead of a second read, and a file without one is read."""
    cache = open_cache(root)
    key = cache.key(FILES)
    assert key is not None and len(key) == 64
    assert cache.key(FILES[1:]) != key and cache.key(FILES + ("environments/nope.yaml",)) is None
    parsed = inputs_of(root)
    assert cache.key(FILES, parsed) == key and cache.key(FILES, {FILES[0]: parsed[FILES[0]], FILES[1]: ""}) == key
    (root / "environments" / "e1.yaml").write_text("e1 changed\n")
    assert cache.key(FILES) == key  # read once per run: the same Cache keeps its digests
    assert open_cache(root).key(FILES) != key
    assert open_cache(root).key(FILES, parsed) == key  # the key of what was compiled, not of the file now


def test_fresh_needs_the_same_key_and_untouched_outputs(root: Path) -> None:
    """Guards Cache.fresh: no entry, another key, an output file whose size, mtime, ctime or
    inode differs from what was recorded, a missing one, or a malformed entry: not fresh."""
    cache = open_cache(root)
    written = write_outputs(root)
    out = root / "out"
    assert not cache.fresh("e1", out)
    stats = stats_of(root, written)
    cache.record("e1", inputs_of(root), out, written, stats)
    assert cache.envs["e1"]["outputs"]["k/b.yaml"][0] == 3 and cache.dirty
    assert cache.fresh("e1", out)
    for field_index in range(4):  # size, mtime_ns, ctime_ns, inode: each one alone decides
        changed = {rel: list(values) for rel, values in stats.items()}
        changed["k/b.yaml"][field_index] += 1
        cache.record("e1", inputs_of(root), out, written, changed)
        assert not cache.fresh("e1", out), field_index
    cache.record("e1", inputs_of(root), out, written, stats)
    assert cache.fresh("e1", out)
    b = out / "e1" / "k" / "b.yaml"
    info = b.stat()
    os.utime(b, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert not cache.fresh("e1", out)
    os.utime(b, ns=(info.st_atime_ns, info.st_mtime_ns))  # mtime restored by hand: ctime still tells
    assert not cache.fresh("e1", out)
    b.unlink()
    assert not cache.fresh("e1", out)
    write_outputs(root)
    cache.record("e1", inputs_of(root), out, written, stats_of(root, written))
    assert cache.fresh("e1", out)
    cache.envs["e1"]["outputs"]["a.yaml"] = [1, 2]  # malformed state (TypeError/ValueError): not fresh, no traceback
    assert not cache.fresh("e1", out)
    cache.record("e1", inputs_of(root), out, written, stats_of(root, written))
    (root / "environments" / "base.yaml").write_text("base changed\n")
    cache.file_digests.clear()
    cache.file_bytes.clear()
    assert not cache.fresh("e1", out)


def test_record_uses_the_writers_stats_and_marks_dirty_only_on_change(root: Path) -> None:
    """Guards record(): the worker's stats are what is recorded (never a later lstat); an
    output without stats forgets the environment (not proven untouched); an identical entry
    does not make the state dirty; a missing input file or no input records nothing; the
    apply order is kept only when given."""
    cache = open_cache(root)
    written = write_outputs(root)
    parsed = inputs_of(root)
    cache.record("e1", parsed, root / "out", written, {"a.yaml": [7, 42, 1, 2], "k/b.yaml": [3, 4, 5, 6]})
    entry = cache.envs["e1"]
    inputs = entry.pop("inputs")  # each input file's identity (a copied cache is never trusted)
    assert sorted(inputs) == sorted(FILES) and all(len(v) == 2 for v in inputs.values())
    assert entry == {"key": cache.key(FILES), "files": list(FILES), "outputs": {"a.yaml": [7, 42, 1, 2], "k/b.yaml": [3, 4, 5, 6]}}
    entry["inputs"] = inputs
    cache.dirty = False
    cache.record("e1", parsed, root / "out", written, {"a.yaml": [7, 42, 1, 2], "k/b.yaml": [3, 4, 5, 6]})
    assert not cache.dirty
    cache.record("e1", parsed, root / "out", written, {"a.yaml": [7, 42, 1, 2], "k/b.yaml": [3, 4, 5, 6]}, apply_order=2)
    assert cache.dirty and cache.envs["e1"]["apply_order"] == 2
    cache.dirty = False
    cache.record("e1", parsed, root / "out", written, {"a.yaml": [7, 42, 1, 2]})
    assert "e1" not in cache.envs and cache.dirty
    cache.record("e1", parsed, root / "out", written)
    assert "e1" not in cache.envs
    cache.dirty = False
    cache.record("e2", {"environments/missing.yaml": ""}, root / "out", [])
    cache.record("e3", {}, root / "out", [])
    assert sorted(cache.envs) == [] and not cache.dirty


def test_forget_and_save(root: Path) -> None:
    """Guards forget() (dirty only when something was forgotten) and save(): the state and
    a .gitignore are written only when dirty, then the state is clean; it is read back only
    with the same version and out/ directory."""
    cache = open_cache(root)
    cache.forget("nothing")
    assert not cache.dirty
    cache.save()
    assert not (root / CACHE_DIR).exists()
    written = write_outputs(root)
    cache.record("e1", inputs_of(root), root / "out", written, stats_of(root, written))
    cache.save()
    assert not cache.dirty
    assert (root / CACHE_DIR / ".gitignore").read_text() == "*\n"
    assert (root / CACHE_DIR / "state.json").read_text().startswith('{"envs": {"e1": {"files": ')  # sorted keys: stable bytes
    state = json.loads((root / CACHE_DIR / "state.json").read_text())
    assert (state["version"], state["out"], sorted(state["envs"])) == (STATE_VERSION, "out", ["e1"])
    assert open_cache(root).envs == cache.envs
    assert open_cache(root, out="elsewhere").envs == {}
    state["version"] = STATE_VERSION + 1
    (root / CACHE_DIR / "state.json").write_text(json.dumps(state))
    assert open_cache(root).envs == {}
    (root / CACHE_DIR / "state.json").write_text("{not json")
    assert open_cache(root).envs == {}
    cache.forget("e1")
    assert cache.dirty
    cache.save()
    assert json.loads((root / CACHE_DIR / "state.json").read_text())["envs"] == {}


def test_save_never_writes_through_a_planted_link(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Guards save()'s is_symlink() check and _replace_file (a fresh file renamed over the
    name): a symlinked cache directory is not written into; a symlinked state.json is
    replaced, its target untouched."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "victim").write_text("precious\n")
    os.symlink(outside, root / CACHE_DIR)
    cache = open_cache(root)
    cache.dirty = True
    cache.save()
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    os.unlink(root / CACHE_DIR)
    (root / CACHE_DIR).mkdir()
    os.symlink(outside / "victim", root / CACHE_DIR / "state.json")
    cache.save()
    assert (outside / "victim").read_text() == "precious\n"
    assert not (root / CACHE_DIR / "state.json").is_symlink() and json.loads((root / CACHE_DIR / "state.json").read_text())
    assert sorted(p.name for p in (root / CACHE_DIR).iterdir()) == [".gitignore", "state.json"]


def test_a_failing_write_leaves_no_temporary_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards _replace_file's cleanup, and save() swallowing the error (a cache that cannot
    be saved only costs time) while staying dirty."""
    (root / CACHE_DIR).mkdir()

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", fail)
    cache = open_cache(root)
    cache.dirty = True
    cache.save()
    assert cache.dirty and list((root / CACHE_DIR).iterdir()) == []


def test_the_fingerprint_hashes_exactly_the_compiler_files_that_change_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards compiler_fingerprint's file selection (rglob "*", is_file, the suffixes .py,
    .yaml, .json, .k, the relative path): editing any of those files, or moving one, gives a
    new fingerprint (so every cache entry is invalidated); bytecode and notes do not."""
    package = tmp_path / "pkg"
    (package / "sub" / "__pycache__").mkdir(parents=True)
    files = {"__init__.py": "v", "sub/a.py": "a", "sub/d.yaml": "d", "sub/s.json": "s", "sub/p.k": "p", "notes.txt": "n"}
    for rel, text in files.items():
        (package / rel).write_text(text)
    (package / "sub" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"pyc")
    monkeypatch.setattr(cache_module, "compiler", SimpleNamespace(__version__="9.9", __file__=str(package / "__init__.py")))
    fingerprint = compiler_fingerprint.__wrapped__  # type: ignore[attr-defined]
    first = fingerprint()
    assert len(first) == 64 and fingerprint() == first
    for rel in ("notes.txt", "sub/__pycache__/a.cpython-311.pyc"):
        (package / rel).write_bytes(b"changed")
        assert fingerprint() == first, rel
    seen = {first}
    for rel in ("__init__.py", "sub/a.py", "sub/d.yaml", "sub/s.json", "sub/p.k"):
        (package / rel).write_text("changed " + rel)
        assert fingerprint() not in seen, rel
        seen.add(fingerprint())
    (package / "sub" / "p.k").rename(package / "p.k")
    assert fingerprint() not in seen
    seen.add(fingerprint())
    (package / "sub" / "a.py").rename(package / "sub" / "a2.py")  # same bytes, same order, another name
    assert fingerprint() not in seen
    monkeypatch.setattr(cache_module, "compiler", SimpleNamespace(__version__="10.0", __file__=str(package / "__init__.py")))
    assert fingerprint() not in seen
