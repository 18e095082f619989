"""`mlc graph` renderers: Mermaid (renders in pull-request comments), DOT and JSON."""

from __future__ import annotations

import json

from compiler.analysis.graph import DependencyGraph

# Mermaid node shapes: stores are cylinders, runnable jobs rectangles, endpoints rounded,
# monitoring hexagons, pipelines subroutines.
_MERMAID_SHAPE = {
    "object_store": ("[(", ")]"),
    "data_lake": ("[(", ")]"),
    "database": ("[(", ")]"),
    "spark_job": ("[", "]"),
    "training_job": ("[", "]"),
    "batch_inference": ("[", "]"),
    "serving": ("([", "])"),
    "monitoring": ("{{", "}}"),
    "pipeline": ("[[", "]]"),
}
_DOT_SHAPE = {
    "object_store": "cylinder",
    "data_lake": "cylinder",
    "database": "cylinder",
    "spark_job": "box",
    "training_job": "box",
    "batch_inference": "box",
    "serving": "ellipse",
    "monitoring": "hexagon",
    "pipeline": "component",
}


def _node_id(name: str) -> str:
    return "n_" + name.replace("-", "_")


# the role of a component, shared by both renderers: (class, fill, stroke)
_ROLES = {
    "store": ("#e8f1fb", "#2b6cb0"),
    "job": ("#fdf2e3", "#c05621"),
    "endpoint": ("#e6f6ec", "#2f855a"),
    "ops": ("#f3e8fd", "#6b46c1"),
}
_ROLE_OF_TYPE = {
    "spark_job": "job",
    "training_job": "job",
    "batch_inference": "job",
    "serving": "endpoint",
    "monitoring": "ops",
    "pipeline": "ops",
}


def _role(component: object) -> str | None:
    if getattr(component, "is_store", False):
        return "store"
    return _ROLE_OF_TYPE.get(getattr(component, "type", ""))


def _sensitive(graph: DependencyGraph, name: str) -> str | None:
    """The effective (lineage) classification when it needs attention: pii or confidential."""
    effective = graph.lineage[name].effective
    return effective if effective in ("pii", "confidential") else None


def to_mermaid(graph: DependencyGraph) -> str:
    lines = ["flowchart LR"]
    for component in graph.env.components.values():
        left, right = _MERMAID_SHAPE[component.type]
        sensitive = _sensitive(graph, component.name)
        note = f"<br/>{sensitive}" if sensitive else ""
        lines.append(f'  {_node_id(component.name)}{left}"{component.name}<br/><i>{component.type}</i>{note}"{right}')
    for edge in graph.edges:
        arrow = "-.->" if edge.kind in ("after", "monitors", "step", "on_failure") else "-->"
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
        attrs = [f"shape={_DOT_SHAPE[component.type]}"]
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
    for edge in graph.edges:
        style = ", style=dashed" if edge.kind in ("after", "monitors", "step", "on_failure") else ""
        lines.append(f'  "{edge.source}" -> "{edge.target}" [label="{edge.kind}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(graph: DependencyGraph) -> str:
    return json.dumps({"environment": graph.env.name, **graph.to_dict()}, indent=2) + "\n"
