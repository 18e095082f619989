"""Terraform (JSON syntax) for an Azure environment.

Layout of out/<env>/terraform/ (each file only when it has something to hold):

  terraform.tf.json         terraform block: required versions, pinned azurerm, azurerm backend
                            (Entra ID auth, the state account exists already)
  main.tf.json              provider (subscription, Entra ID for storage data-plane calls),
                            the Key Vault (RBAC, purge protection, firewall), the External
                            Secrets identity (Key Vault Secrets User on the vault), outputs
  variables.tf.json         inputs the spec cannot know (OIDC issuer, subnets, DNS zones, ...)
  logging.tf.json           Log Analytics workspace for diagnostics
  store-<name>.tf.json      per store: CMK identity + key + role, then the storage account
                            with its container / ADLS Gen2 filesystem and management policy,
                            or the PostgreSQL / MySQL flexible server; per feature store:
                            the materialiser's identity and roles, Azure Cache for Redis
                            and its private endpoint (azure_feature_store.py)
  identity-<name>.tf.json   per workload: user-assigned identity, federated credential for
                            its ServiceAccount, container-scoped role assignments
  cluster.tf.json           AKS user node pools from cluster.node_pools
  budget.tf.json            consumption budget of the resource group, filtered to the
                            environment's tag, alerts at warn_ratio and 100 %
  audit.tf.json             blob read/write/delete logs of pii/confidential stores and the
                            Key Vault's audit events, to Log Analytics
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.plan.compiled import Compiled
from compiler.providers import azure, naming
from compiler.targets.terraform.azure_context import GEO_KEY_VAULT, KEY_VAULT, PRINCIPAL_TYPE, TENANT_ID, AzureContext
from compiler.targets.terraform.azure_feature_store import feature_store_file
from compiler.targets.terraform.azure_iam import identity_file
from compiler.targets.terraform.azure_storage import access_log_file, audit_file, data_lake_file, database_file, object_store_file
from compiler.targets.terraform.common import TERRAFORM_REQUIRED_VERSION, TfFile, lit, money, percent, ref, rname
from compiler.targets.terraform.emitter import TerraformEmitter

AZURERM_PROVIDER = {"source": "hashicorp/azurerm", "version": "~> 4.79"}
EXTERNAL_SECRETS = "external-secrets"  # resource name of the External Secrets Operator's identity
# where the External Secrets Operator's controller runs (its Helm chart's defaults)
ESO_NAMESPACE = "external-secrets"
ESO_SERVICE_ACCOUNT = "external-secrets"
SECRETS_USER = "Key Vault Secrets User"
STATE = "_tfstate"  # storage account of the Terraform state: a name no store can have
SOFT_DELETE_DAYS = 90


def settings_file(ctx: AzureContext) -> TfFile:
    env = ctx.env
    f = TfFile("terraform/terraform.tf.json")
    f.set(
        "terraform",
        {
            "required_version": TERRAFORM_REQUIRED_VERSION,
            "required_providers": {"azurerm": dict(AZURERM_PROVIDER)},
            "backend": {
                "azurerm": {
                    "subscription_id": azure.subscription(env),
                    "resource_group_name": ctx.resource_group,
                    "storage_account_name": azure.storage_account_name(env, STATE),
                    "container_name": "tfstate",
                    "key": f"{env.name}.tfstate",
                    "use_azuread_auth": True,
                }
            },
        },
    )
    return f


def key_vault(ctx: AzureContext, name: str, location: str, suffix: str = "") -> dict[str, Any]:
    return {
        "name": azure.key_vault_name(ctx.env, suffix),
        **ctx.placement(location),
        "tenant_id": TENANT_ID,
        "sku_name": "premium",  # HSM-backed keys
        "rbac_authorization_enabled": True,
        "purge_protection_enabled": True,
        "soft_delete_retention_days": SOFT_DELETE_DAYS,
        "public_network_access_enabled": True,  # the firewall decides who gets through
        "network_acls": {
            "bypass": "AzureServices",
            "default_action": "Deny",
            "ip_rules": ctx.var("admin_ip_ranges"),
            "virtual_network_subnet_ids": [ctx.var("aks_subnet_id")],
        },
        "tags": ctx.tags(None, **{"mlc-purpose": name}),
    }


def main_file(ctx: AzureContext) -> TfFile:
    env = ctx.env
    f = TfFile("terraform/main.tf.json")
    f.set(
        "provider",
        {
            "azurerm": {
                "subscription_id": azure.subscription(env),
                "storage_use_azuread": True,  # the storage accounts have no shared keys
                "features": {"key_vault": {"purge_soft_delete_on_destroy": False, "recover_soft_deleted_key_vaults": True}},
            }
        },
    )
    f.data("azurerm_client_config", "current", {})
    f.resource("azurerm_key_vault", KEY_VAULT, key_vault(ctx, "keys-and-secrets", ctx.location))
    geo = azure.geo_region(env)
    if ctx.geo_keys and geo:
        f.resource("azurerm_key_vault", GEO_KEY_VAULT, key_vault(ctx, "geo-backup-keys", geo, "geo"))
    # External Secrets (ClusterSecretStore mlc-azure, azurekv provider, workload identity)
    f.resource(
        "azurerm_user_assigned_identity",
        EXTERNAL_SECRETS,
        {
            **ctx.placement(),
            "name": azure.identity_name(env, "_external-secrets"),
            "tags": ctx.tags(None, **{"mlc-purpose": "external-secrets"}),
        },
    )
    f.resource(
        "azurerm_federated_identity_credential",
        EXTERNAL_SECRETS,
        {
            "name": f"{ESO_NAMESPACE}-{ESO_SERVICE_ACCOUNT}",
            "user_assigned_identity_id": ref("azurerm_user_assigned_identity", EXTERNAL_SECRETS, "id"),
            "audience": [azure.TOKEN_AUDIENCE],
            "issuer": ctx.var("aks_oidc_issuer_url"),
            "subject": f"system:serviceaccount:{ESO_NAMESPACE}:{ESO_SERVICE_ACCOUNT}",
        },
    )
    f.resource(
        "azurerm_role_assignment",
        EXTERNAL_SECRETS,
        {
            "scope": ctx.key_vault_id(),
            "role_definition_name": SECRETS_USER,
            "principal_id": ref("azurerm_user_assigned_identity", EXTERNAL_SECRETS, "principal_id"),
            "principal_type": PRINCIPAL_TYPE,
            "description": "External Secrets Operator reads the environment's secrets",
        },
    )
    workloads = sorted(ctx.compiled.grants)  # every identity: workloads and monitor workloads
    f.set(
        "output",
        {
            "external_secrets_client_id": {
                "description": f"client id for the annotation azure.workload.identity/client-id of {ESO_NAMESPACE}/{ESO_SERVICE_ACCOUNT}",
                "value": ref("azurerm_user_assigned_identity", EXTERNAL_SECRETS, "client_id"),
            },
            "key_vault_uri": {
                "description": "vaultUrl of the ClusterSecretStore mlc-azure",
                "value": ref("azurerm_key_vault", KEY_VAULT, "vault_uri"),
            },
            "workload_client_ids": {
                "description": "client id of each workload's identity: record them in cloud.workload_client_ids",
                "value": {w: ref("azurerm_user_assigned_identity", rname(w), "client_id") for w in workloads},
            },
        },
    )
    return f


# --- node pools ----------------------------------------------------------------------------
def _taint(key: str, value: str) -> str:
    return f"{key}={value}:{naming.TAINT_EFFECT}"


def cluster_file(ctx: AzureContext) -> TfFile:
    """AKS user node pools. Spot pools: priority Spot, evicted nodes deleted, paying at most
    the on-demand price (-1), and the label and taint AKS puts on spot nodes itself (set here
    too, so Terraform sees no drift); workloads on spot tolerate that taint
    (naming.spot_taint). GPU pools: AKS installs the driver; nvidia.com/gpu=present:NoSchedule
    keeps pods that request no GPU away."""
    env = ctx.env
    f = TfFile("terraform/cluster.tf.json")
    spot_key, spot_value = naming.spot_taint(env)
    for pool_name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        spot = bool(pool["spot"])
        gpus, _ = ctx.compiled.pool_gpus(pool_name)
        labels = {naming.NODE_POOL_LABEL: pool_name}
        taints = []
        if gpus:
            taints.append(_taint(naming.GPU_TAINT_KEY, naming.GPU_TAINT_VALUE))
        body: dict[str, Any] = {
            "name": azure.aks_pool_name(env, pool_name),
            "kubernetes_cluster_id": azure.aks_cluster_id(env),
            "vm_size": str(pool["instance_type"]),
            "mode": "User",
            "os_type": "Linux",
            "os_sku": "Ubuntu",
            "auto_scaling_enabled": True,
            "min_count": pool["min"],
            "max_count": pool["max"],
            "max_pods": 50,
            "os_disk_size_gb": pool["disk_gb"],
            "os_disk_type": "Managed",
            "host_encryption_enabled": True,
            "node_public_ip_enabled": False,
            "vnet_subnet_id": ctx.var("aks_subnet_id"),
        }
        if gpus:
            body["gpu_driver"] = "Install"
        if spot:
            labels[spot_key] = spot_value
            taints.append(_taint(spot_key, spot_value))
            body.update({"priority": "Spot", "eviction_policy": "Delete", "spot_max_price": -1})
        else:
            body["upgrade_settings"] = {"max_surge": "1"}  # spot pools take no surge settings
        body["node_labels"] = dict(sorted(labels.items()))
        if taints:
            body["node_taints"] = taints
        body["tags"] = ctx.tags(None, **{"mlc-node-pool": pool_name})
        f.resource("azurerm_kubernetes_cluster_node_pool", rname(pool_name), body)
    return f


# --- budget --------------------------------------------------------------------------------
def budget_file(ctx: AzureContext) -> TfFile:
    """Monthly consumption budget of the resource group, counting only resources tagged
    with this environment; e-mails at warn_ratio and 100 % of actual spend, and when the
    forecast reaches 100 %."""
    env = ctx.env
    budget = env.spec["budget"]
    f = TfFile("terraform/budget.tf.json")
    notify = {
        "enabled": True,
        "operator": "GreaterThanOrEqualTo",
        "contact_emails": ctx.var("budget_contact_emails"),
        "contact_roles": ["Owner"],
    }
    f.resource(
        "azurerm_consumption_budget_resource_group",
        "monthly",
        {
            "name": naming.bounded(f"mlc-{env.name}-monthly", 63),
            "resource_group_id": lit(azure.resource_group_id(env)),
            "amount": float(money(budget["monthly_usd"])),
            "time_grain": "Monthly",
            "time_period": {"start_date": ctx.var("budget_start_date")},
            "filter": {"tag": {"name": "mlc-environment", "operator": "In", "values": [env.name]}},
            "notification": [
                {**notify, "threshold": percent(float(budget["warn_ratio"])), "threshold_type": "Actual"},
                {**notify, "threshold": 100, "threshold_type": "Actual"},
                {**notify, "threshold": 100, "threshold_type": "Forecasted"},
            ],
            "lifecycle": {"ignore_changes": ["time_period"]},
        },
    )
    return f


def stream_not_supported(ctx: AzureContext, component: Component) -> TfFile:
    """Never reached: validation refuses streams on Azure at their line (MLC-E026)."""
    raise azure.PROVIDER.unsupported("terraform", f"{component.type}: no Event Hubs emitter yet")


# --- the emitter --------------------------------------------------------------------------
def edge_not_supported(ctx: Any, component: Component) -> TfFile:
    """An edge fleet's identity needs workload identity federation for clusters outside Azure."""
    raise azure.PROVIDER.unsupported("terraform", "edge_deployment: no identity for edge fleets on Azure yet")


