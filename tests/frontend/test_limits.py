"""Limits: every bound on input size has a clear located error, a documented default (the
"Limits" table of README.md must match the constants), and a test at the boundary that
fails if the bound is removed or changed.

(test_frontend.py already shows that a file over the size limit, an alias bomb and deep
flow nesting are rejected; these tests pin the exact boundaries and the costs.)
"""

from __future__ import annotations

import re
import time  # bounds use process_time: CPU of this process, not wall clock on a shared machine
from pathlib import Path

import pytest

from compiler.core.diagnostics import InputError
from compiler.frontend import loader, project, resolve
from compiler.frontend.loader import parse
from tests.support.helpers import MINIMAL_AWS, REPO, aws_env, make_project
from tests.support.spec_strategies import run_main


def codes(text: str) -> list[str]:
    try:
        parse("environments/e1.yaml", text)
    except InputError as exc:
        return [d.code for d in exc.diagnostics]
    return []


def readme_limits() -> dict[str, str]:
    """The README's Limits table: first column -> default column."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return {cells[0].strip(): cells[1].strip().strip("`") for cells in rows[1:]}


def test_the_readme_documents_the_defaults_that_are_in_force() -> None:
    table = readme_limits()
    expected = {
        "Environment file size": str(loader.MAX_FILE_BYTES),
        "Nesting depth": str(loader.MAX_DEPTH),
        "Values per file, after alias expansion": str(loader.MAX_NODES),
        "Integers": "64-bit",
        "Environments per project": str(project.MAX_ENVIRONMENTS),
        "Components per environment": str(project.MAX_COMPONENTS),
        "`extends` depth": str(resolve.MAX_EXTENDS_DEPTH),
        "Files merged into one environment": str(resolve.MAX_CHAIN),
    }
    for row, value in expected.items():
        assert row in table, f"README Limits table lacks {row!r}"
        assert value.replace("_", "") in table[row].replace("_", "").replace(",", ""), (
            f"{row}: README says {table[row]!r}, the code {value}"
        )


# --- file size ---------------------------------------------------------------------------
def test_file_size_boundary(tmp_path: Path) -> None:
    """Guards MAX_FILE_BYTES: exactly the limit is read, one byte more is MLC-E001."""
    from compiler.frontend.loader import load_file

    head = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nx: '"
    at_limit = head + "y" * (loader.MAX_FILE_BYTES - len(head) - 2) + "'\n"
    assert len(at_limit.encode()) == loader.MAX_FILE_BYTES
    path = tmp_path / "e1.yaml"
    path.write_text(at_limit)
    assert load_file(str(path), "environments/e1.yaml").data["x"].startswith("yyy")
    path.write_text(at_limit[:-2] + "y'\n")
    with pytest.raises(InputError) as caught:
        load_file(str(path), "environments/e1.yaml")
    assert [(str(d.location), d.code) for d in caught.value.diagnostics] == [("environments/e1.yaml:1:1", "MLC-E001")]


def test_an_endless_file_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    """The loader reads at most MAX_FILE_BYTES + 1 bytes, so a huge (or growing) file costs
    no more than the limit."""
    from compiler.frontend.loader import load_file

    path = tmp_path / "e1.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 * loader.MAX_FILE_BYTES)  # sparse: 50 MiB of zero bytes
    start = time.process_time()
    with pytest.raises(InputError) as caught:
        load_file(str(path), "environments/e1.yaml")
    assert [d.code for d in caught.value.diagnostics] == ["MLC-E001"]
    assert time.process_time() - start < 1.0


# --- nesting depth -------------------------------------------------------------------------
def nested(depth: int, flow: bool) -> str:
    if flow:
        return "a: " + "[" * depth + "]" * depth + "\n"
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"


@pytest.mark.parametrize("flow", [True, False], ids=["flow", "block"])
def test_nesting_depth_boundary(flow: bool) -> None:
    """Guards MAX_DEPTH: the root mapping is level 0, so MAX_DEPTH nested containers inside
    it are fine and one more is MLC-E009, located at the container that goes too deep."""
    assert "MLC-E009" not in codes(nested(loader.MAX_DEPTH, flow))
    assert codes(nested(loader.MAX_DEPTH + 1, flow)) == ["MLC-E009"]


def test_very_deep_nesting_costs_nothing(tmp_path: Path) -> None:
    start = time.process_time()
    assert codes("a: " + "[" * 50_000 + "]" * 50_000 + "\n") in (["MLC-E009"], ["MLC-E003"])
    assert time.process_time() - start < 5.0


# --- alias expansion ----------------------------------------------------------------------------
def test_value_count_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards MAX_NODES (counted after alias expansion): at the limit fine, one more E008."""
    monkeypatch.setattr(loader, "MAX_NODES", 50)
    doc = "a: &x [1, 2, 3, 4, 5, 6, 7, 8]\n"  # root + a + 8 = 10 values
    doc += "".join(f"b{i}: *x\n" for i in range(4))  # + 4 x 9 = 46
    doc += "c: [1, 2, 3]\n"  # + 4 = 50
    assert codes(doc) == []
    assert codes(doc + "d: 1\n") == ["MLC-E008"]


