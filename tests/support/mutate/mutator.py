"""One-line mutants of a Python module, made from its AST, applied as a text edit.

Each mutant changes one node and keeps the rest of the file byte for byte, so its line
number and the snippet shown in the report are those of the real source. Operators (the
classic set: flipped comparisons, negated conditions, removed statements, changed constants):

  compare   == <-> !=, < -> <=, <= -> <, > -> >=, >= -> >, in <-> not in, is <-> is not
  boolop    and <-> or
  not       `not x` -> `x`
  negate    a condition that is not already a comparison or a `not` -> `not (cond)`
  remove    an expression statement (a call, a yield), raise, continue, break, return
            (not the last statement of its function), an augmented assignment, or an
            assignment to an attribute or item -> `pass`
  string    "x" -> "XXx" (also removes an element of a set of names: it no longer matches)
  number    n -> n + 1;  True <-> False
  arith     + <-> - (not on strings)

Not mutated: docstrings, annotations, decorators, `if TYPE_CHECKING:` blocks, the inside
of f-strings (their node positions are not reliable on Python 3.11).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

_COMPARE_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass(frozen=True)
class Mutant:
    key: str  # stable across edits elsewhere in the file: scope | operator | before -> after [#n]
    line: int
    operator: str
    before: str  # the source text replaced
    after: str  # its replacement
    start: tuple[int, int]  # (line, col) 1-based line, 0-based col, as in ast
    end: tuple[int, int]


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    body = getattr(parent, "body", None)
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(body, list)
        and bool(body)
        and body[0] is node
    )


def _excluded_nodes(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: annotations, decorators, TYPE_CHECKING blocks, f-strings."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            mark(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mark(node.returns)
            for decorator in node.decorator_list:
                mark(decorator)
        elif isinstance(node, ast.ClassDef):
            for decorator in node.decorator_list:
                mark(decorator)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            mark(node)
        elif isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            mark(node)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            mark(node)
    return skip


class _Collector(ast.NodeVisitor):
    def __init__(self, skip: set[int]):
        self.skip = skip
        self.scope: list[str] = []
        self.parent: list[ast.AST] = []
        self.found: list[tuple[str, ast.AST, str]] = []  # (scope, node, operator) ; replacement made later

    def visit(self, node: ast.AST) -> None:
        if id(node) in self.skip:
            return
        named = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if named:
            self.scope.append(node.name)  # type: ignore[attr-defined]
        parent = self.parent[-1] if self.parent else None
        self._sites(node, parent)
        self.parent.append(node)
        super().generic_visit(node)
        self.parent.pop()
        if named:
            self.scope.pop()

    def _add(self, node: ast.AST, operator: str) -> None:
        self.found.append((".".join(self.scope) or "<module>", node, operator))

    def _sites(self, node: ast.AST, parent: ast.AST | None) -> None:
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in _COMPARE_FLIP:
                    self._add(node, f"compare:{index}")
        elif isinstance(node, ast.BoolOp):
            self._add(node, "boolop")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._add(node, "not")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            if not any(
                isinstance(side, ast.JoinedStr) or isinstance(side, ast.Constant) and isinstance(side.value, str)
                for side in (node.left, node.right)
            ):
                self._add(node, "arith")
        elif isinstance(node, ast.Constant) and not isinstance(parent, ast.Expr):
            if isinstance(node.value, bool):
                self._add(node, "number")
            elif isinstance(node.value, int | float):
                self._add(node, "number")
            elif isinstance(node.value, str):
                self._add(node, "string")
        if isinstance(node, ast.If | ast.While | ast.IfExp) or isinstance(node, ast.comprehension):
            tests = node.ifs if isinstance(node, ast.comprehension) else [node.test]  # type: ignore[attr-defined]
            for test in tests:
                if (
                    id(test) not in self.skip
                    and not isinstance(test, ast.Compare)
                    and not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not))
                ):
                    self.found.append((".".join(self.scope) or "<module>", test, "negate"))
        if isinstance(node, ast.stmt) and not _is_docstring(node, parent) and _removable(node, parent):
            self._add(node, "remove")


def _removable(node: ast.stmt, parent: ast.AST | None) -> bool:
    if isinstance(node, ast.Expr | ast.Raise | ast.Continue | ast.Break | ast.AugAssign | ast.Delete):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Attribute | ast.Subscript) for t in node.targets)
    if isinstance(node, ast.Return):
        return not (isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and parent.body[-1] is node)
    return False


def _replacement(node: ast.AST, operator: str) -> str | None:
    if operator.startswith("compare:"):
        index = int(operator.split(":")[1])
        new = ast.Compare(node.left, list(node.ops), node.comparators)  # type: ignore[attr-defined]
        new.ops[index] = _COMPARE_FLIP[type(new.ops[index])]()
        return ast.unparse(new)
    if operator == "boolop":
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
        return ast.unparse(ast.BoolOp(other, node.values))  # type: ignore[attr-defined]
    if operator == "not":
        return f"({ast.unparse(node.operand)})"  # type: ignore[attr-defined]
    if operator == "negate":
        return f"(not ({ast.unparse(node)}))"
    if operator == "arith":
        other = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()  # type: ignore[attr-defined]
        return f"({ast.unparse(ast.BinOp(node.left, other, node.right))})"  # type: ignore[attr-defined]
    if operator == "number":
        value = node.value  # type: ignore[attr-defined]
        if isinstance(value, bool):
            return repr(not value)
        return repr(value + 1)
    if operator == "string":
        return repr("XX" + node.value)  # type: ignore[attr-defined]
    if operator == "remove":
        return "pass"
    return None


def _offset(lines: list[str], line: int, col: int) -> int:
    """Character offset of (1-based line, 0-based UTF-8 byte col)."""
    before = sum(len(text) for text in lines[: line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))


def mutants(source: str) -> list[Mutant]:
    """Every mutant of `source`, in source order; each one parses and changes the AST."""
    tree = ast.parse(source)
    original = ast.dump(tree)
    collector = _Collector(_excluded_nodes(tree))
    collector.visit(tree)
    lines = source.splitlines(keepends=True)
    result: list[Mutant] = []
    seen: dict[str, int] = {}
    for scope, node, operator in collector.found:
        after = _replacement(node, operator)
        if after is None:
            continue
        start = (node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = (node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        a, b = _offset(lines, *start), _offset(lines, *end)
        before = source[a:b]
        mutated = source[:a] + after + source[b:]
        try:
            if ast.dump(ast.parse(mutated)) == original:
                continue
        except SyntaxError:
            continue
        label = " ".join(before.split())
        label = label if len(label) <= 90 else label[:87] + "..."
        base = f"{scope} | {operator.split(':')[0]} | {label} -> {' '.join(after.split())[:90]}"
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base} #{seen[base]}"
        result.append(Mutant(key, start[0], operator.split(":")[0], before, after, start, end))
    return result


def apply(source: str, mutant: Mutant) -> str:
    lines = source.splitlines(keepends=True)
    a, b = _offset(lines, *mutant.start), _offset(lines, *mutant.end)
    assert source[a:b] == mutant.before, mutant.key
    return source[:a] + mutant.after + source[b:]
