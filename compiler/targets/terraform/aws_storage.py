"""AWS storage: customer-managed KMS keys, S3 buckets with their split configuration
resources, the access-log bucket, Glue catalog databases and RDS instances."""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.providers import aws, naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.common import (
    ABORT_MULTIPART_DAYS,
    ACCESS_LOG_RETENTION_DAYS,
    NONCURRENT_VERSION_DAYS,
    Expr,
    TfFile,
    iam_policy,
    policy_json,
    ref,
    rname,
)

KMS_DELETION_WINDOW_DAYS = 30
ACCESS_LOGS = "access-logs"  # resource name of the environment's access-log bucket


# --- KMS -------------------------------------------------------------------------------------
def root_key_statement(ctx: AwsContext) -> dict[str, Any]:
    """The account (root) administers the key; IAM policies then grant its use to roles."""
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": Expr(f"arn:aws:iam::{ctx.account}:root")},
        "Action": "kms:*",
        "Resource": "*",
    }


def kms_key(
    f: TfFile, ctx: AwsContext, name: str, alias: str, description: str, tags: dict[str, str], extra: list[dict[str, Any]] | None = None
) -> None:
    f.resource(
        "aws_kms_key",
        name,
        {
            "description": description,
            "enable_key_rotation": True,
            "deletion_window_in_days": KMS_DELETION_WINDOW_DAYS,
            "tags": tags,
        },
    )
    f.resource(
        "aws_kms_key_policy",
        name,
        {"key_id": ref("aws_kms_key", name, "id"), "policy": iam_policy([root_key_statement(ctx), *(extra or [])])},
    )
    f.resource("aws_kms_alias", name, {"name": alias, "target_key_id": ref("aws_kms_key", name, "key_id")})


# --- S3 --------------------------------------------------------------------------------------
def deny_insecure_transport(name: str) -> dict[str, Any]:
    arn = ref("aws_s3_bucket", name, "arn")
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, Expr(f"{arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def lifecycle_rules(lifecycle: dict[str, Any], versioning: bool) -> list[dict[str, Any]]:
    """Lifecycle rules: always abort incomplete uploads; expire noncurrent versions when
    versioned; transitions (STANDARD_IA, GLACIER) and expiration from the spec."""
    everything: dict[str, Any] = {}  # an empty filter: the rule applies to every object
    rules: list[dict[str, Any]] = [
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": everything,
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
        }
    ]
    if versioning:
        rules.append(
            {
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "filter": everything,
                "noncurrent_version_expiration": {"noncurrent_days": NONCURRENT_VERSION_DAYS},
            }
        )
    transitions = []
    if lifecycle.get("infrequent_after_days"):
        transitions.append({"days": lifecycle["infrequent_after_days"], "storage_class": "STANDARD_IA"})
    if lifecycle.get("archive_after_days"):
        transitions.append({"days": lifecycle["archive_after_days"], "storage_class": "GLACIER"})
    if transitions or lifecycle.get("expire_after_days"):
        rule: dict[str, Any] = {"id": "tiering-and-expiration", "status": "Enabled", "filter": everything}
        if transitions:
            rule["transition"] = transitions
        if lifecycle.get("expire_after_days"):
            rule["expiration"] = {"days": lifecycle["expire_after_days"]}
        rules.append(rule)
    return rules


