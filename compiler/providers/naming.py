"""Names shared by emitters: one function per name, so Kubernetes service accounts, cloud
identities, buckets and keys agree by construction. Every name is bounded and DNS-safe.
Provider-specific names (IAM roles, service accounts, ...) live in the provider's module
(compiler/providers/aws.py, gcp.py, azure.py); what differs per provider here asks the provider.
"""

from __future__ import annotations

import hashlib

from compiler.model.environment import Component, Environment
from compiler.providers.registry import provider_of

MANAGED_BY = "mlc"

# --- node pools: the Terraform node groups/pools set these, Kubernetes selects/tolerates them
NODE_POOL_LABEL = "mlc.dev/node-pool"  # node label: value = the pool's name in cluster.node_pools
SPOT_TAINT_KEY = "mlc.dev/spot"  # taint on spot pools: mlc.dev/spot=true:NoSchedule
SPOT_TAINT_VALUE = "true"
GPU_TAINT_KEY = "nvidia.com/gpu"  # taint on GPU pools: nvidia.com/gpu=present:NoSchedule (GKE sets it itself)
GPU_TAINT_VALUE = "present"


def bounded(name: str, limit: int) -> str:
    """`name` if it fits in `limit`, else a prefix plus a stable 8-hex hash of the whole."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"


def component_id(env: Environment, component: Component) -> str:
    """Stable id `<type>.<env>.<name>` used in plan.json, findings and SARIF."""
    return f"{component.type}.{env.name}.{component.name}"


# --- Kubernetes -----------------------------------------------------------------------
def service_account(component: Component) -> str:
    """Kubernetes ServiceAccount of a workload (in the environment's namespace)."""
    return bounded(f"{component.name}", 63)


def workflow_service_account(env: Environment) -> str:
    """The Argo workflows' ServiceAccount. The dot makes it impossible for a component
    (a DNS label, no dots) to be named the same."""
    return "mlc.argo-workflow"


def k8s_labels(env: Environment, component: Component | None = None) -> dict[str, str]:
    """Recommended app.kubernetes.io labels plus the environment's and component's own."""
    labels: dict[str, str] = {}
    labels.update(env.labels)
    if component is not None:
        labels.update(component.get("labels") or {})
        labels["app.kubernetes.io/name"] = component.name
        labels["app.kubernetes.io/instance"] = bounded(f"{env.name}-{component.name}", 63)
        labels["app.kubernetes.io/component"] = component.type.replace("_", "-")
    labels["app.kubernetes.io/part-of"] = env.name
    labels["app.kubernetes.io/managed-by"] = MANAGED_BY
    return dict(sorted(labels.items()))


def selector_labels(component: Component) -> dict[str, str]:
    return {"app.kubernetes.io/name": component.name}


# --- storage --------------------------------------------------------------------------
def bucket_name(env: Environment, component: Component) -> str:
    """Globally unique bucket name: account/project, environment, store, and a short hash of
    (environment, store) so that `dev`+`eu-x` and `dev-eu`+`x`, or a store named like an
    environment-level bucket (`access-logs`, `tfstate`), can never produce the same name."""
    account = str(env.spec["cloud"].get("account", "acct"))
    digest = hashlib.sha256(f"{env.name}/{component.name}".encode()).hexdigest()[:6]
    return f"{bounded(f'{account}-{env.name}-{component.name}', 56)}-{digest}"


def log_bucket_name(env: Environment) -> str:
    account = str(env.spec["cloud"].get("account", "acct"))
    return bounded(f"{account}-{env.name}-access-logs", 63)


def audit_bucket_name(env: Environment) -> str:
    """Bucket receiving the data-event audit trail (AWS CloudTrail) of sensitive stores."""
    account = str(env.spec["cloud"].get("account", "acct"))
    return bounded(f"{account}-{env.name}-audit-trail", 63)


def state_bucket_name(env: Environment) -> str:
    """Pre-existing bucket holding the environment's Terraform state (created out of band)."""
    account = str(env.spec["cloud"].get("account", "acct"))
    return bounded(f"{account}-{env.name}-tfstate", 63)


def catalog_database_name(env: Environment, component: Component) -> str:
    """Glue database / BigQuery dataset of a data_lake: [a-z0-9_] only."""
    return bounded(f"mlc_{env.name}_{component.name}", provider_of(env).catalog_name_limit).replace("-", "_")


# --- databases ------------------------------------------------------------------------
def db_instance_name(env: Environment, component: Component) -> str:
    """RDS identifier / Cloud SQL instance name: starts with a letter, [a-z0-9-], <= 63."""
    return bounded(f"mlc-{env.name}-{component.name}", 63)


def tf_name(name: str) -> str:
    """A Terraform resource name (identifier) from a DNS label."""
    return name.replace("-", "_")


# --- Kubernetes resources and taint effect (label/taint keys: top of this module)
GPU_RESOURCE = "nvidia.com/gpu"  # extended resource advertised by the NVIDIA device plugin
TAINT_EFFECT = "NoSchedule"  # effect of the spot and GPU taints


# --- secrets and storage URIs -----------------------------------------------------------
def secret_store(env: Environment) -> str:
    """ClusterSecretStore (External Secrets Operator) every ExternalSecret of `env` reads from.

    A prerequisite installed with the operator, not emitted by mlc: each provider names its
    own (`mlc-aws` backed by AWS Secrets Manager, `mlc-gcp` by GCP Secret Manager).
    """
    return provider_of(env).secret_store(env)


def workload_secret(component: Component) -> str:
    """ExternalSecret of a workload and the Kubernetes Secret it creates (same name)."""
    return bounded(f"{component.name}-env", 63)


def store_uri(env: Environment, store: Component, path: str = "") -> str:
    """URI of a bucket-backed store (s3:// on AWS, gs:// on GCP, https://<account>.blob... on Azure)."""
    return provider_of(env).store_uri(env, store, path)


def pod_labels(env: Environment, component: Component) -> dict[str, str]:
    """Labels of a workload's pods: k8s_labels plus what the provider's identity needs
    (Azure Workload Identity: azure.workload.identity/use)."""
    return dict(sorted({**k8s_labels(env, component), **provider_of(env).pod_labels(env, component)}.items()))


def spot_taint(env: Environment) -> tuple[str, str]:
    """(key, value) of the NoSchedule taint on the environment's spot nodes: mlc's own
    mlc.dev/spot=true, or the one the provider puts there itself (AKS)."""
    return provider_of(env).spot_taint or (SPOT_TAINT_KEY, SPOT_TAINT_VALUE)


# --- Argo Workflows / Argo CD -----------------------------------------------------------
ARGOCD_NAMESPACE = "argocd"


def workflow_role(env: Environment) -> str:
    """Role (and RoleBinding) granting the workflow ServiceAccount what its templates create."""
    return workflow_service_account(env)


def workflow_template_name(component: Component) -> str:
    """WorkflowTemplate of a pipeline."""
    return bounded(component.name, 63)


def cron_workflow_name(component: Component) -> str:
    """CronWorkflow of a scheduled pipeline or workload: Argo limits it to 52 characters,
    because the Workflows it creates append `-<10-digit timestamp>`."""
    return bounded(component.name, 52)


def run_template_name(component: Component) -> str:
    """Argo template that runs one workload; the prefix keeps it apart from `main` / `on-exit`."""
    return bounded(f"run-{component.name}", 63)


def run_generate_name(component: Component) -> str:
    """metadata.generateName of a run object created by a workflow: every run (and retry)
    needs a fresh name, and Spark derives pod and service names from it, so keep it short."""
    return bounded(component.name, 40) + "-"


def workflow_pod_labels(env: Environment) -> dict[str, str]:
    """Labels of the pods Argo Workflows starts (executor pods), e.g. for network policies."""
    return {
        "app.kubernetes.io/component": "argo-workflow",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": env.name,
    }


def argocd_project(env: Environment) -> str:
    return bounded(env.name, 63)


def argocd_application(env: Environment) -> str:
    """Application syncing out/<env>/kubernetes."""
    return bounded(env.name, 63)


def argocd_workflows_application(env: Environment) -> str:
    """Application syncing out/<env>/argo."""
    return bounded(f"{env.name}-workflows", 63)


# --- lifecycle kinds (tracking servers, edge fleets) ----------------------------------------
TRACKING_PORT = 5000  # MLflow's default port


def tracking_uri(env: Environment, server: Component) -> str:
    """MLFLOW_TRACKING_URI of the workloads logging to `server` (its Service in the namespace)."""
    return f"http://{bounded(server.name, 63)}.{env.namespace}.svc.cluster.local:{TRACKING_PORT}"


def tracking_db_secret(env: Environment, server: Component) -> str:
    """Secret-manager entry holding a tracking server's database login (username, password, host)."""
    return f"mlc/{env.name}/{server.name}/database"


def tracking_db_k8s_secret(server: Component) -> str:
    return bounded(f"{server.name}-backend", 63)


def edge_namespace(component: Component) -> str:
    """Namespace of an edge deployment on its fleet's clusters."""
    fleet = component.spec.get("fleet") or {}
    return str(fleet.get("namespace") or bounded(f"edge-{component.name}", 63))


def edge_application_set(env: Environment, component: Component) -> str:
    return bounded(f"{env.name}-{component.name}", 63)
