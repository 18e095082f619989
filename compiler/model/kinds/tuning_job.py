"""tuning_job: hyperparameter search, a Katib Experiment whose trials run the named training job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import TRIAL

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class TuningJob(Kind):
    name = "tuning_job"
    category = Category.WORKLOAD
    traits = frozenset({Trait.FOREIGN_PODS})
    references = (AFTER, TRIAL)
    emits_to = frozenset({"kubernetes"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.tuning(component)

    def runs_as(self, component: Component) -> str | None:
        return str(component.spec["trial"])


KIND = TuningJob()
