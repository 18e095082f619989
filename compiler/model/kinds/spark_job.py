"""spark_job: a Spark application (SparkApplication; scheduled when `schedule` is set)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import READS, WRITES

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

    def distributed(self, component: Component) -> bool:
        return True  # a driver and its executors


KIND = SparkJob()
