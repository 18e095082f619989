"""The lifecycle kinds (issue 22): tuning, tracking, plain jobs, Ray, edge fleets, confidential compute.

Exact findings and errors (rule or code, component, file:line and message), exact grants, and
every emitted object validated against its upstream schema. Katib's Experiment CRD has no
structural schema (`x-kubernetes-preserve-unknown-fields` at the top), so the Experiment is
also checked against Katib's documented v1beta1 fields, written out below.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.diagnostics import InputError
from compiler.plan.compiled import WorkloadGrants
from compiler.policy.engine import run_policies
from compiler.providers import naming
from tests.support import validators as v
from tests.support.helpers import REPO, aws_env, compiled_env

TODAY = date(2026, 6, 1)
IMG = "reg.example.com/ml/app:1.0@sha256:" + "e" * 64
CONF_POOLS = """cluster:
  name: c1
  node_pools:
    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    conf: {instance_type: m6a.2xlarge, min: 1, max: 3, confidential: true}
    gpu: {instance_type: g5.2xlarge, min: 0, max: 2, spot: true}
"""


def env_text(components: str, top: str = "", pools: str = CONF_POOLS) -> str:
    """A minimal AWS environment with `pools` as its cluster and `top` as extra top-level keys."""
    text = aws_env("e1", components, top)
    start, end = text.index("cluster:\n"), text.index("gitops:")
    return text[:start] + pools + text[end:]


def line_of(text: str, marker: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, marker
    return lines[0]


def col_of(text: str, marker: str, token: str) -> int:
    """1-based column of `token` on the line carrying `marker`."""
    line = text.splitlines()[line_of(text, marker) - 1]
    return line.index(token) + 1


def errors_of(tmp_path: Path, text: str) -> list[tuple[str, int, int, str]]:
    with pytest.raises(InputError) as err:
        compiled_env(tmp_path, {"e1": text}, "e1")
    return [(d.code, d.location.line, d.location.col, d.message) for d in err.value.diagnostics]


def findings(tmp_path: Path, text: str, rule: str) -> list[tuple[str | None, int, str]]:
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    found = run_policies(compiled, tmp_path / "policies", TODAY)
    return [(f.component, f.location.line, f.message) for f in found if f.rule == rule]


def objects(compiled: Any) -> dict[tuple[str, str], dict[str, Any]]:
    from compiler.targets.kubernetes.emit import kubernetes_objects

    return {(o["kind"], o["metadata"]["name"]): o for o in kubernetes_objects(compiled)}


# --- confidential computing -----------------------------------------------------------------
CONFIDENTIAL = f"""
raw: {{type: object_store, classification: pii}}
feat: {{type: object_store}}
models: {{type: object_store}}
etl:
  type: job
  image: '{IMG}'
  reads: [raw]
  writes: [feat]
  node_pool: cpu  # <- etl
embed: {{type: job, image: '{IMG}', reads: [feat], node_pool: conf}}
scorer:  # <- scorer
  type: job
  image: '{IMG}'
  writes: [models]
  reads: [feat]
api:
  type: serving
  model: {{from: models, path: m/v1}}
  runtime: sklearn
  node_pool: cpu  # <- api
fleet:  # <- fleet
  type: edge_deployment
  image: '{IMG}'
  runtime: onnx
  model: {{from: models, path: m/v1}}
  fleet: {{cluster_labels: {{site: shop}}}}
