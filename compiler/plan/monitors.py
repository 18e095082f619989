"""Monitor workloads: the pods mlc adds for a `monitoring` component, derived from the graph.

A monitoring component M may add two kinds of workload, each a workload like any other:
its own ServiceAccount and cloud identity (Terraform), read grants on exactly the stores
it reads (`Compiled.grants`, so the IAM follows), a NetworkPolicy and a hardened pod.

  drift detector   `<M>-<target>-drift`, for each serving target when M has
                   alerts.drift_threshold. Reads the reference dataset: `drift.reference.store`
                   or, by default, the store the target's model was trained from: the stores
                   read by the job(s) writing the model store (its `writes` or
                   `checkpoint_to`), the model store itself excluded.
  data-quality     `<M>-dq-<store>`, for each store in M's `data_quality`. Reads that store.
  check

Kind-specific choices are two traits below (`DRIFT_TARGET`, `DATASET`), so
they can move into the kinds registry as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.analysis.graph import DependencyGraph
from compiler.core.diagnostics import Diagnostic, did_you_mean
from compiler.model.environment import Component, Environment
from compiler.model.kinds import Trait
from compiler.providers import naming

DRIFT, DATA_QUALITY = "drift_detector", "data_quality_check"
#: drift detectors watch long-running endpoints (their request logger feeds the detector);
#: detectors and checkers read datasets from bucket-backed stores (files under a path)
DRIFT_TARGET, DATASET = Trait.LONG_RUNNING, Trait.BUCKET
IMAGE_MISSING, REFERENCE_PROBLEM, COLLISION = "MLC-E048", "MLC-E049", "MLC-E052"


@dataclass(frozen=True)
class MonitorWorkload:
    """One pod template mlc adds for a monitoring component (see the module docstring)."""

    name: str
    role: str  # DRIFT or DATA_QUALITY
    monitoring: str  # the monitoring component
    subject: str  # the serving target (DRIFT) or the checked store (DATA_QUALITY)
    store: str  # the store it reads: reference dataset or checked store
    path: str  # path inside `store` ("" = the whole store)
    pointer: str  # where the spec asks for it

    def component(self, env: Environment) -> Component:
        """A component-shaped view for the shared naming and identity code (labels of M)."""
        labels = dict(env.components[self.monitoring].get("labels") or {})
        return Component(self.name, self.role, {"labels": labels})


def detector_name(monitoring: Component, target: Component) -> str:
    return naming.bounded(f"{monitoring.name}-{target.name}-drift", 63)


def checker_name(monitoring: Component, store: str) -> str:
    return naming.bounded(f"{monitoring.name}-dq-{store}", 63)


def drift_targets(env: Environment, monitoring: Component) -> list[Component]:
    """Serving targets of `monitoring` that get a drift detector, sorted by name."""
    if "drift_threshold" not in (monitoring.get("alerts") or {}):
        return []
    targets = sorted(set(monitoring.get("targets") or []))
    return [env.components[t] for t in targets if t in env.components and env.components[t].has(DRIFT_TARGET)]


def training_sources(graph: DependencyGraph, target: Component) -> list[str]:
    """Bucket stores the job(s) writing the target's model store read, the model store excluded."""
    model_store = str((target.get("model") or {}).get("from"))
    sources: set[str] = set()
    for writer in graph.writers(model_store):
        sources |= set(graph.consumes(writer))
    sources.discard(model_store)
    return sorted(s for s in sources if graph.env.components[s].has(DATASET))


def _reference(env: Environment, graph: DependencyGraph, monitoring: Component, target: Component) -> tuple[str | None, Diagnostic | None]:
    reference = (monitoring.get("drift") or {}).get("reference") or {}
    stores = [n for n, c in env.components.items() if c.has(DATASET)]
    if reference.get("store"):
        store = reference["store"]
        pointer = f"{monitoring.pointer}/drift/reference/store"
        if store not in env.components:
            return None, Diagnostic(env.locate(pointer), "MLC-E040", f'reference store "{store}" is unknown{did_you_mean(store, stores)}')
        if not env.components[store].has(DATASET):
            kind = env.components[store].type
            return None, Diagnostic(
                env.locate(pointer), "MLC-E041", f'reference store "{store}" is a {kind}; expected an object_store or data_lake'
            )
        return store, None
    sources = training_sources(graph, target)
    if len(sources) == 1:
        return sources[0], None
    found = f"the jobs writing its model store read {', '.join(sources)}" if sources else "no job writing its model store reads a bucket"
    message = f'cannot tell the drift reference dataset of "{target.name}": {found}; set drift.reference.store'
    return None, Diagnostic(env.locate(f"{monitoring.pointer}/alerts/drift_threshold"), REFERENCE_PROBLEM, message)