def bucket(
    f: TfFile,
    name: str,
    bucket_name: str,
    *,
    tags: dict[str, str],
    kms_key_name: str | None,
    versioning: bool = True,
    public: bool = False,
    lifecycle: dict[str, Any] | None = None,
    log: bool = True,
    policy_statements: list[dict[str, Any]] | None = None,
) -> None:
    """A bucket with SSE (KMS with `kms_key_name`, else SSE-S3), versioning, public access
    block, BucketOwnerEnforced, a TLS-only policy, access logging and lifecycle rules."""
    bucket_id = ref("aws_s3_bucket", name, "id")
    f.resource("aws_s3_bucket", name, {"bucket": bucket_name, "tags": tags})
    if kms_key_name:
        default = {"sse_algorithm": "aws:kms", "kms_master_key_id": ref("aws_kms_key", kms_key_name, "arn")}
        rule: dict[str, Any] = {"apply_server_side_encryption_by_default": default, "bucket_key_enabled": True}
    else:
        rule = {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
    f.resource("aws_s3_bucket_server_side_encryption_configuration", name, {"bucket": bucket_id, "rule": [rule]})
    f.resource(
        "aws_s3_bucket_versioning",
        name,
        {"bucket": bucket_id, "versioning_configuration": {"status": "Enabled" if versioning else "Suspended"}},
    )
    f.resource(
        "aws_s3_bucket_public_access_block",
        name,
        {
            "bucket": bucket_id,
            "block_public_acls": not public,
            "block_public_policy": not public,
            "ignore_public_acls": not public,
            "restrict_public_buckets": not public,
        },
    )
    f.resource("aws_s3_bucket_ownership_controls", name, {"bucket": bucket_id, "rule": {"object_ownership": "BucketOwnerEnforced"}})
    statements = [deny_insecure_transport(name), *(policy_statements or [])]
    f.resource(
        "aws_s3_bucket_policy",
        name,
        {
            "bucket": bucket_id,
            "policy": iam_policy(statements),
            "depends_on": [f"aws_s3_bucket_public_access_block.{name}"],
        },
    )
    if log:
        f.resource(
            "aws_s3_bucket_logging",
            name,
            {"bucket": bucket_id, "target_bucket": ref("aws_s3_bucket", ACCESS_LOGS, "id"), "target_prefix": f"{bucket_name}/"},
        )
    f.resource(
        "aws_s3_bucket_lifecycle_configuration",
        name,
        {
            "bucket": bucket_id,
            "rule": lifecycle_rules(lifecycle or {}, versioning),
            "depends_on": [f"aws_s3_bucket_versioning.{name}"],
        },
    )


def bucket_store_file(ctx: AwsContext, store: Component) -> TfFile:
    """object_store / data_lake: key, bucket (+ Glue database for a cataloged data_lake)."""
    env, name = ctx.env, rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    tags = ctx.tags(store)
    bucket_name = naming.bucket_name(env, store)
    kms_key(f, ctx, name, aws.kms_alias(env, store), f"mlc {env.name}: encrypts bucket {bucket_name}", tags)
    bucket(
        f,
        name,
        bucket_name,
        tags=tags,
        kms_key_name=name,
        versioning=bool(store.spec["versioning"]),
        public=bool(store.spec["public"]),
        lifecycle=store.get("lifecycle") or {},
    )
    if store.get("catalog"):  # data_lake (catalog defaults to true); object_store has no catalog
        f.resource(
            "aws_glue_catalog_database",
            name,
            {
                "name": naming.catalog_database_name(env, store),
                "description": f"mlc {env.name}: catalog of data lake {store.name} ({store.get('format', 'parquet')})",
                "location_uri": Expr(f"s3://{ref('aws_s3_bucket', name, 'bucket')}/"),
                "parameters": {"mlc:format": str(store.spec["format"])},
                "tags": tags,
            },
        )
    return f


def access_log_file(ctx: AwsContext) -> TfFile:
    """The environment's access-log bucket. S3 server access logging delivers only to a
    bucket encrypted with SSE-S3 (not SSE-KMS), so this one bucket uses AES256."""
    env = ctx.env
    f = TfFile("terraform/logging.tf.json")
    sources = [ref("aws_s3_bucket", rname(c), "arn") for c in env.with_trait(Trait.BUCKET)]
    if ctx.sensitive_buckets():
        sources.append(ref("aws_s3_bucket", "audit-trail", "arn"))
    delivery = {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": Expr(f"{ref('aws_s3_bucket', ACCESS_LOGS, 'arn')}/*"),
        "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account}, "ArnLike": {"aws:SourceArn": sources}},
    }
    bucket(
        f,
        ACCESS_LOGS,
        naming.log_bucket_name(env),
        tags=ctx.tags(None, **{"mlc:purpose": "s3-access-logs"}),
        kms_key_name=None,
        lifecycle={"expire_after_days": ACCESS_LOG_RETENTION_DAYS},
        log=False,
        policy_statements=[delivery] if sources else [],
    )
    return f


# --- RDS -------------------------------------------------------------------------------------
def parameter_family(engine: str, version: str) -> str:
    parts = version.split(".")
    if engine == "postgres":
        return f"postgres{parts[0]}"
    return f"mysql{parts[0]}.{parts[1] if len(parts) > 1 else '0'}"


def db_parameters(engine: str) -> list[dict[str, str]]:
    """TLS only; connection and DDL statement logging. DML statement texts are not logged
    (log_min_duration_statement -1): their parameters can hold personal data."""
    if engine == "postgres":
        params = {
            "rds.force_ssl": "1",
            "log_connections": "1",
            "log_disconnections": "1",
            "log_statement": "ddl",
            "log_min_duration_statement": "-1",
        }
    else:
        params = {"require_secure_transport": "1", "slow_query_log": "1", "long_query_time": "1", "log_output": "FILE"}
    return [{"name": k, "value": v} for k, v in sorted(params.items())]


def log_exports(engine: str) -> list[str]:
    return ["postgresql", "upgrade"] if engine == "postgres" else ["error", "general", "slowquery"]


def performance_insights_supported(engine: str, instance_class: str) -> bool:
    """RDS for MySQL has no Performance Insights on *.micro / *.small classes."""
    return not (engine == "mysql" and instance_class.rsplit(".", 1)[-1] in ("micro", "small"))


def database_file(ctx: AwsContext, store: Component) -> TfFile:
    env, name = ctx.env, rname(store)
    f = TfFile(f"terraform/store-{store.name}.tf.json", store.name)
    tags = ctx.tags(store)
    identifier = naming.db_instance_name(env, store)
    engine, version = str(store.spec["engine"]), str(store.spec["version"])
    instance_class = str(store.get("instance_class"))
    key_arn = ref("aws_kms_key", name, "arn")
    kms_key(f, ctx, name, aws.kms_alias(env, store), f"mlc {env.name}: encrypts database {identifier}", tags)
    f.resource(
        "aws_db_parameter_group",
        name,
        {
            "name": f"{identifier}-{engine}",
            "family": parameter_family(engine, version),
            "description": f"mlc {env.name}: TLS-only connections and statement logging for {identifier}",
            "parameter": db_parameters(engine),
            "tags": tags,
        },
    )
    body: dict[str, Any] = {
        "identifier": identifier,
        "engine": engine,
        "engine_version": version,
        "instance_class": instance_class,
        "allocated_storage": store.spec["storage_gb"],
        "storage_type": "gp3",
        "storage_encrypted": True,
        "kms_key_id": key_arn,
        "username": "mlc_admin",
        "manage_master_user_password": True,  # RDS generates it and keeps it in Secrets Manager
        "master_user_secret_kms_key_id": key_arn,
        "iam_database_authentication_enabled": True,
        "db_subnet_group_name": ctx.var("db_subnet_group_name"),
        "vpc_security_group_ids": ctx.var("db_security_group_ids"),
        "parameter_group_name": ref("aws_db_parameter_group", name, "name"),
        "publicly_accessible": False,
        "multi_az": bool(store.spec["multi_az"]),
        "backup_retention_period": store.spec["backup_retention_days"],
        "deletion_protection": True,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": f"{identifier}-final",
        "copy_tags_to_snapshot": True,
        "auto_minor_version_upgrade": True,
        "ca_cert_identifier": "rds-ca-rsa2048-g1",
        "enabled_cloudwatch_logs_exports": log_exports(engine),
        "monitoring_interval": 60,
        "monitoring_role_arn": ref("aws_iam_role", "rds-monitoring", "arn"),
        "tags": tags,
    }
    if performance_insights_supported(engine, instance_class):
        body.update(
            {"performance_insights_enabled": True, "performance_insights_kms_key_id": key_arn, "performance_insights_retention_period": 7}
        )
    f.resource("aws_db_instance", name, body)
    return f


def rds_monitoring_file(ctx: AwsContext) -> TfFile:
    """The role RDS enhanced monitoring publishes OS metrics with (AWS-managed policy)."""
    f = TfFile("terraform/rds-monitoring.tf.json")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "monitoring.rds.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account}},
            }
        ],
    }
    f.resource(
        "aws_iam_role",
        "rds-monitoring",
        {
            # the "." keeps it apart from workload roles mlc-<env>-<workload> (DNS labels)
            "name": naming.bounded(f"mlc-{ctx.env.name}.rds-monitoring", 64),
            "description": "RDS enhanced monitoring (AWS-managed AmazonRDSEnhancedMonitoringRole)",
            "assume_role_policy": policy_json(trust),
            "tags": ctx.tags(None),
        },
    )
    f.resource(
        "aws_iam_role_policy_attachment",
        "rds-monitoring",
        {
            "role": ref("aws_iam_role", "rds-monitoring", "name"),
            "policy_arn": "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        },
    )
    return f