public-job: {{type: job, image: '{IMG}', node_pool: cpu}}
"""


def _rw(grants: WorkloadGrants) -> tuple:
    """(workload, reads, writes) of a grant; its per-edge Access is checked in tests/targets/terraform/test_terraform.py."""
    return grants.workload, grants.reads, grants.writes


def test_confidential_computing_findings_follow_lineage(tmp_path: Path) -> None:
    text = env_text(CONFIDENTIAL, "compliance: {confidential_computing: [pii]}\n")
    got = findings(tmp_path, text, "MLC-GOV-070")
    assert got == [  # in file order
        ("etl", line_of(text, "# <- etl"), 'touches pii data (raw (pii) -> etl) but runs on node pool "cpu", which is not confidential'),
        (
            "scorer",
            line_of(text, "# <- scorer"),
            "touches pii data (raw (pii) -> etl -> feat -> scorer) but names no node_pool; pii requires a pool with confidential: true",
        ),
        # lineage: api reads only `models` (declared internal), which scorer wrote from pii-derived features
        (
            "api",
            line_of(text, "# <- api"),
            'touches pii data (raw (pii) -> etl -> feat -> scorer -> models -> api) but runs on node pool "cpu", which is not confidential',
        ),
        (
            "fleet",
            line_of(text, "# <- fleet"),
            "touches pii data (raw (pii) -> etl -> feat -> scorer -> models -> fleet) "
            "but runs on edge clusters, outside any confidential node pool",
        ),
    ]
    # embed reads pii-derived data on the confidential pool; public-job touches nothing sensitive
    assert (
        findings(tmp_path / "other", env_text(CONFIDENTIAL, "compliance: {confidential_computing: [confidential]}\n"), "MLC-GOV-070") == []
    )


def test_a_tuning_job_is_checked_through_its_trial(tmp_path: Path) -> None:
    text = env_text(
        f"""
raw: {{type: object_store, classification: pii}}
train:
  type: training_job
  image: '{IMG}'
  reads: [raw]
  max_runtime_hours: 2
  node_pool: cpu  # <- train
tune: {{type: tuning_job, trial: train, objective: {{metric: acc, goal: maximize}}, parameters: {{lr: {{min: 0.01, max: 0.1}}}}}}
""",
        "compliance: {confidential_computing: [pii]}\n",
    )
    assert findings(tmp_path, text, "MLC-GOV-070") == [
        (
            "train",
            line_of(text, "# <- train"),
            'touches pii data (raw (pii) -> train) but runs on node pool "cpu", which is not confidential',
        )
    ]


def test_confidential_pools_need_a_confidential_instance_type(tmp_path: Path) -> None:
    pools = CONF_POOLS.replace("m6a.2xlarge", "m6i.2xlarge")
    text = env_text("", pools=pools)
    assert errors_of(tmp_path, text) == [
        (
            "MLC-E059",
            line_of(text, "conf:"),
            col_of(text, "conf:", "true"),
            'node pool "conf": m6i.2xlarge cannot run as a confidential VM on aws (AMD SEV-SNP: instance families m6a, c6a, r6a)',
        )
    ]


def test_confidential_pools_in_terraform(tmp_path: Path) -> None:
    from compiler.targets.terraform.emitter import emit_terraform

    compiled = compiled_env(tmp_path, {"e1": env_text("")}, "e1")
    cluster = next(a.content for a in emit_terraform(compiled) if a.path == "terraform/cluster.tf.json")
    template = cluster["resource"]["aws_launch_template"]["conf"]
    assert template["cpu_options"] == {"amd_sev_snp": "enabled"}
    assert template["block_device_mappings"][0]["ebs"]["volume_size"] == 100
    group = cluster["resource"]["aws_eks_node_group"]["conf"]
    assert group["launch_template"] == {"id": "${aws_launch_template.conf.id}", "version": "${aws_launch_template.conf.latest_version}"}
    # every pool has a launch template (it tags instances and volumes for the budget); only the
    # confidential one turns SEV-SNP on, and no node group sets disk_size beside its template
    assert all("disk_size" not in g for g in cluster["resource"]["aws_eks_node_group"].values())
    assert set(cluster["resource"]["aws_launch_template"]) == set(cluster["resource"]["aws_eks_node_group"])
    assert "cpu_options" not in cluster["resource"]["aws_launch_template"]["cpu"]
    assert v.validate_terraform_json(cluster, "aws") == []


def test_confidential_gke_nodes(tmp_path: Path) -> None:
    from compiler.targets.terraform.emitter import emit_terraform

    text = (REPO / "environments" / "research-gcp.yaml").read_text()
    text = text.replace(
        "    cpu: {instance_type: n2-standard-8, min: 1, max: 8}",
        "    cpu: {instance_type: n2d-standard-8, min: 1, max: 8, confidential: true}",
    )
    compiled = compiled_env(tmp_path, {"research-gcp": text}, "research-gcp")
    cluster = next(a.content for a in emit_terraform(compiled) if a.path == "terraform/cluster.tf.json")
    pools = cluster["resource"]["google_container_node_pool"]
    assert pools["cpu"]["node_config"]["confidential_nodes"] == {"enabled": True}
    assert "confidential_nodes" not in pools["gpu_a100"]["node_config"]
    assert v.validate_terraform_json(cluster, "google") == []


# --- tuning ---------------------------------------------------------------------------------
def tuning_env(parallel: int, nodes: int = 1) -> str:
    return env_text(
        f"""
