"""The plan stage: what the compiler derives from the graph before anything is emitted.

`Compiled` bundles one environment's model, graph, least-privilege grants, cost estimate,
the instance/GPU facts of its node pools, the budget status and the cost suggestions, all
computed once by `plan`; emitters and policies read only this (no pricing loads of their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.analysis.graph import WRITE_KINDS, DependencyGraph
from compiler.model.environment import Component, Environment
from compiler.model.kinds import Trait
from compiler.plan.advice import BudgetStatus, Suggestion, check_budget, suggestions
from compiler.plan.capacity import Capacity, Problem, build_capacity, capacity_problems
from compiler.plan.cost import CostErrors, CostEstimate, estimate
from compiler.plan.monitors import MonitorWorkload, derive_monitor_workloads
from compiler.plan.pricing import InstanceType, load_pricing

PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Access:
    """What one declared edge lets a workload do with one store: the unit every cloud grant
    is derived from (one group of policy statements / role bindings per Access).

    `prefix` scopes object access to the paths the spec names ("" = the whole store; else
    a path such as "ranker/v12", covering that object and everything under "ranker/v12/").
    `read` includes listing (Delta, Iceberg and Spark readers list before they read);
    `write` includes read-before-write and multipart uploads (Delta reads `_delta_log/`
    before it commits; S3A and GCS connectors check existence before they write);
    `delete` only where the writer's library deletes (see WRITER_DELETES);
    `catalog` is "read" or "write" for a data lake with a catalog, else "".
    """

    store: str
    edge: str  # "reads" | "writes" | "model" | "checkpoint" | ...; a feature store's own: "offline" | "registry" | "materialize"
    prefix: str = ""
    read: bool = True
    write: bool = False
    delete: bool = False
    catalog: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "edge": self.edge,
            "prefix": self.prefix,
            "read": self.read,
            "write": self.write,
            "delete": self.delete,
            "catalog": self.catalog,
        }


@dataclass(frozen=True)
class WorkloadGrants:
    """Least privilege of one workload, exactly the graph's data flow: nothing more, nothing less."""

    workload: str
    reads: tuple[str, ...]  # stores read (reads + model source), sorted
    writes: tuple[str, ...]  # stores written (writes + checkpoint_to), sorted
    access: tuple[Access, ...] = ()  # one per declared edge, sorted by (store, edge, prefix)

    @property
    def stores(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.reads) | set(self.writes)))


# Writers whose libraries delete objects in what they write: Spark (S3A/GCS committers remove
# their temporary files; overwrite mode replaces partitions) and every table format (Delta log
# cleanup, Iceberg snapshot expiry). A training or batch job writing into an object_store only
# adds objects (versioning keeps what an overwrite replaces), so it gets no delete there.
# (traits WRITES_WITH_DELETES of the writer, TABLE_FORMAT of the store)


def checkpoint_prefix(workload: str) -> str:
    """Where a workload keeps its checkpoints inside its checkpoint store (its own name)."""
    return workload


def _model_paths(spec: dict[str, Any]) -> list[str]:
    """Paths a serving/batch workload loads: model.path and the canary's path ("" = whole store)."""
    raw = spec.get("model")
    model: dict[str, Any] = raw if isinstance(raw, dict) else {}
    paths = [str(model.get("path") or "").strip("/")]
    canary = spec.get("canary")
    if isinstance(canary, dict) and canary.get("path"):
        paths.append(str(canary["path"]).strip("/"))
    return [""] if "" in paths else sorted(set(paths))


def edge_access(graph: DependencyGraph, workload: str) -> tuple[Access, ...]:
    """The Access of every data edge of `workload` (graph edges, never the raw spec lists)."""
    env = graph.env
    comp = env.components[workload]
    out: set[Access] = set()
    for edge in graph.edges:
        if edge.kind in ("reads", "model") and edge.target == workload:
            store = env.components[edge.source]
        elif edge.kind in WRITE_KINDS and edge.source == workload:
            store = env.components[edge.target]
        else:
            continue
        cataloged = store.has(Trait.TABLE_FORMAT) and bool(store.spec.get("catalog"))
        if edge.kind == "reads":
            out.add(Access(store.name, "reads", catalog="read" if cataloged else ""))
        elif edge.kind == "writes":
            deletes = comp.has(Trait.WRITES_WITH_DELETES) or store.has(Trait.TABLE_FORMAT)
            out.add(Access(store.name, "writes", write=True, delete=deletes, catalog="write" if cataloged else ""))
        elif edge.kind == "model":
            out.update(Access(store.name, "model", prefix=path) for path in _model_paths(comp.spec))
        elif edge.kind == "checkpoint":  # saved, read back to resume, old ones rotated out
            out.add(Access(store.name, "checkpoint", prefix=checkpoint_prefix(workload), write=True, delete=True))
        elif edge.kind == "backend":  # a tracking server owns its store: runs' artifacts are deleted with the runs
            out.add(Access(store.name, "backend", write=True, delete=True))
        else:  # logs: an MLflow client uploads its run's artifacts and reads them back
            out.add(Access(store.name, "logs", write=True))
    return tuple(sorted(out, key=lambda a: (a.store, a.edge, a.prefix)))


