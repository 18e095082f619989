"""GCP streams: a Pub/Sub topic per `stream`, encrypted with its own Cloud KMS key (the Pub/Sub
service agent may use it), one pull subscription per reader, and the per-workload grants.

  stream      google_kms_crypto_key (+ the Pub/Sub agent's encrypter/decrypter grant),
              google_pubsub_topic (kms_key_name, message_retention_duration = retention_hours),
              google_pubsub_subscription `<stream>-<reader>` for each workload reading it
              (never expires; keeps unacknowledged messages up to 7 days, Pub/Sub's maximum)
  consume     roles/pubsub.subscriber on the reader's own subscription only
  produce     roles/pubsub.publisher on the topic only
Partitions do not apply: Pub/Sub scales a topic by itself.
"""

from __future__ import annotations

from compiler.model.environment import Component
from compiler.providers import naming
from compiler.targets.terraform.common import Expr, TfFile, ref, rname
from compiler.targets.terraform.gcp_context import GcpContext
from compiler.targets.terraform.gcp_storage import crypto_key

SUBSCRIBER = "roles/pubsub.subscriber"
PUBLISHER = "roles/pubsub.publisher"
SUBSCRIPTION_MAX_RETENTION_HOURS = 168  # Pub/Sub: a subscription keeps messages at most 7 days
ACK_DEADLINE_SECONDS = 60


def topic_name(ctx: GcpContext, stream: Component) -> str:
    return naming.bounded(f"mlc-{ctx.env.name}-{stream.name}", 255)


def subscription_name(ctx: GcpContext, stream: Component, reader: str) -> str:
    return naming.bounded(f"mlc-{ctx.env.name}-{stream.name}-{reader}", 255)


def subscription_resource(stream: Component, reader: str) -> str:
    return f"{rname(stream)}-{rname(reader)}"  # the dash keeps it apart from any component's name


def stream_file(ctx: GcpContext, stream: Component) -> TfFile:
    name = rname(stream)
    f = TfFile(f"terraform/store-{stream.name}.tf.json", stream.name)
    labels = ctx.labels(stream)
    grants = crypto_key(f, ctx, name, f"stream-{stream.name}", labels, ("pubsub",))
    hours = int(stream.spec["retention_hours"])
    f.resource(
        "google_pubsub_topic",
        name,
        {
            "name": topic_name(ctx, stream),
            "project": ctx.project,
            "kms_key_name": ref("google_kms_crypto_key", name, "id"),
            "message_retention_duration": f"{hours * 3600}s",
            "labels": labels,
            "depends_on": grants,  # Pub/Sub checks the key grant when the topic is created
        },
    )
    for reader in ctx.compiled.graph.readers(stream.name):
        f.resource(
            "google_pubsub_subscription",
            subscription_resource(stream, reader),
            {
                "name": subscription_name(ctx, stream, reader),
                "project": ctx.project,
                "topic": ref("google_pubsub_topic", name, "id"),
                "ack_deadline_seconds": ACK_DEADLINE_SECONDS,
                "message_retention_duration": f"{min(hours, SUBSCRIPTION_MAX_RETENTION_HOURS) * 3600}s",
                "expiration_policy": {"ttl": ""},  # never deleted for inactivity
                "labels": ctx.labels(stream, **{"mlc-reader": reader}),
            },
        )
    return f


def stream_grants(f: TfFile, ctx: GcpContext, workload: Component, stream: Component, member: Expr, reads: bool, writes: bool) -> None:
    """The workload's consume / produce grants on one stream (in its identity file)."""
    name, sname = rname(workload), rname(stream)
    if reads:
        f.resource(
            "google_pubsub_subscription_iam_member",
            f"{name}-{sname}-subscriber",
            {
                "project": ctx.project,
                "subscription": ref("google_pubsub_subscription", subscription_resource(stream, workload.name), "name"),
                "role": SUBSCRIBER,
                "member": member,
            },
        )
    if writes:
        f.resource(
            "google_pubsub_topic_iam_member",
            f"{name}-{sname}-publisher",
            {"project": ctx.project, "topic": ref("google_pubsub_topic", sname, "name"), "role": PUBLISHER, "member": member},
        )