data: {{type: object_store}}
train:
  type: training_job
  image: '{IMG}'
  command: [python, train.py]
  reads: [data]
  gpus: {{type: nvidia-a10g, count: 1}}
  node_pool: gpu
  nodes: {nodes}
  spot: true
  checkpoint_to: data
  max_runtime_hours: 5
tune:
  type: tuning_job
  trial: train
  objective: {{metric: val_auc, goal: maximize, target: 0.9}}
  algorithm: tpe
  parameters:
    lr: {{min: 0.0001, max: 0.1, scale: log}}
    depth: {{min: 2, max: 8, type: int}}
    loss: {{values: [hinge, log]}}
  max_trials: 10
  parallel_trials: {parallel}  # <- parallel
  hours_per_trial: 2
"""
    )


def test_tuning_gpu_capacity_is_checked_for_parallel_trials(tmp_path: Path) -> None:
    text = tuning_env(3)
    assert errors_of(tmp_path, text) == [
        (
            "MLC-E057",
            line_of(text, "# <- parallel"),
            col_of(text, "# <- parallel", "3"),
            'parallel_trials 3 x 1 node(s) of "train" x 1 nvidia-a10g need 3 GPUs at once; '
            "node pool(s) gpu (max 2 x 1 GPU) hold at most 2: lower parallel_trials to 2 or raise the pool's max",
        )
    ]
    text = tuning_env(1, nodes=3)
    assert [e[:2] for e in errors_of(tmp_path / "nodes", text)] == [("MLC-E057", line_of(text, "# <- parallel"))]


def test_tuning_job_is_a_katib_experiment_over_its_trial(tmp_path: Path) -> None:
    from compiler.plan.pricing import load_pricing

    compiled = compiled_env(tmp_path, {"e1": tuning_env(2)}, "e1")
    objs = objects(compiled)
    exp = objs[("Experiment", "tune")]
    assert ("Job", "train") not in objs  # the trial job is not run on its own
    assert ("ServiceAccount", "train") in objs and ("ServiceAccount", "tune") not in objs
    spec = exp["spec"]
    assert spec["objective"] == {"type": "maximize", "objectiveMetricName": "val_auc", "goal": 0.9}
    assert spec["algorithm"] == {"algorithmName": "tpe"}
    assert (spec["parallelTrialCount"], spec["maxTrialCount"], spec["maxFailedTrialCount"]) == (2, 10, 3)
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "Push"}}
    assert spec["parameters"] == [
        {"name": "depth", "parameterType": "int", "feasibleSpace": {"min": "2", "max": "8", "distribution": "uniform"}},
        {"name": "loss", "parameterType": "categorical", "feasibleSpace": {"list": ["hinge", "log"]}},
        {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.0001", "max": "0.1", "distribution": "logUniform"}},
    ]
    trial = spec["trialTemplate"]["trialSpec"]
    pod = trial["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert spec["trialTemplate"]["primaryContainerName"] == main["name"] == "main"
    assert main["command"] == ["python", "train.py"]
    assert main["args"] == ["--depth=${trialParameters.depth}", "--loss=${trialParameters.loss}", "--lr=${trialParameters.lr}"]
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["serviceAccountName"] == "train" and pod["nodeSelector"] == {"mlc.dev/node-pool": "gpu"}
    assert trial["spec"]["activeDeadlineSeconds"] == 7200  # hours_per_trial
    grants = compiled.grants["train"]  # the trials' identity: the training job's own grants, per edge
    assert (grants.workload, grants.reads, grants.writes) == ("train", ("data",), ("data",))
    assert [(a.edge, a.prefix, a.write, a.delete) for a in grants.access] == [
        ("checkpoint", "train", True, True),
        ("reads", "", False, False),
    ]
    # cost: max_trials x one trial of hours_per_trial on the pool's instance, spot discounted
    g5 = load_pricing().providers["aws"].instances["g5.2xlarge"]
    discount = load_pricing().providers["aws"].spot_discount("g5")
    item = next(i for i in compiled.cost.items if i.component == "tune")
    assert item.monthly_usd == pytest.approx(1 * 10 * 2 * g5.hourly * (1 - discount))
    # the trial pushes its metrics to katib-db-manager: its NetworkPolicy allows exactly that
    egress = objs[("NetworkPolicy", "train")]["spec"]["egress"]
    assert {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kubeflow"}}}],
        "ports": [{"protocol": "TCP", "port": 6789}],
    } in egress
    suggestion = objs[("NetworkPolicy", "tune-suggestion")]["spec"]
    assert suggestion["podSelector"] == {"matchLabels": {"katib.kubeflow.org/experiment": "tune"}}
    assert v.validate_k8s_object(exp) == []
    assert katib_field_errors(exp) == []
    assert v.validate_k8s_object({**trial, "metadata": {"name": "trial", **trial["metadata"]}}) == []


def test_tuning_input_errors(tmp_path: Path) -> None:
    text = env_text(
        f"""
