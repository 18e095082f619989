"""Names shared by emitters: one function per name, so Kubernetes service accounts, cloud
identities, buckets and keys agree by construction. Every name is bounded and DNS-safe.
"""

from __future__ import annotations

import hashlib

from compiler.model import Component, Environment

MANAGED_BY = "mlc"


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
    return "argo-workflow"


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


# --- AWS ------------------------------------------------------------------------------
def aws_role_name(env: Environment, component: Component) -> str:
    return bounded(f"mlc-{env.name}-{component.name}", 64)


def aws_role_arn(env: Environment, component: Component) -> str:
    return f"arn:aws:iam::{env.spec['cloud'].get('account', '000000000000')}:role/{aws_role_name(env, component)}"


# --- GCP ------------------------------------------------------------------------------
def gcp_service_account_id(env: Environment, component: Component) -> str:
    """account_id of a google_service_account: 6-30 chars, [a-z][-a-z0-9]*[a-z0-9]."""
    name = bounded(f"{env.name}-{component.name}", 30)
    if not name[0].isalpha():
        name = bounded(f"w{name}", 30)
    return name


def gcp_service_account_email(env: Environment, component: Component) -> str:
    return f"{gcp_service_account_id(env, component)}@{env.spec['cloud'].get('account', 'project')}.iam.gserviceaccount.com"


# --- storage --------------------------------------------------------------------------
def bucket_name(env: Environment, component: Component) -> str:
    """Globally unique bucket name: account/project, environment and store."""
    account = str(env.spec["cloud"].get("account", "acct"))
    return bounded(f"{account}-{env.name}-{component.name}", 63)


def log_bucket_name(env: Environment) -> str:
    account = str(env.spec["cloud"].get("account", "acct"))
    return bounded(f"{account}-{env.name}-access-logs", 63)


def kms_alias(env: Environment, component: Component) -> str:
    return f"alias/{bounded(f'mlc-{env.name}-{component.name}', 200)}"


def tf_name(name: str) -> str:
    """A Terraform resource name (identifier) from a DNS label."""
    return name.replace("-", "_")
