"""`mlc trace ENV PATH`: a resolved value and the file:line (and parent) that set it.

The files of the `extends` chain are replayed in merge order (see compiler.frontend.resolve):
a scalar or list is set by the last file that writes it (earlier ones are replaced); a map is
merged, so every file since the last replacement contributes keys; `null` removes the value
(or the map holding it). Keys no file set come from the schema's defaults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.core.diagnostics import did_you_mean
from compiler.frontend.loader import Document, escape_pointer_token
from compiler.frontend.project import UsageError
from compiler.model.environment import Environment, doc_env_name

_MISSING = object()


def to_pointer(path: str) -> str:
    """`components.ranker.replicas.max` (or a JSON pointer `/components/...`) -> pointer."""
    if path.startswith("/"):
        return path
    return "".join("/" + escape_pointer_token(part) for part in path.split(".") if part != "")


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def lookup(spec: Any, pointer: str) -> Any:
    value = spec
    for token in _tokens(pointer):
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise KeyError(token)
    return value


@dataclass(frozen=True)
class _Step:
    kind: str  # "set" (replaces what was there) | "merge" (a map adding/overriding keys) | "remove" (null)
    doc: Document
    pointer: str  # where in the document (an ancestor of the traced pointer for a removal)
    keys: tuple[str, ...] = ()


def _raw(doc: Document, tokens: list[str]) -> tuple[Any, str]:
    """The value a document writes at `tokens`, or a null written at an ancestor of it, with
    the pointer where it was found; (_MISSING, "") when the document does not touch it."""
    value: Any = doc.data
    pointer = ""
    for token in tokens:
        if not isinstance(value, dict) or token not in value:
            return _MISSING, ""
        value = value[token]
        pointer += "/" + escape_pointer_token(token)
        if value is None:
            return None, pointer
    return value, pointer


def _replay(env: Environment, tokens: list[str]) -> list[_Step]:
    """The steps that decide the value, in merge order, since the last replacement or removal."""
    steps: list[_Step] = []
    for doc in env.documents:
        value, pointer = _raw(doc, tokens)
        if value is _MISSING:
            continue
        if value is None:
            steps = [_Step("remove", doc, pointer)]
        elif isinstance(value, dict) and steps and steps[-1].kind in ("set", "merge") and isinstance(_raw(steps[-1].doc, tokens)[0], dict):
            steps.append(_Step("merge", doc, pointer, tuple(value)))
        else:
            replaced = [s for s in steps if s.kind != "remove"]
            steps = [
                *[_Step("replaced", s.doc, s.pointer) for s in replaced],
                _Step("set", doc, pointer, tuple(value) if isinstance(value, dict) else ()),
            ]
    return steps


def _where(env: Environment, doc: Document, pointer: str) -> str:
    name = doc_env_name(doc)
    via = "" if name == env.name else f', inherited from parent "{name}"'
    return f"{doc.locate(pointer)} (in {name}{via})"


def trace(env: Environment, path: str) -> str:
    pointer = to_pointer(path)
    tokens = _tokens(pointer)
    steps = _replay(env, tokens)
    try:
        value = lookup(env.spec, pointer)
    except KeyError:
        value = _MISSING
    if value is _MISSING:
        removal = next((s for s in steps if s.kind == "remove"), None)
        if removal is None:
            raise UsageError(_not_set(env, path, tokens)) from None
        lines = [f"{path}: removed"]
        what = "set to null" if removal.pointer == pointer else f"removed with {'.'.join(_tokens(removal.pointer))}: null"
        lines.append(f"  {what} at {_where(env, removal.doc, removal.pointer)}")
        lines += _earlier(env, tokens, removal.doc)
        return "\n".join(lines) + "\n"
    lines = [f"{path} = {json.dumps(value, ensure_ascii=False, sort_keys=False)}"]
    live = [s for s in steps if s.kind in ("set", "merge")]
    if not live:
        default = (
            "default ml-<environment name>"
            if pointer == "/cluster/namespace"
            else "a default of the schema (schemas/environment.schema.json)"
        )
        lines.append(f"  not set in any file: {default}")
        removal = next((s for s in steps if s.kind == "remove"), None)
        if removal is not None:
            lines.append(f"  an inherited value was removed by null at {_where(env, removal.doc, removal.pointer)}")
        return "\n".join(lines) + "\n"
    if isinstance(value, dict) and (len(live) > 1 or live[0].keys != tuple(value)):
        lines.append(f"  a map merged from {len(live)} file{'s' if len(live) != 1 else ''}:")
        seen: set[str] = set()
        for step in reversed(live):  # the effective (last) file first, like the scalar case
            keys = [k for k in step.keys if k not in seen and k in value]
            removed = [k for k in step.keys if k not in value]
            seen.update(step.keys)
            detail = ", ".join(keys) if keys else "(every key it sets is overridden above)"
            lines.append(f"    {detail}: {_where(env, step.doc, step.pointer)}")
            if removed:
                lines.append(f"    removes {', '.join(removed)} (null): {_where(env, step.doc, step.pointer)}")
        defaults = [k for k in value if k not in seen]
        if defaults:
            lines.append(f"    {', '.join(defaults)}: schema defaults")
        return "\n".join(lines) + "\n"
    effective = live[-1]
    lines.append(f"  set at {_where(env, effective.doc, effective.pointer)}")
    for step in reversed(steps):
        if step.kind == "replaced":
            lines.append(f"  replaces {step.doc.locate(step.pointer)} (in {doc_env_name(step.doc)})")
    return "\n".join(lines) + "\n"


def _earlier(env: Environment, tokens: list[str], before: Document) -> list[str]:
    """Where the removed value had been set by files earlier in the chain."""
    out = []
    for doc in env.documents:
        if doc is before:
            break
        value, pointer = _raw(doc, tokens)
        if value is not _MISSING and value is not None and pointer:
            out.append(f"  was set at {doc.locate(pointer)} (in {doc_env_name(doc)})")
    return out


def _not_set(env: Environment, path: str, tokens: list[str]) -> str:
    """Name the first missing key and the closest existing one at that level."""
    value: Any = env.spec
    for depth, token in enumerate(tokens):
        if isinstance(value, dict) and token in value:
            value = value[token]
            continue
        if isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
            continue
        where = ".".join(tokens[:depth]) or "the environment"
        lead = f'"{path}" is not set in the resolved environment "{env.name}"'
        if isinstance(value, dict):
            hint = did_you_mean(token, [str(k) for k in value])
            known = ", ".join(sorted(str(k) for k in value)[:12]) or "(none)"
            return f'{lead}: {where} has no key "{token}"{hint}; its keys: {known}'
        if isinstance(value, list):
            return f'{lead}: {where} is a list of {len(value)} item(s), no index "{token}"'
        return f'{lead}: {where} is a value, not a map (no key "{token}")'
    return f'"{path}" is not set in the resolved environment "{env.name}"'
