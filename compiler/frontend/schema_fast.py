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
common case, never load it. tests/frontend/test_schema_fast.py checks the ported pieces against the
installed jsonschema (keyword list, equality, uniqueness) and the verdicts on random documents.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Check = Callable[[Any], bool]

_IGNORED = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "$anchor",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
    }
)
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
    if not funcs:
        return _always
    if len(funcs) == 1:
        return funcs[0]
    if len(funcs) == 2:
        first, second = funcs
        return lambda x: first(x) and second(x)

    def check(x: Any) -> bool:
        for f in funcs:
            if not f(x):
                return False
        return True

    return check


def _any(funcs: tuple[Check, ...]) -> Check:
    def check(x: Any) -> bool:
        for f in funcs:
            if f(x):
                return True
        return False

    return check


def _one(funcs: tuple[Check, ...]) -> Check:
    def check(x: Any) -> bool:
        found = 0
        for f in funcs:
            if f(x):
                found += 1
        return found == 1

    return check


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
        """One closure per schema object: the instance's type is looked at once, then only
        the keywords that apply to that type run (jsonschema ignores the others too)."""
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        for keyword in schema:
            if keyword in self.known and keyword not in _HANDLED and keyword not in _IGNORED:
                raise _Unsupported(keyword)
        s = schema
        type_ok = self._type(s)
        strings = _all(tuple(self._strings(s)))
        numbers = _all(tuple(self._numbers(s)))
        arrays = _all(tuple(self._arrays(s, partial)))
        objects = self._object(s, partial)
        general = _all(tuple(self._general(s, partial)))
        str_on, num_on, arr_on = strings is not _always, numbers is not _always, arrays is not _always
        obj_on, gen_on = objects is not _always, general is not _always

        def check(x: Any) -> bool:
            if type_ok is not None and not type_ok(x):
                return False
            if isinstance(x, str):
                if str_on and not strings(x):
                    return False
            elif isinstance(x, dict):
                if obj_on and not objects(x):
                    return False
            elif isinstance(x, list):
                if arr_on and not arrays(x):
                    return False
            elif num_on and isinstance(x, (int, float)) and not isinstance(x, bool):
                if not numbers(x):
                    return False
            return not gen_on or general(x)

        if type_ok is None and not (str_on or num_on or arr_on or obj_on):
            return general  # only applicators / enum / const (or nothing: _always)
        return check

    def _type(self, s: dict[str, Any]) -> Check | None:
        if "type" not in s:
            return None
        names = s["type"] if isinstance(s["type"], list) else [s["type"]]
        funcs = [_TYPES[n] for n in names if isinstance(n, str) and n in _TYPES]
        if len(funcs) != len(names):
            raise _Unsupported(f"type {names}")
        return funcs[0] if len(funcs) == 1 else _any(tuple(funcs))

    def _general(self, s: dict[str, Any], partial: bool) -> list[Check]:
        out: list[Check] = []
        equal = self.equal
        if "enum" in s:
            options = list(s["enum"])
            if all(type(o) is str for o in options):
                names = frozenset(options)
                out.append(lambda x: (x in names) if type(x) is str else any(equal(o, x) for o in options))
            else:
                out.append(lambda x: any(equal(o, x) for o in options))
        if "const" in s:
            const = s["const"]
            out.append(lambda x: equal(x, const))
        if "$ref" in s:
            if not isinstance(s["$ref"], str):
                raise _Unsupported("$ref")
            out.append(self.ref(s["$ref"], partial))
        if "allOf" in s:
            out.append(_all(tuple(self.compile(sub, partial) for sub in s["allOf"])))
        if "anyOf" in s:
            out.append(_any(tuple(self.compile(sub, False) for sub in s["anyOf"])))
        if "oneOf" in s:
            out.append(_one(tuple(self.compile(sub, False) for sub in s["oneOf"])))
        if "not" in s:
            out.append(_not(self.compile(s["not"], False)))
        if "if" in s:
            then = self.compile(s["then"], partial) if "then" in s else _always
            other = self.compile(s["else"], partial) if "else" in s else _always
            out.append(_if(self.compile(s["if"], False), then, other))
        return out

    def _strings(self, s: dict[str, Any]) -> list[Check]:
        out: list[Check] = []
        if "pattern" in s:
            search = self.pattern(s["pattern"]).search
            out.append(lambda x: search(x) is not None)
        if "minLength" in s:
            low = s["minLength"]
            out.append(lambda x: len(x) >= low)
        if "maxLength" in s:
            high = s["maxLength"]
            out.append(lambda x: len(x) <= high)
        return out

    def _numbers(self, s: dict[str, Any]) -> list[Check]:
        out: list[Check] = []
        if "minimum" in s:
            minimum = s["minimum"]
            out.append(lambda x: x >= minimum)
        if "maximum" in s:
            maximum = s["maximum"]
            out.append(lambda x: x <= maximum)
        if "exclusiveMinimum" in s:
            above = s["exclusiveMinimum"]
            out.append(lambda x: x > above)
        if "exclusiveMaximum" in s:
            below = s["exclusiveMaximum"]
            out.append(lambda x: x < below)
        if "multipleOf" in s:
            raise _Unsupported("multipleOf")  # float semantics: leave it to jsonschema
        return out

    def _arrays(self, s: dict[str, Any], partial: bool) -> list[Check]:
        out: list[Check] = []
        if "minItems" in s:
            fewest = s["minItems"]
            out.append(lambda x: len(x) >= fewest)
        if "maxItems" in s:
            most = s["maxItems"]
            out.append(lambda x: len(x) <= most)
        if s.get("uniqueItems"):
            uniq = self.uniq
            out.append(lambda x: (len(set(x)) == len(x)) if all(type(i) is str for i in x) else bool(uniq(x)))
        if "items" in s:
            item = self.compile(s["items"], partial)

            def items(x: list[Any]) -> bool:
                for i in x:
                    if not item(i):
                        return False
                return True

            out.append(items)
        return out

    def _object(self, s: dict[str, Any], partial: bool) -> Check:
        """properties, patternProperties, additionalProperties, propertyNames, required and
        the property counts, in one pass over the instance's keys."""
        required = tuple(s["required"]) if "required" in s and not partial else ()
        fewest, most = s.get("minProperties"), s.get("maxProperties")
        props: dict[str, Check] = {k: self.compile(v, partial) for k, v in s.get("properties", {}).items()}
        patterns = tuple((re.compile(p).search, self.compile(v, partial)) for p, v in s.get("patternProperties", {}).items())
        extra = self.compile(s["additionalProperties"], partial) if "additionalProperties" in s else None
        names = self.compile(s["propertyNames"], partial) if "propertyNames" in s else None
        if not (required or props or patterns or extra is not None or names is not None or fewest is not None or most is not None):
            return _always
        get = props.get

        def check(x: dict[str, Any]) -> bool:
            for k, v in x.items():
                if names is not None and not names(k):
                    return False
                f = get(k)
                if f is not None and not f(v):
                    return False
                matched = False
                for search, g in patterns:
                    if search(k):
                        matched = True
                        if not g(v):
                            return False
                if extra is not None and f is None and not matched and not extra(v):
                    return False
            for name in required:
                if name not in x:
                    return False
            if fewest is not None and len(x) < fewest:
                return False
            return most is None or len(x) <= most

        return check


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
