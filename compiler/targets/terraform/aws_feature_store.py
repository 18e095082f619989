"""AWS feature stores: the online store (ElastiCache for Redis) and the materialiser's identity,
in one file per feature store (store-<name>.tf.json).

  online store  aws_kms_key (+ alias) and aws_elasticache_replication_group: 2 nodes (primary +
                replica, automatic failover, multi-AZ) of the smallest node type holding
                online.size_gb; at-rest encryption with that key, TLS in transit, an AUTH
                token (var.cache_auth_tokens[<name>], sensitive); private: the subnet group and
                security groups come from variables (no public endpoint exists for ElastiCache)
  identity      the IRSA role of the materialisation (ServiceAccount <name>) with the plan's
                grants: offline read of the lake, read/write of the registry prefix
                feast/<name>/ in it; the online write is Redis AUTH over the network, not IAM

Readers of a feature store get, in their own policy, offline read of its lake (aws_iam.py).
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds.feature_store import online
from compiler.plan.pricing import load_pricing
from compiler.providers import aws, naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.aws_storage import kms_key
from compiler.targets.terraform.common import Expr, TfFile, lit, ref, rname

REDIS_PORT = 6379
REDIS_VERSION = "7.1"
SNAPSHOT_DAYS = 7


def node_type(store: Component) -> str:
    """Smallest ElastiCache node type (the pricing table's) whose memory holds online.size_gb."""
    size = int(online(store)["size_gb"])
    rows: list[dict[str, Any]] = load_pricing().document["aws"]["feature_online"]["rows"]
    return str(next(r["type"] for r in rows if float(r["memory_gib"]) >= size))


def replication_group_id(ctx: AwsContext, store: Component) -> str:
    """ElastiCache replication group ids: at most 40 characters, lowercase letters, digits, hyphens."""
    return naming.bounded(f"mlc-{ctx.env.name}-{store.name}", 40)


def feature_store_file(ctx: AwsContext, store: Component) -> TfFile:
    from compiler.targets.terraform.aws_iam import identity_file

    env, name = ctx.env, rname(store)
    f = identity_file(ctx, store)  # the materialisation's role and policy
    f.path = f"terraform/store-{store.name}.tf.json"
    tags = ctx.tags(store)
    group = replication_group_id(ctx, store)
    tokens = ctx.var("cache_auth_tokens")[2:-1]  # var.cache_auth_tokens, declared as used
    kms_key(
        f, ctx, name, aws.kms_alias(env, store), f"mlc {env.name}: encrypts the online store {group} of feature store {store.name}", tags
    )
    f.resource(
        "aws_elasticache_replication_group",
        name,
        {
            "replication_group_id": group,
            "description": f"mlc {env.name}: Feast online store of feature store {store.name}",
            "engine": "redis",
            "engine_version": REDIS_VERSION,
            "node_type": node_type(store),
            "num_cache_clusters": 2,
            "automatic_failover_enabled": True,
            "multi_az_enabled": True,
            "port": REDIS_PORT,
            "at_rest_encryption_enabled": True,
            "kms_key_id": ref("aws_kms_key", name, "arn"),
            "transit_encryption_enabled": True,
            "auth_token": Expr(f'${{{tokens}["{lit(store.name)}"]}}'),
            "subnet_group_name": ctx.var("cache_subnet_group_name"),
            "security_group_ids": ctx.var("cache_security_group_ids"),
            "snapshot_retention_limit": SNAPSHOT_DAYS,
            "auto_minor_version_upgrade": True,
            "apply_immediately": False,
            "tags": tags,
        },
    )
    return f
