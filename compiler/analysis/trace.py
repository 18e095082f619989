"""`mlc trace ENV PATH`: a resolved value and the file:line (and parent) that set it."""

from __future__ import annotations

import json
from typing import Any

from compiler.frontend.loader import escape_pointer_token
from compiler.frontend.project import UsageError
from compiler.model.environment import Environment


def to_pointer(path: str) -> str:
    """`components.ranker.replicas.max` (or a JSON pointer `/components/...`) -> pointer."""
    if path.startswith("/"):
        return path
    return "".join("/" + escape_pointer_token(part) for part in path.split(".") if part != "")


def lookup(spec: Any, pointer: str) -> Any:
    value = spec
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise KeyError(token)
    return value


def trace(env: Environment, path: str) -> str:
    pointer = to_pointer(path)
    try:
        value = lookup(env.spec, pointer)
    except KeyError as missing:
        raise UsageError(f'"{path}" is not set in the resolved environment "{env.name}" (no key {missing})') from None
    shown = json.dumps(value, ensure_ascii=False, sort_keys=False)
    lines = [f"{path} = {shown}"]
    origins = env.origins(pointer)
    if not origins:
        lines.append(
            "  not set in any file: a default of the schema (schemas/environment.schema.json)"
            if pointer != "/cluster/namespace"
            else "  not set in any file: default ml-<environment name>"
        )
    for index, origin in enumerate(origins):
        via = "" if origin.env == env.name else f', inherited from parent "{origin.env}"'
        if index == 0:
            lines.append(f"  set at {origin.location} (in {origin.env}{via})")
        else:
            lines.append(f"  replaces {origin.location} (in {origin.env})")
    return "\n".join(lines) + "\n"