train: {{type: training_job, image: '{IMG}'}}
tune:  # <- tune
  type: tuning_job
  trial: train  # <- trial
  objective: {{metric: acc, goal: minimize}}
  parameters:
    lr: {{min: 0.1, max: 0.1}}  # <- lr
    wd: {{min: 0, max: 1, scale: log}}  # <- wd
  max_trials: 2
  parallel_trials: 3  # <- parallel
"""
    )
    got = errors_of(tmp_path, text)
    assert [(code, line, message) for code, line, _, message in got] == [
        (
            "MLC-E058",
            line_of(text, "# <- trial"),
            'set hours_per_trial here or max_runtime_hours on "train": a trial needs a run-time bound (its deadline, '
            "and what the tuning job's cost is computed from)",
        ),
        ("MLC-E058", line_of(text, "# <- lr"), "lr: max (0.1) must exceed min (0.1)"),
        ("MLC-E058", line_of(text, "# <- wd"), "wd: a log scale needs min > 0 (got 0)"),
        ("MLC-E058", line_of(text, "# <- parallel"), "parallel_trials (3) exceeds max_trials (2)"),
    ]


#: Katib v1beta1 Experiment fields as documented (kubeflow.org/docs/components/katib/user-guides/
#: hp-tuning/configure-experiment and the Go types pkg/apis/controller/experiments/v1beta1):
#: a nested dict is an object with exactly these optional keys; `None` a leaf.
KATIB_FIELDS: dict[str, Any] = {
    "objective": {"type": None, "goal": None, "objectiveMetricName": None, "additionalMetricNames": None, "metricStrategies": None},
    "algorithm": {"algorithmName": None, "algorithmSettings": None},
    "earlyStopping": None,
    "parallelTrialCount": None,
    "maxTrialCount": None,
    "maxFailedTrialCount": None,
    "metricsCollectorSpec": {"source": None, "collector": {"kind": None, "customCollector": None}},
    "parameters": [
        {"name": None, "parameterType": None, "feasibleSpace": {"min": None, "max": None, "list": None, "step": None, "distribution": None}}
    ],
    "nasConfig": None,
    "resumePolicy": None,
    "trialTemplate": {
        "retain": None,
        "trialSpec": None,
        "configMap": None,
        "trialParameters": [{"name": None, "description": None, "reference": None}],
        "primaryPodLabels": None,
        "primaryContainerName": None,
        "successCondition": None,
        "failureCondition": None,
    },
}
KATIB_ENUMS = {
    ("objective", "type"): {"maximize", "minimize"},
    ("algorithm", "algorithmName"): {
        "random",
        "grid",
        "bayesianoptimization",
        "tpe",
        "multivariate-tpe",
        "cmaes",
        "hyperband",
        "sobol",
        "enas",
        "darts",
        "pbt",
    },
    ("metricsCollectorSpec", "collector", "kind"): {"StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "None", "Push"},
    ("resumePolicy",): {"Never", "LongRunning", "FromVolume"},
    ("parameters", "parameterType"): {"int", "double", "categorical", "discrete"},
    ("parameters", "feasibleSpace", "distribution"): {"uniform", "logUniform", "normal", "logNormal"},
}


def katib_field_errors(experiment: dict[str, Any]) -> list[str]:
    errors: list[str] = []

    def walk(value: Any, shape: Any, path: tuple[str, ...]) -> None:
        if shape is None:
            allowed = KATIB_ENUMS.get(path)
            if allowed is not None and value not in allowed:
                errors.append(f"{'.'.join(path)}: {value!r} is not one of Katib's values")
            return
        if isinstance(shape, list):
            if not isinstance(value, list):
                errors.append(f"{'.'.join(path)}: not a list")
                return
            for item in value:
                walk(item, shape[0], path)
            return
        if not isinstance(value, dict):
            errors.append(f"{'.'.join(path)}: not an object")
            return
        for key, item in value.items():
            if key not in shape:
                errors.append(f"{'.'.join((*path, key))}: not a documented Katib field")
            else:
                walk(item, shape[key], (*path, key))

    assert experiment["apiVersion"] == "kubeflow.org/v1beta1" and experiment["kind"] == "Experiment"
    assert set(experiment) == {"apiVersion", "kind", "metadata", "spec"}
    walk(experiment["spec"], KATIB_FIELDS, ())
    for required in ("objective", "algorithm", "parameters", "trialTemplate"):
        if required not in experiment["spec"]:
            errors.append(f"{required}: missing")
    return errors


def test_the_katib_field_check_can_fail() -> None:
    bad = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "x"},
        "spec": {"objective": {"type": "max"}, "trials": 3},
    }
    assert katib_field_errors(bad) == [
        "objective.type: 'max' is not one of Katib's values",
        "trials: not a documented Katib field",
        "algorithm: missing",
        "parameters: missing",
        "trialTemplate: missing",
    ]


# --- plain jobs and on_failure --------------------------------------------------------------
def test_on_failure_job_gets_no_data_grants_it_did_not_declare(tmp_path: Path) -> None:
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.terraform.emitter import emit_terraform

    text = env_text(
        f"""
