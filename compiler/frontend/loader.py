"""Safe, bounded YAML loading that keeps the position of every node in a side table.

The composer (libyaml through PyYAML's C parser when available, else ruamel.yaml's pure
parser) only builds a node tree; no Python object is ever constructed from a tag. This
module turns the nodes into plain data (dict / list / str / int / float / bool / None)
using YAML 1.2 core-schema rules (so `no` stays the string "no"), and records
`pointer -> (line, col)` for every value and every mapping key.

Limits (documented in README): file size, nesting depth, total nodes after alias
expansion. Each violation is a located diagnostic, never an exception escaping.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import Diagnostic, InputError, Location

MAX_FILE_BYTES = 1_048_576  # 1 MiB per environment file
MAX_DEPTH = 64  # nested mappings / sequences
MAX_NODES = 200_000  # values after alias expansion (bounds "billion laughs")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_CORE_SCALAR_TAGS = frozenset({_INT, _FLOAT, _BOOL, _NULL, "tag:yaml.org,2002:timestamp"})

_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_OCT_RE = re.compile(r"0o[0-7]+\Z")
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT_RE = re.compile(r"[-+]?\.(inf|Inf|INF)\Z|\.(nan|NaN|NAN)\Z")


@dataclass(frozen=True)
class Document:
    """One parsed YAML file: plain data plus where every node came from."""

    path: str
    data: Any
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # pointer -> value pos
    key_positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # pointer -> key pos
    sha256: str = ""  # of the bytes this Document was parsed from (the cache keys on it)

    def locate(self, pointer: str, key: bool = False) -> Location:
        """Position of the node at `pointer` (its key when `key`), else of the nearest ancestor."""
        table = self.key_positions if key else self.positions
        p = pointer
        while True:
            if p in table:
                line, col = table[p]
                return Location(self.path, line, col)
            if key and p in self.positions:
                line, col = self.positions[p]
                return Location(self.path, line, col)
            if not p:
                return Location(self.path, 1, 1)
            p = p.rsplit("/", 1)[0]


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_join(pointer: str, token: str | int) -> str:
    return f"{pointer}/{escape_pointer_token(str(token))}"


def _composer(text: str) -> Any:
    """Compose a single YAML document into a node tree (no object construction)."""
    import yaml
    import yaml.cyaml

    if getattr(yaml, "__with_libyaml__", False):

        class _NodeLoader(yaml.cyaml.CParser, yaml.constructor.BaseConstructor, yaml.resolver.BaseResolver):  # type: ignore[name-defined,misc]
            def __init__(self, stream: str) -> None:
                yaml.cyaml.CParser.__init__(self, stream)  # type: ignore[attr-defined]
                yaml.constructor.BaseConstructor.__init__(self)
                yaml.resolver.BaseResolver.__init__(self)

        loader = _NodeLoader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    return compose_with_ruamel(text)


def compose_with_ruamel(text: str) -> Any:
    """The pure-Python composer (ruamel.yaml); used where libyaml is missing, and in tests."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).compose(text)