class AzureTerraform(TerraformEmitter[AzureContext]):
    components = DispatchTable(
        "terraform (azure)",
        {
            "object_store": object_store_file,
            "data_lake": data_lake_file,
            "database": database_file,
            "spark_job": identity_file,
            "training_job": identity_file,
            "serving": identity_file,
            "batch_inference": identity_file,
            "monitoring": NotApplicable("rules and dashboards live in the cluster (kubernetes/)"),
            "pipeline": NotApplicable("pipelines live in Argo (argo/); their steps have their own identities"),
            "job": identity_file,
            "tuning_job": NotApplicable("trials run as the trial job, with its identity"),
            "tracking_server": identity_file,
            "edge_deployment": edge_not_supported,
            "stream": stream_not_supported,
            "stream_job": identity_file,
            "feature_store": feature_store_file,
        },
    )

    def monitor_file(self, ctx: Any, component: Component) -> TfFile:
        return identity_file(ctx, component)

    def context(self, compiled: Compiled) -> AzureContext:
        return AzureContext(compiled)

    settings_file = staticmethod(settings_file)
    main_file = staticmethod(main_file)
    access_log_file = staticmethod(access_log_file)
    cluster_file = staticmethod(cluster_file)
    budget_file = staticmethod(budget_file)
    audit_file = staticmethod(audit_file)


EMITTER = AzureTerraform()
