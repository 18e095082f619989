"""Terraform (JSON syntax) for an AWS environment.

Layout of out/<env>/terraform/ (each file only when it has something to hold):

  terraform.tf.json         terraform block: required versions, pinned provider, S3 backend
                            (encrypted, native S3 locking)
  main.tf.json              provider (region, allowed account, default tags), the existing
                            EKS cluster and its OIDC provider (data sources)
  variables.tf.json         inputs the spec cannot know (subnets, node role, alert e-mails, ...)
  logging.tf.json           the environment's S3 access-log bucket
  store-<name>.tf.json      per store: KMS key (+ policy, alias) and the bucket with its
                            configuration, Glue database; or the RDS instance; or the
                            Kinesis stream (aws_streaming.py)
  rds-monitoring.tf.json    role for RDS enhanced monitoring (when there is a database)
  identity-<name>.tf.json   per workload: IAM role (IRSA trust) + inline least-privilege policy
  cluster.tf.json           EKS managed node groups from cluster.node_pools
  budget.tf.json            AWS Budgets monthly cost budget with alerts
  audit.tf.json             CloudTrail S3 data events of confidential/pii buckets, with its own
                            KMS-encrypted bucket
"""

from __future__ import annotations

import re
from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.aws_edge import edge_identity_file
from compiler.targets.terraform.aws_feature_store import feature_store_file
from compiler.targets.terraform.aws_iam import identity_file
from compiler.targets.terraform.aws_storage import (
    access_log_file,
    bucket,
    bucket_store_file,
    database_file,
    kms_key,
    rds_monitoring_file,
)
from compiler.targets.terraform.aws_streaming import stream_file
from compiler.targets.terraform.common import (
    ACCESS_LOG_RETENTION_DAYS,
    AWS_PROVIDER,
    TAINT_EFFECT,
    TERRAFORM_REQUIRED_VERSION,
    Expr,
    TfFile,
    lit,
    money,
    percent,
    ref,
    rname,
)
from compiler.targets.terraform.emitter import TerraformEmitter


def settings_file(ctx: AwsContext) -> TfFile:
    env = ctx.env
    f = TfFile("terraform/terraform.tf.json")
    f.set(
        "terraform",
        {
            "required_version": TERRAFORM_REQUIRED_VERSION,
            "required_providers": {"aws": dict(AWS_PROVIDER)},
            "backend": {
                "s3": {
                    "bucket": naming.state_bucket_name(env),
                    "key": f"{env.name}/terraform.tfstate",
                    "region": env.region,
                    "encrypt": True,
                    "use_lockfile": True,
                }
            },
        },
    )
    return f


def main_file(ctx: AwsContext) -> TfFile:
    env = ctx.env
    f = TfFile("terraform/main.tf.json")
    provider: dict[str, Any] = {"region": env.region, "default_tags": {"tags": ctx.default_tags()}}
    if ctx.account_literal:
        provider["allowed_account_ids"] = [ctx.account_literal]
    else:
        f.data("aws_caller_identity", "current", {})
    f.set("provider", {"aws": provider})
    f.data("aws_eks_cluster", "cluster", {"name": env.spec["cluster"]["name"]})
    issuer = "data.aws_eks_cluster.cluster.identity[0].oidc[0].issuer"
    f.data("aws_iam_openid_connect_provider", "cluster", {"url": Expr(f"${{{issuer}}}")})
    f.local("oidc_issuer", Expr(f'${{trimprefix({issuer}, "https://")}}'))
    return f


# --- node groups -------------------------------------------------------------------------
def ami_type(instance_type: str, gpus: int) -> str:
    """EKS AMI type of an instance type with `gpus` GPUs (the plan's instance facts)."""
    family = instance_type.split(".", 1)[0]
    arch = "ARM_64" if re.fullmatch(r"[a-z]+[0-9]+g[a-z]*", family) else "x86_64"
    if gpus:
        return f"AL2023_{arch}_NVIDIA"
    if family.startswith(("inf", "trn")):
        return "AL2023_x86_64_NEURON"
    return f"AL2023_{arch}_STANDARD"


def node_taints(gpus: int, spot: bool) -> list[dict[str, str]]:
    taints = []
    if gpus:
        taints.append({"key": naming.GPU_TAINT_KEY, "value": naming.GPU_TAINT_VALUE, "effect": TAINT_EFFECT})
    if spot:
        taints.append({"key": naming.SPOT_TAINT_KEY, "value": naming.SPOT_TAINT_VALUE, "effect": TAINT_EFFECT})
    return taints


