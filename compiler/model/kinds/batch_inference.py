"""batch_inference: batch scoring (an Argo CronWorkflow when scheduled, else a Job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import MODEL, READS, WRITES
from compiler.model.resources import PodGroup, container_pods

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class BatchInference(Kind):
    name = "batch_inference"
    category = Category.WORKLOAD
    traits = frozenset({Trait.RUNNABLE, Trait.SCORES_MODELS})
    references = (READS, WRITES, AFTER, MODEL)
    emits_to = frozenset({"kubernetes", "terraform", "argo"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.batch(component)

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        return (container_pods(component.spec, "pod", 1),)

    def scheduled_by_argo(self, component: Component) -> bool:
        return True  # batch scoring on a schedule is an Argo CronWorkflow


KIND = BatchInference()
