"""Azure storage: customer-managed keys in Key Vault, storage accounts with one container
(ADLS Gen2 filesystem for a data_lake), lifecycle management policies, the Log Analytics
workspace and blob diagnostics, and PostgreSQL / MySQL flexible servers.

Every store gets its own user-assigned identity that may only use its own key (Key Vault
Crypto Service Encryption User on that key): the storage service or the flexible server
uses it to wrap and unwrap the data key. Workloads never get key access.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds.dispatch import DispatchTable
from compiler.providers import azure
from compiler.targets.terraform.azure_context import PRINCIPAL_TYPE, TENANT_ID, WORKSPACE, AzureContext
from compiler.targets.terraform.common import ACCESS_LOG_RETENTION_DAYS, NONCURRENT_VERSION_DAYS, Expr, TfFile, ref, rname

CRYPTO_USER = "Key Vault Crypto Service Encryption User"
KEY_SIZE = 3072
KEY_ROTATION = {"automatic": {"time_before_expiry": "P30D"}, "expire_after": "P365D", "notify_before_expiry": "P29D"}
SOFT_DELETE_DAYS = 30  # deleted blobs and containers can be restored this long
BLOB_LOG_CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")
# Flexible server storage sizes (MiB) Azure accepts; storage_gb is rounded up to the next one.
PG_STORAGE_MB = (32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216, 33553408)
MYSQL_VERSIONS = {"5.7": "5.7", "8": "8.0.21", "8.0": "8.0.21"}
# the resource holding a bucket-backed store's data (role assignments depend on it)
CONTAINERS: DispatchTable[str] = DispatchTable(
    "terraform (azure) containers",
    {"object_store": "azurerm_storage_container", "data_lake": "azurerm_storage_data_lake_gen2_filesystem"},
)


def container_address(store: Component) -> str:
    return f"{CONTAINERS[store.type]}.{rname(store)}"


def customer_managed_key(f: TfFile, ctx: AzureContext, name: str, owner: str, key_name: str, *, geo: bool = False) -> tuple[str, str]:
    """A key in the environment's Key Vault (or the paired region's) and the identity that
    may use it; returns (identity resource name, role assignment address)."""
    tags = ctx.tags(None, **{"mlc-component": owner})
    location = azure.geo_region(ctx.env) if geo else None
    f.resource(
        "azurerm_user_assigned_identity",
        name,
        {**ctx.placement(location), "name": azure.identity_name(ctx.env, f"{owner}_cmk{'-geo' if geo else ''}"), "tags": tags},
    )
    f.resource(
        "azurerm_key_vault_key",
        name,
        {
            "name": key_name,
            "key_vault_id": ctx.key_vault_id(geo),
            "key_type": "RSA-HSM",
            "key_size": KEY_SIZE,
            "key_opts": ["unwrapKey", "wrapKey"],
            "rotation_policy": dict(KEY_ROTATION),
            "tags": tags,
            # destroying a key makes everything encrypted with it unreadable
            "lifecycle": {"prevent_destroy": True},
        },
    )
    grant = f.resource(
        "azurerm_role_assignment",
        name,
        {
            "scope": ref("azurerm_key_vault_key", name, "resource_versionless_id"),
            "role_definition_name": CRYPTO_USER,
            "principal_id": ref("azurerm_user_assigned_identity", name, "principal_id"),
            "principal_type": PRINCIPAL_TYPE,
            "description": f"{owner}: wrap/unwrap with its own key only",
        },
    )
    return name, grant


def management_rules(lifecycle: dict[str, Any], versioning: bool) -> list[dict[str, Any]]:
    """The spec's lifecycle as one management-policy rule. Archive is not offered on
    zone-redundant accounts, so `archive_after_days` moves blobs to Cold."""
    base: dict[str, Any] = {}
    if lifecycle.get("infrequent_after_days"):
        base["tier_to_cool_after_days_since_modification_greater_than"] = lifecycle["infrequent_after_days"]
    if lifecycle.get("archive_after_days"):
        base["tier_to_cold_after_days_since_modification_greater_than"] = lifecycle["archive_after_days"]
    if lifecycle.get("expire_after_days"):
        base["delete_after_days_since_modification_greater_than"] = lifecycle["expire_after_days"]
    actions: dict[str, Any] = {}
    if base:
        actions["base_blob"] = base
    if versioning:
        actions["version"] = {"delete_after_days_since_creation": NONCURRENT_VERSION_DAYS}
    if not actions:
        return []
    return [{"name": "mlc-lifecycle", "enabled": True, "filters": {"blob_types": ["blockBlob"]}, "actions": actions}]


def storage_account_body(
    ctx: AzureContext, store: Component, identity: str, *, hns: bool, public: bool, versioning: bool
) -> dict[str, Any]:
    replication = "GZRS" if azure.geo_region(ctx.env) else "ZRS"
    blob: dict[str, Any] = {
        "delete_retention_policy": {"days": SOFT_DELETE_DAYS},
        "container_delete_retention_policy": {"days": SOFT_DELETE_DAYS},
    }
    if not hns:  # blob versioning is not available with a hierarchical namespace
        blob["versioning_enabled"] = versioning
    return {
        "name": azure.storage_account_name(ctx.env, store),
        **ctx.placement(),
        "account_kind": "StorageV2",
        "account_tier": "Standard",
        "account_replication_type": replication,
        "access_tier": "Hot",
        "is_hns_enabled": hns,
        "min_tls_version": "TLS1_2",
        "https_traffic_only_enabled": True,
        "shared_access_key_enabled": False,  # Entra ID (RBAC) only: no account keys, no SAS
        "default_to_oauth_authentication": True,
        "allow_nested_items_to_be_public": public,
        "cross_tenant_replication_enabled": False,
        "infrastructure_encryption_enabled": True,
        "local_user_enabled": False,
        "sftp_enabled": False,
        "public_network_access_enabled": True,  # the firewall below decides who gets through
        "network_rules": {
            "default_action": "Deny",
            "bypass": ["AzureServices", "Logging", "Metrics"],
            "ip_rules": ctx.var("admin_ip_ranges"),
            "virtual_network_subnet_ids": [ctx.var("aks_subnet_id")],
        },
        "blob_properties": blob,
        "identity": {"type": "UserAssigned", "identity_ids": [ref("azurerm_user_assigned_identity", identity, "id")]},
        "customer_managed_key": {
            "key_vault_key_id": ref("azurerm_key_vault_key", identity, "versionless_id"),
            "user_assigned_identity_id": ref("azurerm_user_assigned_identity", identity, "id"),
        },
        "tags": ctx.tags(store),
    }


def object_store_file(ctx: AzureContext, store: Component) -> TfFile:
    """Storage account + one private container."""
    return bucket_store_file(ctx, store, hns=False)


def data_lake_file(ctx: AzureContext, store: Component) -> TfFile:
    """ADLS Gen2: storage account with a hierarchical namespace + one filesystem. Azure has
    no catalog resource in the provider schema mlc validates against: the table format's
    own metadata (Delta log, Iceberg metadata) lives in the filesystem."""
    return bucket_store_file(ctx, store, hns=True)


def bucket_store_file(ctx: AzureContext, store: Component, *, hns: bool) -> TfFile:
    name = rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    identity, grant = customer_managed_key(f, ctx, name, store.name, f"store-{store.name}")
    public = bool(store.spec["public"])
    versioning = bool(store.spec["versioning"])
    body = storage_account_body(ctx, store, identity, hns=hns, public=public, versioning=versioning)
    f.resource("azurerm_storage_account", name, {**body, "depends_on": [grant]})
    account_id = ref("azurerm_storage_account", name, "id")
    if hns:
        f.resource(
            "azurerm_storage_data_lake_gen2_filesystem", name, {"name": azure.container_name(store), "storage_account_id": account_id}
        )
    else:
        f.resource(
            "azurerm_storage_container",
            name,
            {
                "name": azure.container_name(store),
                "storage_account_id": account_id,
                "container_access_type": "blob" if public else "private",
            },
        )
    rules = management_rules(store.get("lifecycle") or {}, versioning and not hns)
    if rules:
        f.resource("azurerm_storage_management_policy", name, {"storage_account_id": account_id, "rule": rules})
    return f


def access_log_file(ctx: AzureContext) -> TfFile:
    """The Log Analytics workspace that blob and Key Vault diagnostics go to (audit.tf.json)."""
    f = TfFile("terraform/logging.tf.json")
    f.resource(
        "azurerm_log_analytics_workspace",
        WORKSPACE,
        {
            "name": azure.log_workspace_name(ctx.env),
            **ctx.placement(),
            "sku": "PerGB2018",
            "retention_in_days": ACCESS_LOG_RETENTION_DAYS,
            "local_authentication_enabled": False,
            "tags": ctx.tags(None, **{"mlc-purpose": "storage-access-logs"}),
        },
    )
    return f


def audit_file(ctx: AzureContext) -> TfFile:
    """Blob read/write/delete logs of every pii or confidential store, and the Key Vault's
    audit events, into the Log Analytics workspace."""
    f = TfFile("terraform/audit.tf.json")
    workspace = ref("azurerm_log_analytics_workspace", WORKSPACE, "id")
    for store in ctx.sensitive_buckets():
        f.resource(
            "azurerm_monitor_diagnostic_setting",
            rname(store),
            {
                "name": "mlc-blob-access",
                "target_resource_id": ctx.blob_service_id(store),
                "log_analytics_workspace_id": workspace,
                "enabled_log": [{"category": c} for c in BLOB_LOG_CATEGORIES],
            },
        )
    f.resource(
        "azurerm_monitor_diagnostic_setting",
        "key-vault",
        {
            "name": "mlc-key-vault-audit",
            "target_resource_id": ctx.key_vault_id(),
            "log_analytics_workspace_id": workspace,
            "enabled_log": [{"category": "AuditEvent"}],
        },
    )
    return f


# --- flexible servers --------------------------------------------------------------------------
def storage_mb(gb: int) -> int:
    wanted = gb * 1024
    return next((size for size in PG_STORAGE_MB if size >= wanted), PG_STORAGE_MB[-1])


def _retention(days: int, low: int) -> int:
    return max(low, min(35, days))


def _cmk(ctx: AzureContext, name: str, geo: str | None, key: str = "key_vault_key_id") -> dict[str, Any]:
    body: dict[str, Any] = {
        key: ref("azurerm_key_vault_key", name, "versionless_id"),
        "primary_user_assigned_identity_id": ref("azurerm_user_assigned_identity", name, "id"),
    }
    if geo:
        body["geo_backup_key_vault_key_id"] = ref("azurerm_key_vault_key", geo, "versionless_id")
        body["geo_backup_user_assigned_identity_id"] = ref("azurerm_user_assigned_identity", geo, "id")
    return body


def postgres_server(ctx: AzureContext, store: Component, name: str, geo: str | None) -> dict[str, Any]:
    """Entra ID authentication only (no password exists), private access in a delegated subnet."""
    spec = store.spec
    body: dict[str, Any] = {
        "name": azure.flexible_server_name(ctx.env, store),
        **ctx.placement(),
        "version": str(spec["version"]).split(".")[0],
        "sku_name": str(spec["instance_class"]),
        "storage_mb": storage_mb(int(spec["storage_gb"])),
        "auto_grow_enabled": True,
        "backup_retention_days": _retention(int(spec["backup_retention_days"]), 7),
        "geo_redundant_backup_enabled": geo is not None,
        "delegated_subnet_id": ctx.var("postgres_subnet_id"),
        "private_dns_zone_id": ctx.var("postgres_private_dns_zone_id"),
        "public_network_access_enabled": False,
        "zone": "1",
        "authentication": {"active_directory_auth_enabled": True, "password_auth_enabled": False, "tenant_id": TENANT_ID},
    }
    if spec.get("multi_az"):
        body["high_availability"] = {"mode": "ZoneRedundant", "standby_availability_zone": "2"}
    return body


def mysql_server(ctx: AzureContext, store: Component, name: str, geo: str | None) -> dict[str, Any]:
    """The administrator password is a write-only argument from an ephemeral variable: it is
    never written to out/ or to the Terraform state."""
    spec = store.spec
    server = azure.flexible_server_name(ctx.env, store)
    ctx.var("mysql_admin_passwords")
    version = str(spec["version"])
    body: dict[str, Any] = {
        "name": server,
        **ctx.placement(),
        "version": MYSQL_VERSIONS.get(version, version),
        "sku_name": str(spec["instance_class"]),
        "administrator_login": "mlcadmin",
        "administrator_password_wo": Expr(f'${{var.mysql_admin_passwords["{server}"]}}'),
        "administrator_password_wo_version": 1,
        "backup_retention_days": _retention(int(spec["backup_retention_days"]), 1),
        "geo_redundant_backup_enabled": geo is not None,
        "delegated_subnet_id": ctx.var("mysql_subnet_id"),
        "private_dns_zone_id": ctx.var("mysql_private_dns_zone_id"),
        "public_network_access": "Disabled",
        "zone": "1",
        "storage": {"size_gb": max(20, int(spec["storage_gb"])), "auto_grow_enabled": True, "io_scaling_enabled": True},
    }
    if spec.get("multi_az"):
        body["high_availability"] = {"mode": "ZoneRedundant", "standby_availability_zone": "2"}
    return body


POSTGRES_SETTINGS = {"log_checkpoints": "on", "log_connections": "on", "log_disconnections": "on", "require_secure_transport": "on"}
SERVERS = {"postgres": ("azurerm_postgresql_flexible_server", postgres_server), "mysql": ("azurerm_mysql_flexible_server", mysql_server)}


def database_file(ctx: AzureContext, store: Component) -> TfFile:
    """A private flexible server with a customer-managed key; zone-redundant HA for
    multi_az; geo-redundant backups when the paired region is allowed (their key and
    identity live in the paired region, as Azure requires)."""
    name = rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    identity, grant = customer_managed_key(f, ctx, name, store.name, f"store-{store.name}")
    grants = [grant]
    geo = None
    if azure.geo_region(ctx.env):
        ctx.geo_keys = True
        geo, geo_grant = customer_managed_key(f, ctx, f"{name}-geo", store.name, f"store-{store.name}-geo", geo=True)
        grants.append(geo_grant)
    engine = str(store.spec["engine"])
    rtype, build = SERVERS[engine]
    body = build(ctx, store, name, geo)
    ids = [ref("azurerm_user_assigned_identity", i, "id") for i in (identity, geo) if i]
    body["identity"] = {"type": "UserAssigned", "identity_ids": ids}
    body["customer_managed_key"] = _cmk(ctx, identity, geo)
    body["maintenance_window"] = {"day_of_week": 0, "start_hour": 3, "start_minute": 0}
    body["tags"] = ctx.tags(store)
    body["lifecycle"] = {"prevent_destroy": True}
    body["depends_on"] = grants
    f.resource(rtype, name, body)
    if engine == "postgres":
        for setting, value in POSTGRES_SETTINGS.items():
            f.resource(
                "azurerm_postgresql_flexible_server_configuration",
                f"{name}-{setting.replace('_', '-')}",
                {"name": setting, "server_id": ref(rtype, name, "id"), "value": value},
            )
    return f
