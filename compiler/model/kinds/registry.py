"""The registry of component kinds: lookup by name, by category and by trait.

Built-in kinds register themselves when `compiler.model.kinds` is imported; a test or
plug-in adds one with `register` (and removes it with `unregister`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from compiler.model.kinds.base import Category, Kind, Trait

if TYPE_CHECKING:
    from compiler.model.environment import Component

_KINDS: dict[str, Kind] = {}


class UnknownKindError(LookupError):
    """A component type no registered kind declares (the schema normally rejects it first)."""

    def __init__(self, name: str):
        known = ", ".join(sorted(_KINDS))
        super().__init__(f'unknown component kind "{name}"; registered kinds: {known}')
        self.name = name


def register(kind: Kind) -> Kind:
    """Add `kind`; a second kind with the same name is a programming error."""
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise ValueError(f"component kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def get(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownKindError(name) from None


def kind_of(component: Component) -> Kind:
    return get(component.type)


def all_kinds() -> Iterator[Kind]:
    """Every registered kind, in registration order (built-ins in the schema's order)."""
    return iter(list(_KINDS.values()))


def names(category: Category | None = None, trait: Trait | None = None) -> tuple[str, ...]:
    """Names of the registered kinds of `category` and/or with `trait`, in registration order."""
    return tuple(k.name for k in _KINDS.values() if (category is None or k.category is category) and (trait is None or trait in k.traits))