raw: {{type: object_store, classification: pii}}
models: {{type: object_store, classification: pii}}
reports: {{type: object_store}}
etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], writes: [models]}}
notify: {{type: job, image: '{IMG}', command: [notify, --channel, ml]}}
report: {{type: job, image: '{IMG}', writes: [reports]}}
nightly: {{type: pipeline, steps: [etl, report], on_failure: notify, schedule: "0 1 * * *"}}
"""
    )
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    assert _rw(compiled.grants["notify"]) == ("notify", (), ())
    assert _rw(compiled.grants["report"]) == ("report", (), ("reports",))
    identity = next(a.content for a in emit_terraform(compiled) if a.path == "terraform/identity-notify.tf.json")
    assert set(identity["resource"]) == {"aws_iam_role"}  # no policy at all: no data access
    objs = objects(compiled)
    assert ("Job", "notify") not in objs and ("ServiceAccount", "notify") in objs
    template = next(a.content for a in emit_argo(compiled) if a.path == "argo/workflowtemplate-nightly.yaml")
    exit_steps = next(t for t in template["spec"]["templates"] if t["name"] == "on-exit")["steps"]
    assert exit_steps[1] == [{"name": "notify", "template": "run-notify", "when": "{{workflow.status}} != Succeeded"}]
    create = next(t for t in template["spec"]["templates"] if t["name"] == "create-notify")
    job = yaml.safe_load(create["resource"]["manifest"])
    assert job["kind"] == "Job" and job["spec"]["template"]["spec"]["serviceAccountName"] == "notify"
    assert "MODEL_URI" not in json.dumps(job)
    assert findings(tmp_path / "p", text, "MLC-IAM-004") == []


def test_scheduled_job_is_a_cron_workflow(tmp_path: Path) -> None:
    from compiler.targets.argo.emit import emit_argo

    compiled = compiled_env(tmp_path, {"e1": env_text(f"cleanup: {{type: job, image: '{IMG}', schedule: '0 4 * * *'}}")}, "e1")
    assert ("Job", "cleanup") not in objects(compiled)
    cron = next(a.content for a in emit_argo(compiled) if a.path == "argo/cronworkflow-cleanup.yaml")
    assert cron["spec"]["schedules"] == ["0 4 * * *"]
    assert v.validate_k8s_object(cron) == []


# --- Ray ------------------------------------------------------------------------------------
RAY = f"""
data: {{type: object_store}}
ckpt: {{type: object_store}}
ray-train:
  type: training_job
  framework: ray
  image: '{IMG}'
  command: [python, -c, "print('a'); import sys"]
  reads: [data]
  checkpoint_to: ckpt
  nodes: 3
  spot: true
  gpus: {{type: nvidia-a10g, count: 1}}
  node_pool: gpu
  max_runtime_hours: 4
  resources: {{cpu: 4, memory: 16Gi}}
