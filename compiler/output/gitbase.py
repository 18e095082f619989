"""Reading a project as it was at a Git revision, without touching the working tree.

Only what a compile reads is taken from the revision: the top-level files of
environments/ named *.yaml / *.yml (any letter case, so the same naming errors apply),
the top-level policies/*.k, and schemas/environment.schema.json. Each is listed with
`git ls-tree`, its size is checked with `git cat-file --batch-check` BEFORE anything is
read, and the blobs are then streamed one by one with `git cat-file --batch` into a
temporary folder (`mlc-base-<pid>-*`, removed afterwards, or by a later run if this one is
killed). Limits are the working tree's: an environment or policy file larger than
MAX_FILE_BYTES is written as a sparse file of its size (nothing of it is read), so the
compile of the base reports it exactly as for the working tree (MLC-E001); more than
MAX_ENVIRONMENTS environment files, or a schema over MAX_SCHEMA_BYTES, is a usage error.
Symbolic links and submodules are skipped. The current compiler then compiles that copy:
comparing two compiles by the same compiler shows what the change to the specs does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

from compiler.frontend.project import MAX_ENVIRONMENTS, UsageError

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~^@{}-]{0,200}\Z")
MAX_SCHEMA_BYTES = 4 * 1024 * 1024
MAX_POLICY_FILES = 256
TEMP_PREFIX = "mlc-base-"
_REGULAR = ("100644", "100755")


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {message[-1] if message else f'exit status {done.returncode}'}")
    return done.stdout


class BaseCheckout:
    """A temporary folder holding the project's spec files at a revision (a context manager)."""

    def __init__(self, folder: str, project_root: Path):
        self.name = folder
        self.project_root = project_root

    def __enter__(self) -> BaseCheckout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        shutil.rmtree(self.name, ignore_errors=True)


def wanted(path: str, prefix: str) -> str | None:
    """Which part of the project `path` (repository-relative) is, or None to skip it."""
    rel = path[len(prefix) :] if path.startswith(prefix) else None
    if rel is None:
        return None
    folder, _, name = rel.partition("/")
    if "/" in name or not name:
        return None
    lower = name.lower()
    if folder == "environments" and lower.endswith((".yaml", ".yml")):
        return "environment"
    if folder == "policies" and name.endswith(".k"):
        return "policy"
    if rel == "schemas/environment.schema.json":
        return "schema"
    return None


def checkout_base(root: Path, ref: str) -> BaseCheckout:
    """The project's spec files at `ref`, in a temporary folder (see the module docstring)."""
    from compiler.core.procs import owned_tempdir
    from compiler.frontend.loader import MAX_FILE_BYTES

    if not _REF.match(ref) or ref.startswith("-"):
        raise UsageError(f"not a valid Git revision: {ref!r}")
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    except UsageError:
        raise UsageError(
            f'unknown Git revision "{ref}": no commit of that name in this repository (try a branch, tag or commit id)'
        ) from None
    listing = _git(root, "ls-tree", "-z", "--full-tree", commit, "--", *(f"{prefix}{d}/" for d in ("environments", "policies", "schemas")))
    entries: list[tuple[str, str, str]] = []  # (oid, kind, repository path)
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        path = raw_path.decode("utf-8", "surrogateescape")
        part = wanted(path, prefix)
        if part is not None and kind == "blob" and mode in _REGULAR:
            entries.append((oid, part, path))
    environments = sum(1 for _, part, _ in entries if part == "environment")
    if environments > MAX_ENVIRONMENTS:
        raise UsageError(f"{ref} has {environments} environment files; the limit is {MAX_ENVIRONMENTS}")
    if sum(1 for _, part, _ in entries if part == "policy") > MAX_POLICY_FILES:
        raise UsageError(f"{ref} has more than {MAX_POLICY_FILES} policy files")
    sizes = _sizes(root, [oid for oid, _, _ in entries])
    limits = {"environment": MAX_FILE_BYTES, "policy": MAX_FILE_BYTES, "schema": MAX_SCHEMA_BYTES}
    for oid, part, path in entries:
        if part == "schema" and sizes[oid] > MAX_SCHEMA_BYTES:
            raise UsageError(f"{ref}:{path} is {sizes[oid]} bytes; the limit is {MAX_SCHEMA_BYTES}")
    folder = owned_tempdir(TEMP_PREFIX)
    checkout = BaseCheckout(folder, Path(folder) / prefix if prefix else Path(folder))
    try:
        checkout.project_root.mkdir(parents=True, exist_ok=True)
        to_read = []
        for oid, part, path in entries:
            target = Path(folder) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if sizes[oid] > limits[part]:
                with open(target, "wb") as handle:
                    handle.truncate(sizes[oid])  # sparse: the loader refuses it by its size alone
            else:
                to_read.append((oid, target))
        _stream_blobs(root, to_read)
    except BaseException:
        checkout.cleanup()
        raise
    return checkout


def _sizes(root: Path, oids: list[str]) -> dict[str, int]:
    """Object sizes from `git cat-file --batch-check` (nothing is read)."""
    if not oids:
        return {}
    text = _git_input(root, ["cat-file", "--batch-check"], "".join(f"{oid}\n" for oid in dict.fromkeys(oids)).encode())
    sizes = {}
    for line in text.decode().splitlines():
        oid, kind, size = line.split()
        sizes[oid] = int(size)
    return sizes


def _git_input(root: Path, args: list[str], data: bytes) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        raise UsageError(f"git {args[0]} failed: {done.stderr.decode('utf-8', 'replace').strip() or done.returncode}")
    return done.stdout


def _stream_blobs(root: Path, blobs: list[tuple[str, Path]]) -> None:
    """Write each blob to its target, streaming `git cat-file --batch` (bounded memory)."""
    if not blobs:
        return
    proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    requests = "".join(f"{oid}\n" for oid, _ in blobs).encode()

    def feed() -> None:
        try:
            proc.stdin.write(requests)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for oid, target in blobs:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[0].decode() != oid:
                raise UsageError(f"git cat-file: unexpected answer for {oid}")
            left = int(header[2])
            with open(target, "wb") as handle:
                while left:
                    chunk = proc.stdout.read(min(left, 1 << 16))
                    if not chunk:
                        raise UsageError("git cat-file: unexpected end of output")
                    handle.write(chunk)
                    left -= len(chunk)
            proc.stdout.read(1)  # the newline after each object
    finally:
        writer.join(timeout=5)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
