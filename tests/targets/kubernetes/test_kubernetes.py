"""Kubernetes emitter: run objects, hardening, network policy, RBAC, kustomize, Checkov.

Every object emitted here (examples and synthetic environments) is validated with
tests/support/validators.py: core kinds against the Kubernetes OpenAPI schemas (strict), custom kinds
against the vendored upstream CRD schemas with unknown fields as errors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compiler.core.diagnostics import InputError
from tests.support.helpers import REPO, aws_env, compiled_env, example_environments
from tests.support.validators import validate_k8s_object, validate_kustomization

GPU_POOLS = """
    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    gpu: {instance_type: g5.12xlarge, max: 2, spot: true}
    a100: {instance_type: p4d.24xlarge, max: 3}
"""
CPU_POOL_LINE = "    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n"


def env_yaml(components: str, *, pools: str = "", extra: str = "") -> str:
    text = aws_env("e1", components, extra=extra)
    return text.replace(CPU_POOL_LINE, _indent_pools(pools)) if pools else text


def _indent_pools(pools: str) -> str:
    lines = [line.strip() for line in pools.strip("\n").splitlines() if line.strip()]
    return "".join(f"    {line}\n" for line in lines)


def emit(tmp_path: Path, components: str, *, pools: str = "", extra: str = "") -> dict[str, Any]:
    """Compile a one-environment project and emit kubernetes/; every object is validated."""
    from compiler.targets.kubernetes.emit import emit_kubernetes

    compiled = compiled_env(tmp_path, {"e1": env_yaml(components, pools=pools, extra=extra)}, "e1")
    out = {}
    for artifact in emit_kubernetes(compiled):
        if artifact.path.endswith("kustomization.yaml"):
            assert validate_kustomization(artifact.content) == []
        else:
            assert validate_k8s_object(artifact.content) == [], artifact.path
        out[artifact.path.removeprefix("kubernetes/")] = artifact.content
    return out


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pod spec inside an object (Deployment, Job, CronJob, PyTorchJob, ...)."""
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "containers" in node and isinstance(node["containers"], list):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj.get("spec"))
    return found


@pytest.fixture(scope="module")
def examples():
    from compiler.pipeline import plan_environment
    from compiler.targets.kubernetes.emit import emit_kubernetes

    out = {}
    for env in example_environments():
        compiled = plan_environment(env)
        out[env.name] = (compiled, emit_kubernetes(compiled))
    return out


@pytest.fixture(scope="module")
def example_tree(examples, tmp_path_factory):
    from compiler.output.serialize import dump_yaml

    root = tmp_path_factory.mktemp("k8s-out")
    for name, (_, artifacts) in examples.items():
        for artifact in artifacts:
            path = root / name / artifact.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump_yaml(artifact.content), encoding="utf-8")
    return root


# --- every example environment -------------------------------------------------------------
def test_every_example_object_validates(examples):
    for name, (_, artifacts) in examples.items():
        paths = [a.path for a in artifacts]
        assert len(paths) == len(set(paths))
        for artifact in artifacts:
            assert artifact.format == "yaml"
            if artifact.path == "kubernetes/kustomization.yaml":
                assert validate_kustomization(artifact.content) == []
                continue
            assert validate_k8s_object(artifact.content) == [], (name, artifact.path)
            obj = artifact.content
            assert list(obj)[:3] == ["apiVersion", "kind", "metadata"]
            assert artifact.path == f"kubernetes/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def test_example_objects_are_namespaced_labelled_and_waved(examples):
    for compiled, artifacts in examples.values():
        for artifact in artifacts:
            obj = artifact.content
            if obj["kind"] == "Kustomization":
                assert obj["namespace"] == compiled.env.namespace
                assert obj["resources"] == sorted(a.path.removeprefix("kubernetes/") for a in artifacts if a is not artifact)
                continue
            meta = obj["metadata"]
            if obj["kind"] == "Namespace":
                assert "namespace" not in meta
            else:
                assert meta["namespace"] == compiled.env.namespace
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "mlc"
            assert isinstance(meta["annotations"]["argocd.argoproj.io/sync-wave"], str)


def test_every_example_container_is_hardened(examples):
    checked = 0
    for _, artifacts in examples.values():
        for artifact in artifacts:
            if isinstance(artifact.content, dict) and artifact.content.get("kind") == "FlinkDeployment":
                _assert_flink_hardened(artifact.content)
                checked += 1
                continue
            for pod in pod_specs(artifact.content):
                assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
                assert pod["automountServiceAccountToken"] is False
                assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
                for container in pod["containers"]:
                    sc = container["securityContext"]
                    assert sc["runAsNonRoot"] is True and sc["runAsUser"] >= 10000
                    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
                    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["seccompProfile"] == {"type": "RuntimeDefault"}
                    assert container["resources"]["requests"] == container["resources"]["limits"]
                    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
                    pinned = "@sha256:" in container["image"]
                    assert container["imagePullPolicy"] == ("IfNotPresent" if pinned else "Always")
                    checked += 1
    assert checked > 0


