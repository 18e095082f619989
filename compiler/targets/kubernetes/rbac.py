"""RBAC: human access from `access`, and the Spark driver's own Role.

One Role + RoleBinding per group (a group listed twice gets its highest role), on exactly
the API groups and resources this environment has in the namespace, never `*`:

  the kinds emitted to kubernetes/ (Namespace aside: it is cluster-scoped), the Argo kinds
  argo/ holds (WorkflowTemplate, CronWorkflow, and the Workflows they start), and the
  objects the emitted controllers create that people need to see: pods, pods/log, events,
  and Jobs when a CronJob creates them, SparkApplications when a ScheduledSparkApplication does.

  viewer  get, list, watch on all of them (pods/log: get)
  editor  viewer + create, update, patch, delete on workload kinds (run objects, serving,
          monitoring objects, Argo workflows; deleting pods restarts them). Identity and
          fences (ServiceAccount, RBAC, NetworkPolicy, ExternalSecret, quota, limits) stay
          read-only: they change through Git.
  admin   every explicit verb (get, list, watch, create, update, patch, delete,
          deletecollection) on all of them, RBAC kinds included. No bind/escalate/impersonate,
          no pods/exec: an admin cannot grant more than the admin Role itself holds.

Group "*" binds the group `system:authenticated`.

As with Kubernetes' own `edit` role, whoever may create pod-creating objects (Jobs,
Deployments, Workflows, ...) may run them under any ServiceAccount of the namespace, and so
use its cloud identity: grant `editor` accordingly.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c

RBAC_GROUP = "rbac.authorization.k8s.io"
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "patch", "update"]
ALL = sorted(READ + WRITE + ["deletecollection"])
ROLE_RANK = {"viewer": 0, "editor": 1, "admin": 2}

#: kind -> (API group, resource) for every namespaced kind mlc emits or predicts.
KIND_RESOURCES: dict[str, tuple[str, str]] = {
    "ConfigMap": ("", "configmaps"),
    "Event": ("", "events"),
    "LimitRange": ("", "limitranges"),
    "Pod": ("", "pods"),
    "ResourceQuota": ("", "resourcequotas"),
    "Service": ("", "services"),
    "ServiceAccount": ("", "serviceaccounts"),
    "Deployment": ("apps", "deployments"),
    "HorizontalPodAutoscaler": ("autoscaling", "horizontalpodautoscalers"),
    "CronJob": ("batch", "cronjobs"),
    "Job": ("batch", "jobs"),
    "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
    "Role": (RBAC_GROUP, "roles"),
    "RoleBinding": (RBAC_GROUP, "rolebindings"),
    "CronWorkflow": ("argoproj.io", "cronworkflows"),
    "Workflow": ("argoproj.io", "workflows"),
    "WorkflowTemplate": ("argoproj.io", "workflowtemplates"),
    "ExternalSecret": ("external-secrets.io", "externalsecrets"),
    "PyTorchJob": ("kubeflow.org", "pytorchjobs"),
    "PodMonitor": ("monitoring.coreos.com", "podmonitors"),
    "PrometheusRule": ("monitoring.coreos.com", "prometheusrules"),
    "ServiceMonitor": ("monitoring.coreos.com", "servicemonitors"),
    "InferenceService": ("serving.kserve.io", "inferenceservices"),
    "Route": ("serving.knative.dev", "routes"),
    "FlinkDeployment": ("flink.apache.org", "flinkdeployments"),
    "ScheduledSparkApplication": ("sparkoperator.k8s.io", "scheduledsparkapplications"),
    "SparkApplication": ("sparkoperator.k8s.io", "sparkapplications"),
}
#: kinds an editor may change (everything else is read-only below admin)
EDITOR_KINDS = frozenset(
    {
        "ConfigMap",
        "CronJob",
        "CronWorkflow",
        "Deployment",
        "FlinkDeployment",
        "HorizontalPodAutoscaler",
        "InferenceService",
        "Job",
        "PodDisruptionBudget",
        "PodMonitor",
        "PrometheusRule",
        "PyTorchJob",
        "Route",
        "ScheduledSparkApplication",
        "Service",
        "ServiceMonitor",
        "SparkApplication",
        "Workflow",
        "WorkflowTemplate",
    }
)
#: kinds created at run time by the controllers of emitted kinds
CREATED_BY = {
    "CronJob": ("Job",),
    "ScheduledSparkApplication": ("SparkApplication",),
    "WorkflowTemplate": ("Workflow",),
    "CronWorkflow": ("Workflow",),
}

# What a Spark driver does through the API (Spark 3.x on Kubernetes, cluster mode):
#   pods: create, watch and list its executors, delete them (one by one and by label on
#         stop), patch them (decommission labels)
#   configmaps: the executors' configuration map, created and deleted (by label) on stop
#   services: its own driver service, deleted (by label) on termination
#   persistentvolumeclaims: on-demand executor PVCs, created, listed for reuse, deleted
SPARK_DRIVER_RULES = {
    "configmaps": ["create", "delete", "deletecollection", "get", "list"],
    "persistentvolumeclaims": ["create", "delete", "deletecollection", "get", "list"],
    "pods": ["create", "delete", "deletecollection", "get", "list", "patch", "watch"],
    "services": ["delete", "deletecollection", "get", "list"],
}


def spark_role_name(component: Component) -> str:
    return naming.bounded(f"{component.name}-spark-driver", 63)


def spark_rbac(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    name = spark_role_name(component)
    rules = [{"apiGroups": [""], "resources": [resource], "verbs": verbs} for resource, verbs in sorted(SPARK_DRIVER_RULES.items())]
    role = c.k8s_object(f"{RBAC_GROUP}/v1", "Role", c.metadata(compiled, "Role", name, component), rules=rules)
    subject = {"kind": "ServiceAccount", "name": naming.service_account(component), "namespace": compiled.env.namespace}
    binding = c.k8s_object(
        f"{RBAC_GROUP}/v1",
        "RoleBinding",
        c.metadata(compiled, "RoleBinding", name, component),
        subjects=[subject],
        roleRef={"apiGroup": RBAC_GROUP, "kind": "Role", "name": name},
    )
    return [role, binding]


def group_slug(group: str) -> str:
    """A DNS-label fragment for a group name; a hash keeps lossy slugs apart."""
    if group == "*":
        return "all-authenticated"
    slug = re.sub(r"[^a-z0-9-]+", "-", group.lower()).strip("-") or "group"
    if slug != group:
        slug = f"{slug[:40].rstrip('-')}-{hashlib.sha256(group.encode()).hexdigest()[:8]}"
    return slug


def access_kinds(emitted_kinds: set[str], argo_kinds: set[str]) -> set[str]:
    kinds = {k for k in emitted_kinds | argo_kinds if k in KIND_RESOURCES}
    kinds |= {"Pod", "Event"}
    for kind in list(kinds):
        kinds.update(CREATED_BY.get(kind, ()))
    return kinds


def _rules(kinds: set[str], verbs_of) -> list[dict[str, Any]]:
    by_group_verbs: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for kind in kinds:
        group, resource = KIND_RESOURCES[kind]
        verbs = tuple(sorted(verbs_of(kind)))
        by_group_verbs.setdefault((group, verbs), []).append(resource)
        if kind == "Pod":
            by_group_verbs.setdefault(("", ("get",)), []).append("pods/log")
    return [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": list(verbs)}
        for (group, verbs), resources in sorted(by_group_verbs.items())
    ]


def role_rules(role: str, kinds: set[str]) -> list[dict[str, Any]]:
    if role == "viewer":
        return _rules(kinds, lambda kind: READ)
    if role == "editor":
        return _rules(kinds, lambda kind: READ + WRITE if kind in EDITOR_KINDS else (READ + ["delete"] if kind == "Pod" else READ))
    return _rules(kinds, lambda kind: ALL)


def access_rbac(compiled: Compiled, kinds: set[str]) -> list[dict[str, Any]]:
    """Role + RoleBinding per group of `access`, over `kinds` (see access_kinds)."""
    best: dict[str, str] = {}
    for entry in compiled.env.spec.get("access") or []:
        group, role = entry["group"], entry["role"]
        if group not in best or ROLE_RANK[role] > ROLE_RANK[best[group]]:
            best[group] = role
    objects = []
    for group, role in sorted(best.items()):
        name = naming.bounded(f"mlc-{role}-{group_slug(group)}", 63)
        role_obj = c.k8s_object(f"{RBAC_GROUP}/v1", "Role", c.metadata(compiled, "Role", name), rules=role_rules(role, kinds))
        subject = {"kind": "Group", "apiGroup": RBAC_GROUP, "name": "system:authenticated" if group == "*" else group}
        binding = c.k8s_object(
            f"{RBAC_GROUP}/v1",
            "RoleBinding",
            c.metadata(compiled, "RoleBinding", name),
            subjects=[subject],
            roleRef={"apiGroup": RBAC_GROUP, "kind": "Role", "name": name},
        )
        objects += [role_obj, binding]
    return objects
