"""serving: a model-serving endpoint (KServe InferenceService, or Deployment + Service + HPA)."""

from __future__ import annotations

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
    """Always-on pods a canary adds: its own InferenceService (`<name>-canary`, next to
    `<name>-stable`) at `replicas.min`. Canaries of image-based serving are refused (MLC-E065)."""
    if not component.spec.get("canary"):
        return 0
    return int(component.spec["replicas"]["min"])


KIND = Serving()
