"""Inheritance: `extends` resolution and the merge laws.

merge(base, overlay): mappings merge deeply, lists and scalars are replaced, and a `null`
in the overlay removes the key. Parents are merged in the order listed, then the child.
Merging never mutates its inputs (sub-trees are shared, never written to).

Origins are not tracked during the merge: the value at a pointer was set by the LAST
document of the merge chain that contains that pointer (lists and scalars are replaced
whole; a map is credited to the last document that mentions it). `Environment.locate`
and `trace` compute that on demand, so the common path pays nothing for it.
"""

from __future__ import annotations

from typing import Any

from compiler.core.diagnostics import Diagnostic, did_you_mean
from compiler.frontend.loader import Document

MAX_EXTENDS_DEPTH = 32  # parent -> grandparent -> ... levels
MAX_CHAIN = 256  # documents merged for one environment (a shared parent counts per branch)


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def merge(base: Any, overlay: Any) -> Any:
    """Deep-merge `overlay` onto `base` (see module docstring)."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = merge(out[key], value)
            else:
                out[key] = strip_nulls(value)
        return out
    return strip_nulls(overlay)


def parents_of(doc: Document) -> list[str]:
    extends = doc.data.get("extends")
    if isinstance(extends, str):
        return [extends]
    if isinstance(extends, list):
        return [p for p in extends if isinstance(p, str)]
    return []


def linearize(name: str, documents: dict[str, Document], known: set[str]) -> tuple[list[str], list[Diagnostic]]:
    """The merge chain of `name` (ancestors first, duplicates kept in merge order) or errors.

    Errors: unknown parent (at the `extends` entry) and cycles (printing the whole cycle).
    """
    diagnostics: list[Diagnostic] = []
    chain: list[str] = []
    visits = [0]

    def visit(current: str, path: list[str]) -> None:
        doc = documents[current]
        visits[0] += 1
        if visits[0] > MAX_CHAIN:
            raise _TooLarge(
                Diagnostic(
                    documents[name].locate("/extends"),
                    "MLC-E034",
                    f'the inheritance of "{name}" merges more than {MAX_CHAIN} files '
                    '(parents shared by several branches of "extends" count once per branch); simplify the hierarchy',
                )
            )
        if len(path) >= MAX_EXTENDS_DEPTH and parents_of(doc):
            described = " -> ".join(path[:3] + ["..."] + path[-2:] + [current])
            raise _TooLarge(
                Diagnostic(
                    doc.locate("/extends"),
                    "MLC-E034",
                    f"extends is nested more than {MAX_EXTENDS_DEPTH} levels deep ({described}); flatten the hierarchy",
                )
            )
        for index, parent in enumerate(parents_of(doc)):
            pointer = "/extends" if isinstance(doc.data.get("extends"), str) else f"/extends/{index}"
            if parent in path or parent == current:
                cycle = path[path.index(parent) :] + [current, parent] if parent in path else [current, parent]
                described = " -> ".join(f"{n} ({documents[n].locate('/extends')})" for n in cycle[:-1]) + f" -> {parent}"
                diagnostics.append(Diagnostic(doc.locate(pointer), "MLC-E031", f"cycle in extends: {described}"))
                continue
            if parent not in known:
                diagnostics.append(
                    Diagnostic(doc.locate(pointer), "MLC-E030", f'unknown parent environment "{parent}"{did_you_mean(parent, known)}')
                )
                continue
            if parent not in documents:
                continue  # the parent failed to load; its own diagnostics explain why
            visit(parent, path + [current])
        chain.append(current)

    try:
        visit(name, [])
    except _TooLarge as too_large:
        return [name], [too_large.diagnostic]
    return chain, diagnostics


class _TooLarge(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def merge_chain(chain: list[str], documents: dict[str, Document]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in chain:
        merged = merge(merged, documents[name].data)
    return merged


def provider_changes(chain: list[str], documents: dict[str, Document]) -> list[Diagnostic]:
    """A child may not change the cloud provider it inherits."""
    diagnostics: list[Diagnostic] = []
    inherited: tuple[str, str] | None = None  # (provider, env that set it)
    for name in chain:
        cloud = documents[name].data.get("cloud")
        provider = cloud.get("provider") if isinstance(cloud, dict) else None
        if isinstance(provider, str):
            if inherited and inherited[0] != provider and inherited[1] != name:
                diagnostics.append(
                    Diagnostic(
                        documents[name].locate("/cloud/provider"),
                        "MLC-E032",
                        f'cloud.provider "{provider}" changes the provider "{inherited[0]}" inherited from "{inherited[1]}"; '
                        f"create a separate base for {provider}",
                    )
                )
            else:
                inherited = (provider, name)
    return diagnostics
