"""The resolved environment model: component kinds, defaults, and read-only accessors.

A resolved environment is plain data (the spec with inheritance merged and defaults
applied) plus a source map. Stages treat it as immutable; they never mutate `spec`.
Defaults come from the `default` keywords of schemas/environment.schema.json, so the
schema (what editors show) and the compiler cannot disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler.core.diagnostics import Location
from compiler.frontend.loader import Document
from compiler.model import kinds
from compiler.model.kinds import Category, Kind, Trait

CLASSIFICATION_RANK = {"public": 0, "internal": 1, "confidential": 2, "pii": 3}


@dataclass(frozen=True)
class Origin:
    """Where a resolved value was set: the file position and the environment that set it."""

    location: Location
    env: str


@dataclass(frozen=True)
class Component:
    name: str
    type: str
    spec: dict[str, Any]

    @property
    def pointer(self) -> str:
        return f"/components/{self.name}"

    @property
    def kind(self) -> Kind:
        """The registered kind (compiler.model.kinds); UnknownKindError for an unknown type."""
        return kinds.get(self.type)

    @property
    def category(self) -> Category:
        return self.kind.category

    def has(self, trait: Trait) -> bool:
        return trait in self.kind.traits

    @property
    def is_workload(self) -> bool:
        return self.kind.category is Category.WORKLOAD

    @property
    def is_store(self) -> bool:
        return self.kind.category is Category.STORE

    def get(self, key: str, default: Any = None) -> Any:
        return self.spec.get(key, default)


@dataclass(frozen=True)
class Environment:
    """A resolved, concrete environment."""

    name: str
    file: str  # project-relative path of the environment's own file
    chain: tuple[str, ...]  # ancestors in merge order, then the environment itself
    files: tuple[str, ...]  # distinct files of `chain`
    spec: dict[str, Any]
    documents: tuple[Document, ...] = field(repr=False, default=())  # chain order

    @property
    def provider(self) -> str:
        return str(self.spec["cloud"]["provider"])

    @property
    def region(self) -> str:
        return str(self.spec["cloud"]["region"])

    @property
    def namespace(self) -> str:
        return str(self.spec["cluster"]["namespace"])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.spec["metadata"]["labels"])

    @functools.cached_property
    def components(self) -> dict[str, Component]:
        return {name: Component(name, body["type"], body) for name, body in sorted(self.spec["components"].items())}

    def of_type(self, *types: str) -> Iterator[Component]:
        """Components of the named kinds, by name (a kind name that is not registered raises)."""
        for name in types:
            kinds.get(name)
        return (c for c in self.components.values() if c.type in types)

    def of_category(self, category: Category) -> Iterator[Component]:
        return (c for c in self.components.values() if c.kind.category is category)

    def with_trait(self, trait: Trait) -> Iterator[Component]:
        return (c for c in self.components.values() if trait in c.kind.traits)

    def locate(self, pointer: str, key: bool = False) -> Location:
        """The file:line:col that set the value at `pointer` (or its nearest located ancestor)."""
        return chain_locate(self.documents, pointer, key) if self.documents else Location(self.file, 1, 1)

    def origins(self, pointer: str) -> list[Origin]:
        """Every document of the chain that sets `pointer`, last (the effective one) first."""
        out = []
        for doc in reversed(self.documents):
            if pointer in doc.positions:
                out.append(Origin(doc.locate(pointer), doc_env_name(doc)))
        return out


def doc_env_name(doc: Document) -> str:
    return doc.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def chain_locate(docs: tuple[Document, ...] | list[Document], pointer: str, key: bool = False) -> Location:
    """Position in the last document of a merge chain that sets `pointer` or its nearest ancestor."""
    p = pointer
    while True:
        for doc in reversed(docs):
            if p in doc.positions:
                return doc.locate(p, key and p == pointer)
        if not p:
            return Location(docs[-1].path, 1, 1)
        p = p.rsplit("/", 1)[0]


def _schema_defaults(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Map property -> default for an object schema (following $ref and allOf)."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[1]]
    out: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        if "$ref" in part:
            out.update(_schema_defaults(part, defs))
    for key, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict):
            target = defs[sub["$ref"].rsplit("/", 1)[1]] if "$ref" in sub else sub
            if "default" in sub:
                out[key] = sub["default"]
            elif "default" in target:
                out[key] = target["default"]
            elif target.get("type") == "object" and target.get("properties") and not target.get("required"):
                nested = _schema_defaults(target, defs)
                if nested and set(nested) == set(target["properties"]):
                    out[key] = nested  # an object whose every field has a default
    return out


@functools.cache
def _defaults_table(schema_path: str) -> dict[str, dict[str, Any]]:
    from compiler.frontend.schema_check import load_schema

    schema = load_schema(schema_path)
    defs = schema["$defs"]
    table = {
        kind.name: _schema_defaults(kind.schema or defs[kind.name], defs) for kind in kinds.all_kinds() if kind.schema or kind.name in defs
    }
    table["<env>"] = _schema_defaults(schema, defs)
    for name in ("cluster", "gitops", "budget"):
        table[name] = _schema_defaults(schema["properties"][name], defs)
    table["nodePool"] = _schema_defaults(defs["nodePool"], defs)
    return table


def plain_copy(value: Any) -> Any:
    """A deep copy of plain data (dict / list / scalars), several times faster than deepcopy."""
    t = type(value)
    if t is dict:
        return {k: plain_copy(v) for k, v in value.items()}
    if t is list:
        return [plain_copy(v) for v in value]
    return value


def _fill(target: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, value in defaults.items():
        if key not in target:
            target[key] = plain_copy(value)
        elif isinstance(value, dict) and isinstance(target[key], dict):
            _fill(target[key], value)


def apply_defaults(spec: dict[str, Any], schema_path: str) -> dict[str, Any]:
    """A copy of a merged spec with every schema default filled in."""
    table = _defaults_table(schema_path)
    out = plain_copy(spec)
    _fill(out, table["<env>"])
    out.setdefault("metadata", {}).setdefault("labels", {})
    cluster = out.setdefault("cluster", {})
    _fill(cluster, table["cluster"])
    cluster.setdefault("namespace", f"ml-{out['metadata'].get('name', '')}")
    cluster.setdefault("node_pools", {})
    for pool in cluster["node_pools"].values():
        if isinstance(pool, dict):
            _fill(pool, table["nodePool"])
    if isinstance(out.get("gitops"), dict):
        _fill(out["gitops"], table["gitops"])
    if isinstance(out.get("budget"), dict):
        _fill(out["budget"], table["budget"])
    out.setdefault("access", [])
    out.setdefault("exceptions", [])
    out.setdefault("compliance", {})
    for body in out.get("components", {}).values():
        if isinstance(body, dict) and body.get("type") in table:
            _fill(body, table[body["type"]])
            kind = kinds.get(body["type"])
            for ref in sorted(kind.references, key=lambda r: r.field != "after"):  # key order as before: after first
                if ref.many and not ref.path:
                    body.setdefault(ref.field, [])
            if kind.category is Category.WORKLOAD:
                body.setdefault("env", {})
            body.setdefault("labels", {})
    out.pop("abstract", None)
    out.pop("extends", None)
    return out
