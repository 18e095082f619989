"""A compiled yes/no JSON Schema validator: the fast path in front of jsonschema.

`compile_checker(schema, partial)` turns the schema into nested closures that answer one
question: would `jsonschema.Draft202012Validator(schema).iter_errors(instance)` yield no
error that `schema_check` reports? It never explains: when it says "no", schema_check runs
jsonschema for the located diagnostics, so messages are exactly what they were. It only
ever short-circuits documents that jsonschema accepts.

`partial=True` mirrors schema_check's file-by-file pass, where missing required fields are
not reported: a `required` keyword reached through keywords that pass child errors up
unchanged (properties, additionalProperties, patternProperties, items, propertyNames,
allOf, $ref, then, else) always holds, while inside anyOf / oneOf / not and in an `if`
condition it counts as usual, since jsonschema folds those failures into the parent keyword's
own error (which is reported).

Supported keywords: the ones the environment schema uses and their close relatives (see
`_ASSERTIONS` / `_APPLICATORS`); annotations are ignored as jsonschema ignores them.
A schema using any other keyword jsonschema implements (contains, prefixItems,
unevaluatedProperties, $dynamicRef, a remote $ref, ...) is not compiled: `compile_checker`
returns None and every document goes to jsonschema. Equality (const, enum, uniqueItems)
follows jsonschema's helpers (ported below), so 1 == 1.0 but True != 1 exactly as there.

Nothing here imports jsonschema (about 0.1 s of start-up per process): valid documents, the
common case, never load it. tests/test_schema_fast.py checks the ported pieces against the
installed jsonschema (keyword list, equality, uniqueness) and the verdicts on random documents.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], bool]

_IGNORED = frozenset({"$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "format", "$anchor", "contentMediaType", "contentEncoding", "contentSchema"})
_HANDLED = frozenset({
    "type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minItems", "maxItems", "uniqueItems", "required", "minProperties", "maxProperties", "multipleOf",
    "properties", "additionalProperties", "patternProperties", "propertyNames", "items",
    "$ref", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
})  # fmt: skip


# Keywords Draft202012Validator implements (jsonschema 4.x); the tests compare this list.
JSONSCHEMA_2020_12_KEYWORDS = frozenset({
    "$dynamicRef", "$ref", "additionalProperties", "allOf", "anyOf", "const", "contains", "dependentRequired",
    "dependentSchemas", "enum", "exclusiveMaximum", "exclusiveMinimum", "format", "if", "items", "maxItems",
    "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf",
    "not", "oneOf", "pattern", "patternProperties", "prefixItems", "properties", "propertyNames", "required",
    "type", "unevaluatedItems", "unevaluatedProperties", "uniqueItems",
})  # fmt: skip


class _Unsupported(Exception):
    pass


# --- equality and uniqueness: ported from jsonschema._utils (MIT licence) so that the fast
# path agrees with jsonschema on every input, quirks included, without importing it.


def _unbool(element: Any, true: object = object(), false: object = object()) -> Any:
    if element is True:
        return true
    if element is False:
        return false
    return element


def json_equal(one: Any, two: Any) -> bool:
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(json_equal(i, j) for i, j in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(key in two and json_equal(value, two[key]) for key, value in one.items())
    return bool(_unbool(one) == _unbool(two))


def json_unique(container: list[Any]) -> bool:
    try:
        ordered = sorted(_unbool(i) for i in container)
        for i, j in zip(ordered, itertools.islice(ordered, 1, None), strict=False):
            if json_equal(i, j):
                return False
    except (NotImplementedError, TypeError):
        seen: list[Any] = []
        for e in container:
            e = _unbool(e)
            for i in seen:
                if json_equal(i, e):
                    return False
            seen.append(e)
    return True


def _is_integer(x: Any) -> bool:
    """As jsonschema's draft 6+ type checker: ints (not bools) and floats with no fraction."""
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _all(funcs: tuple[Check, ...]) -> Check:
    return lambda x: all(f(x) for f in funcs)


