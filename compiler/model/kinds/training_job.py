"""training_job: a (possibly distributed) training job: PyTorchJob when nodes > 1, else a Job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import CHECKPOINT, READS, WRITES
from compiler.model.resources import PodGroup, container_pods

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class TrainingJob(Kind):
    name = "training_job"
    category = Category.WORKLOAD
    traits = frozenset({Trait.RUNNABLE, Trait.TRAINS_MODELS})
    references = (READS, WRITES, AFTER, CHECKPOINT)
    emits_to = frozenset({"kubernetes", "terraform", "argo"})  # argo: a scheduled distributed run

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.training(component)

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        spec = component.spec
        return (container_pods(spec, "pod", int(spec["nodes"]), spot=bool(spec["spot"])),)  # one pod per node

    def distributed(self, component: Component) -> bool:
        return int(component.spec["nodes"]) > 1

    def scheduled_by_argo(self, component: Component) -> bool:
        return self.distributed(component)  # a PyTorchJob has no cron form


KIND = TrainingJob()
