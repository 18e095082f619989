"""The component dependency graph of one environment: typed edges, data flow, run order, lineage.

Edges point the way data (or ordering) flows:
  reads       store -> workload        writes      workload -> store
  model       store -> serving/batch   checkpoint  training -> store
  after       X -> Y  (Y after X)      monitors    target -> monitoring
  step        step -> pipeline         on_failure  handler -> pipeline
  trial       training -> tuning       tracking    tracking server -> workload
  backend     tracking server -> its database / artifact store (read and write)
  logs        workload -> the artifact store of its tracking server (derived from `tracking`:
              MLflow clients write run artifacts to the store directly, read them back to load)
  offline     data lake -> the feature store whose offline store it is (data flows, no workload)

Two graphs are derived from them and never mixed:
- data flow (reads, model, writes, checkpoint): who touches which data. IAM, network
  policy, lineage and cost read it. It may contain loops (feedback: scoring output that the
  next training reads); lineage propagates over it to a fixed point (`lineage.py`).
- run order (`run_order.py`): `after`, "in place before" edges, and data flow between the
  steps of one pipeline within one run. Sync waves, `order`, `generations` and Argo DAGs
  read it. A cycle here is MLC-E042, reported at the entry that closes it.

Streams are data nodes like buckets: `reads` of a stream consume it, `writes` produce into
it, and classification flows through it. A stream is read while it is written, so even
within a pipeline run its readers are not ordered after its writers.

Everything downstream reads this module's API, never the raw `reads`/`writes` lists.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass
from typing import Any

import networkx as nx

from compiler.analysis import run_order
from compiler.analysis.lineage import Lineage, compute_lineage
from compiler.core.diagnostics import Diagnostic, InputError, did_you_mean
from compiler.model import kinds
from compiler.model.environment import Component, Environment
from compiler.model.kinds import Reference

__all__ = ["DependencyGraph", "Edge", "Lineage", "build_graph", "component_id"]

READ_KINDS = ("reads", "model")
#: workload -> store edges that read as well as write (a job reads back its checkpoints, a
#: tracking server its backend, an MLflow client the artifacts it logged)
READ_WRITE_KINDS = ("checkpoint", "backend", "logs")
WRITE_KINDS = ("writes", *READ_WRITE_KINDS)
#: store -> store edges data flows along without a workload (a feature store's offline lake)
FEED_KINDS = ("offline",)


def allowed_wording(ref: Reference) -> str:
    """What a reference may name, for messages: the kinds accepted today (registry order)."""
    accepted = [k.name for k in kinds.all_kinds() if ref.accepts(k)]
    either = (
        (
            ("an " if accepted[0][:1] in "aeiou" else "a ")
            + " or ".join([", ".join(accepted[:-1]), accepted[-1]] if len(accepted) > 1 else accepted)
        )
        if accepted
        else "nothing"
    )
    return ref.allowed.format(kinds=", ".join(accepted), either=either)


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    kind: str
    pointer: str  # JSON pointer of the reference that declared the edge


def _references(component: Component) -> list[tuple[Reference, str, str]]:
    """(reference, target name, pointer) for every reference a component makes."""
    return [(ref, name, pointer) for ref in component.kind.references for name, pointer in ref.targets(component)]


class DependencyGraph:
    """Typed dependency graph of one environment (build with `build_graph`)."""

    def __init__(self, env: Environment, edges: list[Edge]):
        self.env = env
        self.edges: tuple[Edge, ...] = tuple(sorted(set(edges)))
        self.graph = nx.MultiDiGraph()
        self.graph.add_nodes_from(sorted(env.components))
        for edge in self.edges:
            self.graph.add_edge(edge.source, edge.target, key=edge.kind)

    # --- data flow -------------------------------------------------------------------
    def reads(self, name: str) -> tuple[str, ...]:
        """Stores a workload reads (reads + model source + its checkpoint store, which it
        reads back to resume), sorted."""
        read = {e.source for e in self.edges if e.target == name and e.kind in READ_KINDS}
        return tuple(sorted(read | {e.target for e in self.edges if e.source == name and e.kind in READ_WRITE_KINDS}))

    def consumes(self, name: str) -> tuple[str, ...]:
        """Stores whose data a workload takes in (reads + model source), without what it only
        reads back of its own (checkpoints, a tracking server's backend, logged artifacts)."""
        return tuple(sorted({e.source for e in self.edges if e.target == name and e.kind in READ_KINDS}))

    def writes(self, name: str) -> tuple[str, ...]:
        """Stores a workload writes (writes + checkpoints), sorted."""
        return tuple(sorted({e.target for e in self.edges if e.source == name and e.kind in WRITE_KINDS}))

    def readers(self, store: str) -> tuple[str, ...]:
        read = {e.target for e in self.edges if e.source == store and e.kind in READ_KINDS}
        return tuple(sorted(read | {e.source for e in self.edges if e.target == store and e.kind in READ_WRITE_KINDS}))

    def writers(self, store: str) -> tuple[str, ...]:
        return tuple(sorted({e.source for e in self.edges if e.target == store and e.kind in WRITE_KINDS}))

    def pipelines_running(self, name: str) -> tuple[str, ...]:
        """Pipelines that run workload `name` as a step or as their on_failure handler.

        Such a workload runs only through its pipeline(s): kubernetes/ holds its identity,
        secrets and network policy, but not a standalone run object.
        """
        return tuple(sorted({e.target for e in self.edges if e.source == name and e.kind in ("step", "on_failure")}))

    def edges_of(self, kind: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.kind == kind)

    @functools.cached_property
    def data_flow(self) -> nx.DiGraph:
        """Declared data flow: store -> reader (reads, model), writer -> store (writes, checkpoint),
        data lake -> the feature store it is the offline store of (offline)."""
        flow = nx.DiGraph()
        flow.add_nodes_from(sorted(self.env.components))
        flow.add_edges_from((e.source, e.target) for e in self.edges if e.kind in READ_KINDS + WRITE_KINDS + FEED_KINDS)
        return flow

    @functools.cached_property
    def loops(self) -> tuple[tuple[str, ...], ...]:
        """Data-flow feedback loops (strongly connected sets of 2+ components), sorted. Allowed."""
        found = (tuple(sorted(c)) for c in nx.strongly_connected_components(self.data_flow) if len(c) > 1)
        return tuple(sorted(found))

    def in_loop(self, edge: Edge) -> bool:
        """Whether a data-flow edge lies on a feedback loop."""
        return edge.kind in READ_KINDS + WRITE_KINDS + FEED_KINDS and self._loop_of.get(edge.source, -1) == self._loop_of.get(
            edge.target, -2
        )

    @functools.cached_property
    def _loop_of(self) -> dict[str, int]:
        return {name: index for index, loop in enumerate(self.loops) for name in loop}

    # --- run order -------------------------------------------------------------------
    @functools.cached_property
    def global_order_edges(self) -> tuple[run_order.OrderEdge, ...]:
        return tuple(sorted(run_order.global_edges(self.edges)))

    @functools.cached_property
    def pipeline_order_edges(self) -> dict[str, tuple[run_order.OrderEdge, ...]]:
        """Per pipeline: step -> step edges holding within one of its runs."""
        steps: dict[str, list[str]] = {}
        for edge in self.edges_of("step"):
            steps.setdefault(edge.target, []).append(edge.source)
        # a stream is produced and consumed at the same time: no step order through it
        data = [e for e in self.edges if not any(self.env.components[n].has(kinds.Trait.STREAM) for n in (e.source, e.target))]
        return {name: tuple(run_order.pipeline_edges(data, name, members)) for name, members in sorted(steps.items())}

    @functools.cached_property
    def ordering(self) -> nx.DiGraph:
        """Global run order: X -> Y when X must be in place / finish before Y everywhere.

        `after` and placement only: data flow between workloads orders them only within one
        pipeline run (`pipeline_order`), never globally.
        """
        return run_order.digraph(self.env.components, self.global_order_edges)

    @functools.cached_property
    def order(self) -> tuple[str, ...]:
        """Deterministic topological order of all components (ties broken by name)."""
        return tuple(nx.lexicographical_topological_sort(self.ordering, key=str))

    @functools.cached_property
    def generations(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(sorted(gen)) for gen in nx.topological_generations(self.ordering))

    @functools.cached_property
    def generation_of(self) -> dict[str, int]:
        return {name: index for index, gen in enumerate(self.generations) for name in gen}

    @functools.cached_property
    def _global_predecessors(self) -> dict[str, set[str]]:
        preds: dict[str, set[str]] = {}
        for edge in self.global_order_edges:
            preds.setdefault(edge.target, set()).add(edge.source)
        return preds

    def pipeline_order(self, pipeline: str) -> list[tuple[str, str]]:
        """Direct predecessor pairs (X, Y) among a pipeline's steps: X must finish before Y starts.

        Over global run order plus the pipeline's own step edges, transitive through
        components outside the pipeline (e.g. `b.after: [x]`, `x.after: [a]` puts a before b).
        """
        own: dict[str, set[str]] = {}
        for edge in self.pipeline_order_edges.get(pipeline, ()):
            own.setdefault(edge.target, set()).add(edge.source)
        wanted = set(self.env.components[pipeline].get("steps") or [])
        pairs: set[tuple[str, str]] = set()
        for name in wanted:
            seen: set[str] = set()
            queue = deque(sorted(self._global_predecessors.get(name, set()) | own.get(name, set())))
            while queue:
                node = queue.popleft()
                if node in seen:
                    continue
                seen.add(node)
                if node in wanted:
                    pairs.add((node, name))
                else:
                    queue.extend(sorted(self._global_predecessors.get(node, set()) | own.get(node, set())))
        return sorted(pairs)

    # --- lineage ---------------------------------------------------------------------
    @functools.cached_property
    def lineage(self) -> dict[str, Lineage]:
        """Effective classification of each component: the highest over incoming data flow (loops included)."""
        own = {name: c.spec["classification"] for name, c in self.env.components.items()}
        upstream = {name: list(self.data_flow.predecessors(name)) for name in own}
        return compute_lineage(own, upstream)

    # --- export ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        env = self.env.name
        return {
            "nodes": [{"id": component_id(env, c), "name": c.name, "type": c.type} for c in self.env.components.values()],
            "edges": [{"from": e.source, "to": e.target, "kind": e.kind} for e in self.edges],
            "order": list(self.order),
            "generations": [list(g) for g in self.generations],
            "lineage": {
                name: {"own": lin.own, "effective": lin.effective, "path": list(lin.path)} for name, lin in sorted(self.lineage.items())
            },
        }


def component_id(env: str, component: Component) -> str:
    return f"{component.type}.{env}.{component.name}"


def build_graph(env: Environment) -> DependencyGraph:
    """The environment's graph, or InputError listing every bad reference and cycle."""
    components = env.components
    diagnostics: list[Diagnostic] = []
    edges: list[Edge] = []
    pools = set(env.spec["cluster"]["node_pools"])
    for component in components.values():
        pool = component.get("node_pool")
        if pool is not None and pool not in pools:
            diagnostics.append(
                Diagnostic(
                    env.locate(f"{component.pointer}/node_pool"),
                    "MLC-E043",
                    f'unknown node pool "{pool}"{did_you_mean(pool, pools)}; '
                    f"cluster.node_pools defines: {', '.join(sorted(pools)) or '(none)'}",
                )
            )
        for ref, target, pointer in _references(component):
            if target not in components:
                diagnostics.append(
                    Diagnostic(
                        env.locate(pointer),
                        "MLC-E040",
                        f'{ref.field} names unknown component "{target}"{did_you_mean(target, set(components))}',
                    )
                )
                continue
            target_kind = components[target].kind
            if not ref.accepts(target_kind):
                same_kind = sorted(n for n, c in components.items() if ref.accepts(c.kind))
                hint = did_you_mean(target, same_kind)
                diagnostics.append(
                    Diagnostic(
                        env.locate(pointer),
                        "MLC-E041",
                        f'{ref.field} names "{target}", a {target_kind.name}; expected {allowed_wording(ref)}{hint}',
                    )
                )
                continue
            if ref.outgoing:
                edges.append(Edge(component.name, target, ref.edge, pointer))
            else:  # reads / model / after / monitors / step / on_failure: the target comes first
                edges.append(Edge(target, component.name, ref.edge, pointer))
    edges += _logging_edges(env, edges)
    diagnostics += _scheduled_steps(env, edges)
    if diagnostics:
        raise InputError(diagnostics)
    graph = DependencyGraph(env, edges)
    _check_cycles(graph)
    return graph


def _logging_edges(env: Environment, edges: list[Edge]) -> list[Edge]:
    """A workload that logs to a tracking server (`tracking`) writes and reads that server's
    artifact store(s) itself: MLflow clients upload artifacts directly (the server runs
    without artifact proxying), so the grants come from the graph like any other."""
    derived = []
    for tracking in (e for e in edges if e.kind == "tracking"):
        for backend in edges:
            if backend.kind == "backend" and backend.source == tracking.source and env.components[backend.target].has(kinds.Trait.BUCKET):
                derived.append(Edge(tracking.target, backend.target, "logs", tracking.pointer))
    return derived


def _scheduled_steps(env: Environment, edges: list[Edge]) -> list[Diagnostic]:
    """A pipeline step runs only through its pipeline, so its own schedule would be ignored."""
    problems = []
    for edge in edges:
        if edge.kind in ("step", "on_failure"):
            step = env.components[edge.source]
            if step.get("schedule"):
                problems.append(
                    Diagnostic(
                        env.locate(f"{step.pointer}/schedule"),
                        "MLC-E044",
                        f'"{step.name}" has its own schedule but runs as a {edge.kind.replace("_", " ")} of pipeline "{edge.target}"; '
                        "remove the schedule here and schedule the pipeline",
                    )
                )
    return problems


def _check_cycles(graph: DependencyGraph) -> None:
    problems = run_order.check_run_order(
        graph.env, list(graph.global_order_edges), {k: list(v) for k, v in graph.pipeline_order_edges.items()}
    )
    if problems:
        raise InputError(problems)
