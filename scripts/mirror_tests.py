"""Make tests/ mirror the package tree; helpers and oracles go to tests/support/ (issue 14).

    python scripts/mirror_tests.py [--dry-run]

Idempotent: run it again after merging branches that added tests at tests/ top level and it
moves only those (with `git mv`) and rewrites only references still in the old form.

* Every tests/test_*.py moves into the folder of the stage it tests: the table TESTS below,
  else the rule for unknown files (`decide`): the stage its name starts with
  (test_terraform_x -> targets/terraform, test_policy_x -> policy), else the stage the file's compiler imports name
  most (compiler.targets.<t> -> targets/<t>, compiler.cli -> cli, compiler.build or
  compiler.pipeline -> e2e; ties broken by the order of STAGES); no compiler import -> e2e.
  Every decision is printed with its reason.
* Every other module at tests/ top level (helpers, oracles, strategies, generators) and the
  data folders in SUPPORT_DIRS move into tests/support/.
* Every test folder is a package (an empty __init__.py, created when missing), so test
  modules are imported as tests.<folder>.<name> and equal basenames in two folders cannot
  clash under pytest's default import mode.
* References are rewritten in the repository's text files (REWRITE_SUFFIXES, not out/ or
  vendored data): dotted module names (`from tests.helpers` -> `from tests.support.helpers`,
  `python -m tests.fuzz`, `from tests.test_gitops` -> `from tests.output.test_gitops`),
  bare imports that relied on tests/ being on sys.path (`from validators import ...`,
  `import validators as v`), paths (`tests/helpers.py`, `tests/upstream_schemas/`,
  `"tests" / "upstream_schemas"`) and, in the files moved by this run,
  `Path(__file__)[.resolve()].parent... / "x"` chains, recomputed for the new location.
  A `__file__` use of another shape is reported, not guessed. A file that contains the
  marker LEAVE_AS_IS is not rewritten.
* Rewritten Python files get their imports sorted and long lines wrapped by ruff (if found).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
TESTS = PurePosixPath("tests")
SUPPORT = TESTS / "support"

# Folder of each known test module (relative to tests/). Stage folders mirror compiler/.
TABLE: dict[str, str] = {
    # core
    "test_secrets": "core",
    # frontend
    "test_frontend": "frontend",
    "test_limits": "frontend",
    "test_schema_fast": "frontend",
    # model (kinds registry, extension points)
    "test_kinds": "model",
    "test_kind_literals": "model",
    "test_extension_points": "model",
    # analysis
    "test_graph": "analysis",
    "test_graph_semantics": "analysis",
    # plan
    "test_cost": "plan",
    "test_capacity": "plan",
    # policy
    "test_policy_engine": "policy",
    "test_policy_rules": "policy",
    "test_policy_render": "policy",
    "test_kcl_workspace": "policy",
    # providers
    "test_identity_agreement": "providers",
    # targets (compiler/targets/overrides.py, atlantis.py) and one folder per target
    "test_overrides": "targets",
    "test_atlantis": "targets",
    "test_kubernetes": "targets/kubernetes",
    "test_monitoring": "targets/kubernetes",
    "test_runtime": "targets/kubernetes",
    "test_terraform": "targets/terraform",
    "test_terraform_gcp": "targets/terraform",
    "test_terraform_azure": "targets/terraform",
    "test_terraform_checkov": "targets/terraform",
    "test_iam_moto": "targets/terraform",
    "test_gcp_grants": "targets/terraform",
    "test_cloud_spend": "targets/terraform",
    "test_argo": "targets/argo",
    "test_platform": "targets/platform",
    # output (serialise, write, lock, cache, diff, Markdown)
    "test_serialize": "output",
    "test_writer_durability": "output",
    "test_faults": "output",
    "test_reliability": "output",
    "test_paths": "output",
    "test_gitops": "output",
    "test_diff_comment": "output",
    "test_markdown_fuzz": "output",
    # the command line
    "test_scaffold": "cli",
    "test_pr_loop": "cli",
    # whole pipeline
    "test_golden": "e2e",
    "test_adversarial": "e2e",
    "test_injection": "e2e",
    "test_lifecycle": "e2e",
    "test_fuzz_harness": "e2e",
    "test_bench_smoke": "e2e",
    # the shape of the package and of tests/
    "test_architecture": "architecture",
    "test_tests_tree": "architecture",
    # tests of the test-side oracles live with them
    "test_validators": "support",
}

# Stage folders in tie-break order, and the compiler module prefix that names each.
STAGES: list[tuple[str, str]] = [
    ("compiler.targets.kubernetes", "targets/kubernetes"),
    ("compiler.targets.terraform", "targets/terraform"),
    ("compiler.targets.argocd", "targets/argocd"),
    ("compiler.targets.argo", "targets/argo"),
    ("compiler.targets.platform", "targets/platform"),
    ("compiler.targets", "targets"),
    ("compiler.core", "core"),
    ("compiler.frontend", "frontend"),
    ("compiler.model", "model"),
    ("compiler.analysis", "analysis"),
    ("compiler.plan", "plan"),
    ("compiler.policy", "policy"),
    ("compiler.providers", "providers"),
    ("compiler.output", "output"),
    ("compiler.cli", "cli"),
    ("compiler.scaffold", "cli"),
    ("compiler.build", "e2e"),
    ("compiler.pipeline", "e2e"),
]
FOLDERS = sorted({folder for _, folder in STAGES} | set(TABLE.values()))

SUPPORT_DIRS = ("fixtures", "upstream_schemas", "fuzz_crashes", "mutate")
KEEP_AT_TOP = {"__init__.py", "conftest.py"}

# Text files whose references are rewritten; out/ (golden output) and vendored data are not.
REWRITE_SUFFIXES = {".py", ".md", ".toml", ".cfg", ".ini", ".txt"}
REWRITE_NAMES = {"Makefile", "run", ".gitignore"}
SKIP_PREFIXES = (
    "out/",
    "environments/",
    "schemas/",
    "compiler/data/",
    "tests/support/upstream_schemas/",
    "tests/upstream_schemas/",
    "scripts/mirror_tests.py",  # its own patterns and examples name the old paths on purpose
)

# A file holding this marker is never rewritten (e.g. a test whose fixtures name old paths).
LEAVE_AS_IS = "mirror_tests: leave as is"

COMPILER_IMPORT = re.compile(r"^\s*(?:from\s+(compiler(?:\.\w+)*)\s+import\s+([\w, ()]+)|import\s+(compiler(?:\.\w+)*))", re.M)
FILE_CHAIN = re.compile(r'Path\(__file__\)(\.resolve\(\))?((?:\.parent)*)((?:\s*/\s*"[^"/]+")*)')


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout


def decide(path: Path) -> tuple[str, str]:
    """(folder, reason) for a test module the table does not know."""
    topic = path.stem.removeprefix("test_")
    for folder in sorted(FOLDERS, key=lambda f: -len(f.rpartition("/")[2])):
        name = folder.rpartition("/")[2]
        if folder not in ("support", "architecture") and (topic == name or topic.startswith(name + "_")):
            return folder, f"its name starts with the stage's: {name}"
    text = path.read_text(encoding="utf-8")
    counts: Counter[str] = Counter()
    for match in COMPILER_IMPORT.finditer(text):
        module = match.group(1) or match.group(3)
        names = [n.strip(" ()") for n in (match.group(2) or "").split(",") if n.strip(" ()")]
        # `from compiler.targets import kubernetes` names compiler.targets.kubernetes
        candidates = [f"{module}.{n}" for n in names] if names else [module]
        for candidate in candidates:
            for prefix, folder in STAGES:
                if candidate == prefix or candidate.startswith(prefix + "."):
                    counts[folder] += 1
                    break
                if module == prefix or module.startswith(prefix + "."):
                    counts[folder] += 1
                    break
    if not counts:
        return "e2e", "no compiler import: a whole-pipeline test"
    order = [folder for _, folder in STAGES]
    best = max(counts.items(), key=lambda item: (item[1], -order.index(item[0])))
    shown = ", ".join(f"{folder} {n}" for folder, n in counts.most_common())
    return best[0], f"compiler imports by stage: {shown}"


def plan_moves() -> tuple[dict[PurePosixPath, PurePosixPath], list[str]]:
    """old -> new (repository-relative) for everything at tests/ top level that must move."""
    moves: dict[PurePosixPath, PurePosixPath] = {}
    notes: list[str] = []
    top = REPO / "tests"
    for path in sorted(top.iterdir()):
        rel = TESTS / path.name
        if path.is_file() and path.suffix == ".py" and path.name not in KEEP_AT_TOP:
            if path.name.startswith("test_"):
                if path.stem in TABLE:
                    folder, why = TABLE[path.stem], "table"
                else:
                    folder, why = decide(path)
                moves[rel] = TESTS / folder / path.name
                notes.append(f"{rel} -> {moves[rel]} ({why})")
            else:
                moves[rel] = SUPPORT / path.name
                notes.append(f"{rel} -> {moves[rel]} (support module)")
        elif path.is_dir() and path.name in SUPPORT_DIRS:
            moves[rel] = SUPPORT / path.name
            notes.append(f"{rel}/ -> {moves[rel]}/ (support data)")
    return moves, notes


def tracked(path: PurePosixPath) -> bool:
    return bool(git("ls-files", "--", str(path)).strip())


def ensure_packages(dry: bool, moves: dict[PurePosixPath, PurePosixPath]) -> list[str]:
    """An __init__.py in tests/ and in every folder under it that holds (or will hold) Python
    modules, outside the support data folders; created and git-added when missing."""
    holders = {new.parent for new in moves.values() if new.suffix == ".py"} | {TESTS, SUPPORT}
    for path in (REPO / "tests").rglob("*.py"):
        holders.add(PurePosixPath(path.parent.relative_to(REPO).as_posix()))
    folders = set()
    for folder in holders:
        if any(part in SUPPORT_DIRS for part in folder.parts):
            continue
        folders.add(folder)
        folders.update(p for p in folder.parents if p == TESTS or TESTS in p.parents)
    made = [str(f / "__init__.py") for f in sorted(folders) if not (REPO / f / "__init__.py").exists()]
    if made and not dry:
        for init in made:
            (REPO / init).parent.mkdir(parents=True, exist_ok=True)
            (REPO / init).write_text("", encoding="utf-8")
        git("add", "--", *made)
    return made


def module_map() -> dict[str, str]:
    """Module basename -> dotted name, for every module under tests/ (after the moves)."""
    names: dict[str, str] = {}
    for path in sorted((REPO / "tests").rglob("*.py")):
        rel = PurePosixPath(path.relative_to(REPO).as_posix())
        if path.name == "__init__.py" or any(part in SUPPORT_DIRS for part in rel.parts):
            continue
        names.setdefault(path.stem, ".".join(rel.with_suffix("").parts))
    return names


def rewrite_text(text: str, modules: dict[str, str], is_test_py: bool) -> str:
    # dotted names: tests.<stem> -> its new dotted name (not tests.support.x: no match)
    for stem, dotted in modules.items():
        if dotted != f"tests.{stem}":
            text = re.sub(rf"(?<![\w.]){re.escape('tests.' + stem)}\b", dotted, text)
            text = re.sub(rf"(?<![\w./-])tests/{re.escape(stem)}\.py\b", dotted.replace(".", "/") + ".py", text)
    # from tests import validators [as v]
    package_of = {stem: dotted.rpartition(".")[0] for stem, dotted in modules.items()}

    def from_tests(match: re.Match[str]) -> str:
        stem = match.group(2)
        return f"{match.group(1)}from {package_of[stem]} import {stem}" if stem in package_of else match.group(0)

    text = re.sub(r"^(\s*)from tests import (\w+)\b", from_tests, text, flags=re.M)
    if is_test_py:  # bare imports that relied on tests/ (or the test's folder) being on sys.path
        bare = "|".join(re.escape(s) for s in sorted(modules, key=len, reverse=True))
        text = re.sub(
            rf"^(\s*)from ({bare}) import ",
            lambda m: f"{m.group(1)}from {modules[m.group(2)]} import ",
            text,
            flags=re.M,
        )
        text = re.sub(
            rf"^(\s*)import ({bare})(\s+as\s+\w+)?[ \t]*$",
            lambda m: f"{m.group(1)}from {package_of[m.group(2)]} import {m.group(2)}{m.group(3) or ''}",
            text,
            flags=re.M,
        )
    dirs = "|".join(SUPPORT_DIRS)
    text = re.sub(rf"(?<![\w./-])tests/({dirs})\b", r"tests/support/\1", text)
    text = re.sub(rf"(?<![\w.])tests\.({dirs})\b", r"tests.support.\1", text)  # a support package (tests.mutate)
    text = re.sub(rf'"tests"(\s*/\s*)"({dirs})"', r'"tests"\1"support"\1"\2"', text)
    return text


def rewrite_file_chains(text: str, old: PurePosixPath, new: PurePosixPath, moves: dict[PurePosixPath, PurePosixPath]) -> tuple[str, int]:
    """Path(__file__)...parent / "x" chains of a file moved from `old` to `new`, re-aimed."""

    def relocate(path: PurePosixPath) -> PurePosixPath:
        for before, after in moves.items():
            if path == before or before in path.parents:
                return after / path.relative_to(before)
        return path

    def fix(match: re.Match[str]) -> str:
        ups = match.group(2).count(".parent")
        parts = re.findall(r'"([^"/]+)"', match.group(3))
        if ups == 0:
            return match.group(0)  # the file itself
        base = old.parents[ups - 1]  # .parent once = the file's folder
        target = relocate(base.joinpath(*parts)) if parts else relocate(base)
        if not parts and base == old.parent:
            target = new.parent  # "my folder" stays "my folder"
        here = new.parent
        common = here
        while common != PurePosixPath(".") and common not in (target, *target.parents):
            common = common.parent
        if common == PurePosixPath(".") and target != common and common not in target.parents:
            return match.group(0)
        n_up = len(here.parts) - len(common.parts)
        rest = target.relative_to(common).parts if target != common else ()
        expr = "Path(__file__)" + (match.group(1) or "") + ".parent" * (n_up + 1)
        return expr + "".join(f' / "{p}"' for p in rest)

    count = [0]

    def counted(match: re.Match[str]) -> str:
        result = fix(match)
        count[0] += result != match.group(0)
        return result

    return FILE_CHAIN.sub(counted, text), count[0]


def tidy(paths: list[str]) -> None:
    """Rewritten imports sort differently and can exceed the line limit: ruff (the project's
    linter, next to this Python or on PATH) sorts them and wraps the lines, when it is there."""
    sibling = Path(sys.executable).with_name("ruff")
    ruff = str(sibling) if sibling.exists() else shutil.which("ruff")
    if not paths:
        return
    if ruff is None:
        print("ruff not found: run `ruff check --select I --fix` and `ruff format` on the rewritten files", file=sys.stderr)
        return
    subprocess.run([ruff, "check", "--quiet", "--select", "I", "--fix", *paths], cwd=REPO, check=False)
    subprocess.run([ruff, "format", "--quiet", *paths], cwd=REPO, check=False)
    print(f"ruff: imports sorted and formatted in {len(paths)} files")


def text_files() -> list[PurePosixPath]:
    out = []
    for name in git("ls-files").splitlines():
        path = PurePosixPath(name)
        if name.startswith(SKIP_PREFIXES):
            continue
        if path.suffix in REWRITE_SUFFIXES or path.name in REWRITE_NAMES:
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the decisions, change nothing")
    args = ap.parse_args(argv)
    moves, notes = plan_moves()
    for note in notes:
        print(f"move {note}")
    if args.dry_run:
        for made in ensure_packages(True, moves):
            print(f"create {made}")
        return 0
    for old, new in moves.items():
        (REPO / new.parent).mkdir(parents=True, exist_ok=True)
        if tracked(old):
            git("mv", str(old), str(new))
        else:
            (REPO / old).rename(REPO / new)
    for made in ensure_packages(False, moves):
        print(f"create {made}")
    modules = module_map()
    moved_py = {new: old for old, new in moves.items() if new.suffix == ".py"}
    for old, new in moves.items():  # modules inside moved folders (e.g. mutate/)
        if (REPO / new).is_dir():
            for found in (REPO / new).rglob("*.py"):
                inner = PurePosixPath(found.relative_to(REPO).as_posix())
                moved_py[inner] = old / inner.relative_to(new)
    changed: list[str] = []
    for path in text_files() + [p for p in moved_py if not tracked(p)]:
        file = REPO / path
        if not file.is_file():
            continue
        before = file.read_text(encoding="utf-8")
        if LEAVE_AS_IS in before:
            continue
        is_test_py = path.suffix == ".py" and path.parts[0] == "tests"
        text = rewrite_text(before, modules, is_test_py)
        if path in moved_py:
            text, _ = rewrite_file_chains(text, moved_py[path], path, moves)
            leftover = [line.strip() for line in text.splitlines() if "__file__" in line and not FILE_CHAIN.search(line)]
            for line in leftover:
                print(f"check by hand {path}: {line}")
        if text != before:
            file.write_text(text, encoding="utf-8")
            changed.append(str(path))
    for name in changed:
        print(f"rewrote {name}")
    tidy([p for p in changed if p.endswith(".py")])
    if changed:
        git("add", "--", *changed)
    stray = [p.name for p in (REPO / "tests").iterdir() if p.suffix == ".py" and p.name not in KEEP_AT_TOP]
    if stray:
        print(f"left at tests/ top level: {stray}", file=sys.stderr)
        return 1
    print(f"{len(moves)} moved, {len(changed)} files rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
