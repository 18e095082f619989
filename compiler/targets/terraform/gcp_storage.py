"""GCP storage: Cloud KMS keys, Cloud Storage buckets, the access-log bucket, BigQuery
datasets (data lake catalogs) and Cloud SQL instances."""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.providers import naming
from compiler.targets.terraform.common import (
    ABORT_MULTIPART_DAYS,
    ACCESS_LOG_RETENTION_DAYS,
    NONCURRENT_VERSION_DAYS,
    TfFile,
    ref,
    rname,
)
from compiler.targets.terraform.gcp_context import KEY_RING, GcpContext

KEY_ROTATION = "7776000s"  # 90 days
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
ACCESS_LOGS = "access-logs"  # resource name of the access-log bucket and its key
STORAGE_ANALYTICS = "group:cloud-storage-analytics@google.com"  # writes GCS usage logs


def crypto_key(
    f: TfFile,
    ctx: GcpContext,
    name: str,
    key_name: str,
    labels: dict[str, str],
    agents: tuple[str, ...],
    depends_on: list[str] | None = None,
) -> list[str]:
    """A key in the environment's ring, usable by the given service agents; returns the
    addresses of the agents' grants (resources using the key must depend on them)."""
    f.resource(
        "google_kms_crypto_key",
        name,
        {
            "name": key_name,
            "key_ring": ref("google_kms_key_ring", KEY_RING, "id"),
            "purpose": "ENCRYPT_DECRYPT",
            "rotation_period": KEY_ROTATION,
            "labels": labels,
            # destroying a key makes everything encrypted with it unreadable
            "lifecycle": {"prevent_destroy": True},
        },
    )
    grants = []
    for agent in agents:
        grants.append(
            f.resource(
                "google_kms_crypto_key_iam_member",
                f"{name}-{agent}-agent",
                {
                    "crypto_key_id": ref("google_kms_crypto_key", name, "id"),
                    "role": ENCRYPTER_DECRYPTER,
                    "member": ctx.service_agent(agent),
                    **({"depends_on": depends_on} if depends_on else {}),
                },
            )
        )
    return grants


def lifecycle_rules(lifecycle: dict[str, Any], versioning: bool) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [{"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": ABORT_MULTIPART_DAYS}}]
    if versioning:
        rules.append({"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": NONCURRENT_VERSION_DAYS}})
    if lifecycle.get("infrequent_after_days"):
        rules.append(
            {
                "action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
                "condition": {"age": lifecycle["infrequent_after_days"], "matches_storage_class": ["STANDARD"]},
            }
        )
    if lifecycle.get("archive_after_days"):
        rules.append(
            {
                "action": {"type": "SetStorageClass", "storage_class": "ARCHIVE"},
                "condition": {"age": lifecycle["archive_after_days"], "matches_storage_class": ["STANDARD", "NEARLINE"]},
            }
        )
    if lifecycle.get("expire_after_days"):
        rules.append({"action": {"type": "Delete"}, "condition": {"age": lifecycle["expire_after_days"]}})
    return rules


def gcs_bucket(
    f: TfFile,
    ctx: GcpContext,
    name: str,
    bucket_name: str,
    *,
    labels: dict[str, str],
    key_grants: list[str],
    versioning: bool = True,
    public: bool = False,
    lifecycle: dict[str, Any] | None = None,
    log: bool = True,
) -> None:
    body: dict[str, Any] = {
        "name": bucket_name,
        "location": ctx.region.upper(),
        "storage_class": "STANDARD",
        "uniform_bucket_level_access": True,
        "public_access_prevention": "inherited" if public else "enforced",
        "versioning": {"enabled": versioning},
        "encryption": {"default_kms_key_name": ref("google_kms_crypto_key", name, "id")},
        "lifecycle_rule": lifecycle_rules(lifecycle or {}, versioning),
        "force_destroy": False,
        "labels": labels,
        "depends_on": key_grants,  # the GCS service agent must be able to use the key first
    }
    if log:
        body["logging"] = {"log_bucket": ref("google_storage_bucket", ACCESS_LOGS, "name"), "log_object_prefix": bucket_name}
    f.resource("google_storage_bucket", name, body)


def bucket_store_file(ctx: GcpContext, store: Component) -> TfFile:
    env, name = ctx.env, rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    labels = ctx.labels(store)
    cataloged = bool(store.get("catalog"))  # data_lake (catalog defaults to true); object_store has no catalog
    agents = ("gcs", "bigquery") if cataloged else ("gcs",)
    grants = crypto_key(f, ctx, name, f"store-{store.name}", labels, agents)
    gcs_bucket(
        f,
        ctx,
        name,
        naming.bucket_name(env, store),
        labels=labels,
        key_grants=[g for g in grants if g.endswith("-gcs-agent")],
        versioning=bool(store.spec["versioning"]),
        public=bool(store.spec["public"]),
        lifecycle=store.get("lifecycle") or {},
    )
    if cataloged:
        f.resource(
            "google_bigquery_dataset",
            name,
            {
                "dataset_id": naming.catalog_database_name(env, store),
                "friendly_name": store.name,
                "description": f"mlc {env.name}: catalog of data lake {store.name} ({store.get('format', 'parquet')})",
                "location": ctx.region,
                "default_encryption_configuration": {"kms_key_name": ref("google_kms_crypto_key", name, "id")},
                "delete_contents_on_destroy": False,
                "labels": labels,
                "depends_on": [g for g in grants if g.endswith("-bigquery-agent")],
            },
        )
    return f


