"""Building blocks shared by the Kubernetes emitter modules (and the Argo emitter).

Everything here is a pure function of the compiled model returning plain dicts, with keys in
the conventional kubectl order (apiVersion, kind, metadata, spec; name, image, ... in
containers). Nothing is built by string concatenation of YAML.

Defaults a platform team should know about (documented in docs and in the issue):

* every container runs as UID/GID 10001 (>= 10000, kube-score/Checkov CKV_K8S_40), non-root,
  read-only root filesystem with a writable ``emptyDir`` at ``/tmp``, no privilege
  escalation, all capabilities dropped, seccomp ``RuntimeDefault`` (pod and container);
* requests = limits (Guaranteed QoS for CPU/memory); a workload without ``resources`` gets
  :data:`DEFAULT_RESOURCES`;
* ``imagePullPolicy: IfNotPresent`` only for images pinned by digest, ``Always`` otherwise.
"""

from __future__ import annotations

import copy
from typing import Any

from compiler.model.environment import Component, Environment
from compiler.model.kinds import Trait
from compiler.model.resources import DEFAULT_RESOURCES, memory_bytes
from compiler.plan.compiled import Compiled
from compiler.providers import naming

SYNC_WAVE = "argocd.argoproj.io/sync-wave"

#: Argo CD sync waves of environment-level objects; component objects follow the graph.
KIND_WAVES: dict[str, int] = {
    "Namespace": -3,
    "ResourceQuota": -2,
    "LimitRange": -2,
    "Role": -2,
    "RoleBinding": -2,
    "ServiceAccount": -1,
    "ExternalSecret": -1,
    "NetworkPolicy": -1,
}

RUN_AS = 10001
TMP_VOLUME = "tmp"
SHM_VOLUME = "dshm"
#: The root filesystem is read-only and uid 10001 has no passwd entry (HOME would be "/"):
#: tools that write under HOME (pip/torch/huggingface caches, ~/.config) write to /tmp instead.
SCRATCH_ENV = {"HOME": "/tmp"}


def sync_wave(compiled: Compiled, kind: str, component: str | None = None) -> str:
    """The `argocd.argoproj.io/sync-wave` of an object (a string, as Argo CD wants it).

    Namespace -3; ResourceQuota, LimitRange and RBAC -2; ServiceAccounts, ExternalSecrets and
    NetworkPolicies -1 (identity and fences before anything runs); every other object of a
    component at its generation in global run order (graph.py): stores 0, the workloads
    touching them next, monitoring after its targets, and `after` as declared. Data flow
    between workloads does not order waves (workloads run on their own schedules or in a
    pipeline's DAG); `after` does.
    """
    if kind in KIND_WAVES:
        return str(KIND_WAVES[kind])
    if component is None:
        return "0"
    return str(compiled.graph.generation_of[component])


# --- object skeletons -------------------------------------------------------------------
def metadata(
    compiled: Compiled,
    kind: str,
    name: str,
    component: Component | None = None,
    *,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    wave: bool = True,
    namespaced: bool = True,
) -> dict[str, Any]:
    env = compiled.env
    meta: dict[str, Any] = {"name": name}
    if namespaced:
        meta["namespace"] = env.namespace
    all_labels = naming.k8s_labels(env, component)
    all_labels.update(labels or {})
    meta["labels"] = dict(sorted(all_labels.items()))
    notes = dict(annotations or {})
    if wave:
        notes[SYNC_WAVE] = sync_wave(compiled, kind, component.name if component else None)
    if notes:
        meta["annotations"] = dict(sorted(notes.items()))
    return meta


def k8s_object(api_version: str, kind: str, meta: dict[str, Any], **body: Any) -> dict[str, Any]:
    """apiVersion, kind, metadata, then `body` in the given order (None values dropped)."""
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    obj.update({k: v for k, v in body.items() if v is not None})
    return obj