def derive_monitor_workloads(env: Environment, graph: DependencyGraph) -> tuple[tuple[MonitorWorkload, ...], list[Diagnostic]]:
    """Every monitor workload of the environment (sorted by name) and the input problems found."""
    found: list[MonitorWorkload] = []
    problems: list[Diagnostic] = []
    logged: dict[str, str] = {}  # serving target -> the monitoring component whose detector its logger feeds
    for monitoring in env.of_type("monitoring"):
        wanted: list[MonitorWorkload] = []
        reference = (monitoring.get("drift") or {}).get("reference") or {}
        for target in drift_targets(env, monitoring):
            pointer = f"{monitoring.pointer}/alerts/drift_threshold"
            if target.name in logged:
                message = (
                    f'"{target.name}" already logs its requests to the drift detector of "{logged[target.name]}"; keep one drift_threshold'
                )
                problems.append(Diagnostic(env.locate(pointer), REFERENCE_PROBLEM, message))
                continue
            logged[target.name] = monitoring.name
            store, problem = _reference(env, graph, monitoring, target)
            if problem is not None:
                problems.append(problem)
                continue
            assert store is not None
            wanted.append(
                MonitorWorkload(
                    detector_name(monitoring, target), DRIFT, monitoring.name, target.name, store, reference.get("path", ""), pointer
                )
            )
        stores = [n for n, c in env.components.items() if c.has(DATASET)]
        for store, expectations in sorted((monitoring.get("data_quality") or {}).items()):
            pointer = f"{monitoring.pointer}/data_quality/{store}"
            if store not in env.components:
                problems.append(
                    Diagnostic(
                        env.locate(pointer, True), "MLC-E040", f'data_quality names unknown store "{store}"{did_you_mean(store, stores)}'
                    )
                )
                continue
            kind = env.components[store].type
            if not env.components[store].has(DATASET):
                message = f'data_quality names "{store}", a {kind}; expected an object_store or data_lake (checks read files)'
                problems.append(Diagnostic(env.locate(pointer, True), "MLC-E041", message))
                continue
            bounds = expectations.get("row_count") or {}
            if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
                message = f"row_count.min ({bounds['min']}) is above row_count.max ({bounds['max']})"
                problems.append(Diagnostic(env.locate(f"{pointer}/row_count/min"), "MLC-E022", message))
            wanted.append(
                MonitorWorkload(
                    checker_name(monitoring, store), DATA_QUALITY, monitoring.name, store, store, expectations.get("path", ""), pointer
                )
            )
        if wanted and not monitoring.get("image"):
            roles = " and ".join(sorted({"drift detection" if w.role == DRIFT else "data-quality checks" for w in wanted}))
            verb = "needs" if len({w.role for w in wanted}) == 1 else "need"
            message = f"{roles} {verb} `image`: an image pinned by digest that runs mlc's monitor scripts (see docs/monitoring.md)"
            problems.append(Diagnostic(env.locate(monitoring.pointer, True), IMAGE_MISSING, message))
        found += wanted
    problems += _collisions(env, found)
    return tuple(sorted(found, key=lambda w: w.name)), problems


def _collisions(env: Environment, workloads: list[MonitorWorkload]) -> list[Diagnostic]:
    problems = []
    seen: dict[str, MonitorWorkload] = {}
    for workload in workloads:
        other = seen.get(workload.name)
        if workload.name in env.components or other is not None:
            clash = f'component "{workload.name}"' if other is None else f'the {other.role.replace("_", " ")} of "{other.monitoring}"'
            message = f'the {workload.role.replace("_", " ")} "{workload.name}" would have the name of {clash}; rename a component'
            problems.append(Diagnostic(env.locate(workload.pointer, True), COLLISION, message))
        seen[workload.name] = workload
    return problems


def monitor_problems(env: Environment, graph: DependencyGraph) -> list[Diagnostic]:
    return derive_monitor_workloads(env, graph)[1]
