"""`mlc graph` renderers: Mermaid (renders in pull-request comments), DOT and JSON.

Three edge styles keep the two graphs apart (see graph.py):
  data flow                     solid        `-->`  / DOT default
  data flow on a feedback loop  dashed       `-.->` / DOT style=dashed (allowed)
  run order (after, monitors,   thick        `==>`  / DOT style=bold
  step, on_failure)
JSON marks each edge with `loop`, lists the `loops`, and gives each pipeline's run order.
"""

from __future__ import annotations

import json

from compiler.analysis.graph import DependencyGraph, Edge
from compiler.model.environment import Component
from compiler.model.kinds import Category, Trait

RUN_ORDER_KINDS = ("after", "monitors", "step", "on_failure")

# Node shapes follow what a component is, not its kind's name: stores are cylinders,
# jobs rectangles, endpoints rounded, monitoring hexagons, orchestration subroutines.
_MERMAID_SHAPE = {
    "store": ("[(", ")]"),
    "run": ("[", "]"),
    "endpoint": ("([", "])"),
    "observer": ("{{", "}}"),
    "orchestrator": ("[[", "]]"),
}
_DOT_SHAPE = {"store": "cylinder", "run": "box", "endpoint": "ellipse", "observer": "hexagon", "orchestrator": "component"}
_CLASS = {"store": "store", "run": "run", "endpoint": "endpoint", "observer": "ops", "orchestrator": "ops"}


def _look(component: Component) -> str:
    category = component.category
    if category is Category.STORE:
        return "store"
    if category is Category.MONITORING:
        return "observer"
    if category is Category.ORCHESTRATION:
        return "orchestrator"
    return "endpoint" if component.has(Trait.LONG_RUNNING) else "run"


def _node_id(name: str) -> str:
    return "n_" + name.replace("-", "_")


# the role of a component, shared by both renderers: (class, fill, stroke)
_ROLES = {
    "store": ("#e8f1fb", "#2b6cb0"),
    "run": ("#fdf2e3", "#c05621"),
    "endpoint": ("#e6f6ec", "#2f855a"),
    "ops": ("#f3e8fd", "#6b46c1"),
}


def _role(component: Component) -> str:
    """Colour class of a component: store, job, endpoint or ops (from its category and traits)."""
    return _CLASS[_look(component)]


def _sensitive(graph: DependencyGraph, name: str) -> str | None:
    """The effective (lineage) classification when it needs attention: pii or confidential."""
    effective = graph.lineage[name].effective
    return effective if effective in ("pii", "confidential") else None


def to_mermaid(graph: DependencyGraph) -> str:
    lines = ["flowchart LR"]
    for component in graph.env.components.values():
        left, right = _MERMAID_SHAPE[_look(component)]
        sensitive = _sensitive(graph, component.name)
        note = f"<br/>{sensitive}" if sensitive else ""
        lines.append(f'  {_node_id(component.name)}{left}"{component.name}<br/><i>{component.type}</i>{note}"{right}')
    lines.append("  %% solid: data flow; dashed: data flow on a feedback loop (allowed); thick: run order")
    for edge in graph.edges:
        arrow = {"loop": "-.->", "order": "==>", "flow": "-->"}[_style(graph, edge)]
        lines.append(f"  {_node_id(edge.source)} {arrow}|{edge.kind}| {_node_id(edge.target)}")
    for kind in _ROLES:
        members = [_node_id(c.name) for c in graph.env.components.values() if _role(c) == kind]
        if members:
            lines.append(f"  class {','.join(members)} {kind}")
    lines += [f"  classDef {kind} fill:{fill},stroke:{stroke}" for kind, (fill, stroke) in _ROLES.items()]
    return "\n".join(lines) + "\n"


def to_dot(graph: DependencyGraph) -> str:
    """DOT with what the Mermaid view shows: the role as `class` and colours, and the effective
    classification (pii / confidential, from lineage) in the label and a bold red border."""
    lines = [f'digraph "{graph.env.name}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for component in graph.env.components.values():
        attrs = [f"shape={_DOT_SHAPE[_look(component)]}"]
        label = f"{component.name}\\n{component.type}"
        role = _role(component)
        if role:
            fill, stroke = _ROLES[role]
            attrs += [f'class="{role}"', 'style="filled"', f'fillcolor="{fill}"', f'color="{stroke}"']
        sensitive = _sensitive(graph, component.name)
        if sensitive:
            label += f"\\n{sensitive}"
            attrs += [f'classification="{sensitive}"', "penwidth=2", 'fontcolor="#c53030"']
        lines.append(f'  "{component.name}" [{", ".join(attrs)}, label="{label}"];')
    lines.append("  // solid: data flow; dashed: data flow on a feedback loop (allowed); bold: run order")
    for edge in graph.edges:
        style = {"loop": ", style=dashed", "order": ", style=bold", "flow": ""}[_style(graph, edge)]
        lines.append(f'  "{edge.source}" -> "{edge.target}" [label="{edge.kind}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: DependencyGraph) -> str:
    data = graph.to_dict()
    data["edges"] = [{"from": e.source, "to": e.target, "kind": e.kind, "loop": graph.in_loop(e)} for e in graph.edges]
    data["loops"] = [list(loop) for loop in graph.loops]
    data["pipelines"] = {name: [list(pair) for pair in graph.pipeline_order(name)] for name in sorted(graph.pipeline_order_edges)}
    return json.dumps({"environment": graph.env.name, **data}, indent=2) + "\n"


def _style(graph: DependencyGraph, edge: Edge) -> str:
    if edge.kind in RUN_ORDER_KINDS:
        return "order"
    return "loop" if graph.in_loop(edge) else "flow"
