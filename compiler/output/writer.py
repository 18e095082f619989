"""Writing out/: serialise artifacts, stage each environment aside, swap it in atomically.

Guarantees (each is tested):
- Deterministic bytes: one serialiser (compiler.output.serialize), artifacts in path order.
- Per-environment atomicity: the tree is written to `out/.mlc-staging-<pid>-<token>-<env>/`
  and exchanged with `out/<env>` in one `renameat2(RENAME_EXCHANGE)` (Linux); elsewhere two
  renames with recovery of a leftover `.mlc-old-<pid>-<token>-<env>` at the next start. A
  failure or a kill at any moment leaves `out/<env>` either entirely old or entirely new.
- Ownership: `<pid>` in those names is the process that made the folder; `recover` (run
  under the out/ lock, compiler.output.lock) removes only folders whose owner is gone.
- Durability (power loss), in one pass: staged trees are written without a flush each; then
  `make_durable` flushes them all at once, before the first exchange, and `sync_dir(out/)`
  makes the exchanges durable at the end. See "Durability" below for the trade-off.
- Pruning: files mlc wrote before (listed in `out/<env>/.mlc-manifest.json`) that are not
  produced any more disappear with the swap. Files mlc did not write are reported and
  carried over untouched (symlinks are copied as links, never followed).
- Paths: every artifact path is checked to stay inside its environment directory.

Durability
----------
Kill-safety needs no flush at all: a killed process loses nothing that reached the page
cache, and a rename/exchange is atomic in the kernel's view, so `out/<env>` is old or new.
Power loss is different: the kernel may persist a rename before the data of the files it
publishes, leaving a new tree of empty or torn files. The fix is an ordering: every staged
byte durable *before* the first exchange that publishes it. We keep that ordering but pay
for it once per run instead of once per file (an fsync costs a journal commit, ~2 ms on the
benchmark machine's ext4: 69 files per environment made fsync 80 % of a cold compile):

1. workers write the staged trees without fsync;
2. `make_durable(out/, staged)` calls `syncfs(2)` on the filesystem holding out/ (Linux):
   one writeback of all dirty data plus one journal commit; without syncfs (other systems,
   or if it fails with ENOSYS) it falls back to the old fsync of every staged file and
   directory;
3. the exchanges run, then one fsync of out/ commits them (previously one per environment).

Trade-offs, stated plainly: syncfs flushes *every* dirty page of that filesystem, including
other programs' writes, so its latency depends on them (on a busy shared disk it can be
slower than per-file fsync); before Linux 5.8 syncfs does not report writeback errors (EIO,
ENOSPC at delayed allocation), so a failing disk may go unnoticed where fsync would have
raised; and until the final directory fsync a power cut may revert any number of the run's
exchanges (each environment still old or new, never mixed, which is the guarantee).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.core.procs import owned_name, owner_of, pid_alive
from compiler.targets.artifact import Artifact

MANIFEST = ".mlc-manifest.json"
STAGING_PREFIX = ".mlc-staging-"
OLD_PREFIX = ".mlc-old-"
PLATFORM_DIR = "_platform"  # out/_platform: per-cluster output, written like an environment (never a DNS-label env name)
_OWNED = re.compile(r"(\d+)-([0-9a-f]+)-(.+)\Z")  # <pid>-<token>-<env> after the prefix
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\Z")
_RENAME_EXCHANGE = 2


class WriteError(Exception):
    """Writing out/ failed (disk full, permissions...). `written`: environments already
    replaced (or pruned) by this run before the failure; every other one was left as it was."""

    def __init__(self, message: str, written: list[str] | None = None):
        super().__init__(message)
        self.written = sorted(written or [])


def serialise(artifacts: Iterable[Artifact]) -> dict[str, bytes]:
    """Artifact path -> file bytes, plus the manifest listing them with their digests."""
    from compiler.output.serialize import dump_json, dump_yaml

    files: dict[str, bytes] = {}
    for artifact in sorted(artifacts, key=lambda a: a.path):
        check_relative_path(artifact.path)
        if artifact.format == "text":  # e.g. a generated Markdown file
            text = str(artifact.content)
        else:
            text = dump_json(artifact.content) if artifact.format == "json" else dump_yaml(artifact.content)
        files[artifact.path] = text.encode("utf-8")
    # keys in sorted order and ASCII-only paths (check_relative_path): the same bytes as
    # json.dumps(manifest, indent=2, sort_keys=True) + "\n", without its pure-Python encoder
    manifest = {"files": {path: hashlib.sha256(files[path]).hexdigest() for path in sorted(files)}, "generated_by": "mlc"}
    files[MANIFEST] = dump_json(manifest).encode("utf-8")
    return files


def check_relative_path(path: str) -> None:
    """Refuse any artifact path that could escape its environment directory."""
    parts = path.split("/")
    if path.startswith("/") or "\\" in path or not all(_SAFE_SEGMENT.match(p) for p in parts):
        raise ValueError(f"unsafe artifact path {path!r}")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sync_dir(path: Path) -> None:
    """fsync a directory: makes the renames inside it durable."""
    _fsync_dir(path)


def _libc() -> object | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def _libc_renameat2() -> object | None:
    try:
        func = _LIBC.renameat2  # type: ignore[attr-defined]
    except AttributeError:
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return func


def _libc_syncfs() -> object | None:
    try:
        func = _LIBC.syncfs  # type: ignore[attr-defined]
    except AttributeError:
        return None
    func.argtypes = [ctypes.c_int]
    return func


_LIBC = _libc()
_RENAMEAT2 = _libc_renameat2()
_SYNCFS = _libc_syncfs()


def _syncfs(directory: Path) -> bool:
    """syncfs(2) on the filesystem holding `directory`; False when unavailable (raises OSError
    when the kernel reports a writeback error)."""
    if _SYNCFS is None:
        return False
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _SYNCFS(fd) == 0:  # type: ignore[operator]
            return True
        err = ctypes.get_errno()
    finally:
        os.close(fd)
    if err in (38, 95):  # ENOSYS / EOPNOTSUPP
        return False
    raise OSError(err, os.strerror(err), str(directory))


def make_durable(out_dir: Path, staged: Iterable[Path]) -> None:
    """Flush the staged trees to stable storage (see Durability in the module docstring)."""
    trees = list(staged)
    if not trees or _syncfs(out_dir):
        return
    for tree in trees:
        directories = [tree]
        for root, dirs, files in os.walk(tree):
            base = Path(root)
            directories += [base / d for d in dirs]
            for name in files:
                if (base / name).is_symlink():
                    continue  # a carried-over link: it lives in its directory, flushed below
                fd = os.open(base / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        for directory in reversed(directories):
            _fsync_dir(directory)


_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two directory entries; False when the platform cannot."""
    if _RENAMEAT2 is None:
        return False
    result = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)  # type: ignore[operator]
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL / ENOSYS / EOPNOTSUPP: filesystem or kernel cannot
        return False
    raise OSError(err, os.strerror(err), str(b))