# --- quantities -------------------------------------------------------------------------
def cpu_quantity(value: Any) -> str:
    """A Kubernetes CPU quantity from the spec's number (2, 0.5) or string ("500m", "2")."""
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    return f"{round(float(value) * 1000)}m"


def spark_memory(value: str) -> str:
    """Spark's memory notation (4g, 512m) from a Kubernetes quantity (4Gi, 512Mi)."""
    units = {"Ki": "k", "Mi": "m", "Gi": "g", "Ti": "t"}
    for suffix, spark in units.items():
        if value.endswith(suffix):
            number = value[: -len(suffix)]
            if "." in number:  # Spark wants integers: go one unit down
                factor = {"k": 1, "m": 1024, "g": 1024, "t": 1024}[spark]
                lower = {"k": "k", "m": "k", "g": "m", "t": "g"}[spark]
                return f"{round(float(number) * factor)}{lower}"
            return f"{number}{spark}"
    return value


def resources(component: Component, gpus: int = 0) -> dict[str, Any]:
    """requests = limits from `resources` (or DEFAULT_RESOURCES), plus nvidia.com/gpu."""
    spec = component.get("resources") or {}
    amounts = {
        "cpu": cpu_quantity(spec.get("cpu", DEFAULT_RESOURCES["cpu"])),
        "memory": str(spec.get("memory", DEFAULT_RESOURCES["memory"])),
    }
    if gpus:
        amounts[naming.GPU_RESOURCE] = str(gpus)
    return {"limits": dict(amounts), "requests": dict(amounts)}


def gpu_count(component: Component) -> int:
    gpus = component.get("gpus")
    return int(gpus["count"]) if gpus else 0


# --- security ---------------------------------------------------------------------------
def pod_security_context() -> dict[str, Any]:
    return {
        "fsGroup": RUN_AS,
        "runAsGroup": RUN_AS,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsGroup": RUN_AS,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def image_pull_policy(image: str) -> str:
    return "IfNotPresent" if "@sha256:" in image else "Always"


def tmp_volume() -> dict[str, Any]:
    return {"name": TMP_VOLUME, "emptyDir": {}}


def tmp_mount() -> dict[str, Any]:
    return {"name": TMP_VOLUME, "mountPath": "/tmp"}


def needs_shm(component: Component) -> bool:
    """Training (DataLoader workers, NCCL between local GPUs) and GPU serving share memory
    through /dev/shm, which the container runtime caps at 64 MiB."""
    return component.has(Trait.TRAINS_MODELS) or gpu_count(component) > 0


def shm_size(component: Component) -> str:
    """sizeLimit of /dev/shm: half the container's memory (tmpfs pages count against the
    memory limit, so the other half stays for the process), in MiB."""
    memory = str((component.get("resources") or {}).get("memory", DEFAULT_RESOURCES["memory"]))
    return f"{max(64, memory_bytes(memory) // 2 // 2**20)}Mi"


def scratch_volumes(component: Component) -> list[dict[str, Any]]:
    """Writable scratch of every pod: /tmp (also HOME, see SCRATCH_ENV); /dev/shm where needed."""
    volumes = [tmp_volume()]
    if needs_shm(component):
        volumes.append({"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": shm_size(component)}})
    return volumes


def scratch_mounts(component: Component) -> list[dict[str, Any]]:
    mounts = [tmp_mount()]
    if needs_shm(component):
        mounts.append({"name": SHM_VOLUME, "mountPath": "/dev/shm"})
    return mounts


# --- environment variables --------------------------------------------------------------
def secret_env_keys(component: Component) -> list[tuple[str, str, str]]:
    """(ENV NAME, secret-manager path, key) of every `{secret: "path#key"}` env entry, sorted."""
    out = []
    for key, value in sorted((component.get("env") or {}).items()):
        if isinstance(value, dict) and "secret" in value:
            path, _, prop = str(value["secret"]).partition("#")
            out.append((key, path, prop))
    return out


