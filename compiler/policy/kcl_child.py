"""The isolated KCL evaluator: a child process that runs kcl-lib for compiler.policy.kcl.

Started once per mlc process (see kcl._Evaluator) with a scrubbed environment, as
`python -I -c ... <parent pid> <memory MiB>`; before importing kcl-lib it limits its own
address space (RLIMIT_AS), disables core dumps and arranges to die with its parent.

Protocol on stdin / a private copy of stdout: each message is two byte strings, each a
4-byte big-endian length and the bytes. Request: the main file's path, the plan (JSON
text); answer: the result (JSON text), the error text (empty when it evaluated). The
real stdout (fd 1) is pointed at stderr, so nothing a policy prints can corrupt an
answer; stderr goes to a file the parent reads only after a crash.
"""

from __future__ import annotations

import os
import struct
import sys


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int) -> tuple[bytes, bytes] | None:
    parts = []
    for _ in range(2):
        header = _read_exact(fd, 4)
        body = _read_exact(fd, struct.unpack(">I", header)[0]) if header else None
        if body is None:
            return None
        parts.append(body)
    return parts[0], parts[1]


def pack(first: bytes, second: bytes) -> bytes:
    return struct.pack(">I", len(first)) + first + struct.pack(">I", len(second)) + second


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> None:
    import resource

    from compiler.core.procs import die_with_parent

    parent, memory_mb = int(sys.argv[1]), int(sys.argv[2])
    die_with_parent(parent)
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    answers = os.dup(1)
    os.dup2(2, 1)  # a policy's print() must not reach the protocol
    import kcl_lib.api as api

    client = api.API()
    while True:
        request = read_message(0)
        if request is None:
            return  # the parent closed the pipe: done
        main_file, plan = (part.decode("utf-8") for part in request)
        args = api.ExecProgramArgs(k_filename_list=[main_file], args=[api.Argument(name="plan", value=plan)])
        try:
            result = client.exec_program(args)
            answer = (result.json_result or "", result.err_message or "")
        except Exception as exc:  # kcl-lib raises on compile errors
            answer = ("", str(exc) or type(exc).__name__)
        _write(answers, pack(answer[0].encode("utf-8"), answer[1].encode("utf-8")))


if __name__ == "__main__":
    main()
