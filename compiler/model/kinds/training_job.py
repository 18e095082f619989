"""training_job: a (possibly distributed) training job: PyTorchJob when nodes > 1, else a Job;
framework ray: a KubeRay RayJob (a head and nodes - 1 workers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import CHECKPOINT, READS, TRACKING, WRITES
from compiler.model.resources import PodGroup, container_pods

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class TrainingJob(Kind):
    name = "training_job"
    category = Category.WORKLOAD
    traits = frozenset({Trait.RUNNABLE, Trait.TRAINS_MODELS})
    references = (READS, WRITES, AFTER, CHECKPOINT, TRACKING)
    emits_to = frozenset({"kubernetes", "terraform", "argo"})  # argo: a scheduled distributed run

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.training(component)

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        spec = component.spec
        return (container_pods(spec, "pod", int(spec["nodes"]), spot=bool(spec["spot"])),)  # one pod per node

    def distributed(self, component: Component) -> bool:
        # a Ray head talks to its workers and the operator submits the job to the head's dashboard
        return int(component.spec["nodes"]) > 1 or component.spec["framework"] == "ray"

    def scheduled_by_argo(self, component: Component) -> bool:
        return self.distributed(component)  # PyTorchJob and RayJob have no cron form


KIND = TrainingJob()
