"""GCP feature stores: the online store (Memorystore for Redis) and the materialiser's
identity, in one file per feature store (store-<name>.tf.json).

  online store  google_kms_crypto_key (+ the Memorystore service agent's encrypter/decrypter
                grant) and google_redis_instance: STANDARD_HA tier (a replica in another
                zone), memory_size_gb = online.size_gb, customer-managed key, AUTH enabled,
                TLS (SERVER_AUTHENTICATION); private: PRIVATE_SERVICE_ACCESS on var.network,
                no public address exists for Memorystore
  identity      the materialisation's service account (Workload Identity) with the plan's
                grants: offline read of the lake, read/write of the registry prefix
                feast/<name>/ in it; the online write is Redis AUTH over the network, not IAM
"""

from __future__ import annotations

from compiler.model.environment import Component
from compiler.model.kinds.feature_store import online
from compiler.providers import naming
from compiler.targets.terraform.common import TfFile, ref, rname
from compiler.targets.terraform.gcp_context import GcpContext
from compiler.targets.terraform.gcp_storage import crypto_key

REDIS_VERSION = "REDIS_7_2"


def instance_name(ctx: GcpContext, store: Component) -> str:
    """Memorystore instance ids: at most 40 characters, lowercase letters, digits, hyphens."""
    return naming.bounded(f"mlc-{ctx.env.name}-{store.name}", 40)


def feature_store_file(ctx: GcpContext, store: Component) -> TfFile:
    from compiler.targets.terraform.gcp_iam import identity_file

    name = rname(store)
    f = identity_file(ctx, store)  # the materialisation's service account and grants
    f.path = f"terraform/store-{store.name}.tf.json"
    labels = ctx.labels(store)
    grants = crypto_key(f, ctx, name, f"feature-store-{store.name}", labels, ("redis",))
    f.resource(
        "google_redis_instance",
        name,
        {
            "name": instance_name(ctx, store),
            "display_name": f"mlc {ctx.env.name} {store.name} online store",
            "project": ctx.project,
            "region": ctx.region,
            "tier": "STANDARD_HA",
            "memory_size_gb": int(online(store)["size_gb"]),
            "redis_version": REDIS_VERSION,
            "auth_enabled": True,
            "transit_encryption_mode": "SERVER_AUTHENTICATION",
            "customer_managed_key": ref("google_kms_crypto_key", name, "id"),
            "connect_mode": "PRIVATE_SERVICE_ACCESS",
            "authorized_network": ctx.var("network"),
            "labels": labels,
            "depends_on": grants,  # Memorystore checks the key grant when the instance is created
        },
    )
    return f
