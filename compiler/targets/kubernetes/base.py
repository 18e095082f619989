"""Namespace-level objects and workload identities.

Namespace         Pod Security Admission enforce/audit/warn = restricted, pinned to the
                  cluster's minor version
ResourceQuota     requests.nvidia.com/gpu capped at what the node pools can hold:
                  sum over pools of max nodes x GPUs per instance (pricing data)
LimitRange        default requests = limits for containers that declare none
ServiceAccount    one per workload, annotated with its cloud identity (IRSA role ARN on
                  AWS, Workload Identity service account on GCP) that Terraform creates
                  under the same names (compiler.providers.naming); token not mounted, except for
                  Spark (its driver creates executors through the API)
ExternalSecret    one per workload with secret env entries; reads the ClusterSecretStore
                  `naming.secret_store(env)` (a prerequisite, installed with the External
                  Secrets Operator) and creates the Secret `naming.workload_secret(...)`
                  that containers reference with secretKeyRef. No value is ever emitted.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.providers.registry import provider_of
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.kinds import handler

PSA_LEVEL = "restricted"
LIMIT_DEFAULTS = {"cpu": "500m", "memory": "512Mi"}
SECRET_REFRESH = "1h"
QUOTA_NAME = "mlc-quota"
LIMITS_NAME = "mlc-defaults"


def namespace(compiled: Compiled) -> dict[str, Any]:
    env = compiled.env
    version = f"v{env.spec['cluster'].get('version', '1.31')}"
    psa = {}
    for mode in ("audit", "enforce", "warn"):
        psa[f"pod-security.kubernetes.io/{mode}"] = PSA_LEVEL
        psa[f"pod-security.kubernetes.io/{mode}-version"] = version
    meta = c.metadata(compiled, "Namespace", env.namespace, labels=psa, namespaced=False)
    return c.k8s_object("v1", "Namespace", meta)


def gpu_capacity(compiled: Compiled) -> int:
    """GPUs the node pools can hold at their max size: sum of max x GPUs per instance."""
    return compiled.capacity.gpu_quota


def resource_quota(compiled: Compiled) -> dict[str, Any]:
    meta = c.metadata(compiled, "ResourceQuota", QUOTA_NAME)
    return c.k8s_object("v1", "ResourceQuota", meta, spec={"hard": {f"requests.{naming.GPU_RESOURCE}": str(gpu_capacity(compiled))}})


def limit_range(compiled: Compiled) -> dict[str, Any]:
    meta = c.metadata(compiled, "LimitRange", LIMITS_NAME)
    limit = {"type": "Container", "default": dict(LIMIT_DEFAULTS), "defaultRequest": dict(LIMIT_DEFAULTS)}
    return c.k8s_object("v1", "LimitRange", meta, spec={"limits": [limit]})


def needs_api(component: Component) -> bool:
    """Whether a workload's pods talk to the Kubernetes API (only the Spark driver does)."""
    return handler(component).needs_api


def service_account(compiled: Compiled, component: Component, api: bool | None = None) -> dict[str, Any]:
    """A workload's ServiceAccount bound to its cloud identity; `api` overrides the kind's own
    answer (monitor workloads are not components of a registered kind and never need it)."""
    env = compiled.env
    identity = provider_of(env).identity_annotation(env, component)
    meta = c.metadata(compiled, "ServiceAccount", naming.service_account(component), component, annotations=identity)
    # Pods choose per pod: only the Spark driver sets automountServiceAccountToken: true.
    automount = needs_api(component) if api is None else api
    return c.k8s_object("v1", "ServiceAccount", meta, automountServiceAccountToken=automount)


def external_secret(compiled: Compiled, component: Component) -> dict[str, Any] | None:
    entries = c.secret_env_keys(component)
    if not entries:
        return None
    name = naming.workload_secret(component)
    meta = c.metadata(compiled, "ExternalSecret", name, component)
    spec = {
        "refreshInterval": SECRET_REFRESH,
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": naming.secret_store(compiled.env)},
        "target": {"name": name, "creationPolicy": "Owner"},
        "data": [{"secretKey": key, "remoteRef": {"key": path, "property": prop}} for key, path, prop in entries],
    }
    return c.k8s_object("external-secrets.io/v1", "ExternalSecret", meta, spec=spec)


def emit_base(compiled: Compiled) -> list[dict[str, Any]]:
    """Namespace, quota, limits, and per-workload ServiceAccount + ExternalSecret."""
    objects = [namespace(compiled), resource_quota(compiled), limit_range(compiled)]
    for component in compiled.env.components.values():
        if not component.is_workload or component.has(Trait.FOREIGN_PODS):
            continue  # tuning trials run as their trial job; edge servers on other clusters
        objects.append(service_account(compiled, component))
        secret = external_secret(compiled, component)
        if secret is not None:
            objects.append(secret)
    return objects
