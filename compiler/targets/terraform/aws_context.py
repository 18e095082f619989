"""What every AWS Terraform file needs: the compiled environment, the account, tags, and
the input variables the user must provide (declared only when something uses them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from compiler.model.environment import Component
from compiler.providers import naming
from compiler.targets.terraform.common import Expr, TerraformContext, lit

# Inputs the compiler cannot know: things that exist outside the spec. Each is declared in
# variables.tf.json only when an emitted resource uses it.
VARIABLES: dict[str, dict[str, Any]] = {
    "node_role_arn": {
        "type": "string",
        "description": (
            "ARN of the existing IAM role that EKS managed node group instances run as "
            "(AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly and the VPC CNI policy attached)."
        ),
    },
    "node_subnet_ids": {
        "type": "list(string)",
        "description": "Private subnet ids of the cluster's VPC in which the node groups launch instances.",
    },
    "db_subnet_group_name": {
        "type": "string",
        "description": "Existing DB subnet group (private subnets of the cluster's VPC) for the RDS instances.",
    },
    "db_security_group_ids": {
        "type": "list(string)",
        "description": "Security groups of the RDS instances: allow the database port only from the cluster's node/pod security group.",
    },
    "edge_oidc_provider_arn": {
        "type": "string",
        "description": (
            "ARN of the IAM OIDC provider registered for the edge fleets' Kubernetes service-account issuer "
            "(the issuer every edge cluster of the fleets signs its ServiceAccount tokens with)."
        ),
    },
    "edge_oidc_issuer": {
        "type": "string",
        "description": "That issuer's URL without https:// (the prefix of the sub and aud condition keys), e.g. oidc.edge.example.com.",
    },
    "cache_subnet_group_name": {
        "type": "string",
        "description": "Existing ElastiCache subnet group (private subnets of the cluster's VPC) for the feature stores' online stores.",
    },
    "cache_security_group_ids": {
        "type": "list(string)",
        "description": "Security groups of the online stores: allow 6379 only from the cluster's node/pod security group.",
    },
    "cache_auth_tokens": {
        "type": "map(string)",
        "sensitive": True,
        "description": (
            "Redis AUTH token of each feature store's online store, by feature store name (16-128 printable characters); "
            "store the same value in the secret manager entry the feature store's ExternalSecret reads (docs/streaming.md)."
        ),
    },
    "budget_alert_emails": {
        "type": "list(string)",
        "description": (
            "E-mail addresses that receive the monthly budget alerts (at warn_ratio of actual spend and at 100% of forecast spend)."
        ),
        "validation": {
            "condition": Expr("${length(var.budget_alert_emails) > 0}"),
            "error_message": "Give at least one address for budget alerts.",
        },
    },
}


@dataclass
class AwsContext(TerraformContext):
    variables: ClassVar[dict[str, dict[str, Any]]] = VARIABLES

    @property
    def account(self) -> Expr:
        """The account id: the spec's literal, else the caller's (data.aws_caller_identity)."""
        literal = self.account_literal
        return lit(literal) if literal else Expr("${data.aws_caller_identity.current.account_id}")

    def default_tags(self) -> dict[str, str]:
        tags = dict(self.env.labels)
        tags["mlc:environment"] = self.env.name
        tags["managed-by"] = naming.MANAGED_BY
        return dict(sorted(tags.items()))

    def tags(self, component: Component | None = None, **extra: str) -> dict[str, str]:
        """Per-resource tags on top of the provider's default tags."""
        tags: dict[str, str] = {}
        if component is not None:
            tags.update(component.get("labels") or {})
            tags["mlc:component"] = component.name
            tags["mlc:classification"] = self.effective_class(component)
        tags.update(extra)
        return dict(sorted(tags.items()))
