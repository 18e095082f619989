"""AWS streams: a Kinesis data stream per `stream`, encrypted with its own customer-managed
KMS key, and the IAM statements of the workloads that consume or produce it.

  stream      aws_kms_key (+ policy, alias) and aws_kinesis_stream: provisioned mode,
              shard_count = partitions, retention_period = retention_hours (Kinesis: 24-8760),
              encryption_type KMS with that key
  consume     kinesis:DescribeStream, DescribeStreamSummary, ListShards, GetShardIterator,
              GetRecords on the stream (polling consumers: Flink's and the KCL's default);
              kms:Decrypt on its key
  produce     kinesis:PutRecord, PutRecords, DescribeStream, DescribeStreamSummary,
              ListShards on the stream; kms:GenerateDataKey on its key
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Access
from compiler.providers import aws, naming
from compiler.targets.terraform.aws_context import AwsContext
from compiler.targets.terraform.aws_storage import kms_key
from compiler.targets.terraform.common import TfFile, ref, rname

CONSUME_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
PRODUCE_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
)
CONSUME_KEY_ACTIONS = ("kms:Decrypt",)
PRODUCE_KEY_ACTIONS = ("kms:GenerateDataKey",)


def stream_name(ctx: AwsContext, stream: Component) -> str:
    """Kinesis stream names: up to 128 of [a-zA-Z0-9_.-], unique per account and region."""
    return naming.bounded(f"mlc-{ctx.env.name}-{stream.name}", 128)


def stream_file(ctx: AwsContext, stream: Component) -> TfFile:
    env, name = ctx.env, rname(stream)
    f = TfFile(f"terraform/store-{stream.name}.tf.json", stream.name)
    tags = ctx.tags(stream)
    kinesis = stream_name(ctx, stream)
    kms_key(f, ctx, name, aws.kms_alias(env, stream), f"mlc {env.name}: encrypts Kinesis stream {kinesis}", tags)
    f.resource(
        "aws_kinesis_stream",
        name,
        {
            "name": kinesis,
            "shard_count": int(stream.spec["partitions"]),
            "retention_period": int(stream.spec["retention_hours"]),
            "stream_mode_details": {"stream_mode": "PROVISIONED"},
            "encryption_type": "KMS",
            "kms_key_id": ref("aws_kms_key", name, "arn"),
            "enforce_consumer_deletion": False,
            "tags": tags,
        },
    )
    return f


def stream_statements(base: str, stream: Component, access: Access) -> list[dict[str, Any]]:
    """Consume (a `reads` edge) or produce (a `writes` edge) statements of one workload on one stream."""
    from compiler.targets.terraform.aws_iam import statement

    if access.write:
        actions, key = PRODUCE_ACTIONS, PRODUCE_KEY_ACTIONS
    else:
        actions, key = CONSUME_ACTIONS, CONSUME_KEY_ACTIONS
    name = rname(stream)
    return [
        statement(f"{base}Stream", actions, [ref("aws_kinesis_stream", name, "arn")]),
        statement(f"{base}StreamKey", key, [ref("aws_kms_key", name, "arn")]),
    ]
