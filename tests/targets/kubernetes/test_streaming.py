"""Streams and stream jobs: grants per edge type, lineage, ordering, costs, input errors and
the emitted objects (validated against the vendored upstream schemas)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.core.diagnostics import InputError
from tests.support.aws_policy import policy_of
from tests.support.helpers import aws_env, compiled_env, gcp_env
from tests.support.validators import validate_k8s_object, validate_terraform_json

IMG = "reg.example.com/ml/flink-app:1.0@sha256:" + "d" * 64
SHAPE = f"""clicks: {{type: stream, classification: pii, partitions: 4}}
scores: {{type: stream}}
state: {{type: object_store}}
agg:
  type: stream_job
  image: {IMG}
  main: local:///opt/flink/usrlib/agg.jar
  reads: [clicks]
  writes: [scores]
  checkpoint_to: state
  parallelism: 3
  resources: {{cpu: 2, memory: 4Gi}}
relay:
  type: stream_job
  image: {IMG}
  main: local:///opt/flink/usrlib/relay.py
  reads: [scores]
  writes: [clicks]
"""


def _aws(tmp_path: Path, body: str = SHAPE):
    return compiled_env(tmp_path, {"e1": aws_env("e1", body)}, "e1")


def _gcp(tmp_path: Path, body: str = SHAPE):
    return compiled_env(tmp_path, {"g1": gcp_env("g1", body)}, "g1")


def _terraform(compiled, path: str) -> dict:
    from compiler.targets.terraform.emitter import emit_terraform

    return next(a.content for a in emit_terraform(compiled) if a.path == path)


def _k8s(compiled, path: str) -> dict:
    from compiler.targets.kubernetes.emit import emit_kubernetes

    return next(a.content for a in emit_kubernetes(compiled) if a.path == path)


def _statements(compiled, workload: str) -> dict[str, list[str]]:
    """Sid -> [resource(s)..., action(s)...] of the workload's IAM policy, rendered as AWS sees it."""
    doc = _terraform(compiled, f"terraform/identity-{workload}.tf.json")
    policy = policy_of({"identity.tf.json": doc}, doc["resource"]["aws_iam_role_policy"][workload]["policy"])

    def items(value) -> list[str]:
        return [value] if isinstance(value, str) else list(value)

    return {s["Sid"]: [*items(s["Resource"]), *items(s["Action"])] for s in policy["Statement"]}


