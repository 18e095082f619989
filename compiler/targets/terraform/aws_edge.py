"""AWS identity of an edge fleet: one IAM role per edge_deployment, read-only on exactly its
model path, assumable only by the fleet's model-server ServiceAccount.

Edge clusters are not EKS: their ServiceAccount tokens come from the fleet's own
service-account issuer, registered once as an IAM OIDC provider (inputs
`edge_oidc_provider_arn` and `edge_oidc_issuer`). The trust policy admits exactly
`system:serviceaccount:<edge namespace>:<server>` with audience sts.amazonaws.com; the
pods mount a projected token for that audience (edge/<name>/deployment).

  s3:ListBucket   on the bucket, only with s3:prefix under the model path
  s3:GetObject    on <bucket>/<model path>/* (nothing else of the bucket)
  kms:Decrypt     on the bucket's key, only through S3 (kms:ViaService)
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.providers import aws, naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.common import Expr, TfFile, iam_policy, lit, policy_json, ref, rname


def model_prefix(component: Component) -> str:
    return str(component.spec["model"]["path"]).strip("/")


def edge_identity_file(ctx: AwsContext, component: Component) -> TfFile:
    env, name = ctx.env, rname(component)
    store = env.components[component.spec["model"]["from"]]
    sname = rname(store)
    prefix = model_prefix(component)
    f = TfFile(f"terraform/identity-{component.name}.tf.json", component.name)
    issuer = Expr("${var.edge_oidc_issuer}")
    subject = f"system:serviceaccount:{naming.edge_namespace(component)}:{naming.service_account(component)}"
    ctx.var("edge_oidc_issuer")
    trust = policy_json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "EdgeFleetServiceAccount",
                    "Effect": "Allow",
                    "Principal": {"Federated": ctx.var("edge_oidc_provider_arn")},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {Expr(f"{issuer}:sub"): subject, Expr(f"{issuer}:aud"): "sts.amazonaws.com"}},
                }
            ],
        }
    )
    f.resource(
        "aws_iam_role",
        name,
        {
            "name": aws.role_name(env, component),
            "description": f"mlc {env.name}: edge fleet {component.name}, read-only on its model path in {store.name}",
            "assume_role_policy": trust,
            "max_session_duration": 3600,
            "tags": ctx.tags(component),
        },
    )
    bucket = ref("aws_s3_bucket", sname, "arn")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ListModelPath",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
        },
        {"Sid": "ReadModel", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": Expr(f"{bucket}/{lit(prefix)}/*")},
        {
            "Sid": "DecryptModel",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": ref("aws_kms_key", sname, "arn"),
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{env.region}.amazonaws.com"}},
        },
    ]
    f.resource(
        "aws_iam_role_policy", name, {"name": "model-read", "role": ref("aws_iam_role", name, "name"), "policy": iam_policy(statements)}
    )
    return f
