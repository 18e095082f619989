"""The component dependency graph of one environment: typed edges, order, lineage.

Edges point the way data (or ordering) flows:
  reads       store -> workload        writes      workload -> store
  model       store -> serving/batch   checkpoint  training -> store
  after       X -> Y  (Y after X)      monitors    target -> monitoring
  step        step -> pipeline         on_failure  handler -> pipeline

Streams are data nodes like buckets: `reads` of a stream consume it,
`writes` produce into it. A stream is read while it is written, so its readers are not
ordered after its writers (a consumer that also produces upstream would otherwise be a cycle).

Everything downstream (IAM, network policy, Argo DAGs, sync waves, lineage policies)
reads this module's API, never the raw `reads`/`writes` lists.
"""

from __future__ import annotations

import functools
from collections import deque
from dataclasses import dataclass
from typing import Any

import networkx as nx

from compiler.core.diagnostics import Diagnostic, InputError, did_you_mean
from compiler.model import kinds
from compiler.model.environment import CLASSIFICATION_RANK, Component, Environment
from compiler.model.kinds import Reference

READ_KINDS = ("reads", "model")
WRITE_KINDS = ("writes", "checkpoint")
FLOW_KINDS = READ_KINDS + WRITE_KINDS  # edges data (and its classification) flows along


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


@dataclass(frozen=True)
class Lineage:
    own: str
    effective: str
    path: tuple[str, ...]  # from the component whose own class is `effective` to this one


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
        return tuple(sorted(read | {e.target for e in self.edges if e.source == name and e.kind == "checkpoint"}))

    def writes(self, name: str) -> tuple[str, ...]:
        """Stores a workload writes (writes + checkpoints), sorted."""
        return tuple(sorted({e.target for e in self.edges if e.source == name and e.kind in WRITE_KINDS}))

    def readers(self, store: str) -> tuple[str, ...]:
        read = {e.target for e in self.edges if e.source == store and e.kind in READ_KINDS}
        return tuple(sorted(read | {e.source for e in self.edges if e.target == store and e.kind == "checkpoint"}))

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

    # --- ordering --------------------------------------------------------------------
    @functools.cached_property
    def ordering(self) -> nx.DiGraph:
        """X -> Y when X must be in place / finish before Y (see `workload_order`)."""
        order = nx.DiGraph()
        order.add_nodes_from(sorted(self.env.components))
        for edge in self.edges:
            if edge.kind in READ_KINDS + WRITE_KINDS:
                store = edge.source if edge.kind in READ_KINDS else edge.target
                workload = edge.target if edge.kind in READ_KINDS else edge.source
                order.add_edge(store, workload)  # the store exists before anything touching it
            elif edge.source != edge.target or edge.kind == "after":
                order.add_edge(edge.source, edge.target)
        for store, component in self.env.components.items():
            if component.has(kinds.Trait.STREAM):
                continue  # produced and consumed at the same time: no order between them
            # data consumers only: a job reading back its own checkpoints consumes nothing
            # another job produced, so it adds no ordering (two jobs may share a checkpoint store)
            consumers = {e.target for e in self.edges if e.source == store and e.kind in READ_KINDS}
            for writer in self.writers(store):
                for reader in sorted(consumers):
                    if writer != reader:
                        order.add_edge(writer, reader)  # produced before consumed
        return order

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

    def workload_order(self, names: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
        """Direct predecessor pairs (X, Y) among `names`: X must finish before Y starts.

        Transitive through components outside `names` (e.g. a store between two steps).
        """
        wanted = set(names)
        pairs: set[tuple[str, str]] = set()
        for name in wanted:
            seen: set[str] = set()
            queue = deque(self.ordering.predecessors(name))
            while queue:
                node = queue.popleft()
                if node in seen:
                    continue
                seen.add(node)
                if node in wanted:
                    pairs.add((node, name))
                else:
                    queue.extend(self.ordering.predecessors(node))
        return sorted(pairs)

    # --- lineage ---------------------------------------------------------------------
    @functools.cached_property
    def lineage(self) -> dict[str, Lineage]:
        """Effective classification of each component: the highest along incoming data flow."""
        flow: dict[str, list[str]] = {name: [] for name in self.env.components}  # node -> upstream
        for edge in self.edges:
            if edge.kind in FLOW_KINDS:
                flow[edge.target].append(edge.source)
        result: dict[str, Lineage] = {}
        for name, component in self.env.components.items():
            own = component.spec["classification"]
            best, best_path = own, (name,)  # type: tuple[str, tuple[str, ...]]
            parents: dict[str, str | None] = {name: None}
            queue = deque([name])
            while queue:  # BFS upstream: the shortest explanation of the highest class
                node = queue.popleft()
                for upstream in sorted(flow[node]):
                    if upstream in parents:
                        continue
                    parents[upstream] = node
                    queue.append(upstream)
                    cls = self.env.components[upstream].spec["classification"]
                    if CLASSIFICATION_RANK[cls] > CLASSIFICATION_RANK[best]:
                        best, path = cls, [upstream]
                        while parents[path[-1]] is not None:
                            path.append(parents[path[-1]])  # type: ignore[arg-type]
                        best_path = tuple(path)
            result[name] = Lineage(own, best, best_path)
        return result

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
    diagnostics += _scheduled_steps(env, edges)
    if diagnostics:
        raise InputError(diagnostics)
    graph = DependencyGraph(env, edges)
    _check_cycles(graph)
    return graph


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
    order = graph.ordering
    if nx.is_directed_acyclic_graph(order):
        return
    env = graph.env
    diagnostics = []
    for component_set in sorted(
        (sorted(c) for c in nx.strongly_connected_components(order) if len(c) > 1 or order.has_edge(*(list(c) * 2))), key=lambda c: c[0]
    ):
        cycle = [u for u, _ in nx.find_cycle(order.subgraph(component_set))]
        start = min(range(len(cycle)), key=lambda i: cycle[i])
        cycle = cycle[start:] + cycle[:start]
        described = " -> ".join(f"{n} ({env.locate(f'/components/{n}', True)})" for n in cycle) + f" -> {cycle[0]}"
        diagnostics.append(Diagnostic(env.locate(f"/components/{cycle[0]}", True), "MLC-E042", f"dependency cycle: {described}"))
    raise InputError(diagnostics)
