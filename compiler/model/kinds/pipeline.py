"""pipeline: an Argo WorkflowTemplate whose DAG follows the graph among its steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced
from compiler.model.kinds.stores import ON_FAILURE, STEPS

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Pipeline(Kind):
    name = "pipeline"
    category = Category.ORCHESTRATION
    references = (AFTER, STEPS, ON_FAILURE)
    emits_to = frozenset({"argo"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return 0.0, "no direct cost: orchestration only; its steps are priced as their own components"


KIND = Pipeline()