def access_log_file(ctx: GcpContext) -> TfFile:
    """The environment's usage/storage-log bucket, written by Google's storage analytics."""
    f = TfFile("terraform/logging.tf.json")
    labels = ctx.labels(None, **{"mlc-purpose": "storage-access-logs"})
    grants = crypto_key(f, ctx, ACCESS_LOGS, ACCESS_LOGS, labels, ("gcs",))
    gcs_bucket(
        f,
        ctx,
        ACCESS_LOGS,
        naming.log_bucket_name(ctx.env),
        labels=labels,
        key_grants=grants,
        lifecycle={"expire_after_days": ACCESS_LOG_RETENTION_DAYS},
        log=False,
    )
    f.resource(
        "google_storage_bucket_iam_member",
        f"{ACCESS_LOGS}-analytics",
        {"bucket": ref("google_storage_bucket", ACCESS_LOGS, "name"), "role": "roles/storage.objectCreator", "member": STORAGE_ANALYTICS},
    )
    return f


# --- Cloud SQL -------------------------------------------------------------------------------
def database_version(engine: str, version: str) -> str:
    parts = version.split(".")
    if engine == "postgres":
        return f"POSTGRES_{parts[0]}"
    return f"MYSQL_{parts[0]}_{parts[1] if len(parts) > 1 else '0'}"


def database_flags(engine: str) -> list[dict[str, str]]:
    """IAM authentication; connection, lock, temp-file, DDL and pgAudit (ddl, role) logging.
    DML statement texts are not logged (log_min_duration_statement -1, log_statement ddl):
    their parameters can hold personal data."""
    if engine == "postgres":
        flags = {
            "cloudsql.enable_pgaudit": "on",
            "cloudsql.iam_authentication": "on",
            "log_checkpoints": "on",
            "log_connections": "on",
            "log_disconnections": "on",
            "log_duration": "on",
            "log_hostname": "on",
            "log_lock_waits": "on",
            "log_min_duration_statement": "-1",
            "log_min_error_statement": "error",
            "log_min_messages": "error",
            "log_statement": "ddl",
            "log_temp_files": "0",
            "pgaudit.log": "ddl,role",
        }
    else:
        flags = {"cloudsql_iam_authentication": "on", "local_infile": "off", "skip_show_database": "on"}
    return [{"name": k, "value": v} for k, v in sorted(flags.items())]


def backup_configuration(engine: str, days: int) -> dict[str, Any]:
    if days <= 0:
        return {"enabled": False}
    body: dict[str, Any] = {
        "enabled": True,
        "start_time": "02:00",
        "backup_retention_settings": {"retained_backups": days, "retention_unit": "COUNT"},
        "transaction_log_retention_days": min(days, 7),
    }
    body["point_in_time_recovery_enabled" if engine == "postgres" else "binary_log_enabled"] = True
    return body


def database_file(ctx: GcpContext, store: Component) -> TfFile:
    """Cloud SQL with a private IP only, CMEK, backups, IAM database authentication.
    Connections need TLS with a client certificate: the Cloud SQL Auth Proxy / connectors,
    which IAM database authentication uses anyway, provide one automatically.
    No user with a password is emitted: workloads log in as IAM users (identity files);
    the admin credentials go into the Secret Manager secret declared here, added out of
    band, so no secret value is ever written to out/."""
    env, name = ctx.env, rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    labels = ctx.labels(store)
    engine, version = str(store.spec["engine"]), str(store.spec["version"])
    instance = naming.db_instance_name(env, store)
    # The Cloud SQL service agent exists once the API is enabled and an identity was requested
    # (`gcloud beta services identity create --service=sqladmin.googleapis.com`; the Terraform
    # resource for it, google_project_service_identity, is google-beta only): enable the API
    # before granting, and see docs/terraform.md for the one-time step.
    api = f.resource("google_project_service", f"{name}-sqladmin", {"service": "sqladmin.googleapis.com", "disable_on_destroy": False})
    grants = crypto_key(f, ctx, name, f"store-{store.name}", labels, ("cloudsql",), depends_on=[api])
    f.resource(
        "google_sql_database_instance",
        name,
        {
            "name": instance,
            "database_version": database_version(engine, version),
            "region": ctx.region,
            "encryption_key_name": ref("google_kms_crypto_key", name, "id"),
            "deletion_protection": True,
            "settings": {
                "tier": str(store.get("instance_class")),
                "edition": "ENTERPRISE",
                "availability_type": "REGIONAL" if store.get("multi_az") else "ZONAL",
                "disk_type": "PD_SSD",
                "disk_size": store.spec["storage_gb"],
                "disk_autoresize": True,
                "deletion_protection_enabled": True,
                "ip_configuration": {
                    "ipv4_enabled": False,
                    "private_network": ctx.var("network"),
                    "ssl_mode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
                },
                "backup_configuration": backup_configuration(engine, int(store.spec["backup_retention_days"])),
                "database_flags": database_flags(engine),
                "insights_config": {"query_insights_enabled": True, "record_client_address": False},
                "maintenance_window": {"day": 7, "hour": 3, "update_track": "stable"},
                "user_labels": labels,
            },
            "depends_on": grants,
        },
    )
    f.resource(
        "google_secret_manager_secret",
        name,
        {
            "secret_id": f"{instance}-admin",
            # automatic replication copies the secret to any Google region; user-managed
            # replication keeps it in the environment's region (compliance.allowed_regions)
            "replication": {"user_managed": {"replicas": [{"location": ctx.region}]}},
            "labels": labels,
        },
    )
    return f
