"""stream_job: a continuously running Flink application (FlinkDeployment, application mode).

Not runnable: it never finishes, so it cannot be a pipeline step (the graph rejects it there)
and Argo CD keeps it running. Distributed: a JobManager and its TaskManagers talk to each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced
from compiler.model.kinds.stores import CHECKPOINT, READS, WRITES
from compiler.model.resources import PodGroup, container_pods

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class StreamJob(Kind):
    name = "stream_job"
    category = Category.WORKLOAD
    references = (READS, WRITES, AFTER, CHECKPOINT)
    emits_to = frozenset({"kubernetes", "terraform"})

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        """One JobManager and `parallelism` TaskManagers (one slot each), all month."""
        spec, spot = component.spec, bool(component.spec["spot"])
        return (
            container_pods(spec, "jobmanager", 1, always_on=True, spot=spot),
            container_pods(spec, "taskmanager", int(spec["parallelism"]), always_on=True, spot=spot),
        )

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        from compiler.plan.cost_streaming import stream_job_cost

        return stream_job_cost(est, component)

    def distributed(self, component: Component) -> bool:
        return True  # a JobManager and its TaskManagers


KIND = StreamJob()
