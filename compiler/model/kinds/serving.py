"""serving: a model-serving endpoint (KServe InferenceService, or Deployment + Service + HPA)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import MODEL, READS, WRITES
from compiler.model.resources import PodGroup, container_pods

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Serving(Kind):
    name = "serving"
    category = Category.WORKLOAD
    traits = frozenset({Trait.LONG_RUNNING, Trait.SCORES_MODELS})
    references = (READS, WRITES, AFTER, MODEL)
    emits_to = frozenset({"kubernetes", "terraform"})

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        low = int(component.spec["replicas"]["min"])
        groups = [container_pods(component.spec, "replica", low, always_on=True)]
        canary = canary_pods(component)
        if canary:
            groups.append(container_pods(component.spec, "canary", canary, always_on=True))
        return tuple(g for g in groups if g.count)

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.serving(component)


def canary_pods(component: Component) -> int:
    """Always-on pods a canary adds. KServe (`runtime`) keeps the previous revision and the
    canary revision side by side, each at `replicas.min`; the Deployment path (`image`) runs a
    second Deployment sized so that it gets about `traffic_percent` of the traffic (the Service
    balances per pod): ceil(max(min, 1) x p / (100 - p)), at least 1."""
    canary = component.spec.get("canary")
    if not canary:
        return 0
    low = int(component.spec["replicas"]["min"])
    if not component.spec.get("image"):
        return low
    percent = int(canary["traffic_percent"])
    return max(1, math.ceil(max(low, 1) * percent / (100 - percent)))


KIND = Serving()
