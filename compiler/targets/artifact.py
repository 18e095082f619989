"""Emitters: pure functions from the compiled model to artifacts (plain data + a path)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Artifact:
    path: str  # relative to out/<env>/, '/'-separated, e.g. "kubernetes/deployment-ranker.yaml"
    content: Any  # plain data: dict / list / str / int / float / bool / None
    format: str  # "yaml" | "json"
    component: str | None = None  # the component it belongs to; None for environment-level objects
