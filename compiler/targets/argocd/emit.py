"""Argo CD emitter: one AppProject and the Applications that sync out/<env>/ -> out/<env>/argocd/.

  argocd/appproject-<env>.yaml              what the environment's Applications may deploy
  argocd/application-<env>.yaml             syncs out/<env>/kubernetes
  argocd/application-<env>-workflows.yaml   syncs out/<env>/argo (only when argo/ is not empty)

The AppProject is derived from the artifacts actually emitted, so it allows exactly what
mlc writes: the (group, kind) pairs of namespaced objects, the namespaces they go to, and
cluster-scoped objects by exact name. A kind mlc stops emitting disappears from the project
with it. These objects live in Argo CD's own namespace and are applied by whoever bootstraps
Argo CD (e.g. an app-of-apps), not by the Applications they define.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component, Environment
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.artifact import Artifact

API_VERSION = "argoproj.io/v1alpha1"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
WAVE_PROJECT, WAVE_MAIN, WAVE_WORKFLOWS = "-1", "0", "1"  # workflows run objects need main's accounts
SYNC_OPTIONS = ["ServerSideApply=true", "CreateNamespace=false", "PruneLast=true", "ApplyOutOfSyncOnly=true"]
SYNC_RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}
SYNCED_DIRS = ("kubernetes/", "argo/")

# Cluster-scoped kinds (group, kind); everything else mlc emits is namespaced.
CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("external-secrets.io", "ClusterSecretStore"),
        ("argoproj.io", "ClusterWorkflowTemplate"),
    }
)
NOT_DEPLOYED = frozenset({("kustomize.config.k8s.io", "Kustomization"), ("kustomize.config.k8s.io", "Component")})


def deployed_objects(artifacts: list[Artifact]) -> list[dict[str, Any]]:
    """The Kubernetes objects the environment's Applications sync (kustomization files excluded)."""
    objects = []
    for artifact in artifacts:
        if not artifact.path.startswith(SYNCED_DIRS):
            continue
        docs = artifact.content if isinstance(artifact.content, list) else [artifact.content]
        for doc in docs:
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc and group_kind(doc) not in NOT_DEPLOYED:
                objects.append(doc)
    return objects


def group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    return str(obj["apiVersion"]).rpartition("/")[0], str(obj["kind"])


def app_project(env: Environment, objects: list[dict[str, Any]]) -> dict[str, Any]:
    namespaced = sorted({group_kind(o) for o in objects if group_kind(o) not in CLUSTER_SCOPED})
    cluster = sorted({(*group_kind(o), o["metadata"]["name"]) for o in objects if group_kind(o) in CLUSTER_SCOPED})
    namespaces = sorted(
        {env.namespace}
        | {o["metadata"]["namespace"] for o in objects if group_kind(o) not in CLUSTER_SCOPED and o["metadata"].get("namespace")}
    )
    gitops = env.spec["gitops"]
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": {
            "name": naming.argocd_project(env),
            "namespace": naming.ARGOCD_NAMESPACE,
            "labels": naming.k8s_labels(env),
            "annotations": {SYNC_WAVE: WAVE_PROJECT},
        },
        "spec": {
            "description": f"mlc environment {env.name}: only what mlc compiles for it",
            "sourceRepos": [gitops["repo"]],
            "destinations": [{"server": gitops["server"], "namespace": ns} for ns in namespaces],
            "clusterResourceWhitelist": [{"group": g, "kind": k, "name": n} for g, k, n in cluster],
            "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in namespaced],
            "orphanedResources": {"warn": True},
        },
    }


def application(env: Environment, name: str, path: str, wave: str) -> dict[str, Any]:
    gitops = env.spec["gitops"]
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": naming.ARGOCD_NAMESPACE,
            "labels": naming.k8s_labels(env),
            "annotations": {SYNC_WAVE: wave},
            "finalizers": [FINALIZER],
        },
        "spec": {
            "project": naming.argocd_project(env),
            "source": {"repoURL": gitops["repo"], "targetRevision": gitops["revision"], "path": path},
            "destination": {"server": gitops["server"], "namespace": env.namespace},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": list(SYNC_OPTIONS),
                "retry": {"limit": SYNC_RETRY["limit"], "backoff": dict(SYNC_RETRY["backoff"])},  # type: ignore[call-overload]
            },
            "revisionHistoryLimit": 10,
        },
    }


def _edge(compiled: Compiled, component: Component) -> list[Artifact]:
    from compiler.targets.argocd.edge import emit_edge

    return emit_edge(compiled, component)


NOT_ARGOCD = NotApplicable("synced by the environment's Applications (kubernetes/, argo/) or a cloud resource")
#: what argocd/ emits of its own for a kind (beyond the environment's AppProject and Applications)
HANDLERS: DispatchTable[Any] = DispatchTable(
    "argocd",
    {
        **{
            kind: NOT_ARGOCD
            for kind in (
                "object_store",
                "data_lake",
                "database",
                "spark_job",
                "training_job",
                "serving",
                "batch_inference",
                "monitoring",
                "pipeline",
                "job",
                "tuning_job",
                "tracking_server",
                "stream",
                "feature_store",
                "stream_job",  # a FlinkDeployment in kubernetes/, kept running by the environment's Application
            )
        },
        "edge_deployment": _edge,
    },
)


def emit_argocd(compiled: Compiled, artifacts: list[Artifact]) -> list[Artifact]:
    """AppProject + Applications of one environment; `artifacts` = its kubernetes/ and argo/ output."""
    env = compiled.env
    objects = deployed_objects(artifacts)
    out_dir = f"out/{env.name}"
    result = [
        Artifact(f"argocd/appproject-{env.name}.yaml", app_project(env, objects), "yaml"),
        Artifact(
            f"argocd/application-{env.name}.yaml",
            application(env, naming.argocd_application(env), f"{out_dir}/kubernetes", WAVE_MAIN),
            "yaml",
        ),
    ]
    if any(a.path.startswith("argo/") for a in artifacts):
        workflows = application(env, naming.argocd_workflows_application(env), f"{out_dir}/argo", WAVE_WORKFLOWS)
        result.append(Artifact(f"argocd/application-{env.name}-workflows.yaml", workflows, "yaml"))
    for component in env.components.values():
        handler = HANDLERS.handler(component.type)
        if handler is not None:
            result += handler(compiled, component)
    return result
