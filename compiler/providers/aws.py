"""AWS: IRSA roles, S3 URIs, Secrets Manager, the AWS pricing section, the AWS Terraform emitter."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    pricing_key = "aws"
    store_scheme = "s3"
    store_schemes_read = ("s3", "s3a")
    catalog_name_limit = 255  # Glue database
    stream_retention_hours = (24, 8760)  # Kinesis data streams: 1 to 365 days
    stream_resource = ("aws_kinesis_stream", ("encryption_type", "kms_key_id"))

    def identity_annotation(self, env: Environment, component: Component) -> dict[str, str]:
        return {"eks.amazonaws.com/role-arn": role_arn(env, component)}

    def secret_store(self, env: Environment) -> str:
        return "mlc-aws"  # backed by AWS Secrets Manager

    def terraform(self) -> TerraformEmitter:
        from compiler.targets.terraform.aws import EMITTER

        return EMITTER


PROVIDER = Aws()
