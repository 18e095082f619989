"""Runtime semantics: what a real cluster needs beyond schema validity (issue 25).

Each test checks one class of "accepted, then fails to run" over every example environment
(the committed out/ tree, which test_golden keeps equal to a fresh compile) and over small
test environments written here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.cli import main
from tests.support.helpers import REPO, aws_env, make_project

OUT = REPO / "out"
GKE_METADATA = {"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}
GKE_METADATA_DPV2 = {"to": [{"ipBlock": {"cidr": "169.254.169.252/32"}}], "ports": [{"protocol": "TCP", "port": 988}]}
GPU_POOLS = """
    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    gpu: {instance_type: g5.2xlarge, min: 0, max: 2, spot: true}
"""
DIGEST = "@sha256:" + "ab" * 32


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def example_envs() -> list[str]:
    return sorted(p.name for p in OUT.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def objects(env_dir: Path) -> list[dict[str, Any]]:
    return [_load(p) for p in sorted((env_dir / "kubernetes").glob("*.yaml")) if p.name != "kustomization.yaml"]


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pod-spec-like mapping (has `containers`) inside an object, incl. InferenceService predictors."""
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("containers"), list) or ("model" in node and "volumes" in node):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj.get("spec"))
    return found


def compile_tree(tmp_path: Path, files: dict[str, str], capsys) -> tuple[int, str, Path]:
    project = make_project(tmp_path, files)
    code = main(["compile", "--project", str(project), "--no-cache"])
    return code, capsys.readouterr().err, project / "out"


def env_with(name: str, components: str, *, pools: str = "", extra: str = "", cluster: str = "c1", region: str = "eu-west-1") -> str:
    text = aws_env(name, components, extra)
    text = text.replace("name: c1", f"name: {cluster}").replace("region: eu-west-1", f"region: {region}")
    if pools:
        text = text.replace("    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n", pools.strip("\n") + "\n")
    return text


# --- network: every workload reaches what it really depends on ----------------------------------
@pytest.mark.parametrize("env", example_envs())
def test_workload_egress_covers_identity_endpoints(env):
    plan = json.loads((OUT / env / "platform.json").read_text())
    provider = plan["settings"]["provider"]
    components = json.loads((OUT / env / "plan.json").read_text())["components"]
    workloads = [c["name"] for c in components if c["type"] in ("spark_job", "training_job", "serving", "batch_inference")]
    assert workloads
    for name in workloads:
        egress = _load(OUT / env / "kubernetes" / f"networkpolicy-{name}.yaml")["spec"]["egress"]
        assert {"ports": [{"protocol": "TCP", "port": 443}]} in egress  # STS / GCS / S3 / KMS
        if provider == "gcp":  # Workload Identity tokens come from the GKE metadata server
            assert GKE_METADATA in egress and GKE_METADATA_DPV2 in egress, (env, name)
        else:  # IRSA needs no instance metadata; IMDS stays blocked so no pod falls back to the node role
            assert "169.254.169.254" not in json.dumps(egress), (env, name)


# --- serving pods pass Knative's admission with the platform's config ------------------------------
#: Knative Serving's config-features flags that are Disabled by default (knative/serving
#: pkg/apis/config/features.go, defaultFeaturesConfig) and the predictor field each gates.
KNATIVE_DISABLED_BY_DEFAULT = {
    "affinity": "kubernetes.podspec-affinity",
    "nodeSelector": "kubernetes.podspec-nodeselector",
    "securityContext": "kubernetes.podspec-securitycontext",
    "tolerations": "kubernetes.podspec-tolerations",
    "initContainers": "kubernetes.podspec-init-containers",
    "priorityClassName": "kubernetes.podspec-priorityclassname",
    "runtimeClassName": "kubernetes.podspec-runtimeclassname",
    "topologySpreadConstraints": "kubernetes.podspec-topologyspreadconstraints",
    "hostAliases": "kubernetes.podspec-hostaliases",
    "schedulerName": "kubernetes.podspec-schedulername",
}


def _knative_features(out: Path, cluster: str) -> dict[str, str]:
    serving = _load(out / "_platform" / cluster / "manifests" / "knativeserving-knative-serving.yaml")
    return serving["spec"]["config"]["features"]