"""


def test_ray_training_is_a_rayjob(tmp_path: Path) -> None:
    compiled = compiled_env(tmp_path, {"e1": env_text(RAY)}, "e1")
    objs = objects(compiled)
    job = objs[("RayJob", "ray-train")]
    spec = job["spec"]
    assert spec["entrypoint"] == "python -c 'print('\"'\"'a'\"'\"'); import sys'"  # shell-quoted word by word
    assert (spec["submissionMode"], spec["shutdownAfterJobFinishes"], spec["activeDeadlineSeconds"]) == ("HTTPMode", True, 14400)
    head = spec["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]
    (workers,) = spec["rayClusterSpec"]["workerGroupSpecs"]
    assert (workers["replicas"], workers["minReplicas"], workers["maxReplicas"]) == (2, 2, 2)
    worker = workers["template"]["spec"]
    for pod in (head, worker):
        assert pod["serviceAccountName"] == "ray-train"
        (container,) = pod["containers"]
        assert "command" not in container
        assert container["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["CHECKPOINT_URI"] == naming.store_uri(compiled.env, compiled.env.components["ckpt"], "ray-train")
        assert env["CHECKPOINT_URI"].startswith("s3://") and env["CHECKPOINT_URI"].endswith("/ray-train")
    spot = {"key": "mlc.dev/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    assert spot in worker["tolerations"] and spot in head["tolerations"]  # the gpu pool itself is spot
    assert v.validate_k8s_object(job) == []
    policy = objs[("NetworkPolicy", "ray-train")]["spec"]
    assert {
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kuberay"}}}],
        "ports": [{"protocol": "TCP", "port": 8265}],
    } in policy["ingress"]
    assert {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ray-train"}}}]} in policy["ingress"]
    assert _rw(compiled.grants["ray-train"]) == ("ray-train", ("ckpt", "data"), ("ckpt",))


def test_ray_step_fails_the_argo_step_like_pytorch(tmp_path: Path) -> None:
    from compiler.targets.argo.emit import emit_argo, run_conditions

    text = env_text(RAY + 'weekly: {type: pipeline, steps: [ray-train], retries: 2, schedule: "0 3 * * 1"}\n')
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    assert ("RayJob", "ray-train") not in objects(compiled)
    template = next(a.content for a in emit_argo(compiled) if a.path == "argo/workflowtemplate-weekly.yaml")
    create = next(t for t in template["spec"]["templates"] if t["name"] == "create-ray-train")
    manifest = yaml.safe_load(create["resource"]["manifest"])
    assert manifest["kind"] == "RayJob" and manifest["spec"]["backoffLimit"] == 0
    assert (create["resource"]["successCondition"], create["resource"]["failureCondition"]) == run_conditions(manifest)
    assert run_conditions(manifest) == (
        "status.jobStatus == SUCCEEDED",
        "status.jobStatus in (FAILED,STOPPED),status.jobDeploymentStatus == Failed",
    )
    assert v.validate_k8s_object(template) == []
    rbac = next(a.content for a in emit_argo(compiled) if a.path.startswith("argo/role-"))
    assert {"apiGroups": ["ray.io"], "resources": ["rayjobs"], "verbs": ["create", "delete", "get", "list", "watch"]} in rbac["rules"]


# --- tracking -------------------------------------------------------------------------------
TRACKING = f"""
db: {{type: database, instance_class: db.t3.small}}
runs: {{type: object_store}}
data: {{type: object_store}}
mlflow: {{type: tracking_server, image: '{IMG}', database: db, artifacts: runs}}
train: {{type: training_job, image: '{IMG}', reads: [data], tracking: mlflow}}
other: {{type: job, image: '{IMG}'}}
"""


def test_tracking_server_and_its_clients(tmp_path: Path) -> None:
    compiled = compiled_env(tmp_path, {"e1": env_text(TRACKING)}, "e1")
    assert _rw(compiled.grants["mlflow"]) == ("mlflow", ("db", "runs"), ("db", "runs"))
    assert _rw(compiled.grants["train"]) == ("train", ("data", "runs"), ("runs",))  # logged artifacts
    assert _rw(compiled.grants["other"]) == ("other", (), ())
    objs = objects(compiled)
    env = {e["name"]: e for e in objs[("Job", "train")]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MLFLOW_TRACKING_URI"] == {"name": "MLFLOW_TRACKING_URI", "value": "http://mlflow.ml-e1.svc.cluster.local:5000"}
    train_egress = objs[("NetworkPolicy", "train")]["spec"]["egress"]
    assert {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mlflow"}}}],
        "ports": [{"protocol": "TCP", "port": 5000}],
    } in train_egress
    server_policy = objs[("NetworkPolicy", "mlflow")]["spec"]
    assert server_policy["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "train"}}}], "ports": [{"protocol": "TCP", "port": 5000}]}
    ]
    assert {"ports": [{"protocol": "TCP", "port": 5432}]} in server_policy["egress"]
    secret = objs[("ExternalSecret", "mlflow-backend")]
    assert secret["spec"]["data"] == [
        {"secretKey": key, "remoteRef": {"key": "mlc/e1/mlflow/database", "property": key}} for key in ("host", "password", "username")
    ]
    deployment = objs[("Deployment", "mlflow")]
    assert "--no-serve-artifacts" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "PASSWORD" not in json.dumps(deployment).upper()
    for key in (("ExternalSecret", "mlflow-backend"), ("Deployment", "mlflow"), ("Service", "mlflow"), ("PodDisruptionBudget", "mlflow")):
        assert v.validate_k8s_object(objs[key]) == [], key
    assert findings(tmp_path / "p", env_text(TRACKING), "MLC-IAM-004") == []


def test_tracking_must_name_a_tracking_server(tmp_path: Path) -> None:
    text = env_text(TRACKING.replace("tracking: mlflow", "tracking: other"))
    assert errors_of(tmp_path, text) == [
        (
            "MLC-E041",
            line_of(text, "tracking: other"),
            col_of(text, "tracking: other", "other"),
            'tracking names "other", a job; expected a tracking server (tracking_server)',
        )
    ]


# --- edge -----------------------------------------------------------------------------------
EDGE = f"""
models: {{type: object_store}}
shops:
  type: edge_deployment
  image: '{IMG}'
  runtime: triton
  model: {{from: models, path: ranker/v3}}
  fleet: {{cluster_labels: {{fleet: shops, region: eu}}}}
  rollout: {{max_unavailable_percent: 25}}
