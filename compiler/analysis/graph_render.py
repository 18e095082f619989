"""`mlc graph` renderers: Mermaid (renders in pull-request comments), DOT and JSON."""

from __future__ import annotations

import json

from compiler.analysis.graph import DependencyGraph
from compiler.model.environment import Component
from compiler.model.kinds import Category, Trait

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
_CLASS = {"store": "store", "run": "job", "endpoint": "endpoint", "observer": "ops", "orchestrator": "ops"}


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


def to_mermaid(graph: DependencyGraph) -> str:
    lines = ["flowchart LR"]
    for component in graph.env.components.values():
        left, right = _MERMAID_SHAPE[_look(component)]
        lineage = graph.lineage[component.name]
        note = f"<br/>{lineage.effective}" if lineage.effective in ("pii", "confidential") else ""
        lines.append(f'  {_node_id(component.name)}{left}"{component.name}<br/><i>{component.type}</i>{note}"{right}')
    for edge in graph.edges:
        arrow = "-.->" if edge.kind in ("after", "monitors", "step", "on_failure") else "-->"
        lines.append(f"  {_node_id(edge.source)} {arrow}|{edge.kind}| {_node_id(edge.target)}")
    for kind in ("store", "job", "endpoint", "ops"):
        members = [_node_id(c.name) for c in graph.env.components.values() if _CLASS[_look(c)] == kind]
        if members:
            lines.append(f"  class {','.join(members)} {kind}")
    lines += [
        "  classDef store fill:#e8f1fb,stroke:#2b6cb0",
        "  classDef job fill:#fdf2e3,stroke:#c05621",
        "  classDef endpoint fill:#e6f6ec,stroke:#2f855a",
        "  classDef ops fill:#f3e8fd,stroke:#6b46c1",
    ]
    return "\n".join(lines) + "\n"


def to_dot(graph: DependencyGraph) -> str:
    lines = [f'digraph "{graph.env.name}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];']
    for component in graph.env.components.values():
        lines.append(f'  "{component.name}" [shape={_DOT_SHAPE[_look(component)]}, label="{component.name}\\n{component.type}"];')
    for edge in graph.edges:
        style = ", style=dashed" if edge.kind in ("after", "monitors", "step", "on_failure") else ""
        lines.append(f'  "{edge.source}" -> "{edge.target}" [label="{edge.kind}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: DependencyGraph) -> str:
    return json.dumps({"environment": graph.env.name, **graph.to_dict()}, indent=2) + "\n"
