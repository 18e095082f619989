"""Azure: user-assigned identities with Azure Workload Identity, storage accounts with one
container (or ADLS Gen2 filesystem) per store, Key Vault, the Azure pricing section, the
Azure Terraform emitter.

Names here are shared by the Kubernetes and Terraform emitters (identities, federated
credential subjects, storage accounts and containers, AKS node pools), so both sides agree
by construction. Azure's own name rules: storage accounts 3-24 [a-z0-9] and globally unique;
Key Vaults 3-24 [a-zA-Z0-9-] and globally unique; containers 3-63 [a-z0-9-] without "--";
AKS user node pools 1-12 [a-z0-9] starting with a letter; flexible servers 3-63 [a-z0-9-],
globally unique (they are DNS names).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, ClassVar

from compiler.model.environment import Component, Environment
from compiler.providers.base import Provider
from compiler.providers.naming import bounded

if TYPE_CHECKING:
    from compiler.targets.terraform.emitter import TerraformEmitter

CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"  # ServiceAccount -> identity's client id
USE_LABEL = "azure.workload.identity/use"  # pod label the Workload Identity webhook mutates
TOKEN_AUDIENCE = "api://AzureADTokenExchange"  # audience of the projected ServiceAccount token
# AKS puts this taint on every node of a Spot pool itself (and rejects pools without it)
SPOT_TAINT = ("kubernetes.azure.com/scalesetpriority", "spot")

# Azure region pairs: geo-redundant storage and backups always replicate to the pair.
# Regions without a pair (or not listed here) get no geo-redundancy.
REGION_PAIRS = {
    "australiaeast": "australiasoutheast",
    "brazilsouth": "southcentralus",
    "canadacentral": "canadaeast",
    "centralindia": "southindia",
    "centralus": "eastus2",
    "eastasia": "southeastasia",
    "eastus": "westus",
    "eastus2": "centralus",
    "francecentral": "francesouth",
    "germanywestcentral": "germanynorth",
    "japaneast": "japanwest",
    "koreacentral": "koreasouth",
    "northcentralus": "southcentralus",
    "northeurope": "westeurope",
    "norwayeast": "norwaywest",
    "southcentralus": "northcentralus",
    "southeastasia": "eastasia",
    "swedencentral": "swedensouth",
    "switzerlandnorth": "switzerlandwest",
    "uaenorth": "uaecentral",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "westcentralus": "westus2",
    "westeurope": "northeurope",
    "westus": "eastus",
    "westus2": "westcentralus",
    "westus3": "eastus",
}


def _alnum(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def _digest(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def subscription(env: Environment) -> str:
    return str(env.spec["cloud"]["subscription"])


def resource_group(env: Environment) -> str:
    return str(env.spec["cloud"]["resource_group"])


def resource_group_id(env: Environment) -> str:
    return f"/subscriptions/{subscription(env)}/resourceGroups/{resource_group(env)}"


def geo_region(env: Environment) -> str | None:
    """The paired region geo-redundant copies go to, when data may leave the region at all:
    the pair must be in compliance.allowed_regions (when that list is given)."""
    pair = REGION_PAIRS.get(env.region)
    allowed = (env.spec.get("compliance") or {}).get("allowed_regions")
    if pair is None or (allowed is not None and pair not in allowed):
        return None
    return pair


# --- storage --------------------------------------------------------------------------
def storage_account_name(env: Environment, store: Component | str) -> str:
    """Globally unique: 'st' + the environment and store names (letters and digits) + a hash
    of (subscription, environment, store), so that `dev`+`eu-x` and `dev-eu`+`x` differ."""
    name = store if isinstance(store, str) else store.name
    return f"st{_alnum(env.name + name)[:15]}{_digest(subscription(env), env.name, name)}"


def container_name(store: Component) -> str:
    """The store's container / ADLS Gen2 filesystem: its name without '--', at least 3 long."""
    name = re.sub(r"-{2,}", "-", store.name)
    return name if len(name) >= 3 else f"{name}-data"


def key_vault_name(env: Environment, suffix: str = "") -> str:
    """The environment's Key Vault (CMK keys and the secrets External Secrets reads)."""
    return f"kv{suffix}-{_alnum(env.name)[:11]}-{_digest(subscription(env), env.name, suffix)}"


def log_workspace_name(env: Environment) -> str:
    return bounded(f"mlc-{env.name}", 63)


def flexible_server_name(env: Environment, store: Component) -> str:
    """PostgreSQL/MySQL flexible server: a DNS name, so a hash keeps it globally unique."""
    return f"{bounded(f'mlc-{env.name}-{store.name}', 55)}-{_digest(subscription(env), env.name, store.name, length=6)}"


