"""Per-target `{kind: handler}` tables.

Each target (kubernetes, argo, terraform per provider, ...) declares what it does for each
kind in one table. An entry is a handler, or `NotApplicable(reason)` when the target has
nothing to emit for the kind. Looking up a kind the table does not list raises
`UnsupportedKindError`: a new kind cannot silently become something else (or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

H = TypeVar("H")


@dataclass(frozen=True)
class NotApplicable:
    """The target emits nothing of its own for the kind, and why."""

    reason: str


class UnsupportedKindError(LookupError):
    """A target was asked about a kind its dispatch table does not list (a compiler gap,
    reported with the target's and the kind's names)."""

    def __init__(self, target: str, kind: str):
        super().__init__(f'the {target} target has no handler for component kind "{kind}" (add one, or declare it not applicable)')
        self.target = target
        self.kind = kind


class DispatchTable(Generic[H]):
    def __init__(self, target: str, entries: dict[str, H | NotApplicable]):
        self.target = target
        self._entries: dict[str, H | NotApplicable] = dict(entries)

    def entry(self, kind: str) -> H | NotApplicable:
        try:
            return self._entries[kind]
        except KeyError:
            raise UnsupportedKindError(self.target, kind) from None

    def handler(self, kind: str) -> H | None:
        """The kind's handler, None when not applicable; raises for an unlisted kind."""
        entry = self.entry(kind)
        return None if isinstance(entry, NotApplicable) else entry

    def __getitem__(self, kind: str) -> H:
        entry = self.entry(kind)
        if isinstance(entry, NotApplicable):
            raise UnsupportedKindError(self.target, kind)
        return entry

    def applies(self, kind: str) -> bool:
        return not isinstance(self.entry(kind), NotApplicable)

    def kinds(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def register(self, kind: str, entry: H | NotApplicable) -> None:
        """Add the entry of a kind defined outside the built-ins (a test, a plug-in)."""
        self._entries[kind] = entry

    def unregister(self, kind: str) -> None:
        self._entries.pop(kind, None)
