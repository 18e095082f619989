"""Incremental compile: skip an environment whose inputs and outputs are as last compiled.

The key of an environment hashes everything its output depends on: the compiler itself
(its source and data files), the schema, the policies, today's date (waivers expire),
and the bytes of every file of its `extends` chain. The state lives in
`<project>/.mlc-cache/state.json` (never in out/, which is committed), next to the
size, mtime, ctime and inode of every file written, so an edit inside out/ also forces a
recompile.

Why each part cannot lie:
- the environment files are keyed by the digests of the bytes the worker actually parsed
  (`Document.sha256`), never by a second read: a file edited while the run compiles gets
  the key of what was compiled, so the next run sees the edit;
- the shared inputs (schema, policies) are hashed before any worker reads them: an edit
  during the run makes the recorded key older than the output, which only costs a recompile;
- an output file is unchanged when size, mtime, ctime and inode all match what was
  recorded right after it was written (or right before it was compared). Size and mtime
  alone can be restored by hand (`touch -d`); ctime cannot be set without changing the
  clock, and replacing the file changes its inode.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import compiler

CACHE_DIR = ".mlc-cache"
STATE_VERSION = 3  # 3: keys from parsed bytes, outputs with ctime and inode, entries with apply_order


@functools.cache
def compiler_fingerprint() -> str:
    """Hash of the compiler's own files: a new compiler invalidates every entry."""
    digest = hashlib.sha256(compiler.__version__.encode())
    package = Path(compiler.__file__).parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".json", ".k"):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _hash_tree(digest: Any, directory: Path, suffixes: tuple[str, ...]) -> None:
    if not directory.is_dir():
        return
    from compiler.frontend.loader import MAX_FILE_BYTES

    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix in suffixes:
            digest.update(path.relative_to(directory).as_posix().encode())
            with open(path, "rb") as handle:  # bounded: a larger file fails the compile (MLC-E001)
                digest.update(handle.read(MAX_FILE_BYTES + 1))


@dataclass
class Cache:
    root: Path
    out_key: str  # which out/ directory the state describes
    shared_key: str  # compiler + schema + policies + date
    envs: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    file_digests: dict[str, bytes] = field(default_factory=dict)
    dirty: bool = False  # state changed since it was read: save() writes it

    @classmethod
    def open(cls, project_root: Path, out_dir: Path, schema_path: str, policies_dir: Path, today: str) -> Cache:
        digest = hashlib.sha256(compiler_fingerprint().encode())
        digest.update(Path(schema_path).read_bytes())
        _hash_tree(digest, policies_dir, (".k", ".yaml", ".yml"))
        digest.update(today.encode())
        try:
            out_key = os.path.relpath(out_dir.resolve(), project_root.resolve())
        except ValueError:
            out_key = str(out_dir)
        cache = cls(project_root, out_key, digest.hexdigest())
        try:
            state = json.loads((project_root / CACHE_DIR / "state.json").read_text(encoding="utf-8"))
            if state.get("version") == STATE_VERSION and state.get("out") == out_key:
                cache.envs = state.get("envs", {})
        except (OSError, ValueError):
            pass
        return cache

    def _file(self, rel: str) -> bytes | None:
        if rel not in self.file_bytes:
            try:
                self.file_bytes[rel] = (self.root / rel).read_bytes()
            except OSError:
                return None
        return self.file_bytes[rel]

    def _digest(self, rel: str) -> bytes | None:
        """sha256 of an input file, computed once per run (parents are shared by many envs)."""
        found = self.file_digests.get(rel)
        if found is None:
            data = self._file(rel)
            if data is None:
                return None
            found = self.file_digests[rel] = hashlib.sha256(data).digest()
        return found

    def key(self, files: list[str] | tuple[str, ...], digests: dict[str, str] | None = None) -> str | None:
        """The key of an environment whose chain is `files`; `digests` (sha256 hex of each
        file, as parsed by the compile) instead of reading the files now."""
        digest = hashlib.sha256(self.shared_key.encode())
        for rel in files:
            file_digest = bytes.fromhex(digests[rel]) if digests is not None and digests.get(rel) else self._digest(rel)
            if file_digest is None:
                return None
            digest.update(rel.encode() + b"\0" + file_digest)
        return digest.hexdigest()

    def fresh(self, env: str, out_dir: Path) -> bool:
        """True when env's inputs hash as recorded and its output files are untouched."""
        entry = self.envs.get(env)
        if not entry or self.key(entry["files"]) != entry["key"]:
            return False
        outputs: dict[str, list[int]] = entry["outputs"]
        prefix = os.path.join(out_dir, env, "")  # plain strings: ~70k lstat calls at N=1000
        lstat = os.lstat
        try:
            for rel, (size, mtime, ctime, inode) in outputs.items():
                info = lstat(prefix + rel)
                if info.st_size != size or info.st_mtime_ns != mtime or info.st_ctime_ns != ctime or info.st_ino != inode:
                    return False
        except (OSError, ValueError, TypeError):
            return False
        return True

    def record(
        self,
        env: str,
        inputs: dict[str, str],
        out_dir: Path,
        written: list[str],
        stats: dict[str, list[int]] | None = None,
        apply_order: int | None = None,
    ) -> None:
        """Remember env's key (from `inputs`: file -> sha256 of the bytes the compile parsed,
        in chain order) and its output files' [size, mtime_ns, ctime_ns, inode]: from `stats`
        (taken by the worker when it wrote or compared them). An output without stats is not
        proven: the entry is not recorded, the next run compiles the environment again."""
        files = tuple(inputs)
        key = self.key(files, inputs)
        if key is None or not files:
            return
        outputs = {}
        for rel in written:
            known = stats.get(rel) if stats else None
            if known is None:
                self.forget(env)
                return
            outputs[rel] = known
        entry: dict[str, Any] = {"key": key, "files": list(files), "outputs": outputs}
        if apply_order is not None:
            entry["apply_order"] = apply_order  # out/atlantis.yaml is rebuilt without loading the environment
        if self.envs.get(env) != entry:
            self.envs[env] = entry
            self.dirty = True

    def forget(self, env: str) -> None:
        if self.envs.pop(env, None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write the state if it changed (a no-change run writes nothing)."""
        if not self.dirty:
            return
        directory = self.root / CACHE_DIR
        try:
            directory.mkdir(exist_ok=True)
            if directory.is_symlink():
                return  # planted in the working tree: never write through it
            _replace_file(directory, ".gitignore", b"*\n")
            _replace_file(
                directory,
                "state.json",
                json.dumps({"version": STATE_VERSION, "out": self.out_key, "envs": self.envs}, sort_keys=True).encode("utf-8"),
            )
            self.dirty = False
        except OSError:
            pass  # a cache that cannot be saved only costs time


def _replace_file(directory: Path, name: str, data: bytes) -> None:
    """Write `directory/name` without following a symlink a pull request may have planted
    there (or at a predictable temporary name): a fresh file created with O_EXCL, then
    renamed over the name (rename replaces a link, never writes through it)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, directory / name)
    except BaseException:
        os.unlink(tmp)
        raise
