"""feature_store: a Feast feature store (FeatureStore resource of the Feast operator).

A data node: its offline store is the named data lake (`offline`, an edge lake -> feature
store along which classification flows), its online store is a Redis instance in
Terraform, its registry a file in the lake under feast/<name>/. Workloads that list it in
`reads` get online + offline read; those that list it in `writes` push features (online
write). Its materialisation (offline -> online, a CronWorkflow on `materialize.schedule`)
runs with the feature store's own identity: offline read, registry read/write, online write.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Trait
from compiler.model.kinds.stores import OFFLINE
from compiler.model.resources import PodGroup, container_pods

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator

REGISTRY_PREFIX = "feast"  # <lake>/feast/<feature store>/registry.db
# defaults of the nested fields (the schema states the same; nested defaults are not filled in)
ONLINE_DEFAULTS = {"engine": "redis", "size_gb": 1}
MATERIALIZE_DEFAULTS = {"hours_per_month": 30, "max_runtime_hours": 2}


class FeatureStore(Kind):
    name = "feature_store"
    category = Category.STORE
    traits = frozenset({Trait.FEATURE_STORE})
    references = (AFTER, OFFLINE)
    emits_to = frozenset({"kubernetes", "terraform", "argo"})

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        """One materialisation pod per run."""
        group = container_pods({"resources": materialize(component).get("resources") or {}}, "materialize", 1)
        return (replace(group, cpu_at="/materialize/resources/cpu", memory_at="/materialize/resources/memory"),)

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        from compiler.plan.cost_streaming import feature_store_cost

        return feature_store_cost(est, component)


def online(component: Component) -> dict[str, Any]:
    return {**ONLINE_DEFAULTS, **(component.get("online") or {})}


def materialize(component: Component) -> dict[str, Any]:
    return {**MATERIALIZE_DEFAULTS, **component.spec["materialize"]}


def offline_lake(component: Component) -> str:
    return str(component.spec["offline"])


def feast_project(component: Component) -> str:
    return str(component.spec.get("project") or component.name.replace("-", "_"))


def registry_prefix(component: Component) -> str:
    """Where the registry lives inside the offline lake (the materialiser may write there)."""
    return f"{REGISTRY_PREFIX}/{component.name}"


KIND = FeatureStore()
