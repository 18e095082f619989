"""out/_platform/<cluster>/: the controllers under mlc's output, per cluster.

  <cluster>/root.yaml                    the one Application to apply by hand (app of apps):
                                         syncs apps/ and every environment's argocd/ folder;
                                         sync waves put the platform (<= -10) before the
                                         environments' AppProject (-1) and Applications (0, 1)
  <cluster>/apps/appproject-*.yaml       the platform's AppProject
  <cluster>/apps/application-*.yaml      one Application per controller the environments use
                                         (compiler.targets.platform.catalog), pinned, with the
                                         Helm values mlc's output needs
  <cluster>/manifests/*.yaml             objects of the controllers' CRDs (ClusterSecretStore,
                                         KnativeServing), synced by <cluster>-platform-config
  <cluster>/REQUIREMENTS.md              instead of all the above when
                                         `cluster.platform.manage: false`

Environments on one cluster must agree on the cluster-wide settings (provider, account,
region, Kubernetes version, GitOps repository, revision and server, platform.manage); a
disagreement is an input error (MLC-E035) at the field of the environment that differs.
Argo CD waits for a wave's Applications to be healthy only with the Application health check
restored in argocd-cm (removed from Argo CD's defaults in 1.8); REQUIREMENTS.md and
docs/platform.md say so.
"""

from __future__ import annotations

from typing import Any

from compiler.core.diagnostics import Diagnostic, Location
from compiler.providers import naming
from compiler.targets.artifact import Artifact
from compiler.targets.platform import catalog
from compiler.targets.platform.catalog import GPU_TRIGGER, Component

PLATFORM_DIR = "_platform"
API_VERSION = "argoproj.io/v1alpha1"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"  # where Argo CD's own Applications live
SYNC_OPTIONS = ["CreateNamespace=true", "ServerSideApply=true"]  # big CRDs need server-side apply
SYNC_RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}}
MANAGED_LABELS = {"app.kubernetes.io/managed-by": naming.MANAGED_BY, "app.kubernetes.io/part-of": "mlc-platform"}
KNATIVE_SERVING_VERSION = "1.21.1"  # kserve/kserve v0.20.0 quick-install (KNATIVE_SERVING_VERSION)
CONFLICT = "MLC-E035"


# --- merging environments -------------------------------------------------------------------
def cluster_conflicts(
    needs: dict[str, dict[str, Any]], where: dict[str, dict[str, Location]], recorded: dict[str, dict[str, Any]] | None = None
) -> list[Diagnostic]:
    """Environments on one cluster whose cluster-wide settings differ: one error per setting and
    environment compiled in this run (`where`) that differs from the reference value.

    The reference does not depend on which environments this run compiles: it is the value of
    an environment not compiled now (what out/ holds for it), else the value that out/ recorded
    for the cluster before this run (`recorded`: every environment's previous platform.json)
    if a compiled environment still has it, else the first environment's by name. So the
    environment that changed is the one reported, whether it is compiled alone or with all."""
    problems = []
    by_cluster: dict[str, list[str]] = {}
    for env in sorted(needs):
        by_cluster.setdefault(needs[env]["cluster"], []).append(env)
    before = recorded or {}
    for cluster, envs in sorted(by_cluster.items()):
        for key in sorted({k for env in envs for k in needs[env]["settings"]}):
            values = {env: needs[env]["settings"].get(key) for env in envs}
            if len(set(map(repr, values.values()))) < 2:
                continue
            old = [r["settings"].get(key) for r in before.values() if r.get("cluster") == cluster and key in r["settings"]]
            first = next(
                (e for e in envs if e not in where),  # an env from out/ is the reference
                next((e for e in envs if any(values[e] == o for o in old)), envs[0]),  # else what out/ recorded
            )
            for env in envs:
                if env == first or values[env] == values[first] or env not in where:
                    continue
                problems.append(
                    Diagnostic(
                        where[env][key],
                        CONFLICT,
                        f'environments "{first}" and "{env}" share the cluster "{cluster}" but disagree on {key} '
                        f"({values[first]!r} vs {values[env]!r}); one cluster has one platform",
                    )
                )
    return problems