def _assert_admitted(out: Path) -> int:
    checked = 0
    for env in sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        cluster = json.loads((out / env / "platform.json").read_text())["cluster"]
        for obj in objects(out / env):
            if obj["kind"] != "InferenceService":
                continue
            predictor = obj["spec"]["predictor"]
            features = _knative_features(out, cluster)
            for field, flag in KNATIVE_DISABLED_BY_DEFAULT.items():
                if predictor.get(field):
                    assert features.get(flag) == "enabled", (env, obj["metadata"]["name"], flag)
            # the container securityContext fields Knative admits (pkg/apis/serving/fieldmask.go)
            allowed = {
                "capabilities",
                "readOnlyRootFilesystem",
                "runAsUser",
                "runAsGroup",
                "runAsNonRoot",
                "allowPrivilegeEscalation",
                "seccompProfile",
                "privileged",
            }
            context = predictor["model"].get("securityContext") or {}
            assert set(context) <= allowed and context.get("privileged") in (None, False)
            checked += 1
    return checked


def test_examples_inference_services_are_admitted_by_their_clusters_knative():
    assert _assert_admitted(OUT) >= 4


def test_gpu_inference_service_gets_the_scheduling_flags(tmp_path, capsys):
    components = """
    models: {type: object_store}
    gen:
      type: serving
      model: {from: models, path: gen/v1}
      runtime: huggingface
      gpus: {type: nvidia-a10g, count: 1}
      resources: {cpu: 4, memory: 16Gi}
    """
    code, err, out = compile_tree(tmp_path, {"e1": env_with("e1", components, pools=GPU_POOLS)}, capsys)
    assert code == 0, err
    features = _knative_features(out, "c1")
    assert features == {
        "kubernetes.podspec-nodeselector": "enabled",
        "kubernetes.podspec-securitycontext": "enabled",
        "kubernetes.podspec-tolerations": "enabled",
        "kubernetes.podspec-volumes-emptydir": "enabled",
    }
    assert _assert_admitted(out) == 1


# --- Jobs synced by Argo CD can be updated -----------------------------------------------------------
@pytest.mark.parametrize("env", example_envs())
def test_jobs_in_kubernetes_are_force_replaced(env):
    jobs = [o for o in objects(OUT / env) if o["kind"] == "Job"]
    for job in jobs:  # the pod template is immutable: a plain apply or replace is refused
        assert job["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Force=true,Replace=true"
    app = _load(OUT / env / "argocd" / f"application-{env}.yaml")
    assert "ApplyOutOfSyncOnly=true" in app["spec"]["syncPolicy"]["syncOptions"]  # re-created only when changed


def test_dev_has_a_standalone_job():
    assert any(o["kind"] == "Job" for o in objects(OUT / "dev"))


# --- GPU pods land on nodes that advertise GPUs --------------------------------------------------------
@pytest.mark.parametrize("env", example_envs())
def test_device_plugin_tolerates_every_taint_of_the_gpu_pools(env):
    needs = json.loads((OUT / env / "platform.json").read_text())
    if needs["settings"]["provider"] != "aws":
        pytest.skip("GKE installs and manages the NVIDIA device plugin on GPU nodes itself")
    if not needs["gpu_pools"]:
        pytest.skip("no GPU node pool: no device plugin")
    groups = json.loads((OUT / env / "terraform" / "cluster.tf.json").read_text())["resource"]["aws_eks_node_group"]
    app = _load(OUT / "_platform" / needs["cluster"] / "apps" / f"application-{needs['cluster']}-nvidia-device-plugin.yaml")
    values = app["spec"]["source"]["helm"]["valuesObject"]
    pools = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    gpu_groups = [g for g in groups.values() if "NVIDIA" in g.get("ami_type", "")]
    assert gpu_groups
    for group in gpu_groups:
        assert group["labels"]["mlc.dev/node-pool"] in pools["matchExpressions"][0]["values"]
        for taint in group.get("taint", []):
            assert any(
                t["key"] == taint["key"] and t["effect"] == "NoSchedule" and t["operator"] == "Exists" for t in values["tolerations"]
            ), taint


# --- writable scratch and shared memory ---------------------------------------------------------------
def _volumes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in spec.get("volumes") or []}


