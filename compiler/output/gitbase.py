"""Reading a project as it was at a Git revision, without touching the working tree.

`git archive` streams the revision's environments/, schemas/ and policies/ into a
temporary directory (extracted with tarfile's "data" filter: no links out, no absolute
paths); the current compiler then compiles that copy. Comparing two compiles by the same
compiler shows what the change to the specs does.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
import tempfile
from pathlib import Path

from compiler.frontend.project import UsageError

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~^@{}-]{0,200}\Z")
PROJECT_DIRS = ("environments", "schemas", "policies")


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {message[-1] if message else 'unknown error'}")
    return done.stdout


def _regular_files_only(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """tarfile's "data" filter, but links are skipped instead of aborting the extraction:
    a revision may hold environments/x.yaml -> /etc/passwd (the data filter raised
    AbsoluteLinkError, an internal error); the loader refuses symlinks anyway (MLC-E012)."""
    if member.issym() or member.islnk():
        return None
    return tarfile.data_filter(member, path)


def checkout_base(root: Path, ref: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory holding the project's spec files at `ref`."""
    if not _REF.match(ref) or ref.startswith("-"):
        raise UsageError(f"not a valid Git revision: {ref!r}")
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    listing = _git(root, "ls-tree", "--name-only", commit, "--", *(prefix + d for d in PROJECT_DIRS)).decode().split()
    tmp = tempfile.TemporaryDirectory(prefix="mlc-base-")
    target = Path(tmp.name)
    if listing:
        data = _git(root, "archive", "--format=tar", commit, "--", *listing)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(target, filter=_regular_files_only)
    project = target / prefix if prefix else target
    project.mkdir(parents=True, exist_ok=True)
    tmp.project_root = project  # type: ignore[attr-defined]
    return tmp