"""


def test_edge_deployment_is_an_application_set_with_a_read_only_fleet_identity(tmp_path: Path) -> None:
    from compiler.pipeline import emit_environment

    compiled = compiled_env(tmp_path, {"e1": env_text(EDGE)}, "e1")
    artifacts = {a.path: a.content for a in emit_environment(compiled, [])}
    appset = artifacts["argocd/applicationset-e1-shops.yaml"]
    assert appset["spec"]["generators"] == [{"clusters": {"selector": {"matchLabels": {"fleet": "shops", "region": "eu"}}}}]
    assert appset["spec"]["strategy"]["rollingSync"]["steps"][0]["maxUpdate"] == "25%"
    assert appset["spec"]["template"]["spec"]["source"]["path"] == "out/e1/edge/shops"
    assert v.validate_k8s_object(appset) == []
    assert v.validate_k8s_object(artifacts["argocd/appproject-e1-shops.yaml"]) == []
    edge = {p: c for p, c in artifacts.items() if p.startswith("edge/shops/")}
    assert sorted(edge) == [
        "edge/shops/deployment-shops.yaml",
        "edge/shops/kustomization.yaml",
        "edge/shops/namespace-edge-shops.yaml",
        "edge/shops/networkpolicy-mlc-default-deny.yaml",
        "edge/shops/networkpolicy-shops.yaml",
        "edge/shops/service-shops.yaml",
        "edge/shops/serviceaccount-shops.yaml",
    ]
    for path, obj in edge.items():
        assert (v.validate_kustomization(obj) if path.endswith("kustomization.yaml") else v.validate_k8s_object(obj)) == [], path
    deployment = edge["edge/shops/deployment-shops.yaml"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == "25%"
    server = deployment["spec"]["template"]["spec"]["containers"][0]
    assert server["args"][:2] == ["tritonserver", "--model-repository=$(MODEL_URI)"]
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    # no in-cluster identity or policy in the environment's own namespace
    assert not [p for p in artifacts if p.startswith("kubernetes/") and "shops" in p]
    identity = artifacts["terraform/identity-shops.tf.json"]
    policy = json.loads(identity["resource"]["aws_iam_role_policy"]["shops"]["policy"])
    assert [(s["Sid"], s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("ListModelPath", ["s3:ListBucket"], "${aws_s3_bucket.models.arn}"),
        ("ReadModel", ["s3:GetObject"], "${aws_s3_bucket.models.arn}/ranker/v3/*"),
        ("DecryptModel", ["kms:Decrypt"], "${aws_kms_key.models.arn}"),
    ]
    assert policy["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["ranker/v3", "ranker/v3/*"]}}
    trust = json.loads(identity["resource"]["aws_iam_role"]["shops"]["assume_role_policy"])
    assert trust["Statement"][0]["Condition"]["StringEquals"]["${var.edge_oidc_issuer}:sub"] == "system:serviceaccount:edge-shops:shops"
    assert v.validate_terraform_json(identity, "aws") == []


def test_edge_deployment_on_gcp_is_not_supported_yet(tmp_path: Path) -> None:
    from compiler.pipeline import emit_environment

    text = (REPO / "environments" / "research-gcp.yaml").read_text() + (
        f"  edge:\n    type: edge_deployment\n    image: '{IMG}'\n    runtime: onnx\n"
        "    model: {from: checkpoints, path: demo/latest}\n    fleet: {cluster_labels: {f: a}}\n"
    )
    compiled = compiled_env(tmp_path, {"research-gcp": text}, "research-gcp")
    with pytest.raises(Exception, match="edge_deployment: no identity for edge fleets on GCP yet"):
        emit_environment(compiled, [])


def test_kustomize_builds_the_example_edge_directories() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    dirs = sorted((REPO / "out").glob("*/edge/*"))
    assert dirs, "the examples have an edge deployment"
    for directory in dirs:
        result = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout))
        assert kinds == ["Deployment", "Namespace", "NetworkPolicy", "NetworkPolicy", "Service", "ServiceAccount"]


def test_example_argocd_and_edge_objects_validate() -> None:
    checked = 0
    for path in sorted((REPO / "out").glob("*/argocd/*.yaml")) + sorted((REPO / "out").glob("*/edge/*/*.yaml")):
        obj = yaml.safe_load(path.read_text())
        errors = v.validate_kustomization(obj) if path.name == "kustomization.yaml" else v.validate_k8s_object(obj)
        assert errors == [], path
        checked += 1
    kinds = {yaml.safe_load(p.read_text())["kind"] for p in (REPO / "out" / "lab").rglob("*.yaml") if "prometheus" not in p.parts}
    assert {"Experiment", "ApplicationSet", "Deployment", "PodDisruptionBudget"} <= kinds
    assert checked > 10


def test_checkov_passes_the_example_edge_directories() -> None:
    checkov = REPO / ".tools" / "checkov" / "bin" / "checkov"
    if not checkov.exists():
        checkov_path = shutil.which("checkov")
        if checkov_path is None:
            pytest.skip("checkov is not installed (.tools/checkov/bin/checkov or PATH)")
        checkov = Path(checkov_path)
    from tests.targets.kubernetes.test_kubernetes import CHECKOV_NOT_APPLICABLE

    for directory in sorted((REPO / "out").glob("*/edge/*")):
        result = subprocess.run(
            [str(checkov), "-d", str(directory), "--framework", "kubernetes", "--skip-download", "-o", "json", "--quiet"],
            capture_output=True,
            text=True,
            timeout=600,
            env={"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "PATH": "/usr/bin:/bin", "HOME": str(directory)},
        )
        reports = json.loads(result.stdout)
        for report in reports if isinstance(reports, list) else [reports]:
            assert report["summary"]["parsing_errors"] == 0
            failed = [
                (f["check_id"], f["resource"]) for f in report["results"]["failed_checks"] if f["check_id"] not in CHECKOV_NOT_APPLICABLE
            ]
            assert failed == [], directory
