"""job: a plain job (a batch/v1 Job; with `schedule` an Argo CronWorkflow), also a pipeline
step or a pipeline's on_failure handler (it needs no model and gets only the grants it declares)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import READS, TRACKING, WRITES

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Job(Kind):
    name = "job"
    category = Category.WORKLOAD
    traits = frozenset({Trait.RUNNABLE})
    references = (READS, WRITES, AFTER, TRACKING)
    emits_to = frozenset({"kubernetes", "terraform", "argo"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.batch(component)

    def scheduled_by_argo(self, component: Component) -> bool:
        return True  # a scheduled job is an Argo CronWorkflow (retries, failure visible in Argo)


KIND = Job()
