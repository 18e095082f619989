"""The process that runs one module's mutants (started by tests.support.mutate in the work copy).

Importing the compiler, networkx, jsonschema, the validators and pytest costs seconds per
process on a loaded 2-core machine: more than most mutants' tests. So this process imports
all of it once (a pytest collection of the selection), then forks one child per mutant. The
child installs the mutant in memory (the module's source is executed again into its own
namespace: changed constants replace the old ones in every module that imported them, and
each function and method keeps its identity but takes the mutated code) and runs
`pytest -x` on the selection. The mutated source is also on disk while the child runs, so
tests that start `python -m compiler` in a subprocess see the same mutant.

    python -m tests.support.mutate.worker JOB.json   (prints one JSON line per mutant)
"""

from __future__ import annotations

import ast
import functools
import importlib
import json
import os
import re
import shutil
import signal
import sys
import time
import types
from pathlib import Path

_KEEP_IDENTITY = (types.FunctionType, type, types.ModuleType, functools._lru_cache_wrapper)


def _functions(obj: object) -> dict[str, types.FunctionType]:
    """name -> plain function of a class or module namespace (methods, properties, caches)."""
    found: dict[str, types.FunctionType] = {}
    for name, value in vars(obj).items():
        candidates: dict[str, object] = {"": value}
        if isinstance(value, staticmethod | classmethod):
            candidates = {"": value.__func__}
        elif isinstance(value, property):
            candidates = {"fget": value.fget, "fset": value.fset}
        elif isinstance(value, functools.cached_property):
            candidates = {"func": value.func}
        for attr, inner in candidates.items():
            if isinstance(inner, functools._lru_cache_wrapper):
                inner = inner.__wrapped__  # type: ignore[attr-defined]
            if isinstance(inner, types.FunctionType):
                found[f"{name}.{attr}" if attr else name] = inner
    return found


def _patch_functions(old: object, new: object) -> None:
    new_functions = _functions(new)
    for name, function in _functions(old).items():
        replacement = new_functions.get(name)
        if replacement is None:
            continue
        function.__code__ = replacement.__code__
        function.__defaults__ = replacement.__defaults__
        function.__kwdefaults__ = replacement.__kwdefaults__


def _imports(other: types.ModuleType, module_name: str, name: str) -> bool:
    """Does `other`'s source say `from module_name import ... name ...`?"""
    try:
        text = Path(other.__file__ or "").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    pattern = rf"from {re.escape(module_name)} import (\([^)]*\b{name}\b[^)]*\)|[^\n]*\b{name}\b)"
    return re.search(pattern, text) is not None


def install(module_name: str, source: str, path: str) -> None:
    """Make `module_name` behave as `source` everywhere it is referenced."""
    module = sys.modules[module_name]
    namespace = module.__dict__
    before = dict(namespace)
    exec(compile(source, path, "exec"), namespace)  # noqa: S102 - our own module, mutated
    for name, old in before.items():
        new = namespace.get(name)
        if new is old:
            continue
        if isinstance(old, _KEEP_IDENTITY):
            if isinstance(old, type) and isinstance(new, type):
                _patch_functions(old, new)
            elif isinstance(old, functools._lru_cache_wrapper):
                _patch_functions(types.SimpleNamespace(f=old), types.SimpleNamespace(f=new))
                old.cache_clear()
            elif isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
                _patch_functions(types.SimpleNamespace(f=old), types.SimpleNamespace(f=new))
            namespace[name] = old
            continue
        try:
            same = type(old) is type(new) and bool(old == new)
        except Exception:
            same = False
        if same:
            namespace[name] = old
            continue
        for other in list(sys.modules.values()):  # `from module import NAME` elsewhere
            other_namespace = getattr(other, "__dict__", None)
            if isinstance(other_namespace, dict) and other is not module and other_namespace.get(name) is old:
                if _imports(other, module_name, name):  # not a local constant that is the same small int or string
                    other_namespace[name] = new


def _scope(qualname: str) -> str:
    """A code object's qualname as the mutator names scopes: no <locals>, no <genexpr>."""
    return ".".join(p for p in qualname.split(".") if not p.startswith("<")) or "<module>"


def function_scopes(source: str) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    found.add(name)
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


