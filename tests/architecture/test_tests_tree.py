"""tests/ mirrors the package tree: test modules sit in the folder of the stage they test,
helpers, oracles and their data in tests/support/ (issue 14). scripts/mirror_tests.py puts
files there; these tests fail when a file is added in the wrong place.

mirror_tests: leave as is (the expected messages below name misplaced paths on purpose)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
TESTS = REPO / "tests"
# folders of tests/ that are not a compiler package: whole-pipeline, command line, the shape
# of the package, and the support code itself
NOT_STAGES = {"support", "e2e", "cli", "architecture"}
SUPPORT_DATA = {"fixtures", "upstream_schemas", "fuzz_crashes", "mutate"}


def misplaced(tests: Path, package: Path) -> list[str]:
    """Every file or folder under `tests` that breaks the layout, with the reason."""
    problems = []
    for path in sorted(tests.rglob("*")):
        rel = path.relative_to(tests)
        if "__pycache__" in rel.parts or rel.parts[0] == "support":
            continue
        if path.is_dir():
            if path.name in SUPPORT_DATA:
                problems.append(f"tests/{rel.as_posix()}/: support data belongs in tests/support/")
            elif rel.parts[0] not in NOT_STAGES and not (package / rel).is_dir():
                problems.append(f"tests/{rel.as_posix()}/: no compiler/{rel.as_posix()}/ package to mirror")
            elif not (path / "__init__.py").exists() and any(path.glob("*.py")):
                problems.append(f"tests/{rel.as_posix()}/: a test folder without __init__.py")
            continue
        if path.suffix != ".py" or path.name in ("__init__.py", "conftest.py"):
            continue
        if not path.name.startswith("test_"):
            problems.append(f"tests/{rel.as_posix()}: a support module outside tests/support/")
        elif len(rel.parts) == 1:
            problems.append(f"tests/{rel.as_posix()}: a test module at tests/ top level")
    for path in sorted((tests / "support").rglob("*")) if (tests / "support").is_dir() else []:
        if path.is_dir() and path.name != "__pycache__" and path.name in SUPPORT_DATA and path.parent != tests / "support":
            problems.append(f"tests/{path.relative_to(tests).as_posix()}/: support data nested below tests/support/")
    return problems


def test_the_tree_is_laid_out():
    assert misplaced(TESTS, REPO / "compiler") == []


def test_the_mirror_script_has_nothing_left_to_move():
    spec = importlib.util.spec_from_file_location("mirror_tests", REPO / "scripts" / "mirror_tests.py")
    assert spec is not None and spec.loader is not None
    mirror = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mirror)
    moves, notes = mirror.plan_moves()
    assert (moves, notes) == ({}, [])
    assert mirror.ensure_packages(True, {}) == []


def test_misplaced_files_are_reported(tmp_path):
    package = tmp_path / "compiler"
    (package / "plan").mkdir(parents=True)
    tests = tmp_path / "tests"
    for rel in ("__init__.py", "plan/__init__.py", "plan/test_cost.py", "support/__init__.py", "support/helpers.py"):
        (tests / rel).parent.mkdir(parents=True, exist_ok=True)
        (tests / rel).write_text("", encoding="utf-8")
    assert misplaced(tests, package) == []
    for rel in ("test_new.py", "oracle.py", "plan/strategies.py", "fixtures/a.yaml", "widgets/test_w.py", "e2e/test_e.py"):
        (tests / rel).parent.mkdir(parents=True, exist_ok=True)
        (tests / rel).write_text("", encoding="utf-8")
    assert misplaced(tests, package) == [
        "tests/e2e/: a test folder without __init__.py",
        "tests/fixtures/: support data belongs in tests/support/",
        "tests/oracle.py: a support module outside tests/support/",
        "tests/plan/strategies.py: a support module outside tests/support/",
        "tests/test_new.py: a test module at tests/ top level",
        "tests/widgets/: no compiler/widgets/ package to mirror",
    ]
