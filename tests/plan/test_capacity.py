"""The capacity model (compiler/plan/capacity.py): pool facts, pod requests, and the input
errors MLC-E061..E063 at the exact file:line of the field to change."""

from __future__ import annotations

import pytest

from compiler.core.diagnostics import InputError
from compiler.model.resources import PodGroup
from compiler.plan.pricing import load_pricing
from tests.support.helpers import compiled_env

IMG = "reg.example.com/ml/app:1.0@sha256:" + "ab" * 32
POOLS = """    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    a10g: {instance_type: g5.12xlarge, min: 0, max: 2}"""


def env_text(components: str, pools: str = POOLS, provider: str = 'aws, region: eu-west-1, account: "123456789012"') -> str:
    body = "\n".join("  " + line for line in components.strip("\n").splitlines())
    return "\n".join(
        [
            "apiVersion: mlc/v1",
            "kind: Environment",
            "metadata: {name: e1}",
            f"cloud: {{provider: {provider}}}",
            "cluster:",
            "  name: c1",
            "  node_pools:",
            pools,
            'gitops: {repo: "https://git.example.com/ml/platform.git"}',
            "components:",
            body,
            "",
        ]
    )


def training(extra: str) -> str:
    lines = ["train:", "  type: training_job", f"  image: {IMG}"]
    return "\n".join(lines + ["  " + ln for ln in extra.strip("\n").splitlines()]) + "\n"


def line_of(text: str, marker: str = "# <-") -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def problems(tmp_path, text: str) -> list[tuple[str, int, str]]:
    with pytest.raises(InputError) as err:
        compiled_env(tmp_path, {"e1": text}, "e1")
    return [(d.code, d.location.line, d.location.file) for d in err.value.diagnostics]


CASES = [
    # 8 x A10G on a 4-GPU instance
    ("MLC-E061", training("node_pool: a10g\ngpus: {type: nvidia-a10g, count: 8}  # <-")),
    # an A100 job on an A10G pool
    ("MLC-E062", training("node_pool: a10g\ngpus: {type: nvidia-a100, count: 1}  # <-")),
    # a GPU job on a CPU pool
    ("MLC-E063", training("node_pool: cpu  # <-\ngpus: {type: nvidia-a10g, count: 1}")),
    # GPUs of a model no pool has, without node_pool
    ("MLC-E063", training("gpus: {type: nvidia-h100, count: 1}  # <-")),
    # more GPUs per pod than any pool with that model has per node, without node_pool
    ("MLC-E061", training("gpus: {type: nvidia-a10g, count: 8}  # <-")),
    # memory beyond one m6i.2xlarge node (32 GiB less the kubelet's reservation)
    ("MLC-E061", training("node_pool: cpu\nresources: {cpu: 2, memory: 31Gi}  # <-")),
    # all 8 vCPU of a node: the kubelet keeps 0.09 of them
    ("MLC-E061", training("node_pool: cpu\nresources: {cpu: 8, memory: 8Gi}  # <-")),
]


@pytest.mark.parametrize(("code", "component"), CASES)
def test_capacity_error_at_the_line_to_change(tmp_path, code, component):
    text = env_text(component)
    assert problems(tmp_path, text) == [(code, line_of(text), "environments/e1.yaml")]


def test_spark_executor_memory_with_overhead_does_not_fit(tmp_path):
    # 28Gi + 40 % overhead (a Python job) = 39.2 GiB > 30.47 GiB allocatable on m6i.2xlarge
    text = env_text(
        f"job:\n  type: spark_job\n  image: {IMG}\n  main: local:///app.py\n  node_pool: cpu\n"
        "  executors: {instances: 2, cores: 2, memory: 28Gi}  # <-\n"
    )
    assert problems(tmp_path, text) == [("MLC-E061", line_of(text), "environments/e1.yaml")]


def test_fitting_workloads_compile_and_capacity_is_reported(tmp_path):
    text = env_text(training("node_pool: a10g\ngpus: {type: nvidia-a10g, count: 4}\nresources: {cpu: 40, memory: 150Gi}"))
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    cap = compiled.capacity
    assert cap.gpu_quota == 8  # a10g: max 2 x 4 GPUs
    assert cap.pools["a10g"].to_dict() == {
        "instance_type": "g5.12xlarge",
        "gpus_per_node": 4,
        "gpu_model": "A10G",
        "vcpu_per_node": 48.0,
        "memory_gib_per_node": 192.0,
        "allocatable_cpu": 47.81,  # 48 - (0.06 + 0.01 + 2 x 0.005 + 44 x 0.0025)
        "allocatable_memory_gib": 190.472,
        "min": 0,
        "max": 2,
        "spot": False,
        "zones": [],  # AWS node groups take their subnets (zones) from a variable
    }
    assert cap.pools["cpu"].to_dict()["gpu_model"] == ""  # never None in plan.json
    ((pods,),) = [cap.of("train")]
    assert (pods.pools, pods.pinned, pods.group.count, pods.group.gpus) == (("a10g",), True, 1, 4)


def test_node_allocatable_follows_the_documented_reservations():
    pricing = load_pricing()
    gcp, aws = pricing.providers["gcp"], pricing.providers["aws"]
    # GKE: 32 GiB -> 25 % of 4 + 20 % of 4 + 10 % of 8 + 6 % of 16 = 3.56 GiB, + 100 MiB eviction
    cpu, memory = gcp.node_reserved.allocatable(gcp.instances["n2-standard-8"])
    assert (round(cpu, 4), round(memory, 4)) == (7.91, round(32 - 3.56 - 100 / 1024, 4))
    # EKS: 255 + 11 x 110 MiB kube-reserved + 100 MiB eviction
    cpu, memory = aws.node_reserved.allocatable(aws.instances["m6i.2xlarge"])
    assert (round(cpu, 4), round(memory, 4)) == (7.91, round(32 - (255 + 1210 + 100) / 1024, 4))


def test_pod_groups_of_each_kind(tmp_path):
    text = env_text(
        "models: {type: object_store}\n"
        f"job:\n  type: spark_job\n  image: {IMG}\n  main: local:///app.jar\n  spot: true\n"
        "  driver: {cores: 1, memory: 4Gi}\n  executors: {instances: 3, cores: 2, memory: 8Gi}\n"
        "api:\n  type: serving\n  model: {from: models, path: m/v2}\n  image: " + IMG + "\n"
        "  replicas: {min: 3, max: 6}\n"
        "kserve:\n  type: serving\n  model: {from: models, path: m/v2}\n  runtime: sklearn\n"
        "  replicas: {min: 2, max: 4}\n  canary: {path: m/v3, traffic_percent: 10}\n"
    )
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    groups = {(p.workload, p.group.role): p.group for p in compiled.capacity.pods}
    # JVM overhead: max(10 %, 384 MiB)
    assert groups["job", "driver"] == PodGroup("driver", 1, 1.0, 4.4, cpu_at="/driver/cores", memory_at="/driver/memory")
    assert groups["job", "executor"] == PodGroup(
        "executor", 3, 2.0, 8.8, spot=True, cpu_at="/executors/cores", memory_at="/executors/memory"
    )
    # a KServe canary is a second InferenceService at replicas.min (2); image-based serving has no canary (MLC-E065)
    assert groups["api", "replica"].count == 3 and ("api", "canary") not in groups
    assert (groups["kserve", "replica"].count, groups["kserve", "canary"].count) == (2, 2)
    assert all(groups[k].always_on for k in [("api", "replica"), ("kserve", "replica"), ("kserve", "canary")])
    assert compiled.capacity.of("api")[0].pools == ("cpu",)  # not the GPU pool (tainted)
