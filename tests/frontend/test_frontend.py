"""Loader, schema validation, inheritance and the CLI front end (issue 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.core.diagnostics import InputError
from compiler.frontend.loader import MAX_FILE_BYTES, parse
from compiler.frontend.project import Project
from compiler.frontend.resolve import merge
from tests.support.helpers import MINIMAL_AWS, aws_env, make_project

FIXTURES = Path(__file__).parent.parent / "support" / "fixtures" / "merge"


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir()))
def test_merge_fixture_pairs(case: str) -> None:
    def load(name: str):
        return yaml.safe_load((FIXTURES / case / f"{name}.yaml").read_text())

    assert merge(load("base"), load("overlay")) == load("expected")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=12,
)
no_null_values = st.recursive(
    st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), no_null_values, max_size=4))
def test_merging_an_empty_overlay_is_identity(base: dict) -> None:
    assert merge(base, {}) == base
    assert merge({}, base) == base


@given(st.dictionaries(st.text(max_size=4), json_values, max_size=4), st.dictionaries(st.text(max_size=4), json_values, max_size=4))
def test_merge_never_mutates_its_inputs(base: dict, overlay: dict) -> None:
    import copy

    before = copy.deepcopy((base, overlay))
    merge(base, overlay)
    assert (base, overlay) == before


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_loader(raw: bytes) -> None:
    from compiler.frontend.loader import decode

    try:
        parse("environments/x.yaml", decode("environments/x.yaml", raw))
    except InputError as exc:
        assert all(str(d).startswith("environments/x.yaml:") for d in exc.diagnostics)


yaml_ish = st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!|>'\"#%@`\n\t,?~0.9")), max_size=80)


@settings(max_examples=300)
@given(yaml_ish)
def test_arbitrary_yaml_never_crashes_the_loader(text: str) -> None:
    try:
        doc = parse("environments/x.yaml", text)
        assert isinstance(doc.data, dict)
    except InputError as exc:
        assert exc.diagnostics and all(d.code.startswith("MLC-E") for d in exc.diagnostics)


def test_positions_are_recorded_for_values_and_keys() -> None:
    doc = parse("e.yaml", "a:\n  b: [1, x]\n  c: {d: no}\n")
    assert doc.data == {"a": {"b": [1, "x"], "c": {"d": "no"}}}  # YAML 1.2: `no` is a string
    assert doc.positions["/a/b/1"] == (2, 10)
    assert doc.key_positions["/a/c"] == (3, 3)


def test_libyaml_and_ruamel_composers_agree_on_the_examples() -> None:
    from compiler.frontend import loader

    for path in sorted((Path(__file__).parent.parent.parent / "environments").glob("*.yaml")):
        text = path.read_text()
        fast = parse("e.yaml", text)
        original = loader._composer
        loader._composer = loader.compose_with_ruamel  # type: ignore[assignment]
        try:
            slow = parse("e.yaml", text)
        finally:
            loader._composer = original  # type: ignore[assignment]
        assert fast.data == slow.data and fast.positions == slow.positions and fast.key_positions == slow.key_positions


# --- one test per bad-input class: exact code, file and line --------------------------
BAD_INPUTS = [
    ("syntax", "apiVersion: mlc/v1\nkind: [Environment\nmetadata: {name: e1}\n", "MLC-E003", 3),
    ("tab", "apiVersion: mlc/v1\nmetadata:\n\tname: e1\n", "MLC-E004", 3),
    ("duplicate-key", MINIMAL_AWS.replace("NAME", "e1") + "components: {}\nbudget: {monthly_usd: 5}\n", "MLC-E005", 12),
    ("empty", "", "MLC-E006", 1),
    ("comment-only", "# nothing here\n", "MLC-E006", 1),
    ("root-list", "- apiVersion: mlc/v1\n", "MLC-E007", 1),
    ("root-scalar", "just a string\n", "MLC-E007", 1),
    ("unknown-field", MINIMAL_AWS.replace("NAME", "e1") + "components: {}\nbugdet: {monthly_usd: 5}\n", "MLC-E020", 12),
    ("wrong-type", MINIMAL_AWS.replace("NAME", "e1").replace("max: 3", "max: three") + "components: {}\n", "MLC-E021", 8),
    ("negative-count", MINIMAL_AWS.replace("NAME", "e1").replace("min: 1", "min: -2") + "components: {}\n", "MLC-E022", 8),
    ("bad-name", aws_env("e1", "Raw_Data: {type: object_store}"), "MLC-E024", 12),
    ("unknown-type", aws_env("e1", "raw: {type: object_stor}"), "MLC-E025", 12),
    ("name-mismatch", MINIMAL_AWS.replace("NAME", "other") + "components: {}\n", "MLC-E010", 3),
    ("unknown-extends", "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: bse\ncomponents: {}\n", "MLC-E030", 4),
    (
        "missing-required",
        "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\ncomponents:\n  db: {type: database}\n",
        "MLC-E023",
        1,
    ),
    (
        "lifecycle-order",
        aws_env("e1", "s:\n  type: object_store\n  lifecycle: {infrequent_after_days: 60, archive_after_days: 70}"),
        "MLC-E045",
        14,
    ),
    (
        "expiry-before-transition",
        aws_env("e1", "s:\n  type: object_store\n  lifecycle:\n    archive_after_days: 90\n    expire_after_days: 60"),
        "MLC-E045",
        16,
    ),
    ("nan", MINIMAL_AWS.replace("NAME", "e1").replace("monthly_usd: 100000", "monthly_usd: .nan") + "components: {}\n", "MLC-E021", 10),
]


@pytest.mark.parametrize("case,text,code,line", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_located_error_with_exit_2(tmp_path: Path, capsys, case: str, text: str, code: str, line: int) -> None:
    make_project(tmp_path, {"e1": text})
    (tmp_path / "out" / "e1").mkdir(parents=True)
    (tmp_path / "out" / "e1" / "keep.yaml").write_text("old\n")
    assert main(["compile", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"environments/e1.yaml:{line}:" in err and f"error {code}:" in err, err
    assert "Traceback" not in err
    assert (tmp_path / "out" / "e1" / "keep.yaml").read_text() == "old\n"


def test_non_utf8_reports_line_and_column(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, {})
    (tmp_path / "environments" / "e1.yaml").write_bytes(b"apiVersion: mlc/v1\nkind: \xff\n")
    assert main(["validate", "--project", str(tmp_path)]) == 2
    assert "environments/e1.yaml:2:7: error MLC-E002" in capsys.readouterr().err


def test_file_over_the_size_limit(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, {"e1": "a: '" + "x" * MAX_FILE_BYTES + "'\n"})
    assert main(["validate", "--project", str(tmp_path)]) == 2
    assert "environments/e1.yaml:1:1: error MLC-E001" in capsys.readouterr().err


def test_alias_bomb_is_bounded(tmp_path: Path, capsys) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    make_project(tmp_path, {"e1": "\n".join(lines) + "\n"})
    assert main(["validate", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "environments/e1.yaml:" in err and "MLC-E008" in err


def test_deep_nesting_is_bounded(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, {"e1": "a: " + "[" * 100 + "]" * 100 + "\n"})
    assert main(["validate", "--project", str(tmp_path)]) == 2
    assert "environments/e1.yaml:1:" in capsys.readouterr().err


def test_file_name_that_is_not_a_label(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, {"Bad_Name": aws_env("bad-name")})
    assert main(["validate", "--project", str(tmp_path)]) == 2
    assert "environments/Bad_Name.yaml:1:1: error MLC-E011" in capsys.readouterr().err


def test_cyclic_extends_prints_the_whole_cycle(tmp_path: Path, capsys) -> None:
    body = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: {n}}}\nextends: {p}\n"
    make_project(tmp_path, {"a": body.format(n="a", p="b"), "b": body.format(n="b", p="c"), "c": body.format(n="c", p="a")})
    assert main(["validate", "--project", str(tmp_path), "a"]) == 2
    err = capsys.readouterr().err
    assert "error MLC-E031: cycle in extends:" in err
    assert "environments/a.yaml:4" in err and "environments/b.yaml:4" in err and "environments/c.yaml:4" in err


def test_child_may_not_change_the_provider(tmp_path: Path, capsys) -> None:
    base = MINIMAL_AWS.replace("NAME", "base") + "abstract: true\ncomponents: {}\n"
    child = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: base\ncloud: {provider: gcp, region: europe-west4}\n"
    make_project(tmp_path, {"base": base, "e1": child})
    assert main(["validate", "--project", str(tmp_path)]) == 2
    assert "environments/e1.yaml:5:19: error MLC-E032" in capsys.readouterr().err


def test_all_problems_of_all_files_are_reported_at_once(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, {"e1": aws_env("e1", "a: {type: object_stor}\nb: {type: object_store, sizegb: 3}"), "e2": "- x\n"})
    assert main(["validate", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "MLC-E025" in err and 'did you mean "object_store"' in err
    assert 'unknown field "sizegb"' in err and 'did you mean "size_gb"' in err
    assert "environments/e2.yaml:1:1: error MLC-E007" in err


def test_abstract_environments_are_never_compiled(tmp_path: Path) -> None:
    base = MINIMAL_AWS.replace("NAME", "base") + "abstract: true\ncomponents: {}\n"
    child = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: base\n"
    make_project(tmp_path, {"base": base, "e1": child})
    assert [e.name for e in Project.at(tmp_path).load_environments()] == ["e1"]


def test_extends_list_merges_in_order_and_trace_names_the_parent(tmp_path: Path, capsys) -> None:
    a = MINIMAL_AWS.replace("NAME", "a") + "abstract: true\ncomponents: {s: {type: object_store, size_gb: 1}}\n"
    b = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: b}\nabstract: true\ncomponents:\n  s: {size_gb: 2, public: false}\n"
    child = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: [a, b]\ncomponents:\n  s: {public: null}\n"
    make_project(tmp_path, {"a": a, "b": b, "e1": child})
    (env,) = Project.at(tmp_path).load_environments(["e1"])
    assert env.chain == ("a", "b", "e1")
    assert env.spec["components"]["s"]["size_gb"] == 2
    assert env.spec["components"]["s"]["public"] is False  # deleted, then the schema default
    assert main(["trace", "--project", str(tmp_path), "e1", "components.s.size_gb"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "components.s.size_gb = 2",
        '  set at environments/b.yaml:6:16 (in b, inherited from parent "b")',
        "  replaces environments/a.yaml:12:47 (in a)",
    ]


def test_version_and_help_do_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from compiler.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit: pass\n"
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('kcl_lib', 'kubernetes', 'networkx', 'jsonschema') or m.startswith('compiler.targets')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_unknown_environment_on_the_command_line_is_usage_error(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, {"e1": aws_env("e1")})
    assert main(["validate", "--project", str(tmp_path), "e2"]) == 2
    assert 'unknown environment "e2"' in capsys.readouterr().err


def test_usage_errors_exit_2_on_one_line(tmp_path: Path, capsys) -> None:
    assert main(["compile", "--project", str(tmp_path / "nowhere")]) == 2
    assert "has no environments/ folder" in capsys.readouterr().err
    make_project(tmp_path, {"e1": aws_env("e1")})
    assert main(["check", "--project", str(tmp_path), "--today", "2026-13-01"]) == 2
    assert "--today must be a date" in capsys.readouterr().err
    assert main(["validate", "--project", str(tmp_path), "e1\nfake: line"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\\n" in err
