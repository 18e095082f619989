"""What one environment needs from its cluster's platform: `out/<env>/platform.json`.

Derived from the objects the environment's emitters produced (so it cannot disagree with
them) and written with them. The platform stage (compiler.targets.platform.emit) merges the
needs of every environment on a cluster; for an environment not compiled in a run (cached,
or not selected) it reads this file back, which the cache guarantees is what a compile would
produce.
"""

from __future__ import annotations

from typing import Any

from compiler.plan.compiled import Compiled
from compiler.providers.registry import provider_of
from compiler.targets.artifact import Artifact

NEEDS_FILE = "platform.json"

#: InferenceService predictor fields Knative Serving admits only with a config-features flag
#: (knative/serving pkg/apis/config/features.go; the masks in pkg/apis/serving/fieldmask.go).
#: Checked against the emitted objects, not the spec, so the pair cannot drift.
KNATIVE_GATED_FIELDS = {
    "affinity": "kubernetes.podspec-affinity",
    "nodeSelector": "kubernetes.podspec-nodeselector",
    "securityContext": "kubernetes.podspec-securitycontext",
    "tolerations": "kubernetes.podspec-tolerations",
}
KNATIVE_EMPTYDIR = "kubernetes.podspec-volumes-emptydir"


def knative_features(objects: list[dict[str, Any]]) -> list[str]:
    """The config-features flags the InferenceServices among `objects` need enabled."""
    flags: set[str] = set()
    for obj in objects:
        if obj.get("kind") != "InferenceService":
            continue
        predictor = (obj.get("spec") or {}).get("predictor") or {}
        flags |= {flag for field, flag in KNATIVE_GATED_FIELDS.items() if predictor.get(field)}
        if any("emptyDir" in v for v in predictor.get("volumes") or []):
            flags.add(KNATIVE_EMPTYDIR)
    return sorted(flags)


def _objects(artifacts: list[Artifact]) -> list[dict[str, Any]]:
    out = []
    for artifact in artifacts:
        if artifact.path.startswith(("kubernetes/", "argo/")) and isinstance(artifact.content, dict) and "kind" in artifact.content:
            out.append(artifact.content)
    return out


def settings(compiled: Compiled) -> dict[str, Any]:
    """Cluster-wide facts every environment on the cluster must agree on."""
    spec = compiled.env.spec
    cloud, cluster, gitops = spec["cloud"], spec["cluster"], spec["gitops"]
    return {
        "account": str(cloud.get("account", "")),
        "kubernetes": str(cluster.get("version", "1.31")),
        "manage": bool((cluster.get("platform") or {}).get("manage", True)),
        "provider": compiled.env.provider,
        "region": str(cloud.get("region", "")),
        "repo": gitops["repo"],
        "revision": gitops.get("revision", "main"),
        "server": gitops.get("server", "https://kubernetes.default.svc"),
        **provider_of(compiled.env).secret_store_settings(compiled.env),
    }


#: settings key -> the spec field an error about it points at
SETTING_POINTERS = {
    "account": "/cloud/account",
    "kubernetes": "/cluster/version",
    "manage": "/cluster/platform/manage",
    "provider": "/cloud/provider",
    "region": "/cloud/region",
    "repo": "/gitops/repo",
    "revision": "/gitops/revision",
    "server": "/gitops/server",
}


def setting_pointer(key: str) -> str:
    """The spec field an error about cluster-wide setting `key` points at. A provider's own
    settings (secret_store_settings, e.g. Azure's per-environment Key Vault) follow from the
    environment sharing the cluster, so they point at the cluster's name."""
    return SETTING_POINTERS.get(key, "/cluster/name")


def platform_needs(compiled: Compiled, artifacts: list[Artifact]) -> dict[str, Any]:
    """The environment's platform needs (plain data, written as platform.json)."""
    from compiler.model.kinds import Trait
    from compiler.targets.kubernetes.common import node_pools
    from compiler.targets.kubernetes.workloads import build_run_object

    env = compiled.env
    objects = _objects(artifacts)
    kinds = {o["kind"] for o in objects}
    kinds |= {build_run_object(compiled, c)["kind"] for c in env.with_trait(Trait.RUNNABLE)}
    gpu_pools = [name for name in node_pools(env) if compiled.pool_gpus(name)[0]]
    spark = sorted({env.namespace} if kinds & {"SparkApplication", "ScheduledSparkApplication"} else set())
    return {
        "cluster": str(env.spec["cluster"]["name"]),
        "environment": env.name,
        "gpu_pools": gpu_pools,
        "kinds": sorted(kinds),
        "knative_features": knative_features(objects),
        "namespace": env.namespace,
        "settings": settings(compiled),
        "spark_namespaces": spark,
    }


def well_formed(data: Any) -> bool:
    """A platform.json read back from out/ has the shape platform_needs writes (a hand-edited or
    truncated file is ignored rather than trusted)."""
    if not isinstance(data, dict) or not isinstance(data.get("cluster"), str) or not isinstance(data.get("environment"), str):
        return False
    settings = data.get("settings")
    if not isinstance(settings, dict) or not set(SETTING_POINTERS) <= set(settings):
        return False
    lists = ("gpu_pools", "kinds", "knative_features", "spark_namespaces")
    if not all(isinstance(data.get(k), list) and all(isinstance(v, str) for v in data[k]) for k in lists):
        return False
    return isinstance(data.get("namespace"), str) and all(isinstance(v, (str, bool)) for v in settings.values())
