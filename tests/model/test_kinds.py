"""A component kind cannot be half-added: schema, registry, graph, cost, emitters, examples.

What each target does for a kind is declared in its dispatch table (test_extension_points
checks that the tables agree with each kind's `emits_to`); here every built-in kind is
compiled and must produce something in each target it declares.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.model import kinds
from tests.support.helpers import REPO, aws_env, compiled_env

IMG = "reg.example.com/ml/app:1.0@sha256:" + "c" * 64
MINIMAL = {
    "object_store": "{type: object_store, size_gb: 1, lifecycle: {expire_after_days: 30}}",
    "data_lake": "{type: data_lake, size_gb: 1, lifecycle: {expire_after_days: 30}}",
    "database": "{type: database, instance_class: db.t3.small}",
    "spark_job": f"{{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [s]}}",
    "training_job": f"{{type: training_job, image: '{IMG}', reads: [s], max_runtime_hours: 2, nodes: 2, schedule: '0 3 * * *'}}",
    "serving": "{type: serving, runtime: sklearn, model: {from: s, path: m}, slo: {latency_p99_ms: 100}}",
    "batch_inference": f"{{type: batch_inference, image: '{IMG}', model: {{from: s}}, schedule: '0 4 * * *'}}",
    "monitoring": "{type: monitoring, targets: [w]}",
    "pipeline": "{type: pipeline, steps: [w]}",
    "job": f"{{type: job, image: '{IMG}', reads: [s], schedule: '0 5 * * *'}}",
    "tuning_job": "{type: tuning_job, trial: w, objective: {metric: acc, goal: maximize}, parameters: {lr: {min: 0.001, max: 0.1}}}",
    "tracking_server": f"{{type: tracking_server, image: '{IMG}', database: db, artifacts: s}}",
    "edge_deployment": (
        f"{{type: edge_deployment, image: '{IMG}', runtime: onnx, model: {{from: s, path: m}}, fleet: {{cluster_labels: {{f: a}}}}}}"
    ),
    "stream": "{type: stream, partitions: 2}",
    "stream_job": f"{{type: stream_job, image: '{IMG}', main: 'local:///opt/flink/usrlib/j.jar', reads: [s], checkpoint_to: s}}",
    "feature_store": f"{{type: feature_store, offline: lake, materialize: {{schedule: '@daily', image: '{IMG}'}}}}",
}
HELPERS = {
    "monitoring": "w: {type: serving, runtime: sklearn, model: {from: s}, slo: {latency_p99_ms: 100}}",
    "pipeline": f"w: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [s]}}",
    "tuning_job": f"w: {{type: training_job, image: '{IMG}', reads: [s], max_runtime_hours: 2}}",
    "tracking_server": "db: {type: database, instance_class: db.t3.small}",
    "feature_store": "lake: {type: data_lake, size_gb: 1, lifecycle: {expire_after_days: 30}}",
}


def test_schema_and_model_know_every_kind() -> None:
    schema = json.loads((REPO / "schemas" / "environment.schema.json").read_text())
    assert schema["$defs"]["component"]["properties"]["type"]["enum"] == list(kinds.names())
    assert set(kinds.names()) <= set(schema["$defs"])


def test_packaged_schema_is_the_published_schema() -> None:
    assert (REPO / "compiler" / "data" / "environment.schema.json").read_bytes() == (
        REPO / "schemas" / "environment.schema.json"
    ).read_bytes()


@pytest.mark.parametrize("kind", kinds.names())
def test_every_kind_is_planned_costed_and_emitted(tmp_path: Path, kind: str) -> None:
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.kubernetes.emit import emit_kubernetes
    from compiler.targets.terraform.emitter import emit_terraform

    body = "s: {type: object_store, size_gb: 1, lifecycle: {expire_after_days: 30}}\n"
    body += HELPERS.get(kind, "") + "\n" if kind in HELPERS else ""
    name = "x" if kind != "object_store" else "s"
    if kind != "object_store":
        body += f"x: {MINIMAL[kind]}\n"
    compiled = compiled_env(tmp_path, {"e1": aws_env("e1", body)}, "e1")
    assert any(item.component == name for item in compiled.cost.items)
    declared = kinds.get(kind).emits_to
    for target, emit in (("kubernetes", emit_kubernetes), ("terraform", emit_terraform), ("argo", emit_argo)):
        owned = [a for a in emit(compiled) if a.component == name]
        assert bool(owned) == (target in declared), f"{target} and a {kind}: emits {[a.path for a in owned]}, declared {sorted(declared)}"
