"""Lineage: the classification each component inherits over data flow, with its explanation.

Data flow may contain loops (batch scoring writes predictions back into the lake the next
training run reads). Classification is therefore propagated to a fixed point, not along a
topological order: a component's effective class is the highest own class of any
component with a data-flow path to it (itself included). Ranks only rise and there are
four of them, so the work list empties after at most 3 rises per component; pii entering a
loop reaches every member of the loop.

The explanation of a raised class is the shortest upstream path from a component that owns
that class, ties broken by name at each step, so it is deterministic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from compiler.model.environment import CLASSIFICATION_RANK


@dataclass(frozen=True)
class Lineage:
    own: str
    effective: str
    path: tuple[str, ...]  # from the component whose own class is `effective` to this one


def effective_classes(own: Mapping[str, str], upstream: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The least fixed point of effective[n] = max(own[n], effective[u] for u upstream of n)."""
    downstream: dict[str, list[str]] = {name: [] for name in own}
    for name, sources in upstream.items():
        for source in sources:
            downstream[source].append(name)
    effective = dict(own)
    pending = deque(sorted(own))
    queued = set(pending)
    while pending:
        node = pending.popleft()
        queued.discard(node)
        rank = CLASSIFICATION_RANK[effective[node]]
        for after in downstream[node]:
            if CLASSIFICATION_RANK[effective[after]] < rank:
                effective[after] = effective[node]
                if after not in queued:
                    queued.add(after)
                    pending.append(after)
    return effective


def explain(name: str, target: str, own: Mapping[str, str], upstream: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Shortest data-flow path from the nearest component owning class `target` to `name`."""
    parents: dict[str, str | None] = {name: None}
    queue = deque([name])
    while queue:
        node = queue.popleft()
        if own[node] == target:
            path = [node]
            while (parent := parents[path[-1]]) is not None:
                path.append(parent)
            return tuple(path)
        for source in sorted(upstream[node]):
            if source not in parents:
                parents[source] = node
                queue.append(source)
    raise ValueError(f"no upstream component of {name!r} owns {target!r}")  # effective_classes guarantees one


def compute_lineage(own: Mapping[str, str], upstream: Mapping[str, Sequence[str]]) -> dict[str, Lineage]:
    """Lineage of every component: `own` classes and, per component, its upstream neighbours."""
    effective = effective_classes(own, upstream)
    return {name: Lineage(own[name], effective[name], explain(name, effective[name], own, upstream)) for name in sorted(own)}