def emit_platform(needs: dict[str, dict[str, Any]]) -> list[Artifact]:
    """Artifacts under out/_platform/ (paths start with the cluster name) for all clusters."""
    by_cluster: dict[str, list[dict[str, Any]]] = {}
    for env in sorted(needs):
        by_cluster.setdefault(needs[env]["cluster"], []).append(needs[env])
    artifacts: list[Artifact] = []
    for cluster, envs in sorted(by_cluster.items()):
        artifacts += cluster_artifacts(cluster, envs)
    return sorted(artifacts, key=lambda a: a.path)


def merged(envs: list[dict[str, Any]]) -> dict[str, Any]:
    """The union of a cluster's environments' needs."""
    return {
        "settings": envs[0]["settings"],
        "triggers": set().union(*(set(e["kinds"]) for e in envs)) | ({GPU_TRIGGER} if any(e["gpu_pools"] for e in envs) else set()),
        "gpu_pools": sorted(set().union(*(set(e["gpu_pools"]) for e in envs))),
        "knative_features": sorted(set().union(*(set(e["knative_features"]) for e in envs))),
        "namespaces": sorted({e["namespace"] for e in envs}),
        "spark_namespaces": sorted(set().union(*(set(e["spark_namespaces"]) for e in envs))),
        "environments": sorted(e["environment"] for e in envs),
    }


def cluster_artifacts(cluster: str, envs: list[dict[str, Any]]) -> list[Artifact]:
    need = merged(envs)
    settings = need["settings"]
    components = catalog.needed(need["triggers"], settings["provider"])
    config = config_objects(cluster, need)
    if not settings["manage"]:
        return [Artifact(f"{cluster}/REQUIREMENTS.md", requirements(cluster, need, components, config), "text")]
    out = [Artifact(f"{cluster}/apps/appproject-{project_name(cluster)}.yaml", app_project(cluster, need, components), "yaml")]
    for component in components:
        app = helm_application(cluster, need, component)
        out.append(Artifact(f"{cluster}/apps/application-{app['metadata']['name']}.yaml", app, "yaml"))
    if config:
        app = config_application(cluster, need)
        out.append(Artifact(f"{cluster}/apps/application-{app['metadata']['name']}.yaml", app, "yaml"))
        out += [Artifact(f"{cluster}/manifests/{o['kind'].lower()}-{o['metadata']['name']}.yaml", o, "yaml") for o in config]
    out.append(Artifact(f"{cluster}/root.yaml", root_application(cluster, need), "yaml"))
    return out


# --- Argo CD objects ---------------------------------------------------------------------------
def project_name(cluster: str) -> str:
    return naming.bounded(f"{cluster}-platform", 63)


def _meta(name: str, wave: int, cluster: str) -> dict[str, Any]:
    return {
        "name": naming.bounded(name, 63),
        "namespace": naming.ARGOCD_NAMESPACE,
        "labels": {**MANAGED_LABELS, "mlc.dev/cluster": cluster},
        "annotations": {SYNC_WAVE: str(wave)},
    }


def _sync_policy() -> dict[str, Any]:
    return {
        "automated": {"prune": True, "selfHeal": True},
        "syncOptions": list(SYNC_OPTIONS),
        "retry": {"limit": SYNC_RETRY["limit"], "backoff": dict(SYNC_RETRY["backoff"])},  # type: ignore[call-overload]
    }