ROOT_DEVICE = "/dev/xvda"  # root volume of the EKS-optimised AL2023 AMIs


def compute_tags(ctx: AwsContext, pool_name: str) -> dict[str, str]:
    """Tags of a pool's instances and volumes: the provider's default tags (incl. the
    `mlc:environment` tag the budget filters on) and the pool's own. Neither default_tags nor
    node-group tags reach the EC2 instances; the launch template's tag_specifications do."""
    return dict(sorted({**ctx.default_tags(), **ctx.tags(None, **{"mlc:node-pool": pool_name})}.items()))


def launch_template(f: TfFile, ctx: AwsContext, pool_name: str, pool: dict[str, Any]) -> None:
    tags = compute_tags(ctx, pool_name)
    f.resource(
        "aws_launch_template",
        rname(pool_name),
        {
            "name": naming.bounded(f"mlc-{ctx.env.name}-{pool_name}", 128),
            "update_default_version": True,
            "block_device_mappings": [
                {
                    "device_name": ROOT_DEVICE,
                    "ebs": {"volume_size": pool["disk_gb"], "volume_type": "gp3", "encrypted": "true", "delete_on_termination": "true"},
                }
            ],
            # IMDSv2 only, hop limit 1: pods (one hop further) cannot reach the node's credentials;
            # they use their own IRSA role, and the network policy blocks the metadata address too
            "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1},
            # a confidential pool: AMD SEV-SNP is a CPU option of the launch template
            **({"cpu_options": {"amd_sev_snp": "enabled"}} if pool.get("confidential") else {}),
            "tag_specifications": [{"resource_type": "instance", "tags": tags}, {"resource_type": "volume", "tags": tags}],
            "tags": ctx.tags(None, **{"mlc:node-pool": pool_name}),
        },
    )


def cluster_file(ctx: AwsContext) -> TfFile:
    env = ctx.env
    f = TfFile("terraform/cluster.tf.json")
    for pool_name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        launch_template(f, ctx, pool_name, pool)
        instance_type, spot = str(pool["instance_type"]), bool(pool["spot"])
        gpus, _ = ctx.compiled.pool_gpus(pool_name)
        body: dict[str, Any] = {
            "cluster_name": Expr("${data.aws_eks_cluster.cluster.name}"),
            "node_group_name": naming.bounded(f"{env.name}-{pool_name}", 63),
            "node_role_arn": ctx.var("node_role_arn"),
            "subnet_ids": ctx.var("node_subnet_ids"),
            "instance_types": [instance_type],
            "capacity_type": "SPOT" if spot else "ON_DEMAND",
            "ami_type": ami_type(instance_type, gpus),
            "launch_template": {
                "id": ref("aws_launch_template", rname(pool_name), "id"),
                "version": ref("aws_launch_template", rname(pool_name), "latest_version"),
            },
            "scaling_config": {"min_size": pool["min"], "max_size": pool["max"], "desired_size": pool["min"]},
            "update_config": {"max_unavailable": 1},
            "labels": {naming.NODE_POOL_LABEL: pool_name},
            "tags": ctx.tags(None, **{"mlc:node-pool": pool_name}),
            # the cluster autoscaler owns the current size; Terraform sets only the bounds
            "lifecycle": {"ignore_changes": ["scaling_config[0].desired_size"]},
        }
        taints = node_taints(gpus, spot)
        if taints:
            body["taint"] = taints
        f.resource("aws_eks_node_group", rname(pool_name), body)
    return f


# --- budget ------------------------------------------------------------------------------
def budget_file(ctx: AwsContext) -> TfFile:
    """Monthly cost budget of the resources tagged with this environment (the
    `mlc:environment` cost allocation tag must be activated in the billing console)."""
    env = ctx.env
    budget = env.spec["budget"]
    emails = ctx.var("budget_alert_emails")
    f = TfFile("terraform/budget.tf.json")
    f.resource(
        "aws_budgets_budget",
        "monthly",
        {
            "name": naming.bounded(f"mlc-{env.name}-monthly", 100),
            "budget_type": "COST",
            "limit_amount": str(money(budget["monthly_usd"])),
            "limit_unit": "USD",
            "time_unit": "MONTHLY",
            "cost_filter": [{"name": "TagKeyValue", "values": [f"user:mlc:environment${env.name}"]}],
            "notification": [
                {
                    "comparison_operator": "GREATER_THAN",
                    "notification_type": "ACTUAL",
                    "threshold": percent(budget["warn_ratio"]),
                    "threshold_type": "PERCENTAGE",
                    "subscriber_email_addresses": emails,
                },
                {
                    "comparison_operator": "GREATER_THAN",
                    "notification_type": "FORECASTED",
                    "threshold": 100,
                    "threshold_type": "PERCENTAGE",
                    "subscriber_email_addresses": emails,
                },
            ],
            "tags": ctx.tags(None),
        },
    )
    return f


