"""`make mutate`: mutation testing of the modules that decide security and data safety.

    python -m tests.support.mutate [--module PATH ...] [--survivors] [--report]

For each module (tests/support/mutate/config.py): copy the project to .mutate/work (the working
tree, uncommitted changes included, so the real tree is never mutated), check that the
selected tests pass there, then for each mutant (tests/support/mutate/mutator.py) write it into the
copy, run `pytest -x` on the selection (fastest file first) in a fresh process, and put the
original back. One process at a time. Results go to tests/support/mutate/results/<module>.json and
docs/mutation-report.md is rebuilt from all results plus tests/support/mutate/equivalent.toml.

--survivors reruns only the mutants not already recorded as killed or judged equivalent (new
mutants included): the cheap loop after writing tests. A full run (the default) redoes every mutant.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.mutate.config import DESELECT, EXTRA_TESTS, MODULES
from tests.support.mutate.mutator import Mutant, apply, mutants
from tests.support.mutate.verdicts import EQUIVALENT

ROOT = Path(__file__).resolve().parents[3]
# the tree to copy and mutate: this one, or (MUTATE_SOURCE) another checkout, e.g. an older
# commit for a "before" run; results and the report always go to this tree
SOURCE = Path(os.environ.get("MUTATE_SOURCE") or ROOT).resolve()
WORK = ROOT / ".mutate" / "work"
RESULTS = ROOT / "tests" / "support" / "mutate" / "results"
_IGNORE = shutil.ignore_patterns(".git", ".venv", ".mutate", ".mlc-cache", "__pycache__", ".hypothesis", ".tools", "*.egg-info", "work")


def slug(module: str) -> str:
    return module.removeprefix("compiler/").removesuffix(".py").replace("/", ".")


def selection(module: str) -> list[str]:
    dotted = module.removesuffix(".py").replace("/", ".")
    package, _, leaf = dotted.rpartition(".")
    names = rf"from {re.escape(dotted)} import|import {re.escape(dotted)}\b|from {re.escape(package)} import .*\b{leaf}\b"
    imports = re.compile(rf"^\s*({names})", re.M)
    tests = sorted((SOURCE / "tests").rglob("test_*.py"))  # the test folders mirror the package
    found = {p.relative_to(SOURCE).as_posix() for p in tests if imports.search(p.read_text(encoding="utf-8"))}
    found |= set(EXTRA_TESTS.get(module, ()))
    found.add("tests/e2e/test_golden.py")
    return sorted(found)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env.update(PYTHONPATH=str(WORK), PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    return env


def _prepare(module: str) -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    shutil.copytree(SOURCE, WORK, ignore=_IGNORE, symlinks=True)
    shutil.copytree(
        ROOT / "tests" / "support" / "mutate", WORK / "tests" / "support" / "mutate", ignore=_IGNORE, dirs_exist_ok=True
    )  # this runner
    subprocess.run([sys.executable, "-m", "compileall", "-q", "compiler", "tests"], cwd=WORK, check=True, capture_output=True)
    target = WORK / module
    for pyc in (target.parent / "__pycache__").glob(f"{target.stem}.*.pyc"):
        pyc.unlink()  # the mutated module is always compiled from its source


def run_module(module: str, survivors_only: bool) -> dict:
    source = (SOURCE / module).read_text(encoding="utf-8")
    path = RESULTS / f"{slug(module)}.json"
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    # --survivors: a mutant already killed, or judged equivalent (tests/support/mutate/verdicts.py), is not rerun
    equivalent = EQUIVALENT.get(module, {})
    done_before = (
        {m["key"]: m for m in previous.get("mutants", []) if m["status"] != "survived" or m["key"] in equivalent} if survivors_only else {}
    )
    previous_all = {m["key"]: m for m in previous.get("mutants", [])}
    found: list[Mutant] = mutants(source)
    todo = [m for m in found if m.key not in done_before]
    _prepare(module)
    job = {
        "module_name": module.removesuffix(".py").replace("/", "."),
        "path": module,
        "tests": selection(module),
        "deselect": list(DESELECT),
        "mutants": [{"key": m.key, "source": apply(source, m)} for m in todo],
    }
    job_file = WORK / ".mutate-job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    print(f"{module}: {len(found)} mutants, {len(todo)} to run", flush=True)
    outcome: dict[str, dict] = {}
    tests = job["tests"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.mutate.worker", str(job_file)], cwd=WORK, env=_env(), stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    by_key = {m.key: m for m in todo}

    def save(complete: bool) -> dict:
        results = []
        for m in found:
            data = outcome.get(m.key) or done_before.get(m.key) or (previous_all.get(m.key) if survivors_only else None)
            if data is None:
                continue
            results.append(
                {
                    "key": m.key,
                    "line": m.line,
                    "operator": m.operator,
                    "status": data["status"],
                    "killer": data["killer"],
                    "unreached": bool(data.get("unreached")),
                }
            )
        record = {
            "module": module,
            "source_sha256": hashlib.sha256(source.encode()).hexdigest(),
            "tests": tests,
            "deselected": list(DESELECT),
            "mutants": results,
            "total": len(found),
            "complete": complete,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return record

    for line in process.stdout:
        data = json.loads(line)
        if "error" in data:
            raise SystemExit(data["error"])
        if "tests" in data:
            tests = data["tests"]
            traced = f"{data['traced']} tests traced, {data['opaque']} run other processes"
            print(f"  tests {tests}, timeout {data['timeout']}s, {traced}", flush=True)
            continue
        outcome[data["key"]] = data
        m = by_key[data["key"]]
        print(f"  [{len(outcome)}/{len(todo)}] {data['status']:8} {data['seconds']:5.1f}s L{m.line} {m.key}", flush=True)
        save(False)  # a run cut short still leaves its results so far
    if process.wait() != 0 or len(outcome) != len(todo):
        raise SystemExit(f"{module}: the worker stopped after {len(outcome)} of {len(todo)} mutants")
    record = save(True)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.mutate")
    parser.add_argument("--module", action="append", choices=MODULES, help="only this module (repeatable)")
    parser.add_argument("--survivors", action="store_true", help="rerun only mutants not yet killed")
    parser.add_argument("--report", action="store_true", help="only rebuild docs/mutation-report.md from the results")
    args = parser.parse_args(argv)
    if not args.report:
        for module in args.module or MODULES:
            run_module(module, args.survivors)
    from tests.support.mutate.report import write_report

    below = write_report(ROOT)
    for line in below:
        print(line)
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