def derive_iam_grants(graph: DependencyGraph, monitors: tuple[MonitorWorkload, ...] = ()) -> dict[str, WorkloadGrants]:
    """Grants of every workload (one Access per declared edge), and of every monitor workload
    (read-only: its one store, under its dataset path). A kind running as another component
    (a tuning job's trials run as the training job) has no identity of its own."""
    grants = {
        c.name: WorkloadGrants(c.name, graph.reads(c.name), graph.writes(c.name), edge_access(graph, c.name))
        for c in graph.env.components.values()
        if c.is_workload and c.kind.runs_as(c) is None
    }
    for monitor in monitors:
        access = (Access(monitor.store, "reads", prefix=monitor.path.strip("/")),)
        grants[monitor.name] = WorkloadGrants(monitor.name, (monitor.store,), (), access)
    for store in graph.env.with_trait(Trait.FEATURE_STORE):
        grants[store.name] = materializer_grants(graph, store)
    return dict(sorted(grants.items()))


def offline_access(env: Environment, store: Component, edge: str = "reads") -> Access:
    """What reading feature store `store` means for its offline data lake: a whole-lake read
    (catalog read when the lake has a catalog); the registry file is in the lake too."""
    from compiler.model.kinds.feature_store import offline_lake

    lake = env.components[offline_lake(store)]
    return Access(lake.name, edge, catalog="read" if lake.spec.get("catalog") else "")


def materializer_grants(graph: DependencyGraph, store: Component) -> WorkloadGrants:
    """A feature store's own identity (its materialisation runs): offline read of its lake
    (through the catalog when the lake has one), read/write of its registry file under the
    lake's feast/<name>/ prefix, and write of its online store (no IAM: Redis AUTH + network)."""
    from compiler.model.kinds.feature_store import offline_lake, registry_prefix

    lake = graph.env.components[offline_lake(store)]
    cataloged = bool(lake.spec.get("catalog"))
    access = (
        Access(lake.name, "offline", catalog="read" if cataloged else ""),
        Access(lake.name, "registry", prefix=registry_prefix(store), write=True, delete=True),
        Access(store.name, "materialize", write=True),
    )
    return WorkloadGrants(store.name, (lake.name,), tuple(sorted({lake.name, store.name})), access)


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
    capacity: Capacity
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


class PlanErrors(Exception):
    """Every input problem the plan stage finds (unknown prices MLC-E060, capacity MLC-E061..63)."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.pointer, p.code))
        super().__init__("\n".join(f"{p.pointer}: {p.code}: {p.message}" for p in self.problems))


def plan(env: Environment, graph: DependencyGraph) -> Compiled:
    """Grants, capacity, cost, instance facts, budget and suggestions of a validated environment
    (PlanErrors on unknown prices and on pods that cannot be scheduled)."""
    from compiler.providers.registry import provider_of

    pricing = load_pricing()
    provider = provider_of(env)
    problems: list[Problem] = []
    prices = provider.prices()
    monitors, _ = derive_monitor_workloads(env, graph)
    capacity = build_capacity(env, prices, pricing.gpu_models) if prices is not None else Capacity({}, (), pricing.gpu_models)
    problems += capacity_problems(env, capacity)
    try:
        cost = estimate(env, pricing, capacity, monitors)
    except CostErrors as errors:
        problems += [Problem(e.pointer, "MLC-E060", e.message) for e in errors.errors]
        raise PlanErrors(problems) from None
    if problems:
        raise PlanErrors(problems)
    pools = {name: provider.instance(str(pool["instance_type"])) for name, pool in sorted(env.spec["cluster"]["node_pools"].items())}
    return Compiled(
        env=env,
        graph=graph,
        grants=derive_iam_grants(graph, monitors),
        cost=cost,
        pools=pools,
        gpu_models=pricing.gpu_models,
        budget=check_budget(env, cost),
        suggestions=suggestions(env, cost, pricing),
        capacity=capacity,
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
        "iam": {
            name: {"reads": list(g.reads), "writes": list(g.writes), "access": [a.to_dict() for a in g.access]}
            for name, g in sorted(compiled.grants.items())
        },
        "budget": env.spec.get("budget"),
        "cost": compiled.cost.to_dict(),
        "capacity": compiled.capacity.to_dict(),
        "findings": [f.to_dict() for f in findings],
    }
