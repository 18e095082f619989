"""tracking_server: an MLflow tracking server backed by a database and an artifact store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import BACKEND_ARTIFACTS, BACKEND_DATABASE

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class TrackingServer(Kind):
    name = "tracking_server"
    category = Category.WORKLOAD
    traits = frozenset({Trait.TRACKS_EXPERIMENTS})
    references = (AFTER, BACKEND_DATABASE, BACKEND_ARTIFACTS)
    emits_to = frozenset({"kubernetes", "terraform"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.service(component)


KIND = TrackingServer()
