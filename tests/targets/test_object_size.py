"""No emitted object exceeds what the API server stores (MLC-E050, issue 25)."""

from __future__ import annotations

import json

import pytest
import yaml

import compiler.frontend.project as project_module
from compiler.cli import main
from compiler.targets.artifact import Artifact
from compiler.targets.object_size import MAX_OBJECT_BYTES, object_bytes, oversized
from tests.support.helpers import aws_env, load_env, make_project
from tests.targets.kubernetes.test_runtime import DIGEST, OUT, example_envs

STEPS = 1000


def pipeline_env(steps: int) -> str:
    lines = ["models: {type: object_store}"]
    names = [f"s{i:04d}" for i in range(steps)]
    step = f"{{type: batch_inference, image: registry.example.com/score:1{DIGEST}, model: {{from: models, path: m}}}}"
    lines += [f"{n}: {step}" for n in names]
    lines.append(f"flow: {{type: pipeline, steps: [{', '.join(names)}]}}")
    return aws_env("e1", "\n".join(lines))


def test_a_1000_step_pipeline_is_an_error_at_the_pipeline_with_its_size(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(project_module, "MAX_COMPONENTS", STEPS + 2)  # the pipeline: 1000 steps, a store, the pipeline
    make_project(tmp_path, {"e1": pipeline_env(STEPS)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "environments/e1.yaml:1013:3: error MLC-E050: the WorkflowTemplate flow (argo/workflowtemplate-flow.yaml) would be "
        f"2734383 bytes, above mlc's limit of {MAX_OBJECT_BYTES} bytes per object (half of etcd's 1.5 MiB request limit, "
        "leaving room for what the cluster adds to it); split it into smaller parts"
    )
    assert err[1] == "1 problem found; nothing was written"
    assert not (tmp_path / "out").exists()


def test_limit_is_half_of_etcds_request_limit():
    assert MAX_OBJECT_BYTES == 786432 == 1_572_864 // 2


def _artifact(size: int, component: str | None) -> Artifact:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": ""}}
    obj["data"]["k"] = "a" * (size - object_bytes(obj))
    assert object_bytes(obj) == size
    return Artifact("kubernetes/configmap-x.yaml", obj, "yaml", component)


def test_boundary_and_location(tmp_path):
    env = load_env(tmp_path, {"e1": aws_env("e1", "models: {type: object_store}\n")}, "e1")
    assert oversized(env, [_artifact(MAX_OBJECT_BYTES, "models")]) == []
    (at_models,) = oversized(env, [_artifact(MAX_OBJECT_BYTES + 1, "models")])
    assert (str(at_models.location), at_models.code) == ("environments/e1.yaml:12:3", "MLC-E050")
    assert f"would be {MAX_OBJECT_BYTES + 1} bytes" in at_models.message
    (environment_level,) = oversized(env, [_artifact(MAX_OBJECT_BYTES + 1, None)])
    assert str(environment_level.location) == "environments/e1.yaml:11:1"  # the `components:` key
    # Terraform JSON is not an API object: not measured here
    big = Artifact("terraform/main.tf.json", {"kind": "x", "v": "a" * (MAX_OBJECT_BYTES + 1)}, "json")
    assert oversized(env, [big]) == []


@pytest.mark.parametrize("env", example_envs())
def test_every_example_object_is_below_the_limit(env):
    sizes = []
    for path in sorted((OUT / env).rglob("*.yaml")):
        obj = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(obj, dict) and "kind" in obj:
            sizes.append(object_bytes(obj))
    assert sizes and max(sizes) <= MAX_OBJECT_BYTES
    assert json.loads((OUT / env / "platform.json").read_text())["environment"] == env
