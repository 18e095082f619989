"""AWS workload identity: one IAM role per workload, assumable only by the workload's
Kubernetes ServiceAccount (IRSA), with an inline policy derived exactly from
`compiled.grants` (the graph's reads and writes).

Actions per grant (nothing else, no `*` except a bucket's own objects `<bucket ARN>/*`):

  bucket read   s3:ListBucket on the bucket; s3:GetObject on its objects; kms:Decrypt on its key
  bucket write  s3:ListBucket on the bucket; s3:PutObject, s3:DeleteObject and
                s3:AbortMultipartUpload on its objects; kms:GenerateDataKey and kms:Decrypt
                (multipart uploads to SSE-KMS buckets need both) on its key
  database      rds-db:connect on the workload's own database user of that instance
                (reads and writes are told apart by the user's SQL grants, not by IAM)
  stream        consume (reads) / produce (writes) on the Kinesis stream and its key
                (aws_streaming.py)

Writers may delete objects: Spark/Delta/Iceberg commit protocols and checkpoint rotation
replace and remove files. Versioned buckets keep what they delete as noncurrent versions
for NONCURRENT_VERSION_DAYS, so a faulty writer's deletes stay recoverable.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.plan.compiled import WorkloadGrants
from compiler.providers import aws, naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.aws_streaming import stream_statements
from compiler.targets.terraform.common import Expr, TfFile, camel, iam_policy, lit, policy_json, ref, rname

BUCKET_ACTIONS = ("s3:ListBucket",)
OBJECT_READ_ACTIONS = ("s3:GetObject",)
OBJECT_WRITE_ACTIONS = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject")
KEY_READ_ACTIONS = ("kms:Decrypt",)
KEY_WRITE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
DATABASE_ACTIONS = ("rds-db:connect",)


def _statement(sid: str, actions: set[str] | tuple[str, ...], resource: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource}


def grant_statements(ctx: AwsContext, workload: Component, grants: WorkloadGrants) -> list[dict[str, Any]]:
    """The policy statements of one workload: one group per store it touches."""
    statements: list[dict[str, Any]] = []
    used: set[str] = set()
    for store_name in grants.stores:
        store = ctx.env.components[store_name]
        reads, writes = store_name in grants.reads, store_name in grants.writes
        base = camel(store_name)
        if base in used:  # e.g. "a-1" and "a1": keep statement ids unique
            base = f"{base}{len(used)}"
        used.add(base)
        name = rname(store)
        if store.has(Trait.BUCKET):
            arn = ref("aws_s3_bucket", name, "arn")
            objects: set[str] = set()
            key: set[str] = set()
            if reads:
                objects.update(OBJECT_READ_ACTIONS)
                key.update(KEY_READ_ACTIONS)
            if writes:
                objects.update(OBJECT_WRITE_ACTIONS)
                key.update(KEY_WRITE_ACTIONS)
            statements.append(_statement(f"{base}Bucket", BUCKET_ACTIONS, arn))
            statements.append(_statement(f"{base}Objects", objects, Expr(f"{arn}/*")))
            statements.append(_statement(f"{base}Key", key, ref("aws_kms_key", name, "arn")))
        elif store.has(Trait.STREAM):
            statements += stream_statements(base, store, reads, writes)
        else:
            user = lit(aws.db_iam_user(workload))
            resource = Expr(f"arn:aws:rds-db:{lit(ctx.region)}:{ctx.account}:dbuser:{ref('aws_db_instance', name, 'resource_id')}/{user}")
            statements.append(_statement(f"{base}Connect", DATABASE_ACTIONS, resource))
    return statements


def trust_policy(ctx: AwsContext, workload: Component) -> Expr:
    """IRSA: only this ServiceAccount of this namespace, via the cluster's OIDC provider."""
    issuer = "${local.oidc_issuer}"
    subject = f"system:serviceaccount:{ctx.env.namespace}:{naming.service_account(workload)}"
    return policy_json(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "KubernetesServiceAccount",
                    "Effect": "Allow",
                    "Principal": {"Federated": Expr("${data.aws_iam_openid_connect_provider.cluster.arn}")},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {Expr(f"{issuer}:sub"): subject, Expr(f"{issuer}:aud"): "sts.amazonaws.com"}},
                }
            ],
        }
    )


def identity_file(ctx: AwsContext, workload: Component) -> TfFile:
    env, name = ctx.env, rname(workload)
    f = TfFile(f"terraform/identity-{workload.name}.tf.json", workload.name)
    grants = ctx.compiled.grants[workload.name]
    f.resource(
        "aws_iam_role",
        name,
        {
            "name": aws.role_name(env, workload),
            "description": (
                f"mlc {env.name}: workload {workload.name} ({workload.type}), "
                f"via ServiceAccount {env.namespace}/{naming.service_account(workload)}"
            ),
            "assume_role_policy": trust_policy(ctx, workload),
            "max_session_duration": 3600,
            "tags": ctx.tags(workload),
        },
    )
    statements = grant_statements(ctx, workload, grants)
    if statements:  # a workload that touches no store gets a role without any policy
        f.resource(
            "aws_iam_role_policy",
            name,
            {"name": "data-access", "role": ref("aws_iam_role", name, "name"), "policy": iam_policy(statements)},
        )
    return f