def test_billion_laughs_is_refused_in_bounded_time() -> None:
    """Ten levels of ten aliases each would expand to 10^10 values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    start = time.process_time()
    assert codes("\n".join(lines) + "\n") == ["MLC-E008"]
    assert time.process_time() - start < 5.0


def test_the_default_value_limit_allows_large_real_files() -> None:
    """MAX_NODES is far above what a real environment needs: 1000 components of 20 values."""
    body = "components:\n" + "".join(
        f"  c{i}: {{type: object_store, labels: {{a: b, c: d}}, lifecycle: {{expire_after_days: 30}}, "
        f"after: [{', '.join(f'x{j}' for j in range(12))}]}}\n"
        for i in range(1000)
    )
    assert codes(body) == []


# --- integers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "literal",
    ["9223372036854775808", "-9223372036854775809", "0x8000000000000000", "0o1000000000000000000000", "9" * 5000, "0x" + "f" * 5000],
)
def test_integers_beyond_64_bits_are_refused(literal: str) -> None:
    """Guards the loader's integer bound: 5000 digits crashed (Python refuses str() of ints
    over 4300 digits), and huge ints overflow float conversions later."""
    assert codes(f"a: {literal}\n") == ["MLC-E021"]


@pytest.mark.parametrize(
    "literal,value",
    [
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("0x7fffffffffffffff", 2**63 - 1),
        ("000000000000000000000000042", 42),
    ],
)
def test_integers_within_64_bits_are_read(literal: str, value: int) -> None:
    assert parse("e.yaml", f"a: {literal}\n").data["a"] == value


# --- environments and components ----------------------------------------------------------------
def test_components_per_environment_boundary(tmp_path: Path) -> None:
    """Guards MAX_COMPONENTS, counted after inheritance: a parent and a child that each stay
    under the limit may not add up to more."""
    n = project.MAX_COMPONENTS
    half = n // 2 + 1
    base = (
        MINIMAL_AWS.replace("NAME", "base")
        + "abstract: true\ncomponents:\n"
        + "".join(f"  p{i}: {{type: object_store}}\n" for i in range(half))
    )
    child = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: base\ncomponents:\n" + "".join(
        f"  c{i}: {{type: object_store}}\n" for i in range(n - half)
    )
    root = make_project(tmp_path / "ok", {"base": base, "e1": child})
    assert run_main("validate", "--project", str(root))[0] == 0
    root = make_project(tmp_path / "over", {"base": base, "e1": child + "  one-more: {type: object_store}\n"})
    code, _, err = run_main("validate", "--project", str(root))
    assert code == 2 and f"{n + 1} components; the limit is {n}" in err and "MLC-E070" in err
    assert re.search(r"environments/(e1|base)\.yaml:\d+:\d+: error MLC-E070", err)


def test_environments_per_project_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards MAX_ENVIRONMENTS; checked before any file is parsed."""
    root = make_project(tmp_path, {f"e{i}": aws_env(f"e{i}") for i in range(4)})
    monkeypatch.setattr(project, "MAX_ENVIRONMENTS", 4)
    assert run_main("validate", "--project", str(root))[0] == 0
    (root / "environments" / "e4.yaml").write_text(aws_env("e4"))
    code, _, err = run_main("validate", "--project", str(root))
    assert code == 2 and "5 environment files; the limit is 4" in err and "MLC-E070" in err