# --- grants per edge type ---------------------------------------------------------------------
def test_aws_consume_produce_and_checkpoint_grants_are_exact(tmp_path: Path) -> None:
    compiled = _aws(tmp_path)
    assert compiled.grants["agg"].reads == ("clicks", "state") and compiled.grants["agg"].writes == ("scores", "state")
    assert _statements(compiled, "agg") == {
        "ClicksReadStream": [
            "${aws_kinesis_stream.clicks.arn}",
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords",
            "kinesis:GetShardIterator",
            "kinesis:ListShards",
        ],
        "ClicksReadStreamKey": ["${aws_kms_key.clicks.arn}", "kms:Decrypt"],
        "ScoresWriteStream": [
            "${aws_kinesis_stream.scores.arn}",
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:ListShards",
            "kinesis:PutRecord",
            "kinesis:PutRecords",
        ],
        "ScoresWriteStreamKey": ["${aws_kms_key.scores.arn}", "kms:GenerateDataKey"],
        # checkpoints, savepoints and HA metadata live under the job's own prefix of the store
        "StateCheckpointList": ["${aws_s3_bucket.state.arn}", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
        "StateCheckpointObjects": [
            "${aws_s3_bucket.state.arn}/agg",
            "${aws_s3_bucket.state.arn}/agg/*",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListMultipartUploadParts",
            "s3:PutObject",
        ],
        "StateCheckpointKey": ["${aws_kms_key.state.arn}", "kms:Decrypt", "kms:GenerateDataKey"],
    }


def test_aws_stream_is_a_kms_encrypted_kinesis_stream(tmp_path: Path) -> None:
    doc = _terraform(_aws(tmp_path), "terraform/store-clicks.tf.json")
    assert validate_terraform_json(doc, "aws") == []
    assert doc["resource"]["aws_kinesis_stream"]["clicks"] == {
        "name": "mlc-e1-clicks",
        "shard_count": 4,
        "retention_period": 24,
        "stream_mode_details": {"stream_mode": "PROVISIONED"},
        "encryption_type": "KMS",
        "kms_key_id": "${aws_kms_key.clicks.arn}",
        "enforce_consumer_deletion": False,
        "tags": {"mlc:classification": "pii", "mlc:component": "clicks"},
    }
    assert doc["resource"]["aws_kms_key"]["clicks"]["enable_key_rotation"] is True


def test_gcp_stream_has_a_subscription_per_reader_and_grants_on_it_only(tmp_path: Path) -> None:
    compiled = _gcp(tmp_path)
    topic = _terraform(compiled, "terraform/store-clicks.tf.json")
    assert validate_terraform_json(topic, "google") == []
    assert topic["resource"]["google_pubsub_topic"]["clicks"]["kms_key_name"] == "${google_kms_crypto_key.clicks.id}"
    assert topic["resource"]["google_pubsub_topic"]["clicks"]["message_retention_duration"] == "86400s"
    assert sorted(topic["resource"]["google_pubsub_subscription"]) == ["clicks-agg"]  # relay writes clicks, agg reads it
    assert topic["resource"]["google_pubsub_subscription"]["clicks-agg"]["name"] == "mlc-g1-clicks-agg"
    agent = topic["resource"]["google_kms_crypto_key_iam_member"]["clicks-pubsub-agent"]["member"]
    assert agent == "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
    identity = _terraform(compiled, "terraform/identity-agg.tf.json")
    assert validate_terraform_json(identity, "google") == []
    resources = identity["resource"]
    assert resources["google_pubsub_subscription_iam_member"] == {
        "agg-clicks-subscriber": {
            "project": "proj-1",
            "subscription": "${google_pubsub_subscription.clicks-agg.name}",
            "role": "roles/pubsub.subscriber",
            "member": "serviceAccount:${google_service_account.agg.email}",
        }
    }
    assert resources["google_pubsub_topic_iam_member"] == {
        "agg-scores-publisher": {
            "project": "proj-1",
            "topic": "${google_pubsub_topic.scores.name}",
            "role": "roles/pubsub.publisher",
            "member": "serviceAccount:${google_service_account.agg.email}",
        }
    }


# --- graph ------------------------------------------------------------------------------------
def test_classification_flows_through_streams(tmp_path: Path) -> None:
    lineage = _aws(tmp_path).graph.lineage
    assert (lineage["agg"].effective, lineage["agg"].path) == ("pii", ("clicks", "agg"))
    assert (lineage["scores"].effective, lineage["scores"].path) == ("pii", ("clicks", "agg", "scores"))
    assert (lineage["state"].effective, lineage["state"].path) == ("pii", ("clicks", "agg", "state"))
    assert (lineage["relay"].effective, lineage["relay"].path) == ("pii", ("clicks", "agg", "scores", "relay"))


def test_a_consumer_producing_upstream_is_not_a_cycle(tmp_path: Path) -> None:
    """agg reads clicks and writes scores; relay reads scores and writes clicks: streams are
    produced and consumed at once, so neither job is ordered after the other."""
    graph = _aws(tmp_path).graph
    assert not graph.ordering.has_edge("agg", "relay") and not graph.ordering.has_edge("relay", "agg")
    assert graph.ordering.has_edge("clicks", "agg") and graph.ordering.has_edge("scores", "relay")


def test_a_stream_job_is_not_a_pipeline_step(tmp_path: Path) -> None:
    body = SHAPE + "nightly: {type: pipeline, steps: [agg]}\n"
    with pytest.raises(InputError) as err:
        _aws(tmp_path, body)
    assert [(d.code, d.location.line, d.message) for d in err.value.diagnostics] == [
        (
            "MLC-E041",
            30,
            'steps names "agg", a stream_job; expected a runnable workload (spark_job, training_job, batch_inference, job)',
        )
    ]


@pytest.mark.parametrize(
    ("provider", "hours", "message"),
    [
        ("aws", 12, "retention_hours 12 is outside what aws streams keep (24 to 8760 hours)"),
        ("gcp", 745, "retention_hours 745 is outside what gcp streams keep (1 to 744 hours)"),
    ],
)
def test_retention_outside_the_provider_limits_is_an_input_error(tmp_path: Path, provider: str, hours: int, message: str) -> None:
    body = f"clicks: {{type: stream, retention_hours: {hours}}}\n"
    with pytest.raises(InputError) as err:
        (_aws if provider == "aws" else _gcp)(tmp_path, body)
    # line 12 of both files: "  clicks: {type: stream, retention_hours: N}", the value at column 43
    assert [(d.code, str(d.location), d.message) for d in err.value.diagnostics] == [
        ("MLC-E066", f"environments/{'e1' if provider == 'aws' else 'g1'}.yaml:12:43", message)
    ]


def test_a_stream_on_azure_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (
        "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: a1}\n"
        'cloud: {provider: azure, region: swedencentral, subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", resource_group: rg-a}\n'
        "cluster:\n  name: c1\n  node_pools:\n    cpu: {instance_type: Standard_D4s_v5, min: 1, max: 3}\n"
        'gitops: {repo: "https://git.example.com/ml/platform.git"}\nbudget: {monthly_usd: 100000}\n'
        "components:\n  clicks: {type: stream}\n"
    )
    with pytest.raises(InputError) as err:
        compiled_env(tmp_path, {"a1": text}, "a1")
    assert [(d.code, str(d.location), d.message) for d in err.value.diagnostics] == [
        (
            "MLC-E026",
            "environments/a1.yaml:12:11",  # the component, `clicks:` (line 12)
            'stream "clicks": cloud provider "azure" has no stream service mlc can emit (supported: aws, gcp)',
        )
    ]


# --- cost -------------------------------------------------------------------------------------
def test_costs_of_streams_and_always_on_stream_jobs(tmp_path: Path) -> None:
    body = SHAPE.replace(
        "clicks: {type: stream, classification: pii, partitions: 4}", "clicks: {type: stream, partitions: 4, retention_hours: 72}"
    )
    body = body.replace("  parallelism: 3\n", "  parallelism: 3\n  spot: true\n  node_pool: spot\n")
    text = aws_env("e1", body).replace(
        "    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n",
        "    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n    spot: {instance_type: m6i.2xlarge, min: 0, max: 4, spot: true}\n",
    )
    items = {i.component: i for i in compiled_env(tmp_path, {"e1": text}, "e1").cost.items}
    # 4 shards x 730 h x (0.015 + 0.02 extended retention)
    assert float(items["clicks"].rounded) == 102.2
    assert float(items["scores"].rounded) == 43.8  # 4 shards x 730 h x 0.015
    # 1 JobManager + 3 TaskManagers, 2 vCPU each (4Gi = 1 vCPU-equiv at m6i's 4 GiB/vCPU), 730 h x 0.048, spot -60 %
    assert float(items["agg"].rounded) == round(4 * 730 * 2 * 0.048 * 0.4, 2)
    assert items["agg"].detail.startswith("always on: 4 pods (1 JobManager + 3 TaskManagers) x 730 h x ")
    # relay: 1 + 1 pods, default resources (1 CPU, 2Gi), on demand
    assert float(items["relay"].rounded) == round(2 * 730 * 1 * 0.048, 2)


def test_gcp_streams_have_no_fixed_price(tmp_path: Path) -> None:
    items = {i.component: i for i in _gcp(tmp_path).cost.items}
    assert items["clicks"].monthly_usd == 0.0
    assert items["clicks"].detail == "usage only: $40/TiB of throughput (traffic not in the spec)"


# --- kubernetes ---------------------------------------------------------------------------------
def test_flink_deployment_keeps_state_across_changes_and_validates(tmp_path: Path) -> None:
    compiled = _aws(tmp_path)
    obj = _k8s(compiled, "kubernetes/flinkdeployment-agg.yaml")
    assert validate_k8s_object(obj) == []
    spec = obj["spec"]
    assert spec["job"] == {
        "jarURI": "local:///opt/flink/usrlib/agg.jar",
        "parallelism": 3,
        "upgradeMode": "savepoint",
        "state": "running",
    }
    conf = spec["flinkConfiguration"]
    bucket = "s3://" + compiled.env.spec["cloud"]["account"]
    assert conf["state.savepoints.dir"].startswith(bucket) and conf["state.savepoints.dir"].endswith("/agg/savepoints")
    assert conf["state.checkpoints.dir"].endswith("/agg/checkpoints")
    assert conf["execution.checkpointing.interval"] == "30 s"
    assert conf["high-availability.type"] == "kubernetes"
    assert conf["restart-strategy.type"] == "exponential-delay"
    assert spec["jobManager"] == {"replicas": 1, "resource": {"cpu": 2, "memory": "4g"}}
    assert spec["taskManager"] == {"resource": {"cpu": 2, "memory": "4g"}}
    assert spec["serviceAccount"] == "agg"


def test_a_python_job_without_checkpoints_is_stateless(tmp_path: Path) -> None:
    obj = _k8s(_aws(tmp_path), "kubernetes/flinkdeployment-relay.yaml")
    assert validate_k8s_object(obj) == []
    assert obj["spec"]["job"] == {
        "jarURI": "local:///opt/flink/opt/flink-python-1.20.1.jar",
        "entryClass": "org.apache.flink.client.python.PythonDriver",
        "args": ["-py", "/opt/flink/usrlib/relay.py"],
        "parallelism": 1,
        "upgradeMode": "stateless",
        "state": "running",
    }
    assert not any(k.startswith(("state.", "high-availability", "execution.checkpointing")) for k in obj["spec"]["flinkConfiguration"])


def test_spot_stream_job_tolerates_spot_nodes(tmp_path: Path) -> None:
    body = SHAPE.replace("  parallelism: 3\n", "  parallelism: 3\n  spot: true\n")
    pod = _k8s(_aws(tmp_path, body), "kubernetes/flinkdeployment-agg.yaml")["spec"]["podTemplate"]["spec"]
    assert pod["tolerations"] == [{"key": "mlc.dev/spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]


def test_stream_job_network_policy_and_jobmanager_role(tmp_path: Path) -> None:
    compiled = _aws(tmp_path)
    policy = _k8s(compiled, "kubernetes/networkpolicy-agg.yaml")
    assert validate_k8s_object(policy) == []
    own = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "agg"}}}
    operator = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "flink-operator"}}}
    assert policy["spec"]["ingress"] == [{"from": [own]}, {"from": [operator], "ports": [{"protocol": "TCP", "port": 8081}]}]
    assert policy["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 443}]}, {"to": [own]}]
    role = _k8s(compiled, "kubernetes/role-agg-flink.yaml")
    assert validate_k8s_object(role) == []
    assert {(r["apiGroups"][0], r["resources"][0]) for r in role["rules"]} == {
        ("", "configmaps"),
        ("", "pods"),
        ("apps", "deployments"),
        ("apps", "deployments/finalizers"),
    }
    account = _k8s(compiled, "kubernetes/serviceaccount-agg.yaml")
    assert account["automountServiceAccountToken"] is True
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/mlc-e1-agg"
