"""GCP workload identity: one service account per workload, impersonable only by the
workload's Kubernetes ServiceAccount (Workload Identity), with bucket- and instance-level
roles derived exactly from `compiled.grants`.

Roles per grant (no project-wide data access):

  bucket read only    roles/storage.objectViewer on that bucket (list + get objects)
  bucket write        roles/storage.objectUser on that bucket (create, replace, delete,
                      and also list/get objects). GCP has no predefined role that writes
                      without reading; roles/storage.objectCreator cannot replace or
                      delete objects, which Spark/Delta/Iceberg commits and checkpoint
                      rotation need. This is the one place where a GCP write grant is wider
                      than the AWS one (which has no s3:GetObject for writes).
  stream              roles/pubsub.subscriber on the reader's own subscription, or
                      roles/pubsub.publisher on the topic (gcp_streaming.py)
  database            roles/cloudsql.client and roles/cloudsql.instanceUser, conditioned on
                      that instance, plus a Cloud SQL IAM user (no password)

CMEK needs no grant for workloads: the storage / BigQuery / Cloud SQL service agents use
the keys on their behalf.
"""

from __future__ import annotations

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.providers import gcp, naming
from compiler.targets.terraform.common import Expr, TfFile, lit, ref, rname
from compiler.targets.terraform.gcp_context import GcpContext
from compiler.targets.terraform.gcp_streaming import stream_grants

READ_ROLE = "roles/storage.objectViewer"
WRITE_ROLE = "roles/storage.objectUser"
DATABASE_ROLES = {"client": "roles/cloudsql.client", "instance-user": "roles/cloudsql.instanceUser"}


def workload_identity_member(ctx: GcpContext, workload: Component) -> Expr:
    return Expr(f"serviceAccount:{ctx.project}.svc.id.goog[{lit(ctx.env.namespace)}/{lit(naming.service_account(workload))}]")


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
    for store_name in grants.stores:
        store = env.components[store_name]
        sname = rname(store)
        if store.has(Trait.BUCKET):
            role = WRITE_ROLE if store_name in grants.writes else READ_ROLE
            f.resource(
                "google_storage_bucket_iam_member",
                f"{name}-{sname}",
                {"bucket": ref("google_storage_bucket", sname, "name"), "role": role, "member": member},
            )
            continue
        if store.has(Trait.STREAM):
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