@dataclass
class EnvWrite:
    env: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # files in out/<env> mlc did not write

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_env_dir(env_dir: Path) -> int | None:
    """A descriptor of out/<env> if it is a real directory (never a symlink), else None.

    Everything read from an existing environment (its manifest, its file list, the foreign
    files carried over) goes through this descriptor, so a symlinked out/<env> (planted, or
    swapped in while mlc runs) cannot make mlc read or copy anything from outside out/."""
    try:
        return os.open(env_dir, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise  # EACCES, EIO...: not "no environment", the caller reports it


# absent, a symlink (O_NOFOLLOW), or not a directory
_ABSENT = (errno.ENOENT, errno.ELOOP, errno.ENOTDIR)


def read_manifest(env_dir: Path) -> dict[str, str]:
    """The files mlc wrote in out/<env> last time: {} when there is no manifest, when it is a
    symlink (never followed), or not valid; an error reading it (EACCES, EIO) is raised, so a
    prune never silently skips an environment it cannot read."""
    fd = _open_env_dir(env_dir)
    if fd is None:
        return {}
    try:
        try:
            handle = os.open(MANIFEST, os.O_RDONLY | _NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            if exc.errno in _ABSENT:
                return {}
            raise
        with open(handle, "rb") as stream:
            raw = stream.read()
        try:
            files = json.loads(raw.decode("utf-8")).get("files", {})
            return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}
        except (ValueError, AttributeError):
            return {}
    finally:
        os.close(fd)


def existing_files(env_dir: Path) -> dict[str, Path]:
    """Relative path -> path of every file or symlink under env_dir (symlinks not followed;
    nothing at all when env_dir itself is a symlink)."""
    found: dict[str, Path] = {}
    if env_dir.is_symlink() or not env_dir.is_dir():
        return found
    # fwalk, unlike walk, does not follow env_dir even if it became a symlink after the check
    for root, dirs, files, root_fd in os.fwalk(env_dir, follow_symlinks=False):
        base = Path(root)
        links = [d for d in dirs if _is_link(d, root_fd)]
        for name in files + links:
            path = base / name
            found[path.relative_to(env_dir).as_posix()] = path
    return found


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False  # vanished meanwhile


def _read_regular(path: Path) -> bytes | None:
    """File bytes, or None for a symlink or special file (never followed)."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def diff_env(out_dir: Path, env: str, files: dict[str, bytes]) -> EnvWrite:
    """What writing `files` to out/<env> would add, change, remove; and foreign files kept."""
    env_dir = out_dir / env
    report = EnvWrite(env)
    written_before = read_manifest(env_dir)
    present = existing_files(env_dir)
    for rel, data in files.items():
        if rel not in present:
            report.added.append(rel)
        elif _read_regular(present[rel]) != data:
            report.changed.append(rel)
    for rel in present:
        if rel in files:
            continue
        if rel in written_before or rel == MANIFEST:
            report.removed.append(rel)
        else:
            report.foreign.append(rel)
    for values in (report.added, report.changed, report.removed, report.foreign):
        values.sort()
    return report


def stage_env(out_dir: Path, env: str, files: dict[str, bytes], token: str, stats: dict[str, list[int]] | None = None) -> Path:
    """Write the whole environment tree aside (inside out/, same filesystem), unflushed:
    call `make_durable` on it before `swap_in`. `stats`, when given, receives
    rel -> [size, mtime_ns, ctime_ns, inode] of every file written (a later rename keeps them all)."""
    staging = out_dir / f"{owned_name(STAGING_PREFIX)}{token}-{env}"
    if staging.exists() or staging.is_symlink():
        remove_tree(staging)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        staging.mkdir(parents=True)
        base = os.fspath(staging)
        made = {""}
        for rel, data in files.items():
            parent = rel.rpartition("/")[0]
            if parent not in made:
                os.makedirs(f"{base}/{parent}", exist_ok=True)
                made.add(parent)
            fd = os.open(f"{base}/{rel}", flags, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if stats is not None:
                    info = os.fstat(fd)
                    stats[rel] = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]
            finally:
                os.close(fd)
    except OSError as exc:
        remove_tree(staging)
        raise WriteError(f"cannot write {staging.name}: {exc.strerror or exc}") from None
    return staging


def carry_foreign(out_dir: Path, env: str, staging: Path, foreign: list[str]) -> None:
    """Keep files mlc did not write: copy them (links as links) into the new tree.

    Read through a descriptor of the real out/<env> and of each directory below it, none
    opened through a symlink: if out/<env> is (or became) a symlink nothing is carried, and a
    path below a symlinked directory is skipped, so nothing from outside out/ is ever copied."""
    env_fd = _open_env_dir(out_dir / env)
    if env_fd is None:
        return
    try:
        for rel in foreign:
            _carry_one(env_fd, rel, staging / rel)
    finally:
        os.close(env_fd)


def _carry_one(env_fd: int, rel: str, target: Path) -> None:
    *parents, name = rel.split("/")
    fds: list[int] = []
    try:
        fd = env_fd
        for parent in parents:
            try:
                fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=fd)
            except OSError:
                return  # a symlinked (or vanished) directory: nothing below it is ours to copy
            fds.append(fd)
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(info.st_mode):
            os.symlink(os.readlink(name, dir_fd=fd), target)
        elif stat.S_ISREG(info.st_mode):
            source = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=fd)
            with open(source, "rb") as reader, open(target, "xb") as writer:
                shutil.copyfileobj(reader, writer)
            os.chmod(target, stat.S_IMODE(info.st_mode))
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        # a FIFO, socket or device is not copied (reading it could block or has no content)
    finally:
        for opened in fds:
            os.close(opened)


def swap_in(out_dir: Path, env: str, staging: Path, sync: bool = True) -> None:
    """Make the (durable, see make_durable) staged tree out/<env>, atomically; remove the
    previous tree afterwards. sync=False leaves the fsync of out/ to the caller (one per run)."""
    env_dir = out_dir / env
    if env_dir.is_symlink():
        env_dir.unlink()  # a planted link is replaced, never followed
    if not env_dir.exists():
        os.rename(staging, env_dir)
        if sync:
            _fsync_dir(out_dir)
        return
    if _exchange(staging, env_dir):
        if sync:
            _fsync_dir(out_dir)
        remove_tree(staging)  # now holds the old tree
        return
    import uuid

    old = out_dir / f"{owned_name(OLD_PREFIX)}{uuid.uuid4().hex[:12]}-{env}"
    os.rename(env_dir, old)
    os.rename(staging, env_dir)
    if sync:
        _fsync_dir(out_dir)
    remove_tree(old)


def remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def leftovers(out_dir: Path) -> list[str]:
    """Names of staging / old folders in out/ (an interrupted or a running write)."""
    if not out_dir.is_dir() or out_dir.is_symlink():
        return []
    return sorted(entry.name for entry in out_dir.iterdir() if entry.name.startswith((STAGING_PREFIX, OLD_PREFIX)))


def _owner_and_env(name: str, prefix: str) -> tuple[int | None, str]:
    """(owner pid, environment) of a staging / old folder; (None, rest) for the names of
    mlc versions that did not record an owner (`.mlc-old-<env>`, `.mlc-staging-<env>-<token>`)."""
    match = _OWNED.match(name[len(prefix) :])
    if match:
        return owner_of(name, prefix), match.group(3)
    return None, name[len(prefix) :]


def recover(out_dir: Path) -> list[str]:
    """Clean up after interrupted runs: drop their staging trees, restore a half-swapped
    environment. Only folders whose owner process is gone are touched; returns the names of
    those left in place because their owner still runs (call it holding the out/ lock)."""
    kept: list[str] = []
    for name in leftovers(out_dir):
        entry = out_dir / name
        prefix = STAGING_PREFIX if name.startswith(STAGING_PREFIX) else OLD_PREFIX
        owner, env = _owner_and_env(name, prefix)
        if owner is not None and owner != os.getpid() and pid_alive(owner):
            kept.append(name)
            continue
        if prefix == STAGING_PREFIX:
            remove_tree(entry)
            continue
        env_dir = out_dir / env
        if entry.is_symlink() or env_dir.exists() or env_dir.is_symlink() or not _SAFE_SEGMENT.match(env):
            remove_tree(entry)
        else:
            os.rename(entry, env_dir)
    return kept


def write_env(out_dir: Path, env: str, files: dict[str, bytes], token: str) -> EnvWrite:
    """Stage and swap one environment. Nothing is touched when the content is unchanged."""
    report = diff_env(out_dir, env, files)
    if report.unchanged:
        return report
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = stage_env(out_dir, env, files, token)
    try:
        carry_foreign(out_dir, env, staging, report.foreign)
        make_durable(out_dir, [staging])
        swap_in(out_dir, env, staging)
    except OSError as exc:
        remove_tree(staging)
        raise WriteError(f"cannot replace {env}: {exc.strerror or exc}") from None
    return report


def stale_environments(out_dir: Path, current: set[str]) -> list[str]:
    """Directories in out/ that hold an mlc manifest but whose environment no longer exists."""
    if not out_dir.is_dir() or out_dir.is_symlink():
        return []
    return sorted(
        entry.name
        for entry in out_dir.iterdir()
        if entry.is_dir()
        and not entry.is_symlink()
        and not entry.name.startswith(".")
        and entry.name != PLATFORM_DIR
        and entry.name not in current
        and (entry / MANIFEST).is_file()
    )


def prune_env(out_dir: Path, env: str, token: str) -> EnvWrite:
    """Remove the files mlc wrote for a deleted environment; keep (and report) the rest."""
    if not read_manifest(out_dir / env):
        return EnvWrite(env)
    report = write_env(out_dir, env, {}, token)
    env_dir = out_dir / env
    if env_dir.is_dir() and not env_dir.is_symlink() and not any(env_dir.iterdir()):
        env_dir.rmdir()
    return report


# --- files at the top of out/ (out/atlantis.yaml): owned by mlc, replaced atomically ------------


def top_level_drift(out_dir: Path, name: str, data: bytes) -> EnvWrite:
    """What writing out/<name> would do, as an EnvWrite whose env is "" (paths are out/-relative)."""
    report = EnvWrite("")
    path = out_dir / name
    if not (path.exists() or path.is_symlink()):
        report.added.append(name)
    elif _read_regular(path) != data:
        report.changed.append(name)
    return report


def write_top_level(out_dir: Path, name: str, data: bytes, token: str) -> None:
    """Replace out/<name> in one rename (a symlink there is replaced, never followed); the
    temporary file carries the staging prefix, so an interrupted run's leftover is cleaned."""
    check_relative_path(name)
    tmp = out_dir / f"{STAGING_PREFIX}{name}-{token}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, out_dir / name)
        _fsync_dir(out_dir)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise WriteError(f"cannot write {name}: {exc.strerror or exc}") from None


def repository_relpath(path: Path, project_root: Path) -> str:
    """`path` relative to the root of the Git repository holding the project (the nearest parent
    with a .git), as Atlantis wants project directories; else relative to the project; "." when
    out/ is outside both (then the config is only meaningful with out/ as a repository root)."""
    resolved, root = path.resolve(), project_root.resolve()
    for parent in [root, *root.parents]:
        if (parent / ".git").exists():
            try:
                return resolved.relative_to(parent).as_posix() or "."
            except ValueError:
                break
    try:
        return resolved.relative_to(root).as_posix() or "."
    except ValueError:  # out/ outside the project: paths relative to out/ itself (deterministic)
        return "."
