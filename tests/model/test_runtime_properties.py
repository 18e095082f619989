"""Runtime semantics as properties over random environments (issue 25).

For every environment tests/support/spec_strategies.py draws, the emitted output (all of it, Argo's
run-object manifests included, whatever the policies say) must run: every pod has a writable
/tmp and HOME, GPU pods select GPU pools and tolerate every taint of those pools (the taints
read from the emitted Terraform, plus the one GKE adds to GPU nodes itself), and every
workload's NetworkPolicy lets it reach its provider's identity endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given

from compiler.frontend.project import Project
from compiler.model.kinds import Category, Trait
from compiler.providers import naming
from tests.support.spec_strategies import emitted_files, environment, fast, parse_file, write_project
from tests.targets.kubernetes.test_runtime import GKE_METADATA, GKE_METADATA_DPV2

POOL_LABEL = "mlc.dev/node-pool"
GKE_GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}  # GKE taints GPU nodes itself
EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}
HTTPS = {"ports": [{"protocol": "TCP", "port": 443}]}


def _objects(files: dict[str, bytes]) -> Iterator[dict[str, Any]]:
    """Every Kubernetes object emitted, and every run object inside an Argo resource template."""
    for path, data in sorted(files.items()):
        if not path.endswith(".yaml") or not path.startswith(("kubernetes/", "argo/")):
            continue
        obj = parse_file(path, data)
        if not isinstance(obj, dict) or "kind" not in obj:
            continue
        yield obj
        for template in (obj.get("spec") or {}).get("templates") or []:
            manifest = (template.get("resource") or {}).get("manifest")
            if manifest and (template["resource"].get("action") == "create"):
                yield yaml.safe_load(manifest)
        workflow = (obj.get("spec") or {}).get("workflowSpec") or {}
        for template in workflow.get("templates") or []:
            manifest = (template.get("resource") or {}).get("manifest")
            if manifest and template["resource"].get("action") == "create":
                yield yaml.safe_load(manifest)


def _pods(obj: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:
    """(pod-level fields, containers, volumes) of every pod an object runs."""
    spec = obj.get("spec") or {}
    if obj["kind"] in ("SparkApplication", "ScheduledSparkApplication"):
        app = spec.get("template", spec)
        for role in ("driver", "executor"):
            section = app[role]
            yield section, [section], app.get("volumes") or []
        return
    if obj["kind"] == "InferenceService":
        predictor = spec["predictor"]
        yield predictor, [predictor["model"]], predictor.get("volumes") or []
        return

    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if isinstance(node.get("containers"), list):
                yield node
                return
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    if obj["kind"] in ("WorkflowTemplate", "CronWorkflow", "Workflow"):
        return  # Argo's own step pods: the run objects inside are checked on their own
    for pod in walk(spec):
        yield pod, pod["containers"] + (pod.get("initContainers") or []), pod.get("volumes") or []


def _pool_taints(files: dict[str, bytes]) -> dict[str, tuple[bool, list[dict[str, str]]]]:
    """pool -> (has GPUs, taints) from the emitted Terraform (EKS node groups, GKE node pools, AKS node pools)."""
    cluster = parse_file("terraform/cluster.tf.json", files["terraform/cluster.tf.json"])["resource"]
    pools = {}
    for group in (cluster.get("aws_eks_node_group") or {}).values():
        taints = [{"key": t["key"], "value": t["value"], "effect": EFFECTS[t["effect"]]} for t in group.get("taint", [])]
        pools[group["labels"][POOL_LABEL]] = ("NVIDIA" in group.get("ami_type", ""), taints)
    for pool in (cluster.get("google_container_node_pool") or {}).values():
        config = pool["node_config"]
        taints = [{"key": t["key"], "value": t["value"], "effect": EFFECTS[t["effect"]]} for t in config.get("taint", [])]
        gpus = bool(config.get("guest_accelerator"))
        pools[config["labels"][POOL_LABEL]] = (gpus, taints + ([GKE_GPU_TAINT] if gpus else []))
    for pool in (cluster.get("azurerm_kubernetes_cluster_node_pool") or {}).values():
        taints = []
        for taint in pool.get("node_taints", []):  # "key=value:Effect"
            key_value, effect = taint.rsplit(":", 1)
            key, value = key_value.split("=", 1)
            taints.append({"key": key, "value": value, "effect": effect})
        gpus = pool["vm_size"].startswith("Standard_N")  # Azure's GPU VMs are the N-series
        pools[pool["node_labels"][POOL_LABEL]] = (gpus, taints)
    return pools


def _tolerates(toleration: dict[str, Any], taint: dict[str, str]) -> bool:
    """Kubernetes' ToleratesTaint (k8s.io/api core/v1 toleration.go)."""
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("key") and toleration["key"] != taint["key"]:
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return True
    return toleration.get("value", "") == taint["value"]


