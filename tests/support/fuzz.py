"""Fuzz harness over the front end: loader, schema validation, inheritance, graph and cost.

    python -m tests.support.fuzz --seconds 120            # `make fuzz` (FUZZ_SECONDS=...)
    python -m tests.support.fuzz --engine random --seed 7 # the hand-rolled mutator, reproducible
    python -m tests.support.fuzz --replay tests/support/fuzz_crashes/crash-*.yaml

The target takes the bytes of ONE environment file and runs it through what `mlc validate`
does, in memory (no disk I/O in the hot loop): decode -> parse -> per-file schema check ->
`extends` resolution against the example environments -> full validation -> defaults ->
dependency graph -> cost estimate; then (unless --front-end-only) what `mlc compile` does
after that, still in memory: waivers, policies, emitters, serialiser, path checks. InputError and UsageError are the expected outcomes of
bad input; ANY other exception is a crash: the input is printed and saved to
tests/support/fuzz_crashes/ (with the traceback next to it), and the run exits 1 at the end.
An input that takes longer than --timeout seconds is saved as a hang.

Engines: `atheris` (libFuzzer, coverage-guided; `pip install atheris`) when importable,
else `random`: a hand-rolled mutator seeded with random.Random(seed) whose feedback is the
set of diagnostics codes and outcome kinds an input produced. Both start from the corpus
environments/*.yaml (plus earlier crashes) and mix byte-level mutations with structural
ones (type swaps, deletions, nulls, unicode, huge numbers, deep nesting, alias games,
`extends` cycles).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
CRASH_DIR = Path(__file__).resolve().parent / "fuzz_crashes"
FUZZ_STEM = "fuzz"


# --- the target -------------------------------------------------------------------------
class _Target:
    """Everything `mlc validate` does to one file, with the example environments as parents."""

    def __init__(self, deep: bool = True) -> None:
        from compiler.frontend.loader import load_file

        self.deep = deep
        self.examples = {p.stem: load_file(str(p), f"environments/{p.name}") for p in sorted((REPO / "environments").glob("*.yaml"))}

    def __call__(self, data: bytes) -> set[str]:
        """Run one input; returns the outcome signature (diagnostic codes); raises on a crash."""
        from compiler.analysis.graph import build_graph
        from compiler.core.diagnostics import InputError
        from compiler.frontend.loader import decode, parse
        from compiler.frontend.project import DNS_LABEL, Project, UsageError, _file_checks
        from compiler.pipeline import plan_environment

        try:
            display = "environments/fuzz.yaml"
            doc = parse(display, decode(display, data))
            metadata = doc.data.get("metadata")
            declared = metadata.get("name") if isinstance(metadata, dict) else None
            # the input takes the place of the example it names (a mutated base.yaml is the
            # parent of dev, staging and prod), else it is a new environment file
            name = declared if isinstance(declared, str) and DNS_LABEL.match(declared) else FUZZ_STEM
            display = f"environments/{name}.yaml"
            doc = type(doc)(display, doc.data, doc.positions, doc.key_positions)
            project = Project.at(REPO)
            problems = _file_checks(name, doc, project.schema_path)
            if problems:
                raise InputError(problems)
            project._documents.update(self.examples)
            project._documents[name] = doc
            project._files = {n: REPO / "environments" / f"{n}.yaml" for n in [*self.examples, name]}
            targets = [name]
            if doc.data.get("abstract") is True:  # a parent: compile its children instead
                targets = [n for n, d in self.examples.items() if name in _parents(d) and n != name]
            for target in targets:
                if self.deep:  # the whole pipeline in memory: policies, emitters, serialiser
                    from datetime import date

                    from compiler.build import compile_one
                    from compiler.pipeline import Mode

                    outcome = compile_one(project, target, date(2026, 6, 1), Mode.MEMORY, "fuzz")
                    if outcome.diagnostics:
                        raise InputError(outcome.diagnostics)
                    continue
                (env,) = project.load_environments([target])
                build_graph(env)
                plan_environment(env)
            return {"ok"} if targets else {"abstract"}
        except InputError as exc:
            _check_located(exc)
            return {d.code for d in exc.diagnostics}
        except UsageError:
            return {"usage"}


def _parents(doc: Any) -> list[str]:
    extends = doc.data.get("extends")
    return [extends] if isinstance(extends, str) else [p for p in extends if isinstance(p, str)] if isinstance(extends, list) else []


def _check_located(exc: Any) -> None:
    """Every diagnostic must point into a file with a 1-based line and column."""
    for d in exc.diagnostics:
        if not (
            d.location.file.startswith("environments/") and d.location.line >= 1 and d.location.col >= 1 and d.code.startswith("MLC-E")
        ):
            raise AssertionError(f"badly located diagnostic: {d}")


# --- mutations ---------------------------------------------------------------------------
TOKENS = [
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"&a ",
    b"*a",
    b"<<: *a\n",
    b"!!python/object:os.system ",
    b"!!binary ",
    b"!custom ",
    b"\t",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"~",
    b"null",
    b".nan",
    b"-.inf",
    b"1e999",
    b"-1",
    b"0x7fffffffffffffffffff",
    b"0o777",
    b"99999999999999999999999999999",
    b"9" * 5000,
    b"0x" + b"f" * 4000,
    b"3.0e-400",
    b'"',
    b"'",
    b"\n",
    b"#",
    b"---\n",
    b"...\n",
    b"%YAML 1.1\n",
    b"%TAG ! tag:x,2000:\n",
    b"? ",
    b"|\n",
    b">-\n",
    b"\\u0000",
    b"\xe2\x80\xae",
    b"\xf0\x9f\x92\xa5",
    b"${HOME}",
    b"%{x}",
    b"{{workflow.name}}",
    b"../../",
    b"extends: prod\n",
    b"extends: [fuzz]\n",
    b"abstract: true\n",
    b"type: serving\n",
    b"components: {}\n",
    b"metadata: {name: fuzz}\n",
]
UNICODE = ["\u202e", "\u200b", "\ufeff", "é", "\u0130", "ß", "\U0001f4a5", "\x85", "\u2028", "\ud7ff", "ｆｕｚｚ", "a\u0301"]


def _interesting_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(16)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 10**400, 10**4400])
    if choice == 3:
        return rng.choice([0.5, -0.0, 1e308, 1e-320, 3.14])
    if choice == 4:
        return "".join(rng.choice(UNICODE) for _ in range(rng.randrange(1, 6)))
    if choice == 5:
        return "x" * rng.choice([64, 65, 253, 4097, 20000])
    if choice == 6 and depth < 3:
        return [_interesting_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 7 and depth < 3:
        return {
            rng.choice(["type", "from", "min", "max", "secret", "", "a/b", "~"]): _interesting_value(rng, depth + 1)
            for _ in range(rng.randrange(4))
        }
    if choice == 8:
        nested: Any = "leaf"
        for _ in range(rng.choice([10, 63, 64, 65, 200])):
            nested = rng.choice([[nested], {"k": nested}])
        return nested
    if choice == 9:
        return rng.choice(["base", "prod", "dev", "fuzz", "staging", "research-gcp", "nope"])
    if choice == 10:
        return rng.choice(
            ["object_store", "data_lake", "database", "spark_job", "training_job", "serving", "batch_inference", "monitoring", "pipeline"]
        )
    if choice == 11:
        return rng.choice(["${var.x}", "%{if x}", "{{inputs.parameters.x}}", "$(rm -rf /)", "a\nb: c", "../../etc/passwd", "'\"`;|&<>"])
    if choice == 12:
        return rng.choice(["2026-01-01", "MLC-SEC-004", "nvidia-a100", "p4d.24xlarge", "1.31", "500m", "8Gi", "30 1 * * *"])
    return rng.choice(["", "x", "features", "models", "raw-events", "ranker", "gpu-a100", "cpu"])


def _paths(value: Any, limit: int = 5000) -> list[tuple[Any, ...]]:
    """Every path into `value` (iteratively; None when there are more than `limit`)."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        prefix, node = stack.pop()
        out.append(prefix)
        if len(out) > limit:
            return []
        if isinstance(node, dict):
            stack += [(prefix + (k,), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(prefix + (i,), v) for i, v in enumerate(node)]
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for token in path:
        value = value[token]
    return value


def mutate_structure(data: bytes, rng: random.Random) -> bytes | None:
    """Parse, apply 1-4 structural edits, serialise back (YAML or JSON); None if unparsable."""
    import yaml

    try:
        tree = yaml.load(data.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # noqa: BLE001 - a byte-mutated input; structural mutation does not apply
        return None
    if not isinstance(tree, dict | list):
        return None
    for _ in range(rng.randrange(1, 5)):
        paths = _paths(tree)
        if not paths:
            return None
        path = rng.choice(paths)
        if not path:
            continue
        parent, key = _get(tree, path[:-1]), path[-1]
        op = rng.randrange(7)
        if op == 0:
            del parent[key]
        elif op == 1:
            parent[key] = None
        elif op == 2:
            parent[key] = _interesting_value(rng)
        elif op == 3 and isinstance(parent, dict):  # rename a key: typos, unicode, separators
            new_key = rng.choice(
                [str(key) + "s", str(key)[:-1], str(key).upper(), str(key) + rng.choice(UNICODE), "../" + str(key), "a" * 70]
            )
            parent[new_key] = parent.pop(key)
        elif op == 4:  # graft another subtree here (a type swap with realistic content)
            parent[key] = copy.deepcopy(_get(tree, rng.choice(paths)))
        elif op == 5 and isinstance(parent, dict):
            parent[rng.choice(["extends", "abstract", "exceptions", "after", "reads", "writes", "targets", "steps", "env", "labels"])] = (
                _interesting_value(rng)
            )
        elif op == 6:
            parent[key] = [parent[key]] if rng.random() < 0.5 else {"nested": parent[key]}
    try:
        if rng.random() < 0.3:
            return json.dumps(tree, ensure_ascii=rng.random() < 0.5).encode("utf-8")
        return yaml.safe_dump(
            tree, allow_unicode=rng.random() < 0.5, default_flow_style=rng.choice([None, True, False]), sort_keys=False
        ).encode("utf-8")
    except Exception:  # noqa: BLE001 - e.g. recursion in the dumper: not our code
        return None


def mutate_bytes(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        op = rng.randrange(9)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a random byte
            buf[pos:pos] = bytes([rng.randrange(256)])
        elif op == 2 and buf:  # delete a range
            end = min(len(buf), pos + rng.randrange(1, 32))
            del buf[pos:end]
        elif op == 3 and buf:  # duplicate a range
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randrange(1, 64)]
        elif op in (4, 5):  # insert a token with meaning to YAML or to mlc
            buf[pos:pos] = rng.choice(TOKENS)
        elif op == 6:  # splice with another corpus entry
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            buf = buf[:pos] + bytearray(other[cut:])
        elif op == 7:  # line-level: delete / duplicate / re-indent a line
            lines = bytes(buf).split(b"\n")
            i = rng.randrange(len(lines))
            kind = rng.randrange(3)
            if kind == 0:
                del lines[i]
            elif kind == 1:
                lines.insert(i, lines[i])
            else:
                lines[i] = b" " * rng.choice([1, 2, 4]) + lines[i] if rng.random() < 0.5 else lines[i].lstrip(b" ")
            buf = bytearray(b"\n".join(lines))
        elif op == 8:  # an integer rewritten as something huge or negative
            digits = [i for i, c in enumerate(buf) if 48 <= c <= 57]
            if digits:
                i = rng.choice(digits)
                buf[i : i + 1] = rng.choice([b"-", b"99999999999999999999", b"9" * rng.choice([30, 4400]), b"1e309", b".5", b"0x", b"-0"])
    return bytes(buf)


STRINGS = [
    "${var.x}",
    "%{ if x }",
    "{{workflow.name}}",
    "$(id)",
    "a\nb: c",
    "'\"",
    "\u202e",
    "../../x",
    "x" * 300,
    "",
    " ",
    "é",
    "0",
    "null",
    "AKIAIOSFODNN7EXAMPLE",
]


def mutate_values(data: bytes, rng: random.Random) -> bytes | None:
    """Gentle: 1-2 leaves changed WITHIN their type, so the result often stays valid and
    reaches the policies and emitters (the other mutators rarely get past validation)."""
    import yaml

    try:
        tree = yaml.load(data.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # noqa: BLE001
        return None
    paths = [p for p in _paths(tree) if p and not isinstance(_get(tree, p), dict)]
    if not isinstance(tree, dict) or not paths:
        return None
    for _ in range(rng.randrange(1, 3)):
        path = rng.choice(paths)
        try:  # an earlier edit may have removed the path
            parent, key = _get(tree, path[:-1]), path[-1]
            value = parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(value, bool):
            parent[key] = not value
        elif isinstance(value, int):
            parent[key] = rng.choice([0, 1, 2, value + 1, value * 10, -1, 63, 64, 1000, 1001])
        elif isinstance(value, float):
            parent[key] = rng.choice([0.0, 0.5, 0.999, 1.0, value * 2])
        elif isinstance(value, str):
            parent[key] = rng.choice([value + rng.choice(STRINGS), rng.choice(STRINGS), value.upper(), value[: len(value) // 2]])
        elif isinstance(value, list) and value:
            parent[key] = value + [rng.choice(value)] if rng.random() < 0.5 else value[1:]
    try:
        return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False).encode("utf-8")
    except Exception:  # noqa: BLE001
        return None


def mutate(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    if rng.random() < 0.3:
        gentle = mutate_values(data, rng)
        if gentle is not None:
            return gentle
    if rng.random() < 0.5:
        structural = mutate_structure(data, rng)
        if structural is not None:
            return structural
    return mutate_bytes(data, rng, corpus)


# --- corpus and crashes ------------------------------------------------------------------
def seed_corpus() -> list[bytes]:
    corpus = [p.read_bytes() for p in sorted((REPO / "environments").glob("*.yaml"))]
    # a self-contained environment (no parent): mutations of it reach resolution and cost
    corpus.append(
        (REPO / "environments" / "base.yaml").read_bytes().replace(b"name: base", b"name: fuzz").replace(b"abstract: true\n", b"")
    )
    if CRASH_DIR.is_dir():
        corpus += [p.read_bytes() for p in sorted(CRASH_DIR.glob("crash-*.yaml"))]
    return corpus


def save_crash(data: bytes, error: str, kind: str = "crash") -> Path:
    CRASH_DIR.mkdir(exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:12]
    path = CRASH_DIR / f"{kind}-{digest}.yaml"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(error, encoding="utf-8")
    return path


class _Hang(Exception):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang()


class Runner:
    """Runs inputs through the target, records crashes (deduplicated by where they happen)."""

    def __init__(self, timeout: float, quiet: bool = False, deep: bool = True) -> None:
        self.target = _Target(deep)
        self.timeout = timeout
        self.quiet = quiet
        self.crashes: dict[str, Path] = {}
        self.executions = 0

    def run(self, data: bytes) -> set[str] | None:
        """Outcome signature, or None when the input crashed or hung (it is then saved)."""
        self.executions += 1
        use_alarm = self.timeout > 0 and hasattr(signal, "setitimer")
        if use_alarm:
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.timeout)
        try:
            return self.target(data)
        except _Hang:
            self._record(data, "hang", f"input took longer than {self.timeout} s", "hang")
        except RecursionError as exc:
            self._record(data, "RecursionError", "".join(traceback.format_exception(exc)))
        except Exception as exc:  # noqa: BLE001 - anything but InputError/UsageError is a crash
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{type(exc).__name__}@{tb[-1].filename}:{tb[-1].lineno}" if tb else type(exc).__name__
            self._record(data, where, "".join(traceback.format_exception(exc)))
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return None

    def _record(self, data: bytes, key: str, error: str, kind: str = "crash") -> None:
        if key in self.crashes:
            return
        path = save_crash(data, error.replace(str(REPO) + "/", ""), kind)  # no machine paths in saved files
        self.crashes[key] = path
        if not self.quiet:
            shown = data[:2000].decode("utf-8", errors="backslashreplace")
            print(
                f"\n=== {kind}: {key}\n--- input ({len(data)} bytes, saved to {path.relative_to(REPO)}):\n{shown}\n--- error:\n{error}",
                file=sys.stderr,
            )


def fuzz_random(runner: Runner, seconds: float, seed: int, max_len: int, log: Callable[[str], None]) -> None:
    rng = random.Random(seed)
    corpus = seed_corpus()
    seen: set[frozenset[str]] = set()
    for data in corpus:
        outcome = runner.run(data)
        if outcome is not None:
            seen.add(frozenset(outcome))
    deadline = time.monotonic() + seconds
    last_report = time.monotonic()
    while time.monotonic() < deadline:
        child = mutate(rng.choice(corpus), rng, corpus)[:max_len]
        outcome = runner.run(child)
        if outcome is not None and frozenset(outcome) not in seen:
            seen.add(frozenset(outcome))  # new behaviour: keep the input as a parent
            corpus.append(child)
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            log(f"#{runner.executions} corpus={len(corpus)} outcomes={len(seen)} crashes={len(runner.crashes)}")


def fuzz_atheris(runner: Runner, seconds: float, seed: int, max_len: int) -> None:
    import importlib
    import tempfile

    import atheris  # type: ignore[import-not-found]

    for module in (
        "compiler.frontend.project",
        "compiler.analysis.graph",
        "compiler.pipeline",
        "compiler.build",
        "compiler.policy.engine",
        "compiler.targets.kubernetes.emit",
        "compiler.targets.terraform.aws",
        "compiler.targets.terraform.gcp",
        "compiler.targets.argo.emit",
        "compiler.targets.argocd.emit",
        "compiler.output.writer",
    ):
        importlib.import_module(module)  # loaded before instrumenting, for coverage feedback

    atheris.instrument_all()  # coverage feedback for every loaded Python function
    corpus_dir = Path(tempfile.mkdtemp(prefix="mlc-fuzz-corpus-"))
    corpus = seed_corpus()
    for data in corpus:
        (corpus_dir / hashlib.sha1(data).hexdigest()).write_bytes(data)
    rng = random.Random(seed)

    def test_one_input(data: bytes) -> None:
        runner.run(data)  # crashes are recorded, not raised: the run goes on to find more

    def custom_mutator(data: bytes, max_size: int, mutator_seed: int) -> bytes:
        rng.seed(mutator_seed)
        if rng.random() < 0.4:
            structural = mutate_structure(data, rng)
            if structural is not None and len(structural) <= max_size:
                return structural
        if rng.random() < 0.3:
            return mutate_bytes(data, rng, corpus)[:max_size]
        return atheris.Mutate(data, max_size)

    argv = [
        "tests.support.fuzz",
        f"-max_total_time={int(seconds)}",
        f"-max_len={max_len}",
        f"-seed={seed}",
        "-timeout=30",
        "-rss_limit_mb=4096",
        str(corpus_dir),
    ]
    atheris.Setup(argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()  # libFuzzer ends the process itself (see run_atheris_child)


def run_atheris_child(args: argparse.Namespace, seed: int, log: Callable[[str], None]) -> int:
    """libFuzzer exits the process when its time is up: run it in a child, then collect."""
    import subprocess

    before = set(CRASH_DIR.glob("*.yaml")) if CRASH_DIR.is_dir() else set()
    command = [
        sys.executable,
        "-m",
        "tests.support.fuzz",
        "--engine",
        "atheris-child",
        "--seconds",
        str(args.seconds),
        "--seed",
        str(seed),
        "--timeout",
        str(args.timeout),
        "--max-len",
        str(args.max_len),
        *(["--front-end-only"] if args.front_end_only else []),
    ]
    done = subprocess.run(command, cwd=REPO)
    new = sorted(set(CRASH_DIR.glob("*.yaml")) - before) if CRASH_DIR.is_dir() else []
    log(f"done: libFuzzer exited with {done.returncode}; {len(new)} new crash(es)")
    for path in new:
        log(f"  {path.relative_to(REPO)}")
    return 1 if new or done.returncode not in (0,) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long to fuzz (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: time-based; printed)")
    parser.add_argument("--engine", choices=("auto", "atheris", "random", "atheris-child"), default="auto")
    parser.add_argument("--timeout", type=float, default=10, help="seconds after which one input counts as a hang")
    parser.add_argument("--max-len", type=int, default=64 * 1024)
    parser.add_argument(
        "--front-end-only",
        action="store_true",
        help="stop after resolution, graph and cost (faster); default: also policies, emitters, serialiser",
    )
    parser.add_argument("--replay", nargs="*", metavar="FILE", help="run these inputs once (default with no files: every saved crash)")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    seed = args.seed if args.seed is not None else int(time.time())
    if args.engine == "atheris-child":
        fuzz_atheris(Runner(args.timeout, deep=not args.front_end_only), args.seconds, seed, args.max_len)
        return 0
    runner = Runner(args.timeout, deep=not args.front_end_only)
    if args.replay is not None:
        files = [Path(f) for f in args.replay] or sorted(CRASH_DIR.glob("*.yaml"))
        failed = [f for f in files if runner.run(f.read_bytes()) is None]
        log(f"replayed {len(files)} input(s); {len(failed)} still crash")
        return 1 if failed else 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    log(f"fuzzing the front end for {args.seconds:g} s with the {engine} engine, seed {seed}")
    if engine == "atheris":
        return run_atheris_child(args, seed, log)
    fuzz_random(runner, args.seconds, seed, args.max_len, log)
    log(f"done: {runner.executions} inputs, {len(runner.crashes)} distinct crash(es)")
    for key, path in sorted(runner.crashes.items()):
        log(f"  {key}: {path.relative_to(REPO)}")
    return 1 if runner.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
