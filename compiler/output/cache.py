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
  clock, and replacing the file changes its inode;
- the cache is a local file of one working tree, never shared: each entry also records the
  inode and ctime of every input file when it was recorded. A `.mlc-cache/` committed to
  the repository (or copied from elsewhere) cannot forge an entry: keys are computable
  from public bytes, but a fresh checkout gives every file an inode and ctime nobody can
  predict, so such entries never match and everything is compiled (this matters: CI runs
  `mlc check` and `mlc compile --check` on the pull request's own files).

Policy findings are kept per environment under the same kind of key, in their own file
(`findings.json`, so `mlc check` never parses the outputs' state): they depend on the
inputs only, so `mlc check` reuses them for every environment whose inputs hash as
recorded (whatever out/ holds), and `mlc compile` records them too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import compiler

if TYPE_CHECKING:
    from compiler.policy.findings import Finding

CACHE_DIR = ".mlc-cache"
STATE_VERSION = 4  # 4: input files' identity; 3: keys from parsed bytes, outputs with ctime and inode, apply_order
FINDINGS_VERSION = 2  # 2: input files' identity


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
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)  # env -> {key, files, abstract, findings}
    file_bytes: dict[str, bytes] = field(default_factory=dict)
    file_digests: dict[str, bytes] = field(default_factory=dict)
    file_ids: dict[str, list[int] | None] = field(default_factory=dict)
    dirty: bool = False  # state changed since it was read: save() writes it
    findings_dirty: bool = False

    @classmethod
    def open(cls, project_root: Path, out_dir: Path, schema_path: str, policies_dir: Path, today: str, outputs: bool = True) -> Cache:
        """The cache of a project; `outputs=False` reads only the findings (`mlc check`)."""
        digest = hashlib.sha256(compiler_fingerprint().encode())
        digest.update(Path(schema_path).read_bytes())
        _hash_tree(digest, policies_dir, (".k", ".yaml", ".yml"))
        digest.update(today.encode())
        try:
            out_key = os.path.relpath(out_dir.resolve(), project_root.resolve())
        except ValueError:
            out_key = str(out_dir)
        cache = cls(project_root, out_key, digest.hexdigest())
        state = _read_json(project_root / CACHE_DIR / "state.json") if outputs else {}
        if state.get("version") == STATE_VERSION and state.get("out") == out_key:
            cache.envs = state.get("envs", {})
        found = _read_json(project_root / CACHE_DIR / "findings.json")
        if found.get("version") == FINDINGS_VERSION and isinstance(found.get("envs"), dict):
            cache.findings = found["envs"]
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

    def _identity(self, rel: str) -> list[int] | None:
        """[inode, ctime_ns] of an input file (once per run), None when it cannot be read."""
        if rel not in self.file_ids:
            try:
                info = os.lstat(self.root / rel)
                self.file_ids[rel] = [info.st_ino, info.st_ctime_ns]
            except (OSError, ValueError):
                self.file_ids[rel] = None
        return self.file_ids[rel]

    def _identities(self, files: tuple[str, ...]) -> dict[str, list[int]] | None:
        found = {rel: self._identity(rel) for rel in files}
        return None if any(v is None for v in found.values()) else found  # type: ignore[return-value]

    def _same_files(self, entry: dict[str, Any]) -> bool:
        """The entry's input files are the ones it was recorded from (same inode and ctime)
        and hash to its key."""
        files = tuple(entry["files"])
        recorded = entry.get("inputs")
        if not files or not isinstance(recorded, dict) or set(recorded) != set(files):
            return False
        if any(self._identity(rel) != recorded[rel] for rel in files):
            return False
        return self.key(files) == entry["key"]

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
        try:
            if not entry or not self._same_files(entry):
                return False
            outputs: dict[str, list[int]] = entry["outputs"]
        except (KeyError, TypeError, ValueError, AttributeError):
            return False  # an entry this compiler did not write
        if not isinstance(outputs, dict):
            return False
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
        identities = self._identities(files)
        if key is None or not files or identities is None:
            self.forget(env)
            return
        outputs = {}
        for rel in written:
            known = stats.get(rel) if stats else None
            if known is None:
                self.forget(env)
                return
            outputs[rel] = known
        entry: dict[str, Any] = {"key": key, "files": list(files), "inputs": identities, "outputs": outputs}
        if apply_order is not None:
            entry["apply_order"] = apply_order  # out/atlantis.yaml is rebuilt without loading the environment
        if self.envs.get(env) != entry:
            self.envs[env] = entry
            self.dirty = True

    def forget(self, env: str) -> None:
        if self.envs.pop(env, None) is not None:
            self.dirty = True
        if self.findings.pop(env, None) is not None:
            self.findings_dirty = True

    def cached_findings(self, env: str) -> tuple[tuple[str, ...], bool, list[Finding]] | None:
        """(input files, abstract, findings) recorded for env when its inputs hash as they did."""
        entry = self.findings.get(env)
        try:
            if not entry or not self._same_files(entry):
                return None
            found = [_finding(env, item) for item in entry["findings"]]
            files = tuple(str(f) for f in entry["files"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # an entry this compiler cannot read: compute it again
        return files, bool(entry.get("abstract")), found

    def record_findings(self, env: str, inputs: dict[str, str], abstract: bool, findings: list[Finding]) -> None:
        """Remember env's findings under the key of `inputs` (file -> sha256 of the bytes the
        compile parsed, in chain order, as for record())."""
        files = tuple(inputs)
        key = self.key(files, inputs) if files else None
        identities = self._identities(files)
        if key is None or identities is None:
            if self.findings.pop(env, None) is not None:
                self.findings_dirty = True
            return
        entry = {
            "key": key,
            "files": list(files),
            "inputs": identities,
            "abstract": abstract,
            "findings": [_finding_data(f) for f in findings],
        }
        if self.findings.get(env) != entry:
            self.findings[env] = entry
            self.findings_dirty = True

    def save(self) -> None:
        """Write what changed (a no-change run writes nothing)."""
        if not (self.dirty or self.findings_dirty):
            return
        directory = self.root / CACHE_DIR
        try:
            directory.mkdir(exist_ok=True)
            if directory.is_symlink():
                return  # planted in the working tree: never write through it
            _replace_file(directory, ".gitignore", b"*\n")
            if self.dirty:
                state = {"version": STATE_VERSION, "out": self.out_key, "envs": self.envs}
                _replace_file(directory, "state.json", json.dumps(state, sort_keys=True).encode("utf-8"))
                self.dirty = False
            if self.findings_dirty:
                found = {"version": FINDINGS_VERSION, "envs": self.findings}
                _replace_file(directory, "findings.json", json.dumps(found, sort_keys=True).encode("utf-8"))
                self.findings_dirty = False
        except OSError:
            pass  # a cache that cannot be saved only costs time


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _finding_data(finding: Finding) -> list[Any]:
    where = finding.location
    return [
        where.file,
        where.line,
        where.col,
        finding.rule,
        finding.severity,
        finding.message,
        finding.component,
        finding.waived,
        finding.waiver_reason,
    ]


def _finding(env: str, item: list[Any]) -> Finding:
    from compiler.core.diagnostics import Location
    from compiler.policy.findings import Finding

    file, line, col, rule, severity, message, component, waived, reason = item
    if not (isinstance(file, str) and isinstance(line, int) and isinstance(col, int) and isinstance(message, str)):
        raise ValueError("malformed finding")
    return Finding(Location(file, line, col), str(rule), str(severity), message, env, component, bool(waived), reason)


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