def _assert_flink_hardened(obj: dict[str, Any]) -> None:
    """A FlinkDeployment's pod template is merged by the operator into the JobManager and
    TaskManager pods: the image comes from spec.image, resources from jobManager/taskManager
    (requests = limits: the cpu/memory limit factors default to 1.0), and the pods need a
    token (the JobManager creates TaskManagers; both read the HA ConfigMaps)."""
    spec = obj["spec"]
    pod = spec["podTemplate"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"} and pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is True and pod["enableServiceLinks"] is False
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    [main] = pod["containers"]
    assert main["name"] == "flink-main-container" and {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]
    _assert_container_context(main["securityContext"])
    assert spec["imagePullPolicy"] == ("IfNotPresent" if "@sha256:" in spec["image"] else "Always")
    assert spec["jobManager"]["resource"] == spec["taskManager"]["resource"]


def _assert_container_context(sc: dict[str, Any]) -> None:
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] >= 10000
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_custom_kinds_without_pod_specs_are_hardened_too(examples, tmp_path):
    """InferenceService predictors and Spark driver/executor specs (Checkov does not read CRDs)."""
    objects = [a.content for _, artifacts in examples.values() for a in artifacts]
    objects += list(emit(tmp_path, KITCHEN_SINK, pools=GPU_POOLS).values())
    seen = set()
    for obj in objects:
        if obj["kind"] == "InferenceService":
            predictor = obj["spec"]["predictor"]
            assert predictor["automountServiceAccountToken"] is False
            assert predictor["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
            model = predictor["model"]
            _assert_container_context(model["securityContext"])
            assert model["resources"]["requests"] == model["resources"]["limits"]
            assert {"livenessProbe", "readinessProbe"} <= set(model)
            seen.add(obj["kind"])
        elif obj["kind"] in ("SparkApplication", "ScheduledSparkApplication"):
            spec = obj["spec"] if obj["kind"] == "SparkApplication" else obj["spec"]["template"]
            for role in ("driver", "executor"):
                _assert_container_context(spec[role]["securityContext"])
                assert spec[role]["podSecurityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
                assert spec[role]["coreLimit"] == str(spec[role]["cores"])
            seen.add(obj["kind"])
    assert seen == {"InferenceService", "SparkApplication", "ScheduledSparkApplication"}


def test_emission_is_deterministic(examples):
    from compiler.output.serialize import dump_yaml
    from compiler.targets.kubernetes.emit import emit_kubernetes

    for compiled, artifacts in examples.values():
        again = emit_kubernetes(compiled)
        assert [(a.path, dump_yaml(a.content)) for a in again] == [(a.path, dump_yaml(a.content)) for a in artifacts]


def test_no_secret_value_and_no_wildcard_in_examples(examples):
    for compiled, artifacts in examples.values():
        text = json.dumps([a.content for a in artifacts])
        for component in compiled.env.components.values():
            for value in (component.get("env") or {}).values():
                if isinstance(value, dict):
                    assert value["secret"] not in text  # only path and key, split apart
        for artifact in artifacts:
            for rule in artifact.content.get("rules", []):
                assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]


def test_kubectl_kustomize_builds_every_example(example_tree, examples):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    for name, (_, artifacts) in examples.items():
        result = subprocess.run(
            [kubectl, "kustomize", str(example_tree / name / "kubernetes")], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\nkind: ") + result.stdout.startswith("kind: ") >= 1
        assert sum(1 for line in result.stdout.splitlines() if line.startswith("kind: ")) == len(artifacts) - 1


# Checkov kubernetes checks that fail on the examples and why they do not apply. Keep short.
CHECKOV_NOT_APPLICABLE: dict[str, str] = {}


def _checkov() -> str | None:
    local = REPO / ".tools" / "checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


def test_checkov_kubernetes_checks_pass_on_examples(example_tree, examples):
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed (.tools/checkov/bin/checkov or PATH)")
    failed = []
    for name in examples:
        result = subprocess.run(
            [
                checkov,
                "-d",
                str(example_tree / name / "kubernetes"),
                "--framework",
                "kubernetes",
                "--skip-download",
                "-o",
                "json",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env={"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "PATH": "/usr/bin:/bin", "HOME": str(example_tree)},
        )
        assert result.stdout.strip(), result.stderr
        reports = json.loads(result.stdout)
        for report in reports if isinstance(reports, list) else [reports]:
            assert report["summary"]["parsing_errors"] == 0
            assert report["summary"]["resource_count"] >= len(examples[name][1]) - 1  # every object was read
            failed += [
                (name, f["check_id"], f["resource"])
                for f in report["results"]["failed_checks"]
                if f["check_id"] not in CHECKOV_NOT_APPLICABLE
            ]
    assert failed == []


# --- synthetic environments: exact expectations ------------------------------------------------
def test_single_node_training_is_a_job_with_gpus_on_its_pool(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        train:
          type: training_job
          image: registry.example.com/t:1.0
          writes: [models]
          checkpoint_to: models
          gpus: {type: nvidia-a10g, count: 4}
          node_pool: gpu
          max_runtime_hours: 2
          resources: {cpu: 0.5, memory: 8Gi}
        """,
        pools=GPU_POOLS,
    )
    job = out["job-train.yaml"]
    assert job["apiVersion"] == "batch/v1"
    assert job["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Force=true,Replace=true"
    assert job["spec"]["activeDeadlineSeconds"] == 7200
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"mlc.dev/node-pool": "gpu"}
    # the pool is a spot pool: both taints are tolerated although the job does not ask for spot
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "mlc.dev/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
    ]
    main = pod["containers"][0]
    assert main["resources"]["requests"] == {"cpu": "500m", "memory": "8Gi", "nvidia.com/gpu": "4"}
    assert main["resources"]["limits"] == main["resources"]["requests"]
    assert main["imagePullPolicy"] == "Always"
    assert {"name": "CHECKPOINT_URI", "value": "s3://123456789012-e1-models-bea68d/train"} in main["env"]


def test_gpu_job_without_pool_is_pinned_to_pools_with_that_gpu(tmp_path):
    out = emit(
        tmp_path,
        """
        train: {type: training_job, image: "registry.example.com/t:1.0", gpus: {type: nvidia-a100, count: 8}, spot: true}
        """,
        pools=GPU_POOLS,
    )
    pod = out["job-train.yaml"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"mlc.dev/node-pool": "a100"}
    assert {"key": "mlc.dev/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in pod["tolerations"]


def test_multi_node_training_is_a_pytorchjob(tmp_path):
    out = emit(
        tmp_path,
        """
        train:
          type: training_job
          image: registry.example.com/t:1.0
          command: [torchrun, train.py]
          gpus: {type: nvidia-a100, count: 8}
          nodes: 3
          node_pool: a100
          max_runtime_hours: 24
        """,
        pools=GPU_POOLS,
    )
    job = out["pytorchjob-train.yaml"]
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert replicas["Master"]["replicas"] == 1 and replicas["Worker"]["replicas"] == 2
    assert job["spec"]["runPolicy"]["activeDeadlineSeconds"] == 86400
    for spec in replicas.values():
        container = spec["template"]["spec"]["containers"][0]
        assert container["name"] == "pytorch" and container["command"] == ["torchrun", "train.py"]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "8"
        assert spec["template"]["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    # master <-> workers talk on any port (rendezvous, NCCL)
    policy = out["networkpolicy-train.yaml"]["spec"]
    own = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "train"}}}
    assert {"from": [own]} in policy["ingress"] and {"to": [own]} in policy["egress"]


def test_scheduled_runs(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        train: {type: training_job, image: "registry.example.com/t:1.0", schedule: "0 2 * * *"}
        big: {type: training_job, image: "registry.example.com/t:1.0", nodes: 2, schedule: "0 3 * * *"}
        etl: {type: spark_job, image: "registry.example.com/s:1.0", main: "local:///opt/app/etl.py", schedule: "@daily"}
        score: {type: batch_inference, image: "registry.example.com/b:1.0", model: {from: models, path: m/1}, schedule: "0 4 * * *"}
        once: {type: batch_inference, image: "registry.example.com/b:1.0", model: {from: models, path: m/1}}
        """,
    )
    cron = out["cronjob-train.yaml"]
    assert cron["spec"]["schedule"] == "0 2 * * *" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    scheduled = out["scheduledsparkapplication-etl.yaml"]
    assert scheduled["spec"]["schedule"] == "@daily" and scheduled["spec"]["template"]["type"] == "Python"
    assert "job-once.yaml" in out
    assert {"name": "MODEL_URI", "value": "s3://123456789012-e1-models-bea68d/m/1"} in out["job-once.yaml"]["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    # scheduled batch inference and scheduled multi-node training run from Argo CronWorkflows
    assert not any(p.endswith(("-score.yaml", "-big.yaml")) and not p.startswith(("serviceaccount-", "networkpolicy-")) for p in out)
    assert "serviceaccount-score.yaml" in out and "serviceaccount-big.yaml" in out


def test_pipeline_steps_have_identity_but_no_run_object(tmp_path):
    out = emit(
        tmp_path,
        """
        raw: {type: object_store}
        etl:
          type: spark_job
          image: registry.example.com/s:1.0
          main: local:///opt/app/etl.py
          reads: [raw]
          env: {TOKEN: {secret: "ml/etl#token"}}
        alert: {type: batch_inference, image: "registry.example.com/b:1.0", model: {from: raw}}
        flow: {type: pipeline, steps: [etl], on_failure: alert}
        """,
    )
    assert "sparkapplication-etl.yaml" not in out and "job-alert.yaml" not in out
    for name in (
        "serviceaccount-etl.yaml",
        "networkpolicy-etl.yaml",
        "externalsecret-etl-env.yaml",
        "role-etl-spark-driver.yaml",
        "serviceaccount-alert.yaml",
    ):
        assert name in out
    # the run kinds the pipeline creates are visible to nobody unless access says so; the
    # Argo workflow pods may reach the API server
    assert out["networkpolicy-mlc-argo-workflows.yaml"]["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 443}]}]


def test_spark_application_and_driver_rbac(tmp_path):
    out = emit(
        tmp_path,
        """
        db: {type: database, engine: mysql, instance_class: db.t3.large}
        etl:
          type: spark_job
          image: registry.example.com/s:1.0@sha256:3f1a9c0e5b7d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d6f8a0c2e4b6d8f0a
          main: local:///opt/app/etl.py
          args: [--mode, full]
          reads: [db]
          spot: true
          driver: {cores: 2, memory: 3Gi}
          executors: {instances: 5, cores: 4, memory: 1.5Gi}
          dynamic_allocation: {min: 2, max: 10}
        """,
    )
    app = out["sparkapplication-etl.yaml"]["spec"]
    assert app["imagePullPolicy"] == "IfNotPresent" and app["arguments"] == ["--mode", "full"]
    assert app["driver"]["memory"] == "3g" and app["driver"]["coreLimit"] == "2"
    assert app["executor"]["memory"] == "1536m" and app["executor"]["instances"] == 5
    assert app["dynamicAllocation"] == {"enabled": True, "initialExecutors": 2, "minExecutors": 2, "maxExecutors": 10}
    assert "tolerations" not in app["driver"]  # the driver stays off spot capacity
    assert app["executor"]["tolerations"] == [{"key": "mlc.dev/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    assert app["driver"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert app["executor"]["template"]["spec"]["automountServiceAccountToken"] is False
    assert out["serviceaccount-etl.yaml"]["automountServiceAccountToken"] is True
    role = out["role-etl-spark-driver.yaml"]
    assert {r["resources"][0]: r["verbs"] for r in role["rules"]} == {
        "configmaps": ["create", "delete", "deletecollection", "get", "list"],
        "persistentvolumeclaims": ["create", "delete", "deletecollection", "get", "list"],
        "pods": ["create", "delete", "deletecollection", "get", "list", "patch", "watch"],
        "services": ["delete", "deletecollection", "get", "list"],
    }
    binding = out["rolebinding-etl-spark-driver.yaml"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "etl", "namespace": "ml-e1"}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "etl-spark-driver"}
    egress = out["networkpolicy-etl.yaml"]["spec"]["egress"]
    assert {"ports": [{"protocol": "TCP", "port": 3306}]} in egress  # the MySQL it reads


def test_secret_env_becomes_external_secret_and_secret_key_ref(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        score:
          type: batch_inference
          image: registry.example.com/b:1.0
          model: {from: models}
          env:
            LOG_LEVEL: debug
            API_TOKEN: {secret: "ml/score/api#token"}
            DB_PASSWORD: {secret: "ml/db#password"}
        """,
    )
    es = out["externalsecret-score-env.yaml"]
    assert es["apiVersion"] == "external-secrets.io/v1"
    assert es["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-1"
    assert es["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "mlc-aws"}
    assert es["spec"]["target"] == {"name": "score-env", "creationPolicy": "Owner"}
    assert es["spec"]["data"] == [
        {"secretKey": "API_TOKEN", "remoteRef": {"key": "ml/score/api", "property": "token"}},
        {"secretKey": "DB_PASSWORD", "remoteRef": {"key": "ml/db", "property": "password"}},
    ]
    env = out["job-score.yaml"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [
        {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "score-env", "key": "API_TOKEN"}}},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "score-env", "key": "DB_PASSWORD"}}},
        {"name": "HOME", "value": "/tmp"},
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "MODEL_URI", "value": "s3://123456789012-e1-models-bea68d"},
    ]


def test_canary_inference_service(tmp_path):
    """The KServe fields of each track (the split itself: test_runtime.py, canaries)."""
    out = emit(
        tmp_path,
        """
        models: {type: data_lake}
        ranker:
          type: serving
          model: {from: models, path: ranker/v12}
          runtime: sklearn
          replicas: {min: 0, max: 4}
          autoscaling: {metric: rps, target: 50}
          canary: {path: ranker/v13, traffic_percent: 10}
        """,
    )
    assert "inferenceservice-ranker.yaml" not in out
    for track, path in (("stable", "ranker/v12"), ("canary", "ranker/v13")):
        isvc = out[f"inferenceservice-ranker-{track}.yaml"]
        predictor = isvc["spec"]["predictor"]
        assert predictor["model"]["modelFormat"] == {"name": "sklearn"}
        assert predictor["model"]["storageUri"] == f"s3://123456789012-e1-models-bea68d/{path}"
        assert "canaryTrafficPercent" not in predictor
        assert (predictor["minReplicas"], predictor["maxReplicas"]) == (0, 4)
        assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("rps", 50)
        assert predictor["model"]["readinessProbe"]["tcpSocket"] == {"port": 8080}
        assert predictor["labels"]["app.kubernetes.io/name"] == "ranker"
        assert isvc["metadata"]["labels"]["networking.kserve.io/visibility"] == "cluster-local"
    assert [t["percent"] for t in out["route-ranker.yaml"]["spec"]["traffic"]] == [90, 10]


def test_inference_service_on_gcp_uses_gcs_and_workload_identity(tmp_path):
    from compiler.targets.kubernetes.emit import emit_kubernetes

    text = """
    apiVersion: mlc/v1
    kind: Environment
    metadata: {name: g1}
    cloud: {provider: gcp, region: europe-west4, account: ml-research-4711}
    cluster:
      name: c1
      node_pools:
        gpu: {instance_type: a2-highgpu-1g, max: 4}
    gitops: {repo: "https://git.example.com/ml/platform.git"}
    access: [{group: "*", role: viewer}]
    components:
      ckpt: {type: object_store}
      demo: {type: serving, model: {from: ckpt, path: demo}, runtime: huggingface, gpus: {type: nvidia-a100, count: 1}}
    """
    compiled = compiled_env(tmp_path, {"g1": text}, "g1")
    out = {a.path.removeprefix("kubernetes/"): a.content for a in emit_kubernetes(compiled)}
    for path, obj in out.items():
        if path != "kustomization.yaml":
            assert validate_k8s_object(obj) == [], path
    sa = out["serviceaccount-demo.yaml"]
    assert sa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == "g1-demo@ml-research-4711.iam.gserviceaccount.com"
    assert "eks.amazonaws.com/role-arn" not in sa["metadata"]["annotations"]
    predictor = out["inferenceservice-demo.yaml"]["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == "gs://ml-research-4711-g1-ckpt-9eda53/demo"
    assert predictor["nodeSelector"] == {"mlc.dev/node-pool": "gpu"}
    assert out["resourcequota-mlc-quota.yaml"]["spec"]["hard"] == {"requests.nvidia.com/gpu": "4"}
    binding = out["rolebinding-mlc-viewer-all-authenticated.yaml"]
    assert binding["subjects"] == [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}]


def test_service_account_carries_irsa_role(tmp_path):
    out = emit(tmp_path, "once: {type: training_job, image: 'registry.example.com/t:1.0'}")
    sa = out["serviceaccount-once.yaml"]
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/mlc-e1-once"
    assert sa["automountServiceAccountToken"] is False


def test_network_policy_private_and_public_serving(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        private-isvc: {type: serving, model: {from: models}, runtime: onnx}
        public-isvc: {type: serving, model: {from: models}, runtime: onnx, public: true}
        private-app: {type: serving, model: {from: models}, image: "registry.example.com/app:1.0", port: 9000}
        public-app: {type: serving, model: {from: models}, image: "registry.example.com/app:1.0", public: true}
        """,
    )
    assert out["networkpolicy-private-app.yaml"]["spec"]["ingress"] == [
        {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 9000}]}
    ]
    assert out["networkpolicy-public-app.yaml"]["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8080}]}]
    private = out["networkpolicy-private-isvc.yaml"]["spec"]["ingress"][0]
    assert private["from"] == [{"podSelector": {}}, {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "istio-system"}}}]
    public = out["networkpolicy-public-isvc.yaml"]["spec"]["ingress"][0]
    assert "from" not in public and public["ports"] == [{"protocol": "TCP", "port": 8012}, {"protocol": "TCP", "port": 8013}]
    assert "networking.kserve.io/visibility" not in out["inferenceservice-public-isvc.yaml"]["metadata"]["labels"]
    for name in ("private-isvc", "public-app"):
        assert out[f"networkpolicy-{name}.yaml"]["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 443}]}]
    deny = out["networkpolicy-mlc-default-deny.yaml"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = out["networkpolicy-mlc-allow-dns.yaml"]["spec"]["egress"][0]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def test_deployment_serving(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        app:
          type: serving
          model: {from: models, path: app/v1}
          image: registry.example.com/app:1.0
          replicas: {min: 1, max: 5}
          autoscaling: {metric: cpu, target: 60}
        """,
    )
    stable = out["deployment-app.yaml"]
    assert not [path for path in out if path.startswith("deployment-") and path != "deployment-app.yaml"]
    assert "replicas" not in stable["spec"]  # the HPA owns it
    assert stable["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "app", "mlc.dev/track": "stable"}
    env = stable["spec"]["template"]["spec"]["containers"][0]["env"]
    assert next(e["value"] for e in env if e["name"] == "MODEL_URI") == "s3://123456789012-e1-models-bea68d/app/v1"
    server = stable["spec"]["template"]["spec"]["containers"][0]
    assert {"livenessProbe", "readinessProbe", "startupProbe"} <= set(server)
    assert out["service-app.yaml"]["spec"]["selector"] == {"app.kubernetes.io/name": "app"}
    hpa = out["horizontalpodautoscaler-app.yaml"]["spec"]
    assert hpa["minReplicas"] == 1 and hpa["maxReplicas"] == 5
    assert hpa["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}}}
    ]
    assert out["poddisruptionbudget-app.yaml"]["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "app"}},
    }


def test_access_roles_verbs(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        app: {type: serving, model: {from: models}, image: "registry.example.com/app:1.0"}
        """,
        extra=(
            "access:\n  - {group: viewers, role: viewer}\n  - {group: devs, role: editor}\n"
            "  - {group: Ops@Example.com, role: viewer}\n  - {group: Ops@Example.com, role: admin}\n"
        ),
    )
    roles = {p: o for p, o in out.items() if p.startswith("role-")}
    assert len(roles) == 3 and {"role-mlc-viewer-viewers.yaml", "role-mlc-editor-devs.yaml"} < set(roles)
    # a lossy slug gets a hash of the group; one Role per group, at its highest role
    assert [p for p in roles if p.startswith("role-mlc-admin-ops-example-com-")] != []

    def verbs(role: dict[str, Any]) -> dict[str, list[str]]:
        table = {}
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
            for resource in rule["resources"]:
                table[f"{rule['apiGroups'][0]}/{resource}"] = rule["verbs"]
        return table

    viewer = verbs(out["role-mlc-viewer-viewers.yaml"])
    editor = verbs(out["role-mlc-editor-devs.yaml"])
    admin = verbs(next(o for p, o in roles.items() if "admin" in p))
    assert set(viewer) == set(editor) == set(admin)
    # exactly the kinds this environment has (plus pods, logs and events of its workloads)
    assert set(viewer) == {
        "/events", "/limitranges", "/pods", "/pods/log", "/resourcequotas", "/serviceaccounts", "/services",
        "apps/deployments", "autoscaling/horizontalpodautoscalers", "networking.k8s.io/networkpolicies",
        "policy/poddisruptionbudgets", "rbac.authorization.k8s.io/rolebindings", "rbac.authorization.k8s.io/roles",
    }  # fmt: skip
    assert all(v == (["get"] if k == "/pods/log" else ["get", "list", "watch"]) for k, v in viewer.items())
    assert editor["apps/deployments"] == ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert editor["networking.k8s.io/networkpolicies"] == ["get", "list", "watch"]
    assert editor["rbac.authorization.k8s.io/roles"] == ["get", "list", "watch"]
    assert editor["/pods"] == ["delete", "get", "list", "watch"]
    full = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    assert admin["rbac.authorization.k8s.io/rolebindings"] == full and admin["apps/deployments"] == full
    binding = next(o for p, o in out.items() if p.startswith("rolebinding-mlc-admin"))
    assert binding["subjects"] == [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "Ops@Example.com"}]
    assert binding["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2"


def test_namespace_quota_and_limits(tmp_path):
    out = emit(tmp_path, "", pools=GPU_POOLS)
    ns = out["namespace-ml-e1.yaml"]
    assert "namespace" not in ns["metadata"]
    assert ns["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "-3"}
    for mode in ("enforce", "audit", "warn"):
        assert ns["metadata"]["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"
    # g5.12xlarge has 4 GPUs x max 2 + p4d.24xlarge 8 GPUs x max 3 + CPU pool 0
    assert out["resourcequota-mlc-quota.yaml"]["spec"] == {"hard": {"requests.nvidia.com/gpu": str(4 * 2 + 8 * 3)}}
    limits = out["limitrange-mlc-defaults.yaml"]["spec"]["limits"][0]
    assert limits["type"] == "Container" and limits["default"] == limits["defaultRequest"]
    assert out["kustomization.yaml"] == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "ml-e1",
        "resources": sorted(p for p in out if p != "kustomization.yaml"),
    }


def test_sync_waves_follow_the_graph(tmp_path):
    """Waves follow run order (graph.py): stores, then the workloads touching them, then monitoring;
    data flow between standalone workloads orders nothing, `after` does."""
    from compiler.targets.kubernetes.common import sync_wave

    out = emit(
        tmp_path,
        """
        raw: {type: object_store}
        models: {type: object_store}
        etl: {type: spark_job, image: "registry.example.com/s:1.0", main: "local:///a.py", reads: [raw], writes: [models]}
        train: {type: training_job, image: "registry.example.com/t:1.0", reads: [models], writes: [models], after: [etl]}
        score: {type: training_job, image: "registry.example.com/t:1.0", reads: [models], writes: [raw]}
        app: {type: serving, model: {from: models}, runtime: xgboost}
        mon: {type: monitoring, targets: [app]}
        """,
    )

    def wave(path: str) -> str:
        return out[path]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]

    assert wave("serviceaccount-etl.yaml") == wave("networkpolicy-etl.yaml") == "-1"
    assert wave("role-etl-spark-driver.yaml") == wave("resourcequota-mlc-quota.yaml") == "-2"
    assert wave("sparkapplication-etl.yaml") == wave("job-score.yaml") == wave("inferenceservice-app.yaml") == "1"
    assert wave("job-train.yaml") == wave("podmonitor-mon-app.yaml") == "2"
    assert sync_wave.__module__ == "compiler.targets.kubernetes.common"


def test_monitoring_objects(tmp_path):
    out = emit(
        tmp_path,
        """
        models: {type: object_store}
        ref: {type: object_store}
        isvc: {type: serving, model: {from: models}, runtime: triton, slo: {latency_p99_ms: 150, availability: 0.995}}
        app: {type: serving, model: {from: models}, image: "registry.example.com/app:1.0"}
        score: {type: batch_inference, image: "registry.example.com/b:1.0", model: {from: models}}
        etl: {type: spark_job, image: "registry.example.com/s:1.0", main: "local:///a.py"}
        mon:
          type: monitoring
          targets: [isvc, app, score, etl]
          alerts: {latency_p99_ms: 200, error_rate: 0.01, drift_threshold: 0.2}
          image: "registry.example.com/mon:1.0"
          drift: {reference: {store: ref}}
        """,
    )
    assert out["podmonitor-mon-isvc.yaml"]["spec"]["podMetricsEndpoints"][0]["port"] == "http-usermetric"
    assert out["servicemonitor-mon-app.yaml"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert out["podmonitor-mon-score.yaml"]["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    assert out["podmonitor-mon-etl.yaml"]["spec"]["selector"]["matchLabels"]["spark-role"] == "driver"
    groups = {g["name"]: {r["alert"]: r for r in g["rules"]} for g in out["prometheusrule-mon.yaml"]["spec"]["groups"]}
    absent = {"RequestLatencyMetricsAbsent", "RequestCountMetricsAbsent", "ModelDriftScoreAbsent"}
    assert (
        set(groups["mon.isvc"])
        == {"SLOLatencyP99Breached", "SLOErrorBudgetBurn", "LatencyP99High", "ErrorRateHigh", "ModelDriftHigh"} | absent
    )
    assert set(groups["mon.app"]) == {"LatencyP99High", "ErrorRateHigh", "ModelDriftHigh"} | absent
    assert "mon.score" not in groups  # nothing mlc deploys measures a batch job's drift
    assert 'app_kubernetes_io_name="mon-app-drift"' in groups["mon.app"]["ModelDriftHigh"]["expr"]
    assert out["servicemonitor-mon-isvc-drift.yaml"]["spec"]["endpoints"][0]["port"] == "metrics"
    assert "mon.etl" not in groups
    assert groups["mon.isvc"]["SLOLatencyP99Breached"]["expr"].endswith("> 150")
    assert "> 0.072)" in groups["mon.isvc"]["SLOErrorBudgetBurn"]["expr"]  # 14.4 x (1 - 0.995)
    assert groups["mon.isvc"]["SLOErrorBudgetBurn"]["labels"]["severity"] == "critical"
    assert 'app_kubernetes_io_name="app"' in groups["mon.app"]["ErrorRateHigh"]["expr"]
    dashboard_cm = out["configmap-mon-dashboard.yaml"]
    assert dashboard_cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    text = dashboard_cm["data"]["mon.json"]
    dashboard = json.loads(text)
    assert text == json.dumps(dashboard, sort_keys=True)
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"]) > 0
    scrape = out["networkpolicy-mon-scrape-isvc.yaml"]["spec"]
    assert scrape["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "isvc"}}
    assert scrape["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"protocol": "TCP", "port": 9091}],
        }
    ]
    assert out["networkpolicy-mon-scrape-etl.yaml"]["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 4040}]
    assert out["job-score.yaml"]["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
    ]


def test_generated_name_collision_is_an_input_error(tmp_path):
    from compiler.core.diagnostics import InputError

    with pytest.raises(InputError) as caught:
        emit(tmp_path, "mlc-default-deny: {type: training_job, image: 'registry.example.com/t:1.0'}")
    assert "MLC-E052" in str(caught.value) and "environments/e1.yaml" in str(caught.value)


def test_run_objects_of_examples_have_no_argocd_annotations(examples):
    from compiler.targets.kubernetes.workloads import build_run_object

    for compiled, _ in examples.values():
        for component in compiled.env.of_type("spark_job", "training_job", "batch_inference"):
            obj = build_run_object(compiled, component)
            assert validate_k8s_object(obj) == [], (compiled.name, component.name)
            assert "annotations" not in obj["metadata"] and obj["metadata"]["name"] == component.name


DIGEST = "@sha256:" + "ab" * 32
KITCHEN_SINK = f"""
raw: {{type: object_store}}
preds: {{type: object_store}}
models: {{type: data_lake}}
db: {{type: database, engine: postgres, instance_class: db.t3.large}}
etl:
  type: spark_job
  image: registry.example.com/s:1.0{DIGEST}
  main: local:///opt/app/etl.jar
  reads: [raw, db]
  writes: [models]
  schedule: "0 1 * * *"
  node_pool: cpu
  env: {{TOKEN: {{secret: "ml/etl#token"}}, MODE: full}}
train:
  type: training_job
  image: registry.example.com/t:1.0{DIGEST}
  reads: [models]
  checkpoint_to: models
  gpus: {{type: nvidia-a100, count: 8}}
  nodes: 2
  max_runtime_hours: 1.5
cron-train:
  type: training_job
  image: registry.example.com/t:1.0{DIGEST}
  reads: [models]
  schedule: "@weekly"
  resources: {{cpu: "250m", memory: 1Gi}}
isvc:
  type: serving
  model: {{from: models, path: m/2}}
  runtime: huggingface
  public: true
  gpus: {{type: nvidia-a10g, count: 1}}
  canary: {{path: m/3, traffic_percent: 20}}
  env: {{HF_TOKEN: {{secret: "ml/hf#token"}}}}
app:
  type: serving
  model: {{from: models}}
  image: registry.example.com/app:1.0{DIGEST}
  reads: [db]
  autoscaling: {{metric: rps, target: 100}}
  slo: {{availability: 0.999}}
score: {{type: batch_inference, image: "registry.example.com/b:1.0{DIGEST}", model: {{from: models}}, writes: [preds]}}
mon: {{type: monitoring, targets: [isvc, app, score, etl, train], alerts: {{error_rate: 0.05}}}}
"""


def test_kitchen_sink_validates_builds_and_passes_checkov(tmp_path):
    from compiler.output.serialize import dump_yaml

    out = emit(tmp_path / "p", KITCHEN_SINK, pools=GPU_POOLS, extra="access: [{group: '*', role: viewer}, {group: ops, role: admin}]\n")
    assert {"scheduledsparkapplication-etl.yaml", "pytorchjob-train.yaml", "cronjob-cron-train.yaml", "route-isvc.yaml"} <= set(out)
    assert {"inferenceservice-isvc-stable.yaml", "inferenceservice-isvc-canary.yaml"} <= set(out)
    assert {"deployment-app.yaml", "job-score.yaml", "externalsecret-isvc-env.yaml"} <= set(out)
    assert out["scheduledsparkapplication-etl.yaml"]["spec"]["template"]["type"] == "Scala"
    assert out["pytorchjob-train.yaml"]["spec"]["runPolicy"]["activeDeadlineSeconds"] == 5400
    assert out["horizontalpodautoscaler-app.yaml"]["spec"]["metrics"][0]["pods"]["metric"]["name"] == "http_requests_per_second"
    assert {"ports": [{"protocol": "TCP", "port": 5432}]} in out["networkpolicy-app.yaml"]["spec"]["egress"]
    tree = tmp_path / "tree"
    tree.mkdir()
    for path, obj in out.items():
        (tree / path).write_text(dump_yaml(obj), encoding="utf-8")
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        result = subprocess.run([kubectl, "kustomize", str(tree)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov is not installed (.tools/checkov/bin/checkov or PATH)")
    result = subprocess.run(
        [checkov, "-d", str(tree), "--framework", "kubernetes", "--skip-download", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
        env={"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    reports = json.loads(result.stdout)
    failed = [
        (f["check_id"], f["resource"])
        for report in (reports if isinstance(reports, list) else [reports])
        for f in report["results"]["failed_checks"]
        if f["check_id"] not in CHECKOV_NOT_APPLICABLE
    ]
    assert failed == []


# --- property: any valid combination of workload options emits valid, hardened objects ------
def _on_a_pool_with(gpus, spec):
    """A training spec whose `node_pool` (if any) has the GPUs it asks for (else MLC-E062/E063)."""
    if not gpus:
        return spec
    pool = {"nvidia-a10g": "gpu", "nvidia-a100": "a100"}[gpus["type"]]
    return {**spec, "gpus": gpus, **({"node_pool": pool} if "node_pool" in spec else {})}


def _workload_specs():
    from hypothesis import strategies as st

    cpu = st.one_of(st.integers(1, 64), st.sampled_from([0.25, 0.5, 1.5]), st.sampled_from(["100m", "2500m", "3"]))
    memory = st.sampled_from(["256Mi", "1Gi", "1.5Gi", "64Gi"])
    resources = st.fixed_dictionaries({}, optional={"cpu": cpu, "memory": memory})
    env = st.dictionaries(st.sampled_from(["A", "B_KEY", "TOKEN"]), st.one_of(st.just("v"), st.just({"secret": "p/q#k"})), max_size=3)
    gpus = st.one_of(
        st.none(), st.fixed_dictionaries({"type": st.sampled_from(["nvidia-a10g", "nvidia-a100"]), "count": st.sampled_from([1, 4, 8])})
    )
    image = "registry.example.com/x:1.0"
    training = st.fixed_dictionaries(
        {"type": st.just("training_job"), "image": st.just(image), "resources": resources, "env": env},
        optional={
            "nodes": st.integers(1, 4),
            "spot": st.booleans(),
            "max_runtime_hours": st.sampled_from([0.5, 2, 100]),
            "node_pool": st.sampled_from(["cpu", "gpu", "a100"]),
        },
    ).flatmap(lambda d: gpus.map(lambda g: _on_a_pool_with(g, d)))
    spark = st.fixed_dictionaries(
        {
            "type": st.just("spark_job"),
            "image": st.just(image),
            "main": st.sampled_from(["local:///a.py", "s3a://b/app.jar", "local:///x.R"]),
            "env": env,
        },
        optional={
            "spot": st.booleans(),
            "driver": st.fixed_dictionaries({}, optional={"cores": st.integers(1, 8), "memory": memory}),
            "executors": st.fixed_dictionaries(
                {}, optional={"instances": st.integers(1, 50), "cores": st.integers(1, 8), "memory": memory}
            ),
            "dynamic_allocation": st.just({"min": 1, "max": 9}),
        },
    )
    replicas = st.tuples(st.integers(0, 5), st.integers(1, 9)).map(lambda t: {"min": min(t), "max": max(t[1], 1)})
    serving = st.fixed_dictionaries(
        {
            "type": st.just("serving"),
            "model": st.just({"from": "models", "path": "m/1"}),
            "resources": resources,
            "env": env,
            "replicas": replicas,
        },
        optional={
            "public": st.booleans(),
            "canary": st.integers(1, 99).map(lambda p: {"path": "m/2", "traffic_percent": p}),
            "autoscaling": st.fixed_dictionaries(
                {"metric": st.sampled_from(["cpu", "memory", "concurrency", "rps"]), "target": st.integers(1, 500)}
            ),
            "slo": st.just({"latency_p99_ms": 100, "availability": 0.99}),
        },
    ).flatmap(
        lambda d: st.one_of(
            st.just({**d, "runtime": "onnx"}),
            # scale to zero (MLC-E047) and canaries by weight (MLC-E065) need KServe
            st.just(
                {
                    **{k: v for k, v in d.items() if k != "canary"},
                    "image": image,
                    "replicas": {**d["replicas"], "min": max(1, d["replicas"]["min"])},
                }
            ),
        )
    )
    return st.lists(st.one_of(training, spark, serving), min_size=1, max_size=3)


def test_random_workloads_emit_valid_objects(tmp_path_factory):
    import yaml
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_workload_specs())
    def check(workloads):
        components = {"models": {"type": "object_store"}}
        for index, spec in enumerate(workloads):
            components[f"w{index}"] = spec
        components["mon"] = {
            "type": "monitoring",
            "targets": [f"w{i}" for i in range(len(workloads))],
            "alerts": {"error_rate": 0.1, "drift_threshold": 0.3},
            "image": "registry.example.com/mon:1.0",
            "drift": {"reference": {"store": "models"}},
            "data_quality": {"models": {"row_count": {"min": 1}}},
        }
        try:
            out = emit(tmp_path_factory.mktemp("prop"), yaml.safe_dump(components, sort_keys=True), pools=GPU_POOLS)
        except InputError as err:  # pods that fit no node of their pool (e.g. 64 CPUs on m6i.2xlarge)
            assert {d.code for d in err.diagnostics} <= {"MLC-E061"}, [str(d) for d in err.diagnostics]
            rejected.append(1)
            return
        runs.append(len(out))
        for obj in out.values():
            for pod in pod_specs(obj):
                for container in pod["containers"]:
                    _assert_container_context(container["securityContext"])

    runs: list[int] = []
    rejected: list[int] = []
    check()
    assert len(runs) >= 10  # hypothesis really generated environments (and most of them fit)
