"""Kubernetes emitter: run objects, hardening, network policy, RBAC, kustomize, Checkov."""

from __future__ import annotations

import pytest

from tests.helpers import aws_env, compiled_env, example_environments
from tests.validators import validate_k8s_object


@pytest.fixture(scope="module")
def examples():
    from compiler.pipeline import plan_environment

    return {env.name: plan_environment(env) for env in example_environments()}


def test_run_objects_of_examples_validate(examples):
    from compiler.emit.k8s_workloads import build_run_object

    for compiled in examples.values():
        for component in compiled.env.of_type("spark_job", "training_job", "batch_inference"):
            obj = build_run_object(compiled, component)
            assert validate_k8s_object(obj) == [], (compiled.name, component.name)
            assert "annotations" not in obj["metadata"]


def test_single_node_training_is_a_job_with_gpus(tmp_path):
    compiled = compiled_env(
        tmp_path,
        {
            "e1": aws_env(
                "e1",
                """
                models: {type: object_store}
                train:
                  type: training_job
                  image: registry.example.com/t:1.0
                  writes: [models]
                  gpus: {type: nvidia-a10g, count: 1}
                  node_pool: gpu
                  spot: true
                  max_runtime_hours: 2
                """,
                extra="",
            ).replace(
                "    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n",
                "    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n    gpu: {instance_type: g5.12xlarge, max: 2, spot: true}\n",
            )
        },
        "e1",
    )
    from compiler.emit.k8s_workloads import build_run_object

    job = build_run_object(compiled, compiled.env.components["train"])
    assert job["kind"] == "Job" and job["apiVersion"] == "batch/v1"
    spec = job["spec"]
    assert spec["activeDeadlineSeconds"] == 7200
    pod = spec["template"]["spec"]
    assert pod["nodeSelector"] == {"mlc.dev/node-pool": "gpu"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert {"key": "mlc.dev/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in pod["tolerations"]
    res = pod["containers"][0]["resources"]
    assert res["requests"]["nvidia.com/gpu"] == res["limits"]["nvidia.com/gpu"] == "1"
    assert validate_k8s_object(job) == []
