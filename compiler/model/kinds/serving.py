"""serving: a model-serving endpoint (KServe InferenceService, or Deployment + Service + HPA)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import MODEL, READS, WRITES

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Serving(Kind):
    name = "serving"
    category = Category.WORKLOAD
    traits = frozenset({Trait.LONG_RUNNING, Trait.SCORES_MODELS})
    references = (READS, WRITES, AFTER, MODEL)
    emits_to = frozenset({"kubernetes", "terraform"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.serving(component)


KIND = Serving()
