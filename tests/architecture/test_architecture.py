"""Architecture rules the code must keep: every error code explained, no import cycles.

The error catalogue (compiler/core/errors.py) is data that `mlc explain` prints; a code used
in the source but missing from it would ship unexplained, and a catalogue entry nothing emits
is a stale promise. Import cycles between the compiler's modules make the stage order a lie
and break on import order, so the graph of what each module imports when it is loaded must be
acyclic (imports inside functions are the deliberate exception: they keep `mlc --help` fast).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

from compiler.cli import main
from compiler.core.errors import CATALOGUE

PACKAGE = Path(__file__).resolve().parent.parent.parent / "compiler"
CODE = re.compile(r"MLC-E\d{3}")


def _source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".k") and p.name != "errors.py")


def test_every_error_code_in_the_source_is_in_the_catalogue() -> None:
    used = {code for path in _source_files() for code in CODE.findall(path.read_text(encoding="utf-8"))}
    assert used, "the scan found no error codes at all: the pattern or the folder is wrong"
    assert sorted(used - set(CATALOGUE)) == []


def test_every_catalogue_entry_is_used_by_the_compiler() -> None:
    used = {code for path in _source_files() for code in CODE.findall(path.read_text(encoding="utf-8"))}
    assert sorted(set(CATALOGUE) - used) == []


def test_catalogue_entries_are_complete() -> None:
    for code, entry in CATALOGUE.items():
        assert entry.code == code and CODE.fullmatch(code)
        assert entry.title and entry.explanation.endswith((".", ")")) and entry.fix.endswith((".", ")")), code


def test_explain_an_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "mlc-e042"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MLC-E042: dependency cycle\n\nWhat it means:\n")
    assert "\nFix:\n  Remove one edge of the cycle" in out


def test_explain_unknown_error_code_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "MLC-E0200"]) == 2
    assert 'unknown error code "MLC-E0200"' in capsys.readouterr().err


def test_explain_list_has_every_rule_and_error_code(capsys: pytest.CaptureFixture[str]) -> None:
    from compiler.policy.engine import all_rules

    assert main(["explain", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [line.split()[0] for line in lines]
    assert ids == sorted(r.id for r in all_rules(None)) + list(CATALOGUE)
    assert "MLC-E020  input    unknown field" in lines
    assert main(["explain"]) == 2  # neither a rule nor --list


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _nodes(tree: ast.AST) -> list[ast.AST]:
    """Nodes that run when the module is imported: not function bodies (lazy imports are how
    commands keep start-up cheap) and not `if TYPE_CHECKING:` blocks (annotations only)."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> nx.DiGraph:
    """compiler module -> compiler module it imports when it is imported."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _nodes(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("__future__"):
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target != "compiler":
                    graph.add_edge(name, target)
    return graph


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert graph.number_of_edges() > 50, "the import scan found too few imports to be trusted"
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph))
    assert cycles == []
