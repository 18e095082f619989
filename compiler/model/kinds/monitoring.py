"""monitoring: metrics scraping, alerts and dashboards for target workloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced
from compiler.model.kinds.stores import TARGETS

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Monitoring(Kind):
    name = "monitoring"
    category = Category.MONITORING
    references = (AFTER, TARGETS)
    emits_to = frozenset({"kubernetes"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.monitoring(component)


KIND = Monitoring()
