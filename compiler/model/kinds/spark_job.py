"""spark_job: a Spark application (SparkApplication; scheduled when `schedule` is set)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import READS, WRITES
from compiler.model.resources import PodGroup, memory_gib

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class SparkJob(Kind):
    name = "spark_job"
    category = Category.WORKLOAD
    traits = frozenset({Trait.RUNNABLE, Trait.WRITES_WITH_DELETES})
    references = (READS, WRITES, AFTER)
    emits_to = frozenset({"kubernetes", "terraform"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.spark(component)

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        """Driver and executors; each pod asks its memory plus Spark's overhead. The driver never
        tolerates spot (losing it loses the run); executors do when `spot: true`."""
        spec = component.spec
        factor = memory_overhead_factor(str(spec.get("main", "")))
        driver, executors = spec["driver"], spec["executors"]
        dynamic = spec.get("dynamic_allocation") or {}
        count = int(dynamic["max"]) if "max" in dynamic else int(executors["instances"])
        return (
            PodGroup(
                "driver",
                1,
                float(driver["cores"]),
                with_overhead(driver["memory"], factor),
                cpu_at="/driver/cores",
                memory_at="/driver/memory",
            ),
            PodGroup(
                "executor",
                count,
                float(executors["cores"]),
                with_overhead(executors["memory"], factor),
                spot=bool(spec["spot"]),
                cpu_at="/executors/cores",
                memory_at="/executors/memory",
            ),
        )

    def distributed(self, component: Component) -> bool:
        return True  # a driver and its executors


# Spark on Kubernetes asks each pod's memory plus an overhead of max(factor x memory, 384 MiB):
# factor 0.1 for JVM applications and 0.4 for Python and R ones (Spark's
# spark.kubernetes.memoryOverheadFactor / NON_JVM_MEMORY_OVERHEAD_FACTOR, Spark 3.x docs).
MIN_OVERHEAD_GIB = 384 / 1024


def memory_overhead_factor(main: str) -> float:
    """A .jar main is a JVM application; anything else runs as Python or R (see the emitter's spark_type)."""
    return 0.1 if main.lower().endswith(".jar") else 0.4


def with_overhead(memory: str, factor: float) -> float:
    gib = memory_gib(memory)
    return gib + max(factor * gib, MIN_OVERHEAD_GIB)


KIND = SparkJob()