def _selected_pools(pod: dict[str, Any]) -> list[str]:
    if POOL_LABEL in (pod.get("nodeSelector") or {}):
        return [pod["nodeSelector"][POOL_LABEL]]
    affinity = (((pod.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")) or {}
    expressions = [e for term in affinity.get("nodeSelectorTerms", []) for e in term["matchExpressions"]]
    return [v for e in expressions if e["key"] == POOL_LABEL for v in e["values"]]


def _check_pods(files: dict[str, bytes]) -> int:
    pools = _pool_taints(files)
    seen = 0
    for obj in _objects(files):
        for pod, containers, volumes in _pods(obj):
            name = f"{obj['kind']} {obj['metadata'].get('name') or obj['metadata'].get('generateName')}"
            by_name = {v["name"]: v for v in volumes}
            for container in containers:
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
                assert "emptyDir" in by_name[mounts["/tmp"]], name  # writable scratch under a read-only root
                env = {e["name"]: e.get("value") for e in container.get("env") or []}
                home = env.get("HOME")
                assert home and any(home == p or home.startswith(p.rstrip("/") + "/") for p in mounts), (name, home)
                assert "emptyDir" in by_name[mounts[next(p for p in mounts if home == p or home.startswith(p + "/"))]]
                gpus = int(((container.get("resources") or {}).get("limits") or {}).get("nvidia.com/gpu", 0))
                if gpus:
                    chosen = _selected_pools(pod)
                    assert chosen, f"{name} requests GPUs but selects no node pool"
                    for pool in chosen:
                        has_gpus, taints = pools[pool]
                        assert has_gpus, (name, pool)
                        for taint in taints:
                            assert any(_tolerates(t, taint) for t in pod.get("tolerations") or []), (name, pool, taint)
                seen += 1
    return seen


def _egress_of(policies: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]] | None:
    """The egress rules of every NetworkPolicy selecting pods with these labels (None: no policy selects them)."""
    rules: list[dict[str, Any]] = []
    selected = False
    for policy in policies:
        selector = policy["spec"]["podSelector"]
        wanted = selector.get("matchLabels") or {}
        if selector.get("matchExpressions") or any(labels.get(k) != v for k, v in wanted.items()):
            continue
        selected = selected or ("Egress" in policy["spec"].get("policyTypes", []) and bool(wanted))
        rules += policy["spec"].get("egress") or []
    return rules if selected else None


def _check_egress(root: Path, files: dict[str, bytes]) -> None:
    """Every workload with pods of its own is selected by a policy whose egress reaches its identity endpoints.

    Policies are found by what they select (the pods' labels), not by file name: a workload may have
    several policies, and kinds without pods of their own (a tuning job runs its trial job's pods, an
    edge deployment runs on the fleet's clusters) have none.
    """
    (env,) = Project.at(root).load_environments(["e1"])
    policies = [
        parse_file(path, data)
        for path, data in sorted(files.items())
        if path.startswith("kubernetes/networkpolicy-") and path.endswith(".yaml")
    ]
    for component in env.of_category(Category.WORKLOAD):
        if component.has(Trait.FOREIGN_PODS):
            continue
        egress = _egress_of(policies, naming.selector_labels(component))
        assert egress is not None, f"no NetworkPolicy selects the pods of {component.name}"
        assert HTTPS in egress, component.name  # STS / token exchange, object stores, KMS
        if env.provider == "gcp":  # Workload Identity: the GKE metadata server (and its Dataplane V2 address)
            assert GKE_METADATA in egress and GKE_METADATA_DPV2 in egress, component.name


@fast(25)
@given(environment("e1"))
def test_every_pod_can_run_and_every_workload_reaches_its_identity_endpoints(tmp_path_factory, document):
    root = write_project(tmp_path_factory.mktemp("prop"), {"e1": document})
    files = emitted_files(root)
    pods = _check_pods(files)
    assert pods or not any(c for c in document["components"].values())
    _check_egress(root, files)
