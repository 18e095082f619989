"""The plan stage: what the compiler derives from the graph before anything is emitted.

`Compiled` bundles one environment's model, graph, least-privilege grants, cost estimate,
the instance/GPU facts of its node pools, the budget status and the cost suggestions, all
computed once by `plan`; emitters and policies read only this (no pricing loads of their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.analysis.graph import DependencyGraph
from compiler.model.environment import Environment
from compiler.plan.advice import BudgetStatus, Suggestion, check_budget, suggestions
from compiler.plan.cost import CostEstimate, estimate
from compiler.plan.monitors import MonitorWorkload, derive_monitor_workloads
from compiler.plan.pricing import InstanceType, load_pricing

PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class WorkloadGrants:
    """Least privilege of one workload, exactly the graph's data flow: nothing more, nothing less."""

    workload: str
    reads: tuple[str, ...]  # stores read (reads + model source), sorted
    writes: tuple[str, ...]  # stores written (writes + checkpoint_to), sorted

    @property
    def stores(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.reads) | set(self.writes)))


def derive_iam_grants(graph: DependencyGraph, monitors: tuple[MonitorWorkload, ...] = ()) -> dict[str, WorkloadGrants]:
    """Grants of every workload, and of every monitor workload (read-only, its one store)."""
    grants = {  # a kind running as another component (a tuning job's trials) has no identity of its own
        c.name: WorkloadGrants(c.name, graph.reads(c.name), graph.writes(c.name))
        for c in graph.env.components.values()
        if c.is_workload and c.kind.runs_as(c) is None
    }
    for monitor in monitors:
        grants[monitor.name] = WorkloadGrants(monitor.name, (monitor.store,), ())
    return dict(sorted(grants.items()))


@dataclass(frozen=True)
class Compiled:
    env: Environment
    graph: DependencyGraph
    grants: dict[str, WorkloadGrants]
    cost: CostEstimate
    pools: dict[str, InstanceType | None]  # node pool -> facts of its instance type (None: unknown)
    gpu_models: dict[str, tuple[str, ...]]  # spec GPU type (nvidia-a100) -> catalogue models
    budget: BudgetStatus
    suggestions: tuple[Suggestion, ...]
    monitors: tuple[MonitorWorkload, ...] = ()  # pods mlc adds for monitoring components (plan.monitors)

    @property
    def name(self) -> str:
        return self.env.name

    def pool_gpus(self, pool: str) -> tuple[int, str | None]:
        """(GPUs per node, GPU model) of a node pool's instance type; (0, None) without GPUs."""
        instance = self.pools.get(pool)
        return (instance.gpus, instance.gpu_model) if instance is not None and instance.gpus else (0, None)

    def effective_class(self, name: str) -> str:
        """Data classification of a component, or of a monitor workload (that of the store it reads)."""
        lineage = self.graph.lineage
        if name not in lineage:
            name = next(m.store for m in self.monitors if m.name == name)
        return lineage[name].effective


def plan(env: Environment, graph: DependencyGraph) -> Compiled:
    """Grants, cost, instance facts, budget and suggestions of a validated environment
    (CostErrors on unknown prices)."""
    from compiler.providers.registry import provider_of

    pricing = load_pricing()
    cost = estimate(env, pricing)
    provider = provider_of(env)
    pools = {name: provider.instance(str(pool["instance_type"])) for name, pool in sorted(env.spec["cluster"]["node_pools"].items())}
    monitors, _ = derive_monitor_workloads(env, graph)
    return Compiled(
        env=env,
        graph=graph,
        grants=derive_iam_grants(graph, monitors),
        cost=cost,
        pools=pools,
        gpu_models=pricing.gpu_models,
        budget=check_budget(env, cost),
        suggestions=suggestions(env, cost, pricing),
        monitors=monitors,
    )


def plan_document(compiled: Compiled, findings: list[Any]) -> dict[str, Any]:
    """plan.json: the resolved model, graph, grants, cost and policy results. No timestamps."""
    env = compiled.env
    graph = compiled.graph.to_dict()
    lineage = graph.pop("lineage")
    components = []
    for component in env.components.values():
        location = env.locate(component.pointer, True)
        components.append(
            {
                "id": f"{component.type}.{env.name}.{component.name}",
                "name": component.name,
                "type": component.type,
                "source": f"{location.file}:{location.line}",
                "classification": lineage[component.name],
                "spec": component.spec,
            }
        )
    return {
        "schema_version": PLAN_SCHEMA_VERSION,
        "environment": env.name,
        "provider": env.provider,
        "region": env.region,
        "namespace": env.namespace,
        "extends": list(env.chain[:-1]),
        "components": components,
        "edges": graph["edges"],
        "order": graph["order"],
        "generations": graph["generations"],
        "iam": {name: {"reads": list(g.reads), "writes": list(g.writes)} for name, g in sorted(compiled.grants.items())},
        "budget": env.spec.get("budget"),
        "cost": compiled.cost.to_dict(),
        "findings": [f.to_dict() for f in findings],
    }
