"""What a Python check returns, and the small helpers checks share.

A check is `(compiled) -> Iterable[Hit]`: stateless, reading only the compiled model.
The engine turns hits into Findings (severity from the catalog, waivers applied).
"""

from __future__ import annotations

from typing import NamedTuple

from compiler.analysis.graph import Lineage
from compiler.core.diagnostics import Location
from compiler.core.secrets_scan import scrub
from compiler.model.environment import Environment

PROD_VALUES = frozenset({"prod", "production"})


class Hit(NamedTuple):
    component: str | None  # None: an environment-level finding
    at: str | Location  # JSON pointer of the value to change (or an exact location)
    message: str
    key: bool = False  # locate the key of `at` (the fix adds a field under it)


def is_prod(env: Environment) -> bool:
    """An environment labelled env: prod or tier: prod (production / prod)."""
    labels = env.labels
    return labels.get("env") in PROD_VALUES or labels.get("tier") in PROD_VALUES


def is_set(env: Environment, pointer: str) -> bool:
    """True when some file of the environment's chain writes `pointer` (not just a default)."""
    return bool(env.origins(pointer))


def fix_at(component: str | None, env: Environment, pointer: str, message: str) -> Hit:
    """A hit at `pointer` when a file sets it; else at the key of its nearest written parent.

    So a missing or defaulted field is reported on the line where the author adds it.
    """
    if is_set(env, pointer):
        return Hit(component, pointer, message)
    parent = pointer
    while parent.count("/") > 1:
        parent = parent.rsplit("/", 1)[0]
        if is_set(env, parent):
            return Hit(component, parent, message, key=True)
    return Hit(component, "/metadata", message, key=True)  # a top-level field to add


def describe_lineage(env: Environment, lineage: Lineage) -> str:
    """`raw-events (pii) -> feature-etl -> features`: where the effective class comes from."""
    first, *rest = lineage.path
    return " -> ".join([f"{first} ({env.components[first].get('classification', 'internal')})", *rest])


def show(value: object) -> str:
    """A user value fit for a message: credentials in it are replaced, never echoed."""
    return scrub(str(value))


def usd(amount: float) -> str:
    return f"${amount:,.2f}"
