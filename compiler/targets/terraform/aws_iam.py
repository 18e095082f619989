"""AWS workload identity: one IAM role per workload, assumable only by the workload's
Kubernetes ServiceAccount (IRSA), with an inline policy derived exactly from the plan's
per-edge `Access` list (compiler.plan.compiled.edge_access).

Both policies are `aws_iam_policy_document` data sources (structured, one statement per
line in a diff), rendered to JSON by Terraform. Each edge of the workload gets its own group
of statements, Sids `<Store><Edge><Part>`:

  List      s3:ListBucket on the bucket (+ s3:ListBucketMultipartUploads for writers);
            with a path: only under it (condition s3:prefix)
  Objects   s3:GetObject on the objects (readers, and writers: read-before-write);
            writers also s3:PutObject, s3:AbortMultipartUpload, s3:ListMultipartUploadParts;
            s3:DeleteObject only where the writer's library deletes (Access.delete);
            with a path: only that object and those under it
  Key       kms:Decrypt on the store's key; writers also kms:GenerateDataKey (SSE-KMS
            uploads, multipart included, need both)
  Catalog   Glue on the lake's database and its tables: readers get the Get* actions,
            writers also create/update tables and partitions (no table deletion)
  Connect   rds-db:connect on the workload's own database user of that instance (reads and
            writes are told apart by the user's SQL grants, not by IAM)
  Stream    consume (reads) / produce (writes) on a Kinesis stream, StreamKey on its key
            (aws_streaming.py)
  Offline   a reader of a feature store: List/Objects/Key (+ Catalog) read of its offline
            data lake, the registry included; writing a feature store (online push) and its
            online read are Redis AUTH over the network, no IAM (aws_feature_store.py)

docs/terraform.md lists the same table with the reasons.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.plan.compiled import Access, offline_access
from compiler.providers import aws, naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.common import Expr, TfFile, camel, lit, ref, rname

LIST_ACTIONS = ("s3:ListBucket",)
LIST_WRITE_ACTIONS = ("s3:ListBucketMultipartUploads",)
OBJECT_READ_ACTIONS = ("s3:GetObject",)
OBJECT_WRITE_ACTIONS = ("s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject")
OBJECT_DELETE_ACTIONS = ("s3:DeleteObject",)
KEY_READ_ACTIONS = ("kms:Decrypt",)
KEY_WRITE_ACTIONS = ("kms:GenerateDataKey",)
CATALOG_READ_ACTIONS = (
    "glue:BatchGetPartition",
    "glue:GetDatabase",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:GetTables",
)
CATALOG_WRITE_ACTIONS = (
    "glue:BatchCreatePartition",
    "glue:BatchDeletePartition",
    "glue:CreatePartition",
    "glue:CreateTable",
    "glue:DeletePartition",
    "glue:UpdatePartition",
    "glue:UpdateTable",
)
DATABASE_ACTIONS = ("rds-db:connect",)
EDGE_WORDS = {
    "reads": "Read",
    "writes": "Write",
    "model": "Model",
    "checkpoint": "Checkpoint",
    "backend": "Backend",
    "logs": "Logs",
    "offline": "Offline",
    "registry": "Registry",
    "materialize": "Materialize",
}


def statement(sid: str, actions: tuple[str, ...] | set[str], resources: list[Any], condition: list[dict[str, Any]] | None = None) -> dict:
    body: dict[str, Any] = {"sid": sid, "effect": "Allow", "actions": sorted(actions), "resources": resources}
    if condition:
        body["condition"] = condition
    return body


def bucket_statements(ctx: AwsContext, base: str, access: Access) -> list[dict[str, Any]]:
    name = rname(access.store)
    arn = ref("aws_s3_bucket", name, "arn")
    listing = set(LIST_ACTIONS) | (set(LIST_WRITE_ACTIONS) if access.write else set())
    objects = set(OBJECT_READ_ACTIONS)
    if access.write:
        objects.update(OBJECT_WRITE_ACTIONS)
    if access.delete:
        objects.update(OBJECT_DELETE_ACTIONS)
    if access.prefix:
        path = lit(access.prefix)
        condition = [{"test": "StringLike", "variable": "s3:prefix", "values": [access.prefix, f"{access.prefix}/*"]}]
        object_resources = [Expr(f"{arn}/{path}"), Expr(f"{arn}/{path}/*")]
    else:
        condition, object_resources = None, [Expr(f"{arn}/*")]
    key = set(KEY_READ_ACTIONS) | (set(KEY_WRITE_ACTIONS) if access.write else set())
    out = [
        statement(f"{base}List", listing, [arn], condition),
        statement(f"{base}Objects", objects, object_resources),
        statement(f"{base}Key", key, [ref("aws_kms_key", name, "arn")]),
    ]
    if access.catalog:
        actions = set(CATALOG_READ_ACTIONS) | (set(CATALOG_WRITE_ACTIONS) if access.catalog == "write" else set())
        glue = f"arn:aws:glue:{lit(ctx.region)}:{ctx.account}"
        database = ref("aws_glue_catalog_database", name, "name")
        resources = [Expr(f"{glue}:catalog"), ref("aws_glue_catalog_database", name, "arn"), Expr(f"{glue}:table/{database}/*")]
        out.append(statement(f"{base}Catalog", actions, resources))
    return out


def grant_statements(ctx: AwsContext, workload: Component) -> list[dict[str, Any]]:
    """The policy statements of one workload: one group per declared edge (Access)."""
    grants = ctx.compiled.grants[workload.name]
    statements: list[dict[str, Any]] = []
    used: set[str] = set()
    for access in grants.access:
        store = ctx.env.components[access.store]
        base = camel(access.store) + EDGE_WORDS[access.edge]
        while base in used:  # "a-1" and "a1", or two model paths: keep statement ids unique
            base = f"{base}{len(used)}"
        used.add(base)
        if store.has(Trait.BUCKET):
            statements += bucket_statements(ctx, base, access)
        elif store.has(Trait.STREAM):
            from compiler.targets.terraform.aws_streaming import stream_statements

            statements += stream_statements(base, store, access)
        elif store.has(Trait.FEATURE_STORE):
            if not access.write:  # online read is Redis AUTH + network; offline read is its lake
                statements += bucket_statements(ctx, f"{base}Offline", offline_access(ctx.env, store))
        else:
            user = lit(aws.db_iam_user(workload))
            name = rname(store)
            resource = Expr(f"arn:aws:rds-db:{lit(ctx.region)}:{ctx.account}:dbuser:{ref('aws_db_instance', name, 'resource_id')}/{user}")
            statements.append(statement(f"{base}Connect", DATABASE_ACTIONS, [resource]))
    return statements


def trust_document(ctx: AwsContext, workload: Component) -> dict[str, Any]:
    """IRSA: only this ServiceAccount of this namespace, via the cluster's OIDC provider."""
    issuer = "${local.oidc_issuer}"
    subject = f"system:serviceaccount:{ctx.env.namespace}:{naming.service_account(workload)}"
    return {
        "statement": [
            {
                "sid": "KubernetesServiceAccount",
                "effect": "Allow",
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{"type": "Federated", "identifiers": [Expr("${data.aws_iam_openid_connect_provider.cluster.arn}")]}],
                "condition": [
                    {"test": "StringEquals", "variable": Expr(f"{issuer}:aud"), "values": ["sts.amazonaws.com"]},
                    {"test": "StringEquals", "variable": Expr(f"{issuer}:sub"), "values": [subject]},
                ],
            }
        ]
    }


def identity_file(ctx: AwsContext, workload: Component) -> TfFile:
    env, name = ctx.env, rname(workload)
    f = TfFile(f"terraform/identity-{workload.name}.tf.json", workload.name)
    f.data("aws_iam_policy_document", f"{name}-trust", trust_document(ctx, workload))
    f.resource(
        "aws_iam_role",
        name,
        {
            "name": aws.role_name(env, workload),
            "description": (
                f"mlc {env.name}: workload {workload.name} ({workload.type}), "
                f"via ServiceAccount {env.namespace}/{naming.service_account(workload)}"
            ),
            "assume_role_policy": Expr(f"${{data.aws_iam_policy_document.{name}-trust.json}}"),
            "max_session_duration": 3600,
            "tags": ctx.tags(workload),
        },
    )
    statements = grant_statements(ctx, workload)
    if statements:  # a workload that touches no store gets a role without any policy
        f.data("aws_iam_policy_document", name, {"statement": statements})
        f.resource(
            "aws_iam_role_policy",
            name,
            {
                "name": "data-access",
                "role": ref("aws_iam_role", name, "name"),
                "policy": Expr(f"${{data.aws_iam_policy_document.{name}.json}}"),
            },
        )
    return f