def _any(funcs: tuple[Check, ...]) -> Check:
    return lambda x: any(f(x) for f in funcs)


def _one(funcs: tuple[Check, ...]) -> Check:
    return lambda x: sum(1 for f in funcs if f(x)) == 1


def _not(func: Check) -> Check:
    return lambda x: not func(x)


def _if(cond: Check, then: Check, other: Check) -> Check:
    return lambda x: then(x) if cond(x) else other(x)


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


class _Compiler:
    def __init__(self, root: dict[str, Any], pattern: Callable[[str], re.Pattern[str]]):
        self.root = root
        self.pattern = pattern
        self.equal = json_equal
        self.uniq = json_unique
        self.known = JSONSCHEMA_2020_12_KEYWORDS
        self.refs: dict[tuple[str, bool], Check] = {}

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#") or "%" in ref:
            raise _Unsupported(ref)
        node: Any = self.root
        for token in ref[1:].split("/")[1:] if ref != "#" else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise _Unsupported(ref)
        return node

    def ref(self, ref: str, partial: bool) -> Check:
        key = (ref, partial)
        if key not in self.refs:
            target = self.resolve(ref)
            slot: list[Check] = []
            self.refs[key] = lambda x: slot[0](x)  # placeholder for recursive schemas
            compiled = self.compile(target, partial)
            slot.append(compiled)
            self.refs[key] = compiled
        return self.refs[key]

    def compile(self, schema: Any, partial: bool) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        for keyword in schema:
            if keyword in self.known and keyword not in _HANDLED and keyword not in _IGNORED:
                raise _Unsupported(keyword)
        checks: list[Check] = []
        add = checks.append
        s = schema
        if "type" in s:
            names = s["type"] if isinstance(s["type"], list) else [s["type"]]
            funcs = [_TYPES[n] for n in names if n in _TYPES]
            if len(funcs) != len(names):
                raise _Unsupported(f"type {names}")
            add(funcs[0] if len(funcs) == 1 else (lambda x, fs=tuple(funcs): any(f(x) for f in fs)))
        if "enum" in s:
            options, equal = list(s["enum"]), self.equal
            if all(type(o) is str for o in options):
                strings = frozenset(options)
                add(lambda x: (x in strings) if type(x) is str else any(equal(o, x) for o in options))
            else:
                add(lambda x: any(equal(o, x) for o in options))
        if "const" in s:
            const, equal = s["const"], self.equal
            add(lambda x: equal(x, const))
        self._strings(s, add)
        self._numbers(s, add)
        self._arrays(s, add, partial)
        self._objects(s, add, partial)
        if "$ref" in s:
            ref = s["$ref"]
            if not isinstance(ref, str):
                raise _Unsupported("$ref")
            add(self.ref(ref, partial))
        if "allOf" in s:
            add(_all(tuple(self.compile(sub, partial) for sub in s["allOf"])))
        if "anyOf" in s:
            add(_any(tuple(self.compile(sub, False) for sub in s["anyOf"])))
        if "oneOf" in s:
            add(_one(tuple(self.compile(sub, False) for sub in s["oneOf"])))
        if "not" in s:
            add(_not(self.compile(s["not"], False)))
        if "if" in s:
            then = self.compile(s["then"], partial) if "then" in s else _always
            other = self.compile(s["else"], partial) if "else" in s else _always
            add(_if(self.compile(s["if"], False), then, other))
        if not checks:
            return _always
        return checks[0] if len(checks) == 1 else _all(tuple(checks))

    def _strings(self, s: dict[str, Any], add: Callable[[Check], None]) -> None:
        if "pattern" in s:
            search = self.pattern(s["pattern"]).search
            add(lambda x: not isinstance(x, str) or search(x) is not None)
        if "minLength" in s:
            low = s["minLength"]
            add(lambda x: not isinstance(x, str) or len(x) >= low)
        if "maxLength" in s:
            high = s["maxLength"]
            add(lambda x: not isinstance(x, str) or len(x) <= high)

    def _numbers(self, s: dict[str, Any], add: Callable[[Check], None]) -> None:
        if "minimum" in s:
            v = s["minimum"]
            add(lambda x, v=v: not _is_number(x) or x >= v)
        if "maximum" in s:
            v = s["maximum"]
            add(lambda x, v=v: not _is_number(x) or x <= v)
        if "exclusiveMinimum" in s:
            v = s["exclusiveMinimum"]
            add(lambda x, v=v: not _is_number(x) or x > v)
        if "exclusiveMaximum" in s:
            v = s["exclusiveMaximum"]
            add(lambda x, v=v: not _is_number(x) or x < v)
        if "multipleOf" in s:
            raise _Unsupported("multipleOf")  # float semantics: leave it to jsonschema

    def _arrays(self, s: dict[str, Any], add: Callable[[Check], None], partial: bool) -> None:
        if "minItems" in s:
            v = s["minItems"]
            add(lambda x, v=v: not isinstance(x, list) or len(x) >= v)
        if "maxItems" in s:
            v = s["maxItems"]
            add(lambda x, v=v: not isinstance(x, list) or len(x) <= v)
        if s.get("uniqueItems"):
            uniq = self.uniq
            add(lambda x: not isinstance(x, list) or (len(set(x)) == len(x) if all(type(i) is str for i in x) else bool(uniq(x))))
        if "items" in s:
            item = self.compile(s["items"], partial)
            add(lambda x: not isinstance(x, list) or all(item(i) for i in x))

    def _objects(self, s: dict[str, Any], add: Callable[[Check], None], partial: bool) -> None:
        if "required" in s and not partial:
            names = tuple(s["required"])
            add(lambda x: not isinstance(x, dict) or all(n in x for n in names))
        if "minProperties" in s:
            v = s["minProperties"]
            add(lambda x, v=v: not isinstance(x, dict) or len(x) >= v)
        if "maxProperties" in s:
            v = s["maxProperties"]
            add(lambda x, v=v: not isinstance(x, dict) or len(x) <= v)
        props: dict[str, Check] = {k: self.compile(v, partial) for k, v in s.get("properties", {}).items()}
        patterns = tuple((re.compile(p).search, self.compile(v, partial)) for p, v in s.get("patternProperties", {}).items())
        if props:
            items = tuple(props.items())
            add(lambda x: not isinstance(x, dict) or all(f(x[k]) for k, f in items if k in x))
        if patterns:
            add(lambda x: not isinstance(x, dict) or all(f(v) for k, v in x.items() for search, f in patterns if search(k)))
        if "additionalProperties" in s:
            extra = self.compile(s["additionalProperties"], partial)
            known = frozenset(props)

            def additional(x: Any) -> bool:
                if not isinstance(x, dict):
                    return True
                for k, v in x.items():
                    if k in known or any(search(k) for search, _ in patterns):
                        continue
                    if not extra(v):
                        return False
                return True

            add(additional)
        if "propertyNames" in s:
            name = self.compile(s["propertyNames"], partial)
            add(lambda x: not isinstance(x, dict) or all(name(k) for k in x))


def compile_checker(schema: Any, partial: bool, pattern: Callable[[str], re.Pattern[str]] = re.compile) -> Check | None:
    """The yes/no checker of `schema` (see the module docstring), or None if unsupported.

    `pattern` compiles a `pattern` keyword's regex: it must be the one the jsonschema
    validator uses (schema_check gives ECMA-262 end anchors), so both agree.
    """
    try:
        compiler = _Compiler(schema if isinstance(schema, dict) else {}, pattern)
        return compiler.compile(schema, partial)
    except (_Unsupported, re.error, TypeError, KeyError, RecursionError):
        return None