@pytest.mark.parametrize("env", example_envs())
def test_runtimes_have_writable_home_and_shared_memory(env):
    seen = 0
    for obj in objects(OUT / env):
        for spec in pod_specs(obj):
            volumes = _volumes(spec)
            containers = spec.get("containers") or [spec["model"]]
            for container in containers:
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
                env_vars = {e["name"]: e.get("value") for e in container.get("env") or []}
                home = env_vars.get("HOME")
                assert home and any(home == p or home.startswith(p + "/") for p in mounts), (obj["metadata"]["name"], home)
                assert "emptyDir" in volumes[mounts[home]]
                # a FlinkDeployment's pod template leaves resources to the operator (jobManager/taskManager)
                gpus = int((container.get("resources") or {"limits": {}})["limits"].get("nvidia.com/gpu", 0))
                if gpus or obj["kind"] in ("PyTorchJob",) or (obj["kind"] == "Job" and "train" in obj["metadata"]["name"]):
                    shm = volumes[mounts["/dev/shm"]]["emptyDir"]
                    assert shm["medium"] == "Memory"
                    limit = _bytes(container["resources"]["limits"]["memory"])
                    assert 64 * 2**20 < _bytes(shm["sizeLimit"]) <= limit
                seen += 1
    assert seen


def _bytes(quantity: str) -> int:
    for suffix, factor in (("Ki", 2**10), ("Mi", 2**20), ("Gi", 2**30), ("Ti", 2**40)):
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def test_torchserve_and_huggingface_runtimes_write_under_tmp():
    ranker = _load(OUT / "prod" / "kubernetes" / "inferenceservice-ranker.yaml")["spec"]["predictor"]["model"]
    assert {"name": "LOG_LOCATION", "value": "/tmp/logs"} in ranker["env"]
    assert {"name": "METRICS_LOCATION", "value": "/tmp/logs"} in ranker["env"]
    demo = _load(OUT / "research-gcp" / "kubernetes" / "inferenceservice-demo.yaml")["spec"]["predictor"]["model"]
    assert {"name": "HF_HOME", "value": "/tmp/huggingface"} in demo["env"]


# --- Spark finds the workload identity -------------------------------------------------------------------
def test_spark_object_store_credentials_per_provider():
    aws = _load(OUT / "dev" / "kubernetes" / "sparkapplication-feature-etl.yaml")["spec"]["sparkConf"]
    assert aws["spark.hadoop.fs.s3a.aws.credentials.provider"] == "com.amazonaws.auth.WebIdentityTokenCredentialsProvider"
    template = _load(OUT / "research-gcp" / "argo" / "workflowtemplate-weekly-pretrain.yaml")
    manifests = [yaml.safe_load(t["resource"]["manifest"]) for t in template["spec"]["templates"] if "manifest" in t.get("resource", {})]
    spark = next(m for m in manifests if m["kind"] == "SparkApplication")
    assert spark["spec"]["sparkConf"]["spark.hadoop.fs.gs.auth.type"] == "APPLICATION_DEFAULT"


