"""edge_deployment: a model server delivered to a fleet of edge clusters (Argo CD ApplicationSet)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import MODEL

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class EdgeDeployment(Kind):
    name = "edge_deployment"
    category = Category.WORKLOAD
    traits = frozenset({Trait.FOREIGN_PODS, Trait.SCORES_MODELS})
    references = (AFTER, MODEL)
    emits_to = frozenset({"terraform", "argocd"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return 0.0, "no cloud cost: runs on the fleet's own edge hardware (model downloads are not priced)"


KIND = EdgeDeployment()