def app_project(cluster: str, need: dict[str, Any], components: list[Component]) -> dict[str, Any]:
    """Controllers install CRDs, cluster roles and webhooks: the project allows any kind, but
    only from the pinned chart repositories and the GitOps repository, and only on this cluster."""
    settings = need["settings"]
    repos = sorted({c.repo for c in components} | {settings["repo"]})
    meta = _meta(project_name(cluster), catalog.PROJECT_WAVE, cluster)
    meta.pop("namespace")
    meta["namespace"] = naming.ARGOCD_NAMESPACE
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": meta,
        "spec": {
            "description": f"mlc platform of cluster {cluster}: the controllers its environments' output runs on",
            "sourceRepos": repos,
            "destinations": [{"server": settings["server"], "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
            "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


def helm_values(cluster: str, need: dict[str, Any], component: Component) -> dict[str, Any]:
    """Static values of the catalog row plus what depends on the cluster's environments."""
    values = {k: v for k, v in component.values.items()}
    settings = need["settings"]
    if component.name == "spark-operator":
        # mlc emits each job's ServiceAccount and driver Role itself; the webhook applies pod fields
        values = {
            "spark": {"jobNamespaces": need["spark_namespaces"], "serviceAccount": {"create": False}, "rbac": {"create": False}},
            "webhook": {"enable": True},
        }
    elif component.name == "nvidia-device-plugin":
        term = {"matchExpressions": [{"key": naming.NODE_POOL_LABEL, "operator": "In", "values": need["gpu_pools"]}]}
        values = {
            # mlc's GPU pools carry both taints; the chart's default tolerates only nvidia.com/gpu
            "tolerations": [
                {"key": naming.GPU_TAINT_KEY, "operator": "Exists", "effect": naming.TAINT_EFFECT},
                {"key": naming.SPOT_TAINT_KEY, "operator": "Exists", "effect": naming.TAINT_EFFECT},
            ],
            # the chart's default affinity needs Node Feature Discovery labels; mlc labels its pools
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}},
        }
    elif component.name == "kube-prometheus-stack":
        spec: dict[str, Any] = {}
        for kind in ("serviceMonitor", "podMonitor", "rule"):  # select every monitor and rule, mlc's included
            spec[f"{kind}SelectorNilUsesHelmValues"] = False
            spec[f"{kind}NamespaceSelector"] = {}
        values = {
            "prometheus": {"prometheusSpec": dict(sorted(spec.items()))},
            "grafana": {
                "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"}}
            },
        }
    elif component.name == "external-secrets":
        values = {"serviceAccount": {"annotations": secret_store_identity(cluster, settings)}}
    return values


def secret_store_identity(cluster: str, settings: dict[str, Any]) -> dict[str, str]:
    """The External Secrets controller's cloud identity (created outside mlc, see REQUIREMENTS)."""
    if settings["provider"] == "aws":
        return {
            "eks.amazonaws.com/role-arn": f"arn:aws:iam::{settings['account']}:role/{naming.bounded(f'mlc-{cluster}-external-secrets', 64)}"
        }
    return {"iam.gke.io/gcp-service-account": f"{naming.bounded(f'{cluster}-eso', 30)}@{settings['account']}.iam.gserviceaccount.com"}


def helm_application(cluster: str, need: dict[str, Any], component: Component) -> dict[str, Any]:
    settings = need["settings"]
    source: dict[str, Any] = {"repoURL": component.repo, "targetRevision": component.version}
    if component.chart:
        source["chart"] = component.chart
        helm: dict[str, Any] = {"releaseName": component.name}
        values = helm_values(cluster, need, component)
        if values:
            helm["valuesObject"] = values
        source["helm"] = helm
    else:
        source["path"] = component.path
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {**_meta(f"{cluster}-{component.name}", component.wave, cluster), "finalizers": [FINALIZER]},
        "spec": {
            "project": project_name(cluster),
            "source": source,
            "destination": {"server": settings["server"], "namespace": component.namespace},
            "syncPolicy": _sync_policy(),
        },
    }


def config_application(cluster: str, need: dict[str, Any]) -> dict[str, Any]:
    settings = need["settings"]
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {**_meta(f"{cluster}-platform-config", catalog.CONFIG_WAVE, cluster), "finalizers": [FINALIZER]},
        "spec": {
            "project": project_name(cluster),
            "source": {
                "repoURL": settings["repo"],
                "targetRevision": settings["revision"],
                "path": f"out/{PLATFORM_DIR}/{cluster}/manifests",
            },
            "destination": {"server": settings["server"], "namespace": "default"},
            "syncPolicy": _sync_policy(),
        },
    }


def root_application(cluster: str, need: dict[str, Any]) -> dict[str, Any]:
    """App of apps: the platform's Applications and every environment's argocd/ folder."""
    settings = need["settings"]
    base = {"repoURL": settings["repo"], "targetRevision": settings["revision"]}
    sources = [{**base, "path": f"out/{PLATFORM_DIR}/{cluster}/apps"}]
    sources += [{**base, "path": f"out/{env}/argocd"} for env in need["environments"]]
    meta = _meta(f"{cluster}-root", 0, cluster)
    meta.pop("annotations")
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": {**meta, "finalizers": [FINALIZER]},
        "spec": {
            "project": "default",  # the bootstrap Application; the projects it syncs do not exist yet
            "sources": sources,
            "destination": {"server": IN_CLUSTER, "namespace": naming.ARGOCD_NAMESPACE},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "retry": {"limit": SYNC_RETRY["limit"], "backoff": dict(SYNC_RETRY["backoff"])},  # type: ignore[call-overload]
            },
        },
    }