# --- env values that name a component ---------------------------------------------------------------------
def test_env_value_naming_a_store_becomes_its_real_uri():
    fallback = _load(OUT / "prod" / "kubernetes" / "deployment-ranker-fallback.yaml")
    env = {e["name"]: e.get("value") for e in fallback["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODEL_URI_PREFIX"] == "s3://123456789012-prod-models-9dc172"


APP = f"""
models: {{type: object_store}}
db: {{type: database, engine: postgres, version: "16", instance_class: db.t3.small, storage_gb: 20}}
app:
  type: batch_inference
  image: registry.example.com/a:1{DIGEST}
  model: {{from: models, path: m}}
  env:
    A: s3a://models/x/y
    B: gs://models
    C: s3://db
    D: s3://not-a-component/z
"""


def test_env_value_naming_a_non_bucket_or_wrong_scheme_is_an_error_at_its_line(tmp_path, capsys):
    code, err, _ = compile_tree(tmp_path, {"e1": env_with("e1", APP)}, capsys)
    assert code == 2
    lines = sorted(line for line in err.splitlines() if "MLC-E046" in line)
    assert lines == [
        'environments/e1.yaml:20:10: error MLC-E046: B names the store "models" with gs://, but a aws store is reached with s3:// or s3a://',
        'environments/e1.yaml:21:10: error MLC-E046: C names the component "db", a database, as a bucket; '
        "only object_store and data_lake have a URI",
    ]


def test_env_value_with_scheme_variant_keeps_scheme_and_path(tmp_path, capsys):
    good = APP.replace("    B: gs://models\n    C: s3://db\n", "")
    code, err, out = compile_tree(tmp_path, {"e1": env_with("e1", good)}, capsys)
    assert code == 0, err
    job = _load(out / "e1" / "kubernetes" / "job-app.yaml")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["A"].startswith("s3a://123456789012-e1-models-") and env["A"].endswith("/x/y")
    assert env["D"] == "s3://not-a-component/z"  # not a component: an external bucket, passed through


# --- scale to zero ----------------------------------------------------------------------------------------
def test_scale_to_zero_on_image_serving_is_refused_at_its_line(tmp_path, capsys):
    components = f"""
    models: {{type: object_store}}
    api:
      type: serving
      model: {{from: models, path: m}}
      image: registry.example.com/api:1{DIGEST}
      replicas: {{min: 0, max: 3}}
    """
    code, err, _ = compile_tree(tmp_path, {"e1": env_with("e1", components)}, capsys)
    assert code == 2
    assert "environments/e1.yaml:17:21: error MLC-E047: replicas.min 0 (scale to zero) needs a KServe runtime" in err


def test_scale_to_zero_on_kserve_is_delivered(tmp_path, capsys):
    components = """
    models: {type: object_store}
    api:
      type: serving
      model: {from: models, path: m}
      runtime: sklearn
      replicas: {min: 0, max: 3}
    """
    code, err, out = compile_tree(tmp_path, {"e1": env_with("e1", components)}, capsys)
    assert code == 0, err
    assert _load(out / "e1" / "kubernetes" / "inferenceservice-api.yaml")["spec"]["predictor"]["minReplicas"] == 0


# --- canaries: both revisions named, traffic split by weight --------------------------------------------
CANARY_RUNTIMES = ["sklearn", "xgboost", "pytorch", "tensorflow", "onnx", "triton", "huggingface"]


def _canary_env(runtime: str, percent: int, *, public: bool = False) -> str:
    return f"""
    models: {{type: object_store}}
    ranker:
      type: serving
      model: {{from: models, path: ranker/v12}}
      runtime: {runtime}
      replicas: {{min: 1, max: 4}}
      public: {"true" if public else "false"}
      canary: {{path: ranker/v13, traffic_percent: {percent}}}
    """


@pytest.mark.parametrize(("runtime", "percent", "public"), [(r, p, pub) for r in CANARY_RUNTIMES for p, pub in ((1, False), (37, True))])
def test_kserve_canary_names_both_revisions_and_splits_by_weight(tmp_path, capsys, runtime, percent, public):
    """Two InferenceServices, one per model path, and a Knative Route `ranker` (the name clients
    call) whose traffic names both predictor Configurations with exactly 100 - p and p percent."""
    from tests.support.validators import validate_k8s_object

    code, err, out = compile_tree(tmp_path, {"e1": env_with("e1", _canary_env(runtime, percent, public=public))}, capsys)
    assert code == 0, err
    k8s = out / "e1" / "kubernetes"
    isvcs = {p.name for p in k8s.glob("inferenceservice-*.yaml")}
    assert isvcs == {"inferenceservice-ranker-stable.yaml", "inferenceservice-ranker-canary.yaml"}
    bucket = "s3://123456789012-e1-models-"
    for track, path in (("stable", "ranker/v12"), ("canary", "ranker/v13")):
        isvc = _load(k8s / f"inferenceservice-ranker-{track}.yaml")
        assert validate_k8s_object(isvc) == []
        predictor = isvc["spec"]["predictor"]
        uri = predictor["model"]["storageUri"]
        assert uri.startswith(bucket) and uri.endswith("/" + path), (track, uri)
        assert "canaryTrafficPercent" not in predictor  # KServe's split would give a fresh canary 100 %
        assert predictor["labels"]["mlc.dev/track"] == track and predictor["labels"]["app.kubernetes.io/name"] == "ranker"
        assert isvc["metadata"]["labels"]["networking.kserve.io/visibility"] == "cluster-local"  # reached through the Route
        # the model keeps its name: runtimes naming it after the InferenceService get --model_name=ranker (the last flag wins)
        expected_args = ["--model_name=ranker"] if runtime in ("sklearn", "xgboost", "tensorflow", "huggingface") else None
        assert predictor["model"].get("args") == expected_args, (runtime, track)
    route = _load(k8s / "route-ranker.yaml")
    assert validate_k8s_object(route) == []
    assert (route["apiVersion"], route["kind"], route["metadata"]["name"]) == ("serving.knative.dev/v1", "Route", "ranker")
    assert route["spec"]["traffic"] == [
        {"tag": "stable", "configurationName": "ranker-stable-predictor", "percent": 100 - percent},
        {"tag": "canary", "configurationName": "ranker-canary-predictor", "percent": percent},
    ]
    visibility = route["metadata"]["labels"].get("networking.knative.dev/visibility")
    assert visibility == (None if public else "cluster-local")
    kustomization = _load(k8s / "kustomization.yaml")
    assert {"route-ranker.yaml", "inferenceservice-ranker-stable.yaml", "inferenceservice-ranker-canary.yaml"} <= set(
        kustomization["resources"]
    )
    # the platform installs Knative Serving for the Route; editors may change it like the InferenceServices
    assert "Route" in json.loads((out / "e1" / "platform.json").read_text())["kinds"]
    editor = [_load(p) for p in k8s.glob("role-mlc-editor-*.yaml")] + [_load(p) for p in k8s.glob("role-mlc-admin-*.yaml")]
    for role in editor:
        assert any(r["apiGroups"] == ["serving.knative.dev"] and r["resources"] == ["routes"] for r in role["rules"])


def test_kserve_without_canary_is_one_inference_service_without_route(tmp_path, capsys):
    components = """
    models: {type: object_store}
    ranker: {type: serving, model: {from: models, path: ranker/v12}, runtime: sklearn}
    """
    code, err, out = compile_tree(tmp_path, {"e1": env_with("e1", components)}, capsys)
    assert code == 0, err
    k8s = out / "e1" / "kubernetes"
    assert [p.name for p in k8s.glob("inferenceservice-*.yaml")] == ["inferenceservice-ranker.yaml"]
    assert not list(k8s.glob("route-*.yaml"))
    predictor = _load(k8s / "inferenceservice-ranker.yaml")["spec"]["predictor"]
    assert "args" not in predictor["model"] and "mlc.dev/track" not in predictor["labels"]


def test_image_serving_canary_is_refused_at_its_line(tmp_path, capsys):
    """A Service balances per pod: a canary Deployment would get the replica ratio, not the percentage."""
    components = f"""
    models: {{type: object_store}}
    api:
      type: serving
      model: {{from: models, path: m/1}}
      image: registry.example.com/api:1{DIGEST}
      canary: {{path: m/2, traffic_percent: 25}}
    """
    text = env_with("e1", components)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if "canary:" in s)
    col = text.splitlines()[line - 1].index("{") + 1
    code, err, out = compile_tree(tmp_path, {"e1": text}, capsys)
    assert code == 2
    assert (
        f"environments/e1.yaml:{line}:{col}: error MLC-E065: a canary of 25% needs a weighted traffic split, which mlc's platform "
        "delivers only for KServe runtimes (`runtime:`)"
    ) in err
    assert not (out / "e1").exists()