class Recorder:
    """pytest plugin: which functions of the mutated file each test calls, and which tests
    run code in another process (those are run for every mutant: their calls are unseen)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.current: str | None = None
        self.calls: dict[str, set[str]] = {}
        self.opaque: set[str] = set()

    def profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event == "call" and self.current is not None and frame.f_code.co_filename == self.filename:
            self.calls.setdefault(self.current, set()).add(_scope(frame.f_code.co_qualname))

    def pytest_runtest_protocol(self, item: object, nextitem: object) -> None:
        self.current = item.nodeid  # type: ignore[attr-defined]
        self.calls.setdefault(self.current, set())

    def install(self) -> None:
        import multiprocessing.process
        import subprocess
        import threading

        def opaque(original):  # type: ignore[no-untyped-def]
            def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
                if self.current is not None:
                    self.opaque.add(self.current)
                return original(*args, **kwargs)

            return wrapper

        subprocess.Popen._execute_child = opaque(subprocess.Popen._execute_child)  # type: ignore[attr-defined]
        multiprocessing.process.BaseProcess.start = opaque(multiprocessing.process.BaseProcess.start)  # type: ignore[method-assign]
        os.fork = opaque(os.fork)
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)


def _child(job: dict, source: str, log: Path) -> None:
    os.setpgid(0, 0)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        import pytest

        install(job["module_name"], source, str(Path(job["path"]).resolve()))
        args = ["-x", "-q", "--no-header", "-rfE", "-p", "no:cacheprovider", *job["tests"]]
        plugins: list[object] = []
        if job.get("record"):
            recorder = Recorder(str(Path(job["path"]).resolve()))
            recorder.install()
            plugins.append(recorder)
        code = int(pytest.main(args + [f"--deselect={d}" for d in job["deselect"]], plugins=plugins))
        if job.get("record"):
            sys.setprofile(None)
            calls = {test: sorted(scopes) for test, scopes in recorder.calls.items()}
            Path(job["record"]).write_text(json.dumps({"calls": calls, "opaque": sorted(recorder.opaque)}), encoding="utf-8")
    except BaseException as exc:  # the mutant broke the import itself
        print(f"ERROR install: {type(exc).__name__}: {exc}", flush=True)
        code = 3
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_one(job: dict, source: str, timeout: float) -> tuple[str, str | None, float]:
    target = Path(job["path"])
    log = Path(".mutate-child.log")
    shutil.rmtree(".hypothesis", ignore_errors=True)
    target.write_text(source, encoding="utf-8")  # for subprocesses (`python -m compiler`)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(job, source, log)
    status = None
    while time.monotonic() - start < timeout:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
            break
        time.sleep(0.05)
    if status is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return "timeout", None, time.monotonic() - start
    seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        return "survived", None, seconds
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", text, re.M)
    return ("killed" if code == 1 else "error"), (failed.group(1) if failed else None), seconds


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    import pytest

    # warm up: import every test module of the selection (and through them the compiler)
    quiet = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    os.dup2(quiet, 1)
    try:
        pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *job["tests"]])
    finally:
        os.dup2(saved, 1)
    importlib.import_module(job["module_name"])
    original = Path(job["path"]).read_text(encoding="utf-8")
    timings = []
    for test in job["tests"]:  # each file passes unmutated; fastest first, so -x stops early
        status, killer, seconds = run_one({**job, "tests": [test]}, original, 1800)
        if status != "survived":
            print(json.dumps({"error": f"{test} fails without any mutant: {killer or status}"}), flush=True)
            return 1
        timings.append((seconds, test))
    job["tests"] = [t for _, t in sorted(timings)]
    timeout = 3 * sum(s for s, _ in timings) + 30
    # which tests reach which function (one traced run of the whole selection, unmutated)
    record = Path(".mutate-coverage.json")
    status, killer, _ = run_one({**job, "record": str(record)}, original, 6 * timeout)
    if status != "survived":
        print(json.dumps({"error": f"the traced run failed: {killer or status}"}), flush=True)
        return 1
    coverage = json.loads(record.read_text(encoding="utf-8"))
    every = list(coverage["calls"])  # in the order they ran: fastest file first
    functions = function_scopes(original)
    summary = {"tests": job["tests"], "timeout": round(timeout), "traced": len(every), "opaque": len(coverage["opaque"])}
    print(json.dumps(summary), flush=True)
    try:
        for mutant in job["mutants"]:
            scope = mutant["key"].split(" | ")[0]
            callers = [t for t in every if scope in coverage["calls"][t]]
            if scope in functions and callers:  # only the tests that call it, and those that run other processes
                chosen = [t for t in every if t in callers or t in coverage["opaque"]]
            else:  # module level, a class body, or a function no test calls (it may run at import): all
                chosen = every
            status, killer, seconds = run_one({**job, "tests": chosen}, mutant["source"], timeout)
            print(json.dumps({"key": mutant["key"], "status": status, "killer": killer, "seconds": round(seconds, 1)}), flush=True)
    finally:
        Path(job["path"]).write_text(original, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