# --- objects of the controllers' CRDs ---------------------------------------------------------
def cluster_secret_store(cluster: str, settings: dict[str, Any]) -> dict[str, Any]:
    """ClusterSecretStore `mlc-<provider>` every ExternalSecret of mlc reads (naming.secret_store).
    The controller authenticates with its own workload identity (secret_store_identity)."""
    from compiler.providers.registry import get

    provider = get(settings["provider"]).external_secrets_provider(settings)
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ClusterSecretStore",
        "metadata": {"name": f"mlc-{settings['provider']}", "labels": dict(MANAGED_LABELS)},
        "spec": {"provider": provider},
    }


def knative_serving(need: dict[str, Any]) -> dict[str, Any]:
    """KnativeServing (Knative operator): the feature flags the InferenceServices need."""
    features = {flag: "enabled" for flag in need["knative_features"]}
    return {
        "apiVersion": "operator.knative.dev/v1beta1",
        "kind": "KnativeServing",
        "metadata": {"name": "knative-serving", "namespace": "knative-serving", "labels": dict(MANAGED_LABELS)},
        "spec": {
            "version": KNATIVE_SERVING_VERSION,
            "config": {"features": features},
            "ingress": {"istio": {"enabled": True}},
        },
    }


def config_objects(cluster: str, need: dict[str, Any]) -> list[dict[str, Any]]:
    objects = []
    if "ExternalSecret" in need["triggers"]:
        objects.append(cluster_secret_store(cluster, need["settings"]))
    if "InferenceService" in need["triggers"]:
        objects.append(knative_serving(need))
    return objects


# --- manage: false ---------------------------------------------------------------------------------
def requirements(cluster: str, need: dict[str, Any], components: list[Component], config: list[dict[str, Any]]) -> str:
    """REQUIREMENTS.md: what the platform team must provide, with the reason for each."""
    from compiler.output.serialize import dump_yaml

    lines = [
        f"# Platform requirements of cluster {cluster}",
        "",
        "Generated by mlc (`cluster.platform.manage: false`): the platform team installs these. The versions are",
        "the ones mlc's output is validated against; the settings are the ones its objects rely on.",
        f"Environments on this cluster: {', '.join(need['environments'])}.",
        "",
        "| component | version | namespace | why |",
        "| --- | --- | --- | --- |",
    ]
    for c in components:
        where = f"chart `{c.chart}` from {c.repo}" if c.chart else f"{c.repo} `{c.path}`"
        lines.append(f"| {c.name} ({where}) | {c.version} | {c.namespace} | {c.why} |")
    lines += ["", "## Settings", ""]
    for c in components:
        values = helm_values(cluster, need, c)
        if values:
            lines += [f"### {c.name} (Helm values)", "", "```yaml", dump_yaml(values).rstrip("\n"), "```", ""]
    for obj in config:
        lines += [f"### {obj['kind']} {obj['metadata']['name']}", "", "```yaml", dump_yaml(obj).rstrip("\n"), "```", ""]
    lines += [
        "## Also",
        "",
        "- A CNI that enforces NetworkPolicy: mlc's namespaces deny all traffic by default.",
        f"- Node pools labelled `{naming.NODE_POOL_LABEL}=<pool>`; spot pools tainted "
        f"`{naming.SPOT_TAINT_KEY}={naming.SPOT_TAINT_VALUE}:{naming.TAINT_EFFECT}`, GPU pools "
        f"`{naming.GPU_TAINT_KEY}={naming.GPU_TAINT_VALUE}:{naming.TAINT_EFFECT}` (mlc's Terraform does this).",
        "- The External Secrets controller's cloud identity: "
        + ", ".join(f"`{k}: {v}`" for k, v in secret_store_identity(cluster, need["settings"]).items())
        + " with read access to the secrets the environments name.",
        "- Argo CD with the health check of `argoproj.io/Application` restored in `argocd-cm`, so that sync waves wait for",
        "  the platform before the environments (removed from Argo CD's defaults in 1.8).",
        "",
    ]
    return "\n".join(lines)
