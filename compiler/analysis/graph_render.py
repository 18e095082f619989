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

RUN_ORDER_KINDS = ("after", "monitors", "step", "on_failure")

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


def to_mermaid(graph: DependencyGraph) -> str:
    lines = ["flowchart LR"]
    for component in graph.env.components.values():
        left, right = _MERMAID_SHAPE[component.type]
        lineage = graph.lineage[component.name]
        note = f"<br/>{lineage.effective}" if lineage.effective in ("pii", "confidential") else ""
        lines.append(f'  {_node_id(component.name)}{left}"{component.name}<br/><i>{component.type}</i>{note}"{right}')
    lines.append("  %% solid: data flow; dashed: data flow on a feedback loop (allowed); thick: run order")
    for edge in graph.edges:
        arrow = {"loop": "-.->", "order": "==>", "flow": "-->"}[_style(graph, edge)]
        lines.append(f"  {_node_id(edge.source)} {arrow}|{edge.kind}| {_node_id(edge.target)}")
    for kind in ("store", "job", "endpoint", "ops"):
        members = [
            _node_id(c.name)
            for c in graph.env.components.values()
            if {
                "store": c.is_store,
                "job": c.type in ("spark_job", "training_job", "batch_inference"),
                "endpoint": c.type == "serving",
                "ops": c.type in ("monitoring", "pipeline"),
            }[kind]
        ]
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
        lines.append(f'  "{component.name}" [shape={_DOT_SHAPE[component.type]}, label="{component.name}\\n{component.type}"];')
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