def blob_endpoint(env: Environment, store: Component) -> str:
    return f"https://{storage_account_name(env, store)}.blob.core.windows.net"


# --- identity -------------------------------------------------------------------------
def identity_name(env: Environment, component: Component | str) -> str:
    """User-assigned identity of a workload (or of a store's CMK access)."""
    name = component if isinstance(component, str) else component.name
    return bounded(f"mlc-{env.name}-{name}", 128)


def federated_subject(env: Environment, component: Component) -> str:
    from compiler.providers.naming import service_account

    return f"system:serviceaccount:{env.namespace}:{service_account(component)}"


def client_id(env: Environment, component: Component) -> str | None:
    """The identity's client id, once recorded in cloud.workload_client_ids (Azure assigns it)."""
    recorded = env.spec["cloud"].get("workload_client_ids") or {}
    value = recorded.get(component.name)
    return str(value) if value else None


# --- AKS ------------------------------------------------------------------------------
def aks_pool_name(env: Environment, pool: str) -> str:
    """AKS user pool name: 1-12 [a-z0-9], starting with a letter. The pool's name without
    dashes when that fits and no other pool of the environment maps to it, else a prefix
    plus a hash of the pool's name."""
    plain = _alnum(pool)
    others = [p for p in env.spec["cluster"]["node_pools"] if p != pool and _alnum(p) == plain]
    if 1 <= len(plain) <= 12 and plain[0].isalpha() and not others:
        return plain
    prefix = plain[:6] if plain[:1].isalpha() else f"p{plain[:5]}"
    return f"{prefix}{_digest(pool, length=12 - len(prefix))}"


def aks_cluster_id(env: Environment) -> str:
    return f"{resource_group_id(env)}/providers/Microsoft.ContainerService/managedClusters/{env.spec['cluster']['name']}"


class Azure(Provider):
    name = "azure"

    def spark_store_conf(self) -> dict[str, str]:
        # hadoop-azure (ABFS) 3.4+: the AKS workload identity token file, exchanged with Entra ID
        return {
            "spark.hadoop.fs.azure.account.auth.type": "OAuth",
            "spark.hadoop.fs.azure.account.oauth.provider.type": "org.apache.hadoop.fs.azurebfs.oauth2.WorkloadIdentityTokenProvider",
        }

    def secret_store_settings(self, env: Environment) -> dict[str, str]:
        return {"key_vault": key_vault_name(env)}

    def external_secrets_provider(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "azurekv": {
                "authType": "WorkloadIdentity",
                "vaultUrl": f"https://{settings['key_vault']}.vault.azure.net",
                "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"},
            }
        }

    pricing_key = "azure"
    catalog_name_limit = 63
    feature_online_engines = ("redis",)  # Azure Cache for Redis (Premium)
    feature_online_resource = (
        "azurerm_redis_cache",
        ("access_keys_authentication_enabled", "minimum_tls_version", "non_ssl_port_enabled", "public_network_access_enabled"),
    )
    feature_online_port = 6380  # Azure Cache for Redis serves TLS on 6380 (the non-TLS 6379 is disabled)
    spot_taint: ClassVar[tuple[str, str] | None] = SPOT_TAINT

    def identity_annotation(self, env: Environment, component: Component) -> dict[str, str]:
        recorded = client_id(env, component)
        return {CLIENT_ID_ANNOTATION: recorded} if recorded else {}

    def pod_labels(self, env: Environment, component: Component) -> dict[str, str]:
        return {USE_LABEL: "true"}

    def secret_entry(self, path: str) -> str:
        """Key Vault secret names are 1-127 of [0-9a-zA-Z-]: mlc/dev/x/online-store -> mlc-dev-x-online-store."""
        return bounded(re.sub(r"[^0-9A-Za-z-]", "-", path), 127)

    def secret_store(self, env: Environment) -> str:
        return "mlc-azure"  # External Secrets azurekv provider, Key Vault, workload identity auth

    def store_uri(self, env: Environment, store: Component, path: str = "") -> str:
        """https://<account>.blob.core.windows.net/<container>[/path]: the form KServe's
        storage initializer and the Azure SDKs read (ADLS Gen2 data is reachable the same way)."""
        uri = f"{blob_endpoint(env, store)}/{container_name(store)}"
        return f"{uri}/{path.strip('/')}" if path.strip("/") else uri

    def terraform(self) -> TerraformEmitter:
        from compiler.targets.terraform.azure import EMITTER

        return EMITTER


PROVIDER = Azure()
