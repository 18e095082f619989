"""JSON Schema validation of environment documents, every error mapped to a YAML position.

Two passes use the same schema (schemas/environment.schema.json):
- each file on its own (`partial=True`): everything but missing required fields, since a file
  with `extends` may rely on its parents;
- each resolved environment: missing required fields, located at the object that lacks them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import Diagnostic, Location, did_you_mean
from compiler.core.secrets_scan import redact
from compiler.frontend.loader import pointer_join

Locate = Callable[[str, bool], Location]  # (pointer, at_key) -> Location

_LABEL_PATTERN_HINT = (
    "a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)"
)


@functools.cache
def load_schema(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@functools.cache
def _ecma_anchors(pattern: str) -> re.Pattern[str]:
    """`pattern` with JSON Schema (ECMA-262) semantics for a final `$`: the end of the
    string. Python's `$` also matches before a trailing newline, which let "prod\n" pass
    as a DNS label and reach file names and object names."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterable[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _ecma_anchors(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@functools.cache
def _fast_checker(path: str, partial: bool) -> Any:
    """The compiled yes/no checker (compiler.frontend.schema_fast), None when the schema is unsupported."""
    from compiler.frontend.schema_fast import compile_checker

    return compile_checker(load_schema(path), partial, _ecma_anchors)


@functools.cache
def _validator(path: str) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    schema = load_schema(path)
    return extend(Draft202012Validator, {"pattern": _pattern_keyword})(schema)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "mapping"


def _pointer(path: Iterable[Any]) -> str:
    pointer = ""
    for token in path:
        pointer = pointer_join(pointer, token)
    return pointer


def _field(pointer: str) -> str:
    return ".".join(redact(t.replace("~1", "/").replace("~0", "~")) for t in pointer.split("/")[1:]) or "(document root)"


def _strip_nulls(value: Any) -> Any:
    """A null in a file means "delete the inherited key": not a value to validate."""
    from compiler.frontend.resolve import strip_nulls

    return strip_nulls(value)


def validate(schema_path: str, data: Any, locate: Locate, partial: bool) -> list[Diagnostic]:
    """Every schema problem in `data` as a located diagnostic (deduplicated, sorted).

    A document the compiled checker accepts has none (it only accepts what jsonschema would);
    anything else goes through jsonschema, which explains every problem.
    """
    instance = _strip_nulls(data) if partial else data
    fast = _fast_checker(schema_path, partial)
    if fast is not None and fast(instance):
        return []
    validator = _validator(schema_path)
    found: set[Diagnostic] = set()
    for error in validator.iter_errors(instance):
        for diagnostic in _diagnostics_for(error, locate, partial):
            found.add(diagnostic)
    return sorted(found)


def _leaf_errors(error: Any) -> Iterable[Any]:
    """Descend into if/then and allOf wrappers to the errors that name a field."""
    if error.validator in ("allOf", "if", "$ref") and error.context:
        for child in error.context:
            yield from _leaf_errors(child)
    else:
        yield error


def _diagnostics_for(error: Any, locate: Locate, partial: bool) -> Iterable[Diagnostic]:
    for leaf in _leaf_errors(error):
        diagnostic = _describe(leaf, locate, partial)
        if diagnostic is not None:
            yield diagnostic


def _describe(error: Any, locate: Locate, partial: bool) -> Diagnostic | None:
    pointer = _pointer(error.absolute_path)
    kind = error.validator
    schema = error.schema
    instance = error.instance
    field = _field(pointer)
    if kind == "required":
        if partial:
            return None
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        where = "the document" if not pointer else f'"{field}"'
        return Diagnostic(locate(pointer, True), "MLC-E023", f'missing required field "{missing}" in {where}')
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = set(schema.get("properties", {}))
        extras = sorted(k for k in instance if k not in allowed)
        if not extras:
            return None
        key = extras[0]
        hint = did_you_mean(key, allowed)
        where = f' in "{field}"' if pointer else ""
        return Diagnostic(locate(pointer_join(pointer, key), True), "MLC-E020", f'unknown field "{_clip(key)}"{where}{hint}')
    if kind == "propertyNames":
        bad = error.instance
        # jsonschema reports the offending key as the instance; the path is the parent object
        return Diagnostic(
            locate(pointer_join(pointer, bad), True),
            "MLC-E024",
            f'"{_clip(bad)}" is not a valid name in "{field}": expected {_LABEL_PATTERN_HINT}',
        )
    if kind == "type":
        expected = schema.get("type")
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        expected_text = {"object": "a mapping", "array": "a list"}.get(expected_text, expected_text)
        return Diagnostic(locate(pointer, False), "MLC-E021", f'"{field}" must be {expected_text}, got {_json_type(instance)}')
    if kind in ("enum", "const"):
        options = schema.get("enum") or [schema.get("const")]
        texts = [str(o) for o in options]
        if pointer.endswith("/type") and pointer.startswith("/components/"):
            return Diagnostic(
                locate(pointer, False),
                "MLC-E025",
                f'unknown component type "{_clip(instance)}"{did_you_mean(str(instance), texts)}; expected one of: {", ".join(texts)}',
            )
        return Diagnostic(
            locate(pointer, False),
            "MLC-E022",
            f'"{field}" is "{_clip(instance)}"; expected {" or ".join(texts)}{did_you_mean(str(instance), texts)}',
        )
    if kind == "pattern":
        if schema.get("pattern", "").startswith("^[a-z0-9]([-a-z0-9]{0,61}"):
            return Diagnostic(locate(pointer, False), "MLC-E024", f'"{field}" is "{_clip(instance)}": expected {_LABEL_PATTERN_HINT}')
        description = schema.get("description", "")
        hint = f" ({description.rstrip('.')})" if description else ""
        return Diagnostic(locate(pointer, False), "MLC-E022", f'"{field}" has an invalid format{hint}')
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return Diagnostic(locate(pointer, False), "MLC-E022", f'"{field}" is {_clip(instance)}; it must be {op} {schema[kind]}')
    if kind == "oneOf":
        return Diagnostic(locate(pointer, False), "MLC-E022", _one_of_message(field, pointer, instance))
    if kind in ("minItems", "maxItems", "uniqueItems", "minLength", "maxLength"):
        text = {
            "minItems": f"needs at least {schema.get('minItems')} item(s)",
            "maxItems": f"allows at most {schema.get('maxItems')} items",
            "uniqueItems": "has duplicate items",
            "minLength": f"must be at least {schema.get('minLength')} characters long",
            "maxLength": f"must be at most {schema.get('maxLength')} characters long",
        }[kind]
        return Diagnostic(locate(pointer, False), "MLC-E022", f'"{field}" {text}')
    return Diagnostic(locate(pointer, False), "MLC-E022", f'"{field}" is invalid: {error.message[:200]}')


def _one_of_message(field: str, pointer: str, instance: Any) -> str:
    if "/env/" in pointer:
        return f'"{field}" must be a string or {{secret: "<secret-manager path>#<key>"}}'
    if pointer.endswith("/cpu"):
        return f'"{field}" must be a number of cores (e.g. 2 or 0.5) or millicores like "500m"'
    if pointer.startswith("/components/") and isinstance(instance, dict) and "type" in instance:
        return f'"{field}" must set exactly one of "runtime" (a KServe model format) or "image"'
    if pointer == "/extends":
        return '"extends" must be an environment name or a list of names'
    return f'"{field}" does not match any allowed form'


def _clip(value: Any) -> str:
    text = redact(str(value))
    return text if len(text) <= 80 else text[:77] + "..."
