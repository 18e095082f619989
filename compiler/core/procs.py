"""Processes and the folders they own: who is alive, children that die with their parent,
temporary folders named after their owner so a later run can remove what a killed one left.

Linux gives us two kernel guarantees through prctl(2); elsewhere both calls are no-ops:
- PR_SET_PDEATHSIG: a child (pool worker, KCL evaluator) is killed when its parent dies,
  even by SIGKILL, so no process outlives the run;
- PR_SET_DUMPABLE 0: /proc/<pid>/environ and /proc/<pid>/mem of this process become
  unreadable to other processes of the same user, so a policy evaluator cannot read the
  CI secrets in mlc's own environment through /proc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import signal
import tempfile
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int) -> None:
    """In a child: be killed (SIGKILL) when the parent dies; exit now if it already has."""
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def hide_environment() -> None:
    """Make this process non-dumpable: other processes cannot read its /proc environ."""
    _prctl(_PR_SET_DUMPABLE, 0)


def pid_alive(pid: int) -> bool:
    """True when a process with this id runs (also when it belongs to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return False
    try:  # a zombie (dead, not yet reaped: e.g. a killed run's worker in a container) is gone
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rpartition(b")")[2].split()[:1]
        return state not in ([b"Z"], [b"X"])
    except OSError:
        return True


def owned_name(prefix: str, pid: int | None = None) -> str:
    """`<prefix><pid>-`: the start of a folder name that records its owner process."""
    return f"{prefix}{os.getpid() if pid is None else pid}-"


def owner_of(name: str, prefix: str) -> int | None:
    """The owner pid recorded in `name` (made by `owned_name`), or None."""
    if not name.startswith(prefix):
        return None
    head, sep, rest = name[len(prefix) :].partition("-")
    return int(head) if sep and rest and head.isdigit() and head.isascii() else None


def owned_tempdir(prefix: str) -> str:
    """A new temporary folder named `<prefix><pid>-<random>`, after sweeping the folders of
    that prefix whose owner is gone (a killed run cannot remove its own)."""
    sweep_tempdirs(prefix)
    return tempfile.mkdtemp(prefix=owned_name(prefix))


def sweep_tempdirs(prefix: str, directory: str | None = None) -> list[str]:
    """Remove `<prefix><pid>-*` folders of the temp folder whose owner process is gone."""
    base = Path(directory or tempfile.gettempdir())
    removed: list[str] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        owner = owner_of(entry.name, prefix)
        if owner is None or pid_alive(owner):
            continue
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.getuid():
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.name)
        except OSError:
            continue
    return removed
