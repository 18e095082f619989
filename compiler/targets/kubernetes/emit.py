"""Kubernetes emitter: out/<env>/kubernetes/, one object per file plus kustomization.yaml.

Files are `kubernetes/<kind-lowercase>-<metadata.name>.yaml`. Object names are unique per
kind by construction (component names are unique; environment-level objects carry an
`mlc-` prefix); a component name that would still collide with a generated name is an input
error (MLC-E052) at the component, not a silently renamed object.

What each component type becomes (details in the k8s_* modules):
  every workload      ServiceAccount (+ cloud identity), NetworkPolicy, ExternalSecret if it
                      has secret env entries (k8s_base, k8s_network)
  spark_job           SparkApplication / ScheduledSparkApplication, driver Role + RoleBinding
  training_job        PyTorchJob (nodes > 1) or Job / CronJob
  batch_inference     Job (scheduled: Argo CronWorkflow in argo/)
  serving             InferenceService, or Deployment + Service + HPA + PDB (k8s_serving)
  monitoring          ServiceMonitor / PodMonitor, PrometheusRule, dashboard ConfigMap,
                      scrape NetworkPolicies (k8s_monitoring, k8s_network); drift detectors
                      and data-quality check identities (monitor_workloads)
  pipeline            nothing here (argo/); its steps' run objects are created by Argo
  stores              nothing here (terraform/)
Runnable workloads that are a pipeline step or on_failure handler run only through the
pipeline: their identity, secrets and network policy are here, their run object is not.

Cluster prerequisites (out/_platform/<cluster>/, see compiler.targets.platform and docs/platform.md):
  - External Secrets Operator and a ClusterSecretStore named `mlc-aws` / `mlc-gcp`
    (naming.secret_store) reading AWS Secrets Manager / GCP Secret Manager;
  - spark-operator (sparkoperator.k8s.io/v1beta2), Kubeflow training-operator v1
    (kubeflow.org/v1 PyTorchJob), KServe in Knative mode with Istio (namespaces
    knative-serving and istio-system; Knative's `kubernetes.podspec-securitycontext` feature
    enabled so pod-level securityContext is admitted), Prometheus operator with Prometheus in
    the namespace `monitoring`, Grafana's dashboard sidecar, the NVIDIA device plugin;
  - a CNI that enforces NetworkPolicy; node pools labelled and tainted as in compiler.providers.naming
    (the Terraform emitter does this);
  - sidecars and init containers that operators inject (KServe storage initializer, Knative
    queue-proxy, training-operator init containers) must satisfy Pod Security `restricted`,
    which the namespace enforces.
"""

from __future__ import annotations

from typing import Any

from compiler.core.diagnostics import Diagnostic, InputError
from compiler.model.environment import Environment
from compiler.model.kinds import Category, Trait
from compiler.plan.compiled import Compiled
from compiler.targets.artifact import Artifact
from compiler.targets.kubernetes.base import emit_base
from compiler.targets.kubernetes.common import sync_wave
from compiler.targets.kubernetes.kinds import HANDLERS
from compiler.targets.kubernetes.monitor_workloads import MONITORING_LABEL, emit_monitor_workloads
from compiler.targets.kubernetes.monitoring import SCRAPE_INTERVAL
from compiler.targets.kubernetes.network import PROMETHEUS_NAMESPACE, emit_network_policies
from compiler.targets.kubernetes.rbac import access_kinds, access_rbac
from compiler.targets.kubernetes.workloads import build_run_object

__all__ = ["emit_kubernetes", "kubernetes_objects", "sync_wave", "build_run_object", "artifact_path"]

DIR = "kubernetes"
NAME_LABEL = "app.kubernetes.io/name"
COLLISION = "MLC-E052"


def argo_kinds(env: Environment) -> set[str]:
    """Kinds the Argo emitter puts in argo/ for this environment, and the Workflows they start."""
    from compiler.analysis.template_syntax import scheduled_runs

    pipelines = list(env.of_category(Category.ORCHESTRATION))
    scheduled = scheduled_runs(env)
    kinds: set[str] = set()
    if pipelines:
        kinds.add("WorkflowTemplate")
    if scheduled or any(p.get("schedule") for p in pipelines):
        kinds.add("CronWorkflow")
    if kinds:
        kinds.add("Workflow")
    return kinds


def kubernetes_objects(compiled: Compiled) -> list[dict[str, Any]]:
    """Every object of kubernetes/, environment-level first, then by component name."""
    env = compiled.env
    objects = emit_base(compiled)
    argo = argo_kinds(env)
    objects += emit_network_policies(compiled, argo=bool(argo))
    objects += emit_monitor_workloads(compiled, prometheus_namespace=PROMETHEUS_NAMESPACE, scrape_interval=SCRAPE_INTERVAL)
    for component in env.components.values():
        handler = HANDLERS.handler(component.type)
        if handler is not None:
            objects += handler.emit(compiled, component)
    kinds = {o["kind"] for o in objects}
    # run objects that pipelines and CronWorkflows create at run time
    kinds |= {build_run_object(compiled, c)["kind"] for c in env.with_trait(Trait.RUNNABLE)}
    if env.spec.get("access"):
        kinds |= {"Role", "RoleBinding"}
    objects += access_rbac(compiled, access_kinds(kinds, argo))
    _check_unique(env, objects)
    return objects


def _owner(env: Environment, obj: dict[str, Any]) -> str | None:
    labels = obj["metadata"].get("labels") or {}
    name = labels.get(NAME_LABEL)
    if name not in env.components:  # a monitor workload's object belongs to its monitoring component
        name = labels.get(MONITORING_LABEL)
    return name if name in env.components else None


def _check_unique(env: Environment, objects: list[dict[str, Any]]) -> None:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    problems = []
    for obj in objects:
        key = (obj["kind"], obj["metadata"]["name"])
        if key in seen:
            owners = sorted({o for o in (_owner(env, seen[key]), _owner(env, obj)) if o})
            at = env.locate(f"/components/{owners[0]}", True) if owners else env.locate("/components", True)
            problems.append(
                Diagnostic(
                    at,
                    COLLISION,
                    f'two Kubernetes {key[0]} objects would be named "{key[1]}" '
                    f"({', '.join(owners) or 'environment-level'}); rename the component",
                )
            )
        seen[key] = obj
    if problems:
        raise InputError(problems)


def artifact_path(obj: dict[str, Any]) -> str:
    return f"{DIR}/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def kustomization(env: Environment, files: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": env.namespace,
        "resources": sorted(f.removeprefix(f"{DIR}/") for f in files),
    }


def emit_kubernetes(compiled: Compiled) -> list[Artifact]:
    """kubernetes/*.yaml (one object each) and kubernetes/kustomization.yaml, sorted by path."""
    env = compiled.env
    artifacts = [Artifact(artifact_path(obj), obj, "yaml", _owner(env, obj)) for obj in kubernetes_objects(compiled)]
    artifacts.append(Artifact(f"{DIR}/kustomization.yaml", kustomization(env, [a.path for a in artifacts]), "yaml"))
    return sorted(artifacts, key=lambda a: a.path)
