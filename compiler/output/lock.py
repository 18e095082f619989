"""One writer at a time on out/: an advisory flock(2) on the out/ directory itself.

`mlc compile` holds it exclusively from before the start-up recovery until its last swap
and the cache state are written (the cache of `<project>/.mlc-cache/` is only read and
written by a run holding this lock); `mlc compile --check` holds it shared, so it never
sees another run's half-finished swaps or staging folders. A second run waits up to
`timeout` seconds, then fails naming the holder (from /proc/locks on Linux).

Locking the directory creates no file (out/ is committed), and the kernel drops the lock
when its holder dies, even by SIGKILL: there is never a stale lock to clean up. Pool
workers inherit the descriptor when forked and close it at start (`release_inherited`),
so only the run's main process holds the lock. On a filesystem without flock (some
network filesystems) the run proceeds unlocked, as before.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DEFAULT_TIMEOUT = 60.0  # seconds; MLC_LOCK_TIMEOUT overrides
_HELD: list[int] = []  # descriptors this process opened for a lock


class LockBusy(Exception):
    """out/ stayed locked by another run for the whole timeout."""

    def __init__(self, out_dir: Path, holders: list[int], waited: float):
        self.holders, self.waited = holders, waited
        who = f"pid {', '.join(map(str, holders))}" if holders else "another process"
        super().__init__(
            f"{out_dir} is locked by another mlc run ({who}); waited {waited:g} s "
            "(set MLC_LOCK_TIMEOUT=SECONDS to wait longer, or stop that run)"
        )


def lock_timeout() -> float:
    raw = os.environ.get("MLC_LOCK_TIMEOUT", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value >= 0 else DEFAULT_TIMEOUT


def holders(fd: int) -> list[int]:
    """Pids holding a flock on the file of `fd` (Linux /proc/locks; empty elsewhere)."""
    info = os.fstat(fd)
    inode = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    found = []
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as handle:
            for line in handle:
                fields = line.split()
                # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; waiters have "->" after the id
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == inode and fields[4].isdigit():
                    found.append(int(fields[4]))
    except OSError:
        return []
    return sorted(set(found) - {os.getpid()})


@contextmanager
def locked(
    out_dir: Path, exclusive: bool = True, timeout: float | None = None, on_wait: Callable[[list[int]], None] | None = None
) -> Iterator[None]:
    """Hold the lock of `out_dir`. An exclusive lock creates a missing out/ (there must be
    something to lock) and removes it again at release when it is still empty, so a run that
    fails on its input leaves no trace."""
    created = False
    if exclusive and not out_dir.exists():
        try:
            out_dir.mkdir(parents=True)
            created = True
        except FileExistsError:
            pass
    limit = lock_timeout() if timeout is None else timeout
    start = time.monotonic()
    fd = _acquire(out_dir, exclusive, limit, start, on_wait)
    if fd is None:  # a missing out/ needs no shared lock
        yield
        return
    _HELD.append(fd)
    try:
        yield
    finally:
        _HELD.remove(fd)
        if created:
            try:
                out_dir.rmdir()  # only when empty; a waiting run notices (see _acquire)
            except OSError:
                pass
        os.close(fd)


def _acquire(out_dir: Path, exclusive: bool, limit: float, start: float, on_wait: Callable[[list[int]], None] | None) -> int | None:
    import fcntl

    delay, told = 0.01, False
    while True:
        try:
            fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            if not exclusive:
                return None
            out_dir.mkdir(parents=True, exist_ok=True)
            continue
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return fd  # no flock on this filesystem (ENOLCK, EOPNOTSUPP...): run unlocked
            waited = time.monotonic() - start
            if waited >= limit:
                found = holders(fd)
                os.close(fd)
                raise LockBusy(out_dir, found, round(waited, 1)) from None
            if not told and on_wait is not None:
                on_wait(holders(fd))
                told = True
            os.close(fd)
            time.sleep(min(delay, max(0.0, limit - waited)))
            delay = min(delay * 2, 0.2)
            continue
        # the holder may have removed the folder we locked (an empty out/ it had created)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(out_dir, follow_symlinks=False))
        except OSError:
            same = False
        if same:
            return fd
        os.close(fd)


def release_inherited() -> None:
    """In a forked worker: drop the inherited lock descriptors (the parent keeps the lock)."""
    while _HELD:
        try:
            os.close(_HELD.pop())
        except OSError:
            pass