# --- audit -------------------------------------------------------------------------------
def audit_file(ctx: AwsContext) -> TfFile:
    """CloudTrail S3 object-level (data) events of every bucket whose effective (lineage)
    classification is confidential or pii, into a dedicated KMS-encrypted bucket."""
    env = ctx.env
    f = TfFile("terraform/audit.tf.json")
    trail_name = naming.bounded(f"mlc-{env.name}-data-events", 128)
    trail_arn = Expr(f"arn:aws:cloudtrail:{lit(env.region)}:{ctx.account}:trail/{lit(trail_name)}")
    cloudtrail = {"Service": "cloudtrail.amazonaws.com"}
    tags = ctx.tags(None, **{"mlc:purpose": "audit-trail"})
    kms_key(
        f,
        ctx,
        "audit-trail",
        f"alias/mlc-{env.name}/audit-trail",  # a "/" no store alias (alias/mlc-<env>-<store>) has
        f"mlc {env.name}: encrypts the data-event audit trail",
        tags,
        extra=[
            {
                "Sid": "CloudTrailEncryptsLogs",
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": Expr(f"arn:aws:cloudtrail:*:{ctx.account}:trail/*")},
                },
            },
            {"Sid": "CloudTrailDescribesKey", "Effect": "Allow", "Principal": cloudtrail, "Action": "kms:DescribeKey", "Resource": "*"},
        ],
    )
    arn = ref("aws_s3_bucket", "audit-trail", "arn")
    bucket(
        f,
        "audit-trail",
        naming.audit_bucket_name(env),
        tags=tags,
        kms_key_name="audit-trail",
        lifecycle={"expire_after_days": ACCESS_LOG_RETENTION_DAYS},
        policy_statements=[
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}},
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "s3:PutObject",
                "Resource": Expr(f"{arn}/AWSLogs/{ctx.account}/*"),
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn, "s3:x-amz-acl": "bucket-owner-full-control"}},
            },
        ],
    )
    watched = [Expr(f"{ref('aws_s3_bucket', rname(c), 'arn')}/") for c in ctx.sensitive_buckets()]
    f.resource(
        "aws_cloudtrail",
        "data-events",
        {
            "name": trail_name,
            "s3_bucket_name": ref("aws_s3_bucket", "audit-trail", "id"),
            "kms_key_id": ref("aws_kms_key", "audit-trail", "arn"),
            "enable_log_file_validation": True,
            "is_multi_region_trail": True,
            "include_global_service_events": True,
            "enable_logging": True,
            "advanced_event_selector": [
                {
                    "name": "S3 object data events of confidential and pii stores",
                    "field_selector": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                        {"field": "resources.ARN", "starts_with": watched},
                    ],
                }
            ],
            "tags": tags,
            "depends_on": ["aws_s3_bucket_policy.audit-trail", "aws_kms_key_policy.audit-trail"],
        },
    )
    return f


# --- the emitter --------------------------------------------------------------------------
def _rds_monitoring(ctx: AwsContext) -> list[TfFile]:
    return [rds_monitoring_file(ctx)] if any(True for _ in ctx.env.with_trait(Trait.DATABASE)) else []


class AwsTerraform(TerraformEmitter[AwsContext]):
    components = DispatchTable(
        "terraform (aws)",
        {
            "object_store": bucket_store_file,
            "data_lake": bucket_store_file,
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
            "edge_deployment": edge_identity_file,
            "stream": stream_file,
            "stream_job": identity_file,
            "feature_store": feature_store_file,
        },
    )

    def monitor_file(self, ctx: Any, component: Component) -> TfFile:
        return identity_file(ctx, component)

    def context(self, compiled: Compiled) -> AwsContext:
        return AwsContext(compiled)

    settings_file = staticmethod(settings_file)
    main_file = staticmethod(main_file)
    access_log_file = staticmethod(access_log_file)
    extra_files = staticmethod(_rds_monitoring)
    cluster_file = staticmethod(cluster_file)
    budget_file = staticmethod(budget_file)
    audit_file = staticmethod(audit_file)


EMITTER = AwsTerraform()