def env_vars(env: Environment, component: Component, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Container env: SCRATCH_ENV, then `extra` (e.g. MODEL_URI), then the user's entries (which
    win on a name clash): plain values as values, with a store named by its component name
    (`s3://models/x`) resolved to its real URI; secrets as secretKeyRef to the ExternalSecret's
    target Secret. Sorted by name."""
    from compiler.analysis.semantics import resolve_env_value

    entries: dict[str, dict[str, Any]] = {}
    for key, value in {**SCRATCH_ENV, **(extra or {})}.items():
        entries[key] = {"name": key, "value": value}
    secret = naming.workload_secret(component)
    for key, value in (component.get("env") or {}).items():
        if isinstance(value, dict):
            entries[key] = {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        else:
            entries[key] = {"name": key, "value": resolve_env_value(env, str(value))}
    return [entries[k] for k in sorted(entries)]


# --- scheduling -------------------------------------------------------------------------
def node_pools(env: Environment) -> dict[str, dict[str, Any]]:
    return dict(sorted((env.spec["cluster"].get("node_pools") or {}).items()))


def gpu_pools(compiled: Compiled, gpu_type: str, count: int) -> list[str]:
    """Pools whose instances carry at least `count` GPUs of the spec model `gpu_type` (the
    capacity model's placement, so scheduling, capacity checks and cost agree)."""
    return compiled.capacity.gpu_pools(gpu_type, count)


def gpu_toleration() -> dict[str, Any]:
    return {"key": naming.GPU_TAINT_KEY, "operator": "Exists", "effect": naming.TAINT_EFFECT}


def spot_toleration(env: Environment) -> dict[str, Any]:
    key, value = naming.spot_taint(env)
    return {"key": key, "operator": "Equal", "value": value, "effect": naming.TAINT_EFFECT}


def scheduling(compiled: Compiled, component: Component, *, allow_spot: bool | None = None) -> dict[str, Any]:
    """nodeSelector / affinity / tolerations of a workload's pods (only the keys that apply).

    * `node_pool` -> nodeSelector on the pool label; else GPU workloads are pinned (by
      affinity) to the pools whose instances have the requested GPU model and count.
    * GPU requests or a GPU pool -> toleration of the nvidia.com/gpu taint.
    * `spot: true` (unless `allow_spot` is False) or a spot pool -> toleration of the spot taint:
      the workload may run on spot capacity (spot nodes carry the mlc.dev/spot taint, on AKS
      kubernetes.azure.com/scalesetpriority=spot: naming.spot_taint).
    """
    pools = node_pools(compiled.env)
    wanted_spot = bool(component.get("spot")) if allow_spot is None else allow_spot
    gpus = component.get("gpus")
    out: dict[str, Any] = {}
    chosen: list[str] = []
    if component.get("node_pool"):
        chosen = [component.get("node_pool")]
        out["nodeSelector"] = {naming.NODE_POOL_LABEL: chosen[0]}
    elif gpus:
        chosen = gpu_pools(compiled, gpus["type"], int(gpus["count"]))
        if len(chosen) == 1:
            out["nodeSelector"] = {naming.NODE_POOL_LABEL: chosen[0]}
        elif chosen:
            term = {"matchExpressions": [{"key": naming.NODE_POOL_LABEL, "operator": "In", "values": chosen}]}
            out["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}
    tolerations = []
    pool_gpus = any(compiled.pool_gpus(p)[0] for p in chosen if p in pools)
    if gpus or pool_gpus:
        tolerations.append(gpu_toleration())
    if wanted_spot or any(pools.get(p, {}).get("spot") for p in chosen):
        tolerations.append(spot_toleration(compiled.env))
    if tolerations:
        out["tolerations"] = tolerations
    return out


def copy_of(value: Any) -> Any:
    return copy.deepcopy(value)
