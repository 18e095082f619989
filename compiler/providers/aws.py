"""AWS: IRSA roles, S3 URIs, Secrets Manager, the AWS pricing section, the AWS Terraform emitter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compiler.model.environment import Component, Environment
from compiler.providers.base import Provider
from compiler.providers.naming import bounded

if TYPE_CHECKING:
    from compiler.targets.terraform.emitter import TerraformEmitter


def role_name(env: Environment, component: Component) -> str:
    """IAM role of a workload (IRSA), <= 64 characters."""
    return bounded(f"mlc-{env.name}-{component.name}", 64)


def role_arn(env: Environment, component: Component) -> str:
    return f"arn:aws:iam::{env.spec['cloud'].get('account', '000000000000')}:role/{role_name(env, component)}"


def kms_alias(env: Environment, component: Component) -> str:
    return f"alias/{bounded(f'mlc-{env.name}-{component.name}', 200)}"


def db_iam_user(component: Component) -> str:
    """Database user a workload connects as with IAM authentication (rds-db:connect)."""
    return bounded(component.name, 63).replace("-", "_")


class Aws(Provider):
    name = "aws"

    def spark_store_conf(self) -> dict[str, str]:
        # Hadoop 3.3's default S3A chain lacks web identity: IRSA's token would be ignored and
        # S3A would fall back to the node's instance profile, which the network policy blocks
        return {"spark.hadoop.fs.s3a.aws.credentials.provider": "com.amazonaws.auth.WebIdentityTokenCredentialsProvider"}

    def external_secrets_provider(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"aws": {"service": "SecretsManager", "region": settings["region"]}}

    pricing_key = "aws"
    store_scheme = "s3"
    store_schemes_read = ("s3", "s3a")
    catalog_name_limit = 255  # Glue database
    stream_retention_hours = (24, 8760)  # Kinesis data streams: 1 to 365 days
    stream_resource = ("aws_kinesis_stream", ("encryption_type", "kms_key_id"))
    feature_online_engines = ("redis",)  # ElastiCache for Redis
    feature_online_resource = (
        "aws_elasticache_replication_group",
        ("at_rest_encryption_enabled", "auth_token", "kms_key_id", "transit_encryption_enabled", "transit_encryption_mode"),
    )
    # AMD SEV-SNP: EC2 supports it on M6a, C6a and R6a (EC2 user guide, "AMD SEV-SNP"); the
    # node group's launch template turns it on (cpu_options.amd_sev_snp = enabled)
    confidential_families = ("m6a", "c6a", "r6a")
    confidential_technology = "AMD SEV-SNP"

    def identity_annotation(self, env: Environment, component: Component) -> dict[str, str]:
        return {"eks.amazonaws.com/role-arn": role_arn(env, component)}

    def secret_store(self, env: Environment) -> str:
        return "mlc-aws"  # backed by AWS Secrets Manager

    def terraform(self) -> TerraformEmitter:
        from compiler.targets.terraform.aws import EMITTER

        return EMITTER


PROVIDER = Aws()