def test_the_default_environment_limit_is_enforced_cheaply(tmp_path: Path) -> None:
    root = make_project(tmp_path, {})
    for i in range(project.MAX_ENVIRONMENTS + 1):
        (root / "environments" / f"e{i}.yaml").write_text("- not even valid\n")
    start = time.process_time()
    code, _, err = run_main("validate", "--project", str(root))
    assert code == 2 and f"the limit is {project.MAX_ENVIRONMENTS}" in err
    assert err.count("error") == 1  # the limit, not 5001 parse errors
    assert time.process_time() - start < 5.0


# --- inheritance ---------------------------------------------------------------------------------
def chain(tmp_path: Path, depth: int) -> Path:
    files = {f"e{i}": f"apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: e{i}}}\nextends: e{i + 1}\n" for i in range(depth)}
    files[f"e{depth}"] = MINIMAL_AWS.replace("NAME", f"e{depth}") + "components: {}\n"
    return make_project(tmp_path, files)


def test_extends_depth_boundary(tmp_path: Path) -> None:
    """Guards MAX_EXTENDS_DEPTH: a 1500-deep chain raised RecursionError (exit 70)."""
    limit = resolve.MAX_EXTENDS_DEPTH
    assert run_main("validate", "--project", str(chain(tmp_path / "ok", limit)), "e0")[0] == 0
    code, _, err = run_main("validate", "--project", str(chain(tmp_path / "over", limit + 1)), "e0")
    assert code == 2 and "MLC-E034" in err and f"more than {limit} levels" in err
    code, _, err = run_main("validate", "--project", str(chain(tmp_path / "deep", 1500)), "e0")
    assert code == 2 and "MLC-E034" in err and "internal error" not in err


def test_diamond_inheritance_is_bounded(tmp_path: Path) -> None:
    """Guards MAX_CHAIN: every level extends two parents that share the next level, so the
    merge chain doubles per level (2^30 files at depth 30: a hang)."""
    depth = 12  # 2^12 = 4096 merges > MAX_CHAIN; fast even without the bound, so the test
    files = {}  # fails (does not hang) if the bound is removed
    for i in range(depth):
        for side in "ab":
            parents = f"extends: [l{i + 1}a, l{i + 1}b]\n" if i < depth - 1 else ""
            files[f"l{i}{side}"] = f"apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: l{i}{side}}}\nabstract: true\n{parents}"
    files[f"l{depth - 1}a"] = MINIMAL_AWS.replace("NAME", f"l{depth - 1}a") + "abstract: true\ncomponents: {}\n"
    files["top"] = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: top}\nextends: [l0a, l0b]\n"
    root = make_project(tmp_path, files)
    start = time.process_time()
    code, _, err = run_main("validate", "--project", str(root), "top")
    assert code == 2 and "MLC-E034" in err and f"more than {resolve.MAX_CHAIN} files" in err
    assert "environments/top.yaml:4:" in err
    assert time.process_time() - start < 10


def test_a_small_diamond_is_fine(tmp_path: Path) -> None:
    base = MINIMAL_AWS.replace("NAME", "base") + "abstract: true\ncomponents: {}\n"
    mid = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: {n}}}\nabstract: true\nextends: base\n"
    top = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: top}\nextends: [left, right]\n"
    root = make_project(tmp_path, {"base": base, "left": mid.format(n="left"), "right": mid.format(n="right"), "top": top})
    assert run_main("validate", "--project", str(root))[0] == 0
