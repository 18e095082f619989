"""Outside the kind registry and the per-target dispatch tables, no code compares a component's
type with a string literal: a new kind must not silently fall into someone's `else`."""

from __future__ import annotations

import ast

from compiler.model import kinds
from tests.support.helpers import REPO

KIND_NAMES = frozenset(kinds.names())
REGISTRY = REPO / "compiler" / "model" / "kinds"


def _is_kind_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value in KIND_NAMES:
        return True
    if isinstance(node, ast.Tuple | ast.Set | ast.List):
        return any(_is_kind_literal(e) for e in node.elts)
    return False


def _dispatch_tables(tree: ast.AST) -> set[int]:
    """ids of the dict literals given to DispatchTable(...): the allowed place for kind names."""
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "DispatchTable":
                allowed |= {id(arg) for arg in node.args if isinstance(arg, ast.Dict)}
    return allowed


def kind_literal_uses(source: str, filename: str) -> list[str]:
    """`file:line: what` for each comparison with / match on / dict keyed by a kind name."""
    tree = ast.parse(source, filename)
    allowed = _dispatch_tables(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(_is_kind_literal(n) for n in [node.left, *node.comparators]):
            found.append(f"{filename}:{node.lineno}: comparison with a component type literal")
        elif isinstance(node, ast.match_case) and any(
            isinstance(p, ast.MatchValue) and _is_kind_literal(p.value) for p in ast.walk(node.pattern)
        ):
            found.append(f"{filename}:{node.pattern.lineno}: match on a component type literal")
        elif isinstance(node, ast.Dict) and id(node) not in allowed and any(k is not None and _is_kind_literal(k) for k in node.keys):
            found.append(f"{filename}:{node.lineno}: a dict keyed by component type outside a DispatchTable")
    return found


def test_no_component_type_literal_is_compared_outside_the_registry_and_dispatch_tables() -> None:
    found = []
    for path in sorted((REPO / "compiler").rglob("*.py")):
        if REGISTRY in path.parents:
            continue
        found += kind_literal_uses(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert found == []


def test_the_check_finds_each_form_it_forbids() -> None:
    source = (
        'if c.type == "serving": pass\n'
        'if c.type in ("spark_job", "x"): pass\n'
        'if "database" != c.type: pass\n'
        'match c.type:\n    case "pipeline": pass\n'
        'SHAPES = {"object_store": 1}\n'
        'OK = DispatchTable("t", {"object_store": 1})\n'
        'fine = c.type == "SparkApplication"\n'
    )
    assert kind_literal_uses(source, "f.py") == [
        "f.py:1: comparison with a component type literal",
        "f.py:2: comparison with a component type literal",
        "f.py:3: comparison with a component type literal",
        "f.py:5: match on a component type literal",
        "f.py:6: a dict keyed by component type outside a DispatchTable",
    ]
