"""The compiled schema checker (compiler.frontend.schema_fast) agrees with jsonschema.

It may only short-circuit documents jsonschema accepts, so the property tested is exact
agreement on the verdict: on the example environments, and on random mutations of them
(types changed, keys deleted or added, strings bent, numbers at their bounds), in both
the file-by-file (partial) and the resolved (full) mode.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.core.diagnostics import Location
from compiler.frontend import schema_check
from compiler.frontend.loader import load_file
from compiler.frontend.project import Project
from compiler.frontend.schema_fast import JSONSCHEMA_2020_12_KEYWORDS, compile_checker, json_equal, json_unique

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMA = str(REPO / "schemas" / "environment.schema.json")


def _locate(pointer: str, key: bool = False) -> Location:
    return Location("x.yaml", 1, 1)


def slow_diagnostics(data: Any, partial: bool) -> list:
    """schema_check.validate without the fast path: what jsonschema reports."""
    validator = schema_check._validator(SCHEMA)
    instance = schema_check._strip_nulls(data) if partial else data
    found = set()
    for error in validator.iter_errors(instance):
        found.update(schema_check._diagnostics_for(error, _locate, partial))
    return sorted(found)


def fast(partial: bool) -> Any:
    checker = schema_check._fast_checker(SCHEMA, partial)
    assert checker is not None, "the environment schema must be supported by the fast path"
    return checker


def _files() -> list[Any]:
    return [load_file(str(p), p.name).data for p in sorted((REPO / "environments").glob("*.yaml"))]


def _resolved() -> list[Any]:
    project = Project.at(REPO)
    from compiler.frontend.resolve import merge_chain

    out = []
    for env in project.load_environments():
        out.append(merge_chain(list(env.chain), project._documents))
    return out


FILES = _files()
RESOLVED = _resolved()


def test_keyword_list_matches_the_installed_jsonschema() -> None:
    from jsonschema import Draft202012Validator

    assert frozenset(Draft202012Validator.VALIDATORS) == JSONSCHEMA_2020_12_KEYWORDS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, 1.0, 1.5, -1.0]) | st.sampled_from(["", "a", "1", "True"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3),
    max_leaves=10,
)


@given(json_values, json_values)
def test_equality_matches_jsonschema(a: Any, b: Any) -> None:
    from jsonschema._utils import equal

    assert json_equal(a, b) == equal(a, b)


@given(st.lists(json_values, max_size=6))
def test_uniqueness_matches_jsonschema(items: list[Any]) -> None:
    from jsonschema._utils import uniq

    assert json_unique(items) == uniq(items)


@pytest.mark.parametrize("index", range(len(FILES)))
def test_example_files_agree(index: int) -> None:
    data = FILES[index]
    assert fast(True)(schema_check._strip_nulls(data)) == (slow_diagnostics(data, True) == [])


@pytest.mark.parametrize("index", range(len(RESOLVED)))
def test_resolved_examples_are_accepted_by_both(index: int) -> None:
    data = RESOLVED[index]
    assert slow_diagnostics(data, False) == []
    assert fast(False)(data) is True


# --- random mutations of the examples -------------------------------------------------------

ODD_STRINGS = [
    "",
    "prod\n",
    "Prod",
    "a" * 64,
    "-x",
    "x-",
    "nvidia-a100",
    "m6i.2xlarge",
    "500m",
    "8Gi",
    "0 3 * * 1",
    "@daily",
    "gdpr",
    "16",
    "1.31",
    "https://git.example.com/x.git",
    "registry.example.com/a:1@sha256:" + "0" * 64,
    "object_store",
    "serving",
    "models",
    "viewer",
    "*",
    "MLC-SEC-004",
]
ODD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    2,
    30,
    1.0,
    0.5,
    1e9,
    [],
    {},
    ["a"],
    ["a", "a"],
    {"type": "object_store"},
    {"secret": "a/b#c"},
] + ODD_STRINGS


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _mutate(doc: Any, draw: Any) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for token in path[:-1]:
            parent = parent[token]
        action = draw(st.sampled_from(["replace", "delete", "add", "append"]))
        if not path:
            if isinstance(doc, dict) and action == "add":
                doc[draw(st.sampled_from(["extra", "abstract", "extends", "budget"]))] = draw(st.sampled_from(ODD_VALUES))
            continue
        last = path[-1]
        if action == "replace":
            parent[last] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif action == "delete":
            del parent[last]
        elif action == "add" and isinstance(parent[last], dict):
            parent[last][draw(st.sampled_from(["type", "runtime", "image", "extra", "min", "max", "Bad_Key", "x" * 70]))] = copy.deepcopy(
                draw(st.sampled_from(ODD_VALUES))
            )
        elif action == "append" and isinstance(parent[last], list):
            parent[last].append(copy.deepcopy(draw(st.sampled_from(ODD_VALUES))))
        elif isinstance(parent[last], str):
            parent[last] = parent[last] + draw(st.sampled_from(["\n", " ", "X", "-", "_"]))
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_file_mutations_agree(data: Any) -> None:
    doc = _mutate(data.draw(st.sampled_from(FILES)), data.draw)
    assert fast(True)(schema_check._strip_nulls(doc)) == (slow_diagnostics(doc, True) == [])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_resolved_mutations_agree(data: Any) -> None:
    doc = _mutate(data.draw(st.sampled_from(RESOLVED)), data.draw)
    assert fast(False)(doc) == (slow_diagnostics(doc, False) == [])


def test_unsupported_keywords_disable_the_fast_path() -> None:
    assert compile_checker({"type": "array", "contains": {"const": 1}}, False) is None
    assert compile_checker({"$ref": "https://example.com/other.json"}, False) is None
    assert compile_checker({"type": "object", "unevaluatedProperties": False}, False) is None
    assert compile_checker({"type": "object", "x-vendor": 1}, False) is not None  # unknown keywords are annotations


def test_validate_reports_the_same_diagnostics_with_the_fast_path(tmp_path: Path) -> None:
    bad = copy.deepcopy(FILES[0])
    bad["components"] = {"x": {"type": "serving", "model": {"from": "m"}, "runtime": "pytorch", "image": "a/b:1"}}
    expected = slow_diagnostics(bad, False)
    assert expected
    assert schema_check.validate(SCHEMA, bad, _locate, partial=False) == expected
