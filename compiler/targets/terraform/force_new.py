"""Which changes make Terraform *replace* a resource mlc emits (destroy, then create) rather
than update it in place: the arguments marked `ForceNew` in the providers' resource schemas.

Taken from the provider sources (hashicorp/terraform-provider-aws v6, `internal/service/<svc>/`
resource schemas; hashicorp/terraform-provider-google v6, `google/services/<svc>/` resource
schemas and the registry pages' "Changing this forces a new resource to be created"), for
exactly the resource types mlc emits; only top-level arguments are listed. A type missing
here is reported as "not known" rather than guessed; `tests/output/test_diff_comment.py` fails when
an emitted type has no entry. Used by `mlc diff` to mark resources a change would replace.
"""

from __future__ import annotations

import json
from typing import Any

_S3_CHILD = ("bucket", "expected_bucket_owner")
_GCP_IAM_MEMBER = ("role", "member", "condition")

FORCE_NEW: dict[str, tuple[str, ...]] = {
    # AWS
    "aws_s3_bucket": ("bucket", "bucket_prefix", "object_lock_enabled"),
    "aws_s3_bucket_versioning": _S3_CHILD,
    "aws_s3_bucket_server_side_encryption_configuration": _S3_CHILD,
    "aws_s3_bucket_public_access_block": ("bucket",),
    "aws_s3_bucket_ownership_controls": ("bucket",),
    "aws_s3_bucket_lifecycle_configuration": _S3_CHILD,
    "aws_s3_bucket_logging": _S3_CHILD,
    "aws_s3_bucket_policy": ("bucket",),
    "aws_kms_key": ("customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id", "xks_key_id"),
    "aws_kms_alias": ("name", "name_prefix"),
    "aws_kms_key_policy": ("key_id",),
    "aws_iam_role": ("name", "name_prefix", "path"),
    "aws_iam_role_policy": ("name", "name_prefix", "role"),
    "aws_iam_role_policy_attachment": ("role", "policy_arn"),
    "aws_db_instance": (
        "identifier",
        "identifier_prefix",
        "engine",
        "kms_key_id",
        "storage_encrypted",
        "availability_zone",
        "db_name",
        "username",
        "character_set_name",
        "timezone",
    ),
    "aws_db_parameter_group": ("name", "name_prefix", "family", "description"),
    "aws_eks_node_group": (
        "cluster_name",
        "node_group_name",
        "node_group_name_prefix",
        "node_role_arn",
        "subnet_ids",
        "capacity_type",
        "instance_types",
        "disk_size",
        "remote_access",
    ),
    "aws_glue_catalog_database": ("name", "catalog_id"),
    "aws_budgets_budget": ("account_id", "name", "name_prefix"),
    "aws_cloudtrail": ("name",),
    # Google
    "google_storage_bucket": ("name", "location", "project"),
    "google_storage_bucket_iam_member": ("bucket", *_GCP_IAM_MEMBER),
    "aws_launch_template": ("name", "name_prefix"),
    "aws_kinesis_stream": ("name",),
    "aws_elasticache_replication_group": ("replication_group_id", "at_rest_encryption_enabled", "kms_key_id", "port", "subnet_group_name"),
    "google_pubsub_topic": ("name", "project"),
    "google_pubsub_subscription": ("name", "topic", "project"),
    "google_pubsub_topic_iam_member": ("topic", "project", *_GCP_IAM_MEMBER),
    "google_pubsub_subscription_iam_member": ("subscription", "project", *_GCP_IAM_MEMBER),
    "google_redis_instance": (
        "name",
        "region",
        "project",
        "location_id",
        "authorized_network",
        "connect_mode",
        "customer_managed_key",
        "transit_encryption_mode",
    ),
    "google_project_service": ("service", "project"),
    # azurerm 4.x: attributes marked ForceNew in the provider's resource schemas
    # (hashicorp/terraform-provider-azurerm internal/services/*/..._resource.go; the registry docs
    # say "Changing this forces a new resource to be created" for each)
    "azurerm_consumption_budget_resource_group": ("name", "resource_group_id"),
    "azurerm_federated_identity_credential": ("name", "resource_group_name", "parent_id"),
    "azurerm_key_vault": ("name", "location", "resource_group_name"),
    "azurerm_key_vault_key": ("name", "key_vault_id", "key_type", "key_size", "curve"),
    "azurerm_kubernetes_cluster_node_pool": ("name", "kubernetes_cluster_id", "priority", "eviction_policy", "zones", "os_type"),
    "azurerm_log_analytics_workspace": ("name", "location", "resource_group_name"),
    "azurerm_monitor_diagnostic_setting": ("name", "target_resource_id"),
    "azurerm_mysql_flexible_server": (
        "name",
        "location",
        "resource_group_name",
        "create_mode",
        "delegated_subnet_id",
        "private_dns_zone_id",
        "geo_redundant_backup_enabled",
    ),
    "azurerm_postgresql_flexible_server": (
        "name",
        "location",
        "resource_group_name",
        "create_mode",
        "delegated_subnet_id",
        "private_dns_zone_id",
        "geo_redundant_backup_enabled",
    ),
    "azurerm_postgresql_flexible_server_configuration": ("name", "server_id"),
    "azurerm_private_endpoint": ("name", "location", "resource_group_name", "subnet_id"),
    "azurerm_redis_cache": ("name", "location", "resource_group_name", "family", "subnet_id", "private_static_ip_address", "zones"),
    "azurerm_role_assignment": ("name", "scope", "role_definition_id", "role_definition_name", "principal_id", "principal_type"),
    "azurerm_storage_account": ("name", "location", "resource_group_name", "is_hns_enabled", "infrastructure_encryption_enabled"),
    "azurerm_storage_container": ("name", "storage_account_id", "storage_account_name"),
    "azurerm_storage_data_lake_gen2_filesystem": ("name", "storage_account_id"),
    "azurerm_storage_management_policy": ("storage_account_id",),
    "azurerm_user_assigned_identity": ("name", "location", "resource_group_name"),
    "google_bigquery_dataset_iam_member": ("dataset_id", "project", *_GCP_IAM_MEMBER),
    "google_kms_key_ring": ("name", "location", "project"),
    "google_kms_crypto_key": ("name", "key_ring", "purpose", "skip_initial_version_creation", "import_only"),
    "google_kms_crypto_key_iam_member": ("crypto_key_id", *_GCP_IAM_MEMBER),
    "google_service_account": ("account_id", "project"),
    "google_service_account_iam_member": ("service_account_id", *_GCP_IAM_MEMBER),
    "google_sql_database_instance": ("name", "region", "project", "master_instance_name", "encryption_key_name"),
    "google_bigquery_dataset": ("dataset_id", "project", "location"),
    "google_container_node_pool": ("name", "name_prefix", "location", "cluster", "project"),
    "google_billing_budget": ("billing_account",),
    "google_secret_manager_secret": ("secret_id", "project", "replication"),
}

