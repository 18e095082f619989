"""Run order: what must be in place, or finish, before what. Kept apart from data flow.

Data flow (reads, writes, model, checkpoint) says who touches which data; it drives IAM,
network policy, lineage and cost, and it may contain loops: a scoring job on its own
schedule may write into the store its model's training reads. Data flow alone never orders
two workloads, because standalone workloads run on their own schedules.

Run order has two parts:
- global edges, true everywhere (sync waves, `order`, `generations`):
    after        X -> Y for `Y.after: [X]` (a self-`after` is a cycle)
    placement    a store before each workload touching it, a monitored workload before its
                 monitoring, a step or failure handler before its pipeline
- pipeline edges, true within one run of a pipeline: step W -> step R when W writes
  (`writes`, `checkpoint_to`) a store that R reads (`reads`, `model.from`). Reading back
  one's own checkpoints consumes nothing another step produced, so steps may share a
  checkpoint store.

A cycle is an error only here (MLC-E042). It is reported at the entry that closes it: edges
are added in declaration order (parents' files before children's, then line and column;
placement before `after`, global before pipeline edges), and an edge whose source is
already reachable from its target closes a cycle. It is reported, with the whole path and
every edge's file:line, and left out, so every cycle is reported once and removing the
reported entries leaves run order acyclic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from compiler.core.diagnostics import Diagnostic, Location
from compiler.model.environment import Environment

if TYPE_CHECKING:
    from compiler.analysis.graph import Edge

PRODUCE = ("writes", "checkpoint")  # store written by the edge's source
CONSUME = ("reads", "model")  # store read by the edge's target
STRUCTURE = ("monitors", "step", "on_failure", "offline")  # the referenced component is in place first


@dataclass(frozen=True, order=True)
class OrderEdge:
    source: str  # must be in place / finish before `target`
    target: str
    pipeline: str  # "" for a global edge, else the pipeline within whose runs it holds
    because: tuple[Edge, ...]  # the declared edge(s): (edge,), or (write, read) for a pipeline edge


def global_edges(edges: Iterable[Edge]) -> list[OrderEdge]:
    """`after` and placement edges (see the module docstring)."""
    result = []
    for edge in edges:
        if edge.kind == "after":
            result.append(OrderEdge(edge.source, edge.target, "", (edge,)))
        elif edge.kind in PRODUCE:
            result.append(OrderEdge(edge.target, edge.source, "", (edge,)))  # the store exists before its writer
        elif edge.kind in CONSUME + STRUCTURE:
            result.append(OrderEdge(edge.source, edge.target, "", (edge,)))
    return result


def pipeline_edges(edges: Iterable[Edge], pipeline: str, steps: Iterable[str]) -> list[OrderEdge]:
    """Step -> step within one run of `pipeline`: the writer of a store before its readers."""
    members = set(steps)
    written: dict[str, list[Edge]] = {}
    read: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.kind in PRODUCE and edge.source in members:
            written.setdefault(edge.target, []).append(edge)
        elif edge.kind in CONSUME and edge.target in members:
            read.setdefault(edge.source, []).append(edge)
    result = []
    for store in sorted(set(written) & set(read)):
        for write in written[store]:
            for consume in read[store]:
                if write.source != consume.target:  # reading and writing one store is no order
                    result.append(OrderEdge(write.source, consume.target, pipeline, (write, consume)))
    return sorted(result)


def digraph(nodes: Iterable[str], edges: Iterable[OrderEdge]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(nodes))
    graph.add_edges_from((e.source, e.target) for e in edges)
    return graph


class _Positions:
    """Declaration order of graph edges: (file in merge order, line, column), located lazily."""

    def __init__(self, env: Environment):
        self.env = env
        self.files = {name: index for index, name in enumerate(env.files)}
        self.cache: dict[str, Location] = {}

    def location(self, edge: Edge) -> Location:
        if edge.pointer not in self.cache:
            self.cache[edge.pointer] = self.env.locate(edge.pointer)
        return self.cache[edge.pointer]

    def rank(self, edge: Edge) -> tuple[int, int, int]:
        loc = self.location(edge)
        return (self.files.get(loc.file, len(self.files)), loc.line, loc.col)

    def closing(self, order_edge: OrderEdge) -> Edge:
        """The declared edge that completes `order_edge`: the later of its entries."""
        return max(order_edge.because, key=self.rank)


Index = dict[str, dict[str, OrderEdge]]  # source -> target -> the edge kept for the pair


def index(edges: Iterable[OrderEdge]) -> Index:
    result: Index = {}
    for edge in edges:
        result.setdefault(edge.source, {}).setdefault(edge.target, edge)
    return result


def find_cycles(
    base: Index, added: list[OrderEdge], priority: Callable[[OrderEdge], tuple[object, ...]]
) -> list[tuple[OrderEdge, list[OrderEdge]]]:
    """(closing edge, cycle path ending with it) for every cycle `added` makes over acyclic `base`.

    Only the part of the graph reachable from `added` is looked at (a pipeline's few steps in
    a large environment). `added` edges outside its cyclic strongly connected components go
    in first (they close nothing), then the others by `priority`; one that closes a cycle is
    reported and left out.
    """
    extra = index(added)

    def successors(node: str) -> dict[str, OrderEdge]:
        return {**extra.get(node, {}), **base.get(node, {})}

    reach = {e.target for e in added}
    queue = deque(sorted(reach))
    while queue:
        for successor in successors(queue.popleft()):
            if successor not in reach:
                reach.add(successor)
                queue.append(successor)
    sub = nx.DiGraph()
    sub.add_nodes_from(reach)
    sub.add_edges_from((node, successor) for node in reach for successor in successors(node))
    if nx.is_directed_acyclic_graph(sub):
        return []
    component_of = {node: index for index, members in enumerate(nx.strongly_connected_components(sub)) for node in members}
    cyclic = {e for e in added if e.source in component_of and component_of[e.source] == component_of[e.target]}
    kept = index(e for e in added if e not in cyclic)

    def current(node: str) -> dict[str, OrderEdge]:
        return {**kept.get(node, {}), **base.get(node, {})}

    found = []
    for edge in sorted(cyclic, key=lambda e: (priority(e), e)):
        path = _path(current, edge.target, edge.source)
        if path is None:
            kept.setdefault(edge.source, {}).setdefault(edge.target, edge)
        else:
            found.append((edge, path + [edge]))
    return found


def _path(successors: Callable[[str], dict[str, OrderEdge]], start: str, goal: str) -> list[OrderEdge] | None:
    """Shortest path of kept edges from `start` to `goal` (ties by name), or None."""
    if start == goal:
        return []
    parent: dict[str, OrderEdge] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        edges = successors(node)
        for successor in sorted(edges):
            if successor in seen:
                continue
            seen.add(successor)
            parent[successor] = edges[successor]
            if successor == goal:
                path = [parent[goal]]
                while path[-1].source != start:
                    path.append(parent[path[-1].source])
                return path[::-1]
            queue.append(successor)
    return None


# --- messages ---------------------------------------------------------------------------
_HOW = {
    "reads": "{t} reads {s}",
    "writes": "{s} writes {t}",
    "model": "{t} loads its model from {s}",
    "checkpoint": "{s} checkpoints to {t}",
    "after": "{t} after {s}",
    "monitors": "{t} monitors {s}",
    "step": "{s} is a step of {t}",
    "on_failure": "{s} is the on_failure handler of {t}",
}


def _describe(edge: OrderEdge, positions: _Positions) -> str:
    if edge.pipeline:
        write, consume = edge.because
        where = (positions.location(write), positions.location(consume))
        return f"{write.source} writes {write.target} at {where[0]}, read by {consume.target} at {where[1]}"
    (declared,) = edge.because
    return f"{_HOW[declared.kind].format(s=declared.source, t=declared.target)} at {positions.location(declared)}"


def cycle_diagnostic(closing: OrderEdge, path: list[OrderEdge], positions: _Positions) -> Diagnostic:
    """MLC-E042 at the entry that closes the cycle, with every edge of it and the fix."""
    entry = positions.closing(closing)
    steps = " -> ".join(f"{e.target} ({_describe(e, positions)})" for e in path)
    field = {"model": "model.from", "checkpoint": "checkpoint_to"}.get(entry.kind, entry.kind)
    fix = "remove it" if len(path) == 1 else "remove it or another of these entries"
    if closing.pipeline:
        message = (
            f'dependency cycle within one run of pipeline "{closing.pipeline}": {path[0].source} -> {steps}; '
            f'this {field} entry closes it: {fix}, or split "{closing.pipeline}" into pipelines on their own schedules '
            "(data shared between separately scheduled workloads does not order them)"
        )
    else:
        message = f"dependency cycle: {path[0].source} -> {steps}; this {field} entry closes it: {fix}"
    return Diagnostic(positions.location(entry), "MLC-E042", message)


def check_run_order(env: Environment, global_order: list[OrderEdge], pipelines: dict[str, list[OrderEdge]]) -> list[Diagnostic]:
    """MLC-E042 for every run-order cycle: through `after` first, then within each pipeline."""
    positions = _Positions(env)

    def declared(edge: OrderEdge) -> tuple[object, ...]:
        # placement edges are implied by references, so an `after` entry closes a cycle before them
        return (edge.because[0].kind == "after", positions.rank(positions.closing(edge)))

    found = find_cycles({}, global_order, declared)
    problems = [cycle_diagnostic(edge, path, positions) for edge, path in found]
    closing = {edge for edge, _ in found}
    kept = index(e for e in global_order if e not in closing)
    for name in sorted(pipelines):
        found = find_cycles(kept, pipelines[name], declared)
        problems += [cycle_diagnostic(edge, path, positions) for edge, path in found]
    return problems
