"""Azure feature stores: the online store (Azure Cache for Redis) and the materialiser's
identity, in one file per feature store (store-<name>.tf.json).

  online store  azurerm_redis_cache, Premium (the smallest P size holding online.size_gb, one
                replica, spread over zones 1 and 2): TLS only (the non-TLS port off, TLS 1.2
                minimum, served on 6380), AUTH with the cache's access keys (Azure generates
                them; whoever applies Terraform writes the connection string into the Key Vault
                secret mlc-<env>-<name>-online-store, which External Secrets reads), no public
                network access: a private endpoint in var.private_endpoint_subnet_id registered
                in var.redis_private_dns_zone_id (privatelink.redis.cache.windows.net).
                Encryption at rest is Azure's own: azurerm_redis_cache has no customer-managed
                key (docs/streaming.md)
  identity      the materialisation's user-assigned identity (Workload Identity) with the
                plan's grants: Storage Blob Data Reader on the lake's filesystem (offline read),
                Storage Blob Data Contributor on it with an ABAC condition limiting writes,
                deletes and reads to the registry prefix feast/<name>/; the online write is
                Redis AUTH over the network, not RBAC
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds.feature_store import offline_lake, online
from compiler.plan.compiled import Access
from compiler.plan.pricing import load_pricing
from compiler.providers import azure, naming
from compiler.targets.terraform.azure_context import PRINCIPAL_TYPE, AzureContext
from compiler.targets.terraform.azure_iam import READ_ROLE, WRITE_ROLE, workload_identity
from compiler.targets.terraform.azure_storage import container_address
from compiler.targets.terraform.common import TfFile, lit, ref, rname

REDIS_VERSION = "6"
SKU = "Premium"
FAMILY = "P"
ZONES = ["1", "2"]  # the primary and its replica in different zones
BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"
# the data actions the registry condition limits to its prefix (list stays container-wide)
PREFIXED_ACTIONS = ("read", "write", "delete", "add/action", "move/action")


def capacity(store: Component) -> tuple[int, str]:
    """(P capacity, size name) of the smallest Premium cache (pricing table) holding online.size_gb."""
    size = int(online(store)["size_gb"])
    rows: list[dict[str, Any]] = load_pricing().document["azure"]["feature_online"]["rows"]
    row = next(r for r in rows if float(r["memory_gib"]) >= size)
    return int(str(row["type"])[1:]), str(row["type"])


def cache_name(ctx: AzureContext, store: Component) -> str:
    """Azure Cache names are DNS names (<name>.redis.cache.windows.net): 1-63 [a-z0-9-], globally
    unique, so the environment and store names get a hash of the subscription too."""
    digest = azure._digest(azure.subscription(ctx.env), ctx.env.name, store.name, length=6)
    return f"{naming.bounded(f'mlc-{ctx.env.name}-{store.name}', 56)}-{digest}"


def registry_condition(prefix: str) -> str:
    """ABAC condition (version 2.0): blob reads, writes and deletes only at or under `prefix`."""
    actions = " AND ".join(f"!(ActionMatches{{'{BLOBS}/{a}'}})" for a in PREFIXED_ACTIONS)
    return f"(({actions}) OR (@Resource[{BLOBS}:path] StringStartsWith '{lit(prefix)}/'))"


def feature_store_file(ctx: AzureContext, store: Component) -> TfFile:
    env, name = ctx.env, rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    principal = workload_identity(f, ctx, store)
    lake = env.components[offline_lake(store)]
    for access in ctx.compiled.grants[store.name].access:
        if access.store != lake.name:
            continue  # the online write: Redis AUTH, not RBAC
        _lake_role(f, ctx, store, lake, access, principal)
    size, size_name = capacity(store)
    cache = cache_name(ctx, store)
    tags = ctx.tags(store)
    f.resource(
        "azurerm_redis_cache",
        name,
        {
            "name": cache,
            **ctx.placement(),
            "sku_name": SKU,
            "family": FAMILY,
            "capacity": size,
            "redis_version": REDIS_VERSION,
            "replicas_per_primary": 1,
            "zones": list(ZONES),
            "non_ssl_port_enabled": False,
            "minimum_tls_version": "1.2",
            "public_network_access_enabled": False,
            "access_keys_authentication_enabled": True,
            "redis_configuration": {"authentication_enabled": True},
            "patch_schedule": [{"day_of_week": "Sunday", "start_hour_utc": 3}],
            "tags": tags,
        },
    )
    f.resource(
        "azurerm_private_endpoint",
        name,
        {
            "name": naming.bounded(f"{cache}-pe", 80),
            **ctx.placement(),
            "subnet_id": ctx.var("private_endpoint_subnet_id"),
            "private_service_connection": {
                "name": naming.bounded(f"{cache}-redis", 80),
                "private_connection_resource_id": ref("azurerm_redis_cache", name, "id"),
                "subresource_names": ["redisCache"],
                "is_manual_connection": False,
            },
            "private_dns_zone_group": {"name": "redis", "private_dns_zone_ids": [ctx.var("redis_private_dns_zone_id")]},
            "tags": tags,
        },
    )
    return f


def _lake_role(f: TfFile, ctx: AzureContext, store: Component, lake: Component, access: Access, principal: Any) -> None:
    body: dict[str, Any] = {
        "scope": ctx.container_scope(lake),
        "role_definition_name": WRITE_ROLE if access.write else READ_ROLE,
        "principal_id": principal,
        "principal_type": PRINCIPAL_TYPE,
    }
    if access.prefix:
        body["condition"] = registry_condition(access.prefix)
        body["condition_version"] = "2.0"
        what = f"reads and writes {lake.name}/{access.prefix}/ (its Feast registry)"
    else:
        what = f"reads {lake.name} (offline store)"
    body["description"] = f"{store.name} materialisation {what} (mlc graph)"
    body["depends_on"] = [container_address(lake)]
    f.resource("azurerm_role_assignment", f"{rname(store)}-{rname(lake)}-{access.edge}", body)