_MISSING = object()


def resources(files: dict[str, bytes]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`type.name` -> (type, arguments) of every resource in an environment's terraform/*.tf.json."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, data in files.items():
        if not (path.startswith("terraform/") and path.endswith(".tf.json")):
            continue
        try:
            doc = json.loads(data)
        except ValueError:
            continue
        for rtype, named in (doc.get("resource") or {}).items():
            for name, body in (named or {}).items():
                found[f"{rtype}.{name}"] = (rtype, body if isinstance(body, dict) else {})
    return found


def plan_markers(old: dict[str, bytes], new: dict[str, bytes]) -> tuple[list[str], list[str], list[str]]:
    """(replaced, destroyed, created) resource addresses between two trees of one environment;
    a replaced address is followed by the arguments that force it, e.g. `aws_s3_bucket.x (bucket)`."""
    before, after = resources(old), resources(new)
    replaced = []
    for address in sorted(set(before) & set(after)):
        rtype, old_args = before[address]
        new_args = after[address][1]
        keys = FORCE_NEW.get(rtype)
        if keys is None:
            continue
        changed = [k for k in keys if old_args.get(k, _MISSING) != new_args.get(k, _MISSING)]
        if changed:
            replaced.append(f"{address} ({', '.join(changed)})")
    return replaced, sorted(set(before) - set(after)), sorted(set(after) - set(before))