@pytest.mark.parametrize("env", example_envs())
def test_no_example_splits_by_replica_ratio(env):
    """Across the committed output: no canary Deployment or InferenceService canaryTrafficPercent; every
    canary Route names two Configurations of InferenceServices emitted next to it, with percents summing to 100."""
    objs = objects(OUT / env)
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    for obj in objs:
        labels = obj["metadata"].get("labels") or {}
        assert not (obj["kind"] == "Deployment" and labels.get("mlc.dev/track") == "canary"), obj["metadata"]["name"]
        if obj["kind"] == "InferenceService":
            assert "canaryTrafficPercent" not in obj["spec"]["predictor"]
        if obj["kind"] == "Route":
            traffic = obj["spec"]["traffic"]
            assert [t["tag"] for t in traffic] == ["stable", "canary"] and sum(t["percent"] for t in traffic) == 100
            for target in traffic:
                assert ("InferenceService", target["configurationName"].removesuffix("-predictor")) in names


def test_staging_canary_is_ninety_ten_by_weight():
    """environments/staging.yaml: `canary: {path: ranker/v13, traffic_percent: 10}` on the KServe ranker."""
    k8s = OUT / "staging" / "kubernetes"
    route = _load(k8s / "route-ranker.yaml")
    assert [(t["configurationName"], t["percent"]) for t in route["spec"]["traffic"]] == [
        ("ranker-stable-predictor", 90),
        ("ranker-canary-predictor", 10),
    ]
    uris = {t: _load(k8s / f"inferenceservice-ranker-{t}.yaml")["spec"]["predictor"]["model"]["storageUri"] for t in ("stable", "canary")}
    assert uris["stable"].endswith("/ranker/v12") and uris["canary"].endswith("/ranker/v13")