class _Builder:
    def __init__(self, path: str):
        self.path = path
        self.positions: dict[str, tuple[int, int]] = {}
        self.key_positions: dict[str, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.count = 0

    def error(self, mark: Any, code: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(Location(self.path, mark.line + 1, mark.column + 1), code, message))

    def build(self, node: Any, pointer: str, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _Abort(
                node.start_mark, "MLC-E008", f"document expands to more than {MAX_NODES} values (alias/anchor expansion is bounded)"
            )
        if depth > MAX_DEPTH:
            raise _Abort(node.start_mark, "MLC-E009", f"nesting deeper than {MAX_DEPTH} levels")
        self.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
        tag = _tag_name(node.tag)
        kind = type(node).__name__
        if kind == "MappingNode":
            if tag not in (_MAP, "!", None):
                self.error(node.start_mark, "MLC-E003", f'unsupported YAML tag "{tag}"')
            return self.build_mapping(node, pointer, depth)
        if kind == "SequenceNode":
            if tag not in (_SEQ, "!", None):
                self.error(node.start_mark, "MLC-E003", f'unsupported YAML tag "{tag}"')
            return [self.build(item, pointer_join(pointer, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node, tag)

    def build_mapping(self, node: Any, pointer: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if type(key_node).__name__ != "ScalarNode":
                self.error(key_node.start_mark, "MLC-E003", "mapping keys must be plain strings")
                continue
            key = key_node.value
            child = pointer_join(pointer, key)
            if key in result:
                first = self.key_positions[child]
                self.error(key_node.start_mark, "MLC-E005", f'duplicate key "{key}" (first defined at line {first[0]})')
                continue
            self.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child, depth + 1)
        return result

    def scalar(self, node: Any, tag: str | None) -> Any:
        value: str = node.value
        plain = node.style in (None, "")
        if tag in (_STR, "!", None):
            return self.resolve_plain(node, value) if plain else value
        if tag in _CORE_SCALAR_TAGS:  # explicit core tag, or one set by an implicit resolver
            return self.resolve_plain(node, value)
        self.error(node.start_mark, "MLC-E003", f'unsupported YAML tag "{tag}"')
        return value

    def resolve_plain(self, node: Any, value: str) -> Any:
        if value in ("", "~", "null", "Null", "NULL"):
            return None
        if value in ("true", "True", "TRUE"):
            return True
        if value in ("false", "False", "FALSE"):
            return False
        if _INT_RE.match(value) or _OCT_RE.match(value) or _HEX_RE.match(value):
            return self.integer(node, value)
        if _FLOAT_RE.match(value):
            number = float(value)
            if math.isfinite(number):
                return number
        if _SPECIAL_FLOAT_RE.match(value) or _FLOAT_RE.match(value):
            self.error(node.start_mark, "MLC-E021", f'"{value}" is not a finite number')
            return None
        return value

    def integer(self, node: Any, value: str) -> int | None:
        """A 64-bit integer; longer literals are an error, never converted (Python refuses
        str() of ints over 4300 digits, and floats overflow far earlier)."""
        base = 16 if value.startswith("0x") else 8 if value.startswith("0o") else 10
        digits = (value[2:] if base != 10 else value.lstrip("+-")).lstrip("0")
        if len(digits) <= 20:
            number = int(value[2:], base) if base != 10 else int(value)
            if -(2**63) <= number < 2**63:
                return number
        shown = value if len(value) <= 40 else value[:37] + "..."
        self.error(node.start_mark, "MLC-E021", f'the integer "{shown}" is out of range (at most 64 bits)')
        return None


class _Abort(Exception):
    def __init__(self, mark: Any, code: str, message: str):
        self.mark, self.code, self.message = mark, code, message


def _tag_name(tag: Any) -> str | None:
    if tag is None:
        return None
    value = getattr(tag, "value", tag)  # ruamel wraps tags in a Tag object
    return value if isinstance(value, str) else str(value)


def _position_of(offset_text: str, index: int) -> tuple[int, int]:
    line = offset_text.count("\n", 0, index) + 1
    col = index - (offset_text.rfind("\n", 0, index) + 1) + 1
    return line, col


def decode(path: str, raw: bytes) -> str:
    """UTF-8 text of a file, or an InputError naming the first bad byte."""
    if len(raw) > MAX_FILE_BYTES:
        raise InputError([Diagnostic(Location(path, 1, 1), "MLC-E001", f"file is larger than the limit of {MAX_FILE_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", errors="replace")
        line, col = _position_of(prefix, len(prefix))
        raise InputError(
            [Diagnostic(Location(path, line, col), "MLC-E002", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})")]
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def parse(path: str, text: str) -> Document:
    """Parse YAML text into a Document; raises InputError with every problem found."""
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(line) - len(stripped) + 1
            raise InputError(
                [Diagnostic(Location(path, number, col), "MLC-E004", "tab character in indentation; YAML indents with spaces")]
            )
    if "\x00" in text:
        nul_line, nul_col = _position_of(text, text.index("\x00"))
        raise InputError([Diagnostic(Location(path, nul_line, nul_col), "MLC-E002", "file contains a NUL character")])
    try:
        node = _composer(text)
    except Exception as exc:  # every parser error (libyaml or ruamel) becomes a located diagnostic
        raise InputError([_syntax_diagnostic(path, exc)]) from None
    if node is None:
        raise InputError([Diagnostic(Location(path, 1, 1), "MLC-E006", "file is empty; expected an Environment mapping")])
    builder = _Builder(path)
    try:
        data = builder.build(node, "", 0)
    except _Abort as abort:
        raise InputError([Diagnostic(Location(path, abort.mark.line + 1, abort.mark.column + 1), abort.code, abort.message)]) from None
    except RecursionError:
        raise InputError([Diagnostic(Location(path, 1, 1), "MLC-E009", f"nesting deeper than {MAX_DEPTH} levels")]) from None
    if builder.diagnostics:
        raise InputError(builder.diagnostics)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a scalar" if data is not None else "empty"
        raise InputError(
            [
                Diagnostic(
                    Location(path, *builder.positions.get("", (1, 1))),
                    "MLC-E007",
                    f"the document root is {kind}; expected a mapping (apiVersion, kind, metadata, ...)",
                )
            ]
        )
    return Document(path, data, builder.positions, builder.key_positions)


def _syntax_diagnostic(path: str, exc: Exception) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context and "expected a single document" in str(context) else str(problem)
    if "expected a single document" in str(exc):
        message = "more than one YAML document in the file; put one Environment per file"
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(Location(path, line, col), "MLC-E003", f"YAML syntax error: {message}")


def load_file(path_on_disk: str, display_path: str) -> Document:
    """Read, decode and parse one file, bounded by MAX_FILE_BYTES."""
    import errno
    import os
    import stat

    try:
        # never follow a symlink (it could point at credentials outside the repository and
        # error messages quote values); never block on a FIFO; read only regular files
        fd = os.open(path_on_disk, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise InputError(
                    [
                        Diagnostic(
                            Location(display_path, 1, 1),
                            "MLC-E012",
                            "not a regular file; environment files must be plain files in the repository",
                        )
                    ]
                )
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                [
                    Diagnostic(
                        Location(display_path, 1, 1),
                        "MLC-E012",
                        "is a symbolic link; environment files must be plain files in the repository",
                    )
                ]
            ) from None
        raise InputError([Diagnostic(Location(display_path, 1, 1), "MLC-E001", f"cannot read file: {exc.strerror}")]) from None
    import dataclasses
    import hashlib

    return dataclasses.replace(parse(display_path, decode(display_path, raw)), sha256=hashlib.sha256(raw).hexdigest())
