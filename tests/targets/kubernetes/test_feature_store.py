"""Feature stores (Feast): grants per edge type, lineage through the feature store, costs,
input errors, and the emitted objects validated against their upstream schemas."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.core.diagnostics import InputError
from compiler.plan.compiled import Access
from tests.support.aws_policy import policy_of
from tests.support.helpers import aws_env, compiled_env, gcp_env
from tests.support.validators import validate_k8s_object, validate_terraform_json

IMG = "reg.example.com/ml/app:1.0@sha256:" + "e" * 64
REPO_IMG = "reg.example.com/ml/feature-repo:1.0@sha256:" + "f" * 64
# lake (pii) -> feats; push writes the online store; score reads it; lake has a catalog
SHAPE = f"""lake: {{type: data_lake, classification: pii, format: delta}}
feats:
  type: feature_store
  classification: pii
  offline: lake
  online: {{size_gb: 8}}
  materialize: {{schedule: "15 * * * *", image: {REPO_IMG}, resources: {{cpu: 2, memory: 8Gi}}, hours_per_month: 60}}
push:
  type: job
  image: {IMG}
  command: [push]
  writes: [feats]
score:
  type: job
  image: {IMG}
  command: [score]
  reads: [feats]
"""


AZURE = """apiVersion: mlc/v1
kind: Environment
metadata: {name: a1}
cloud: {provider: azure, region: swedencentral, subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", resource_group: rg-a}
cluster:
  name: c1
  node_pools:
    cpu: {instance_type: Standard_D4s_v5, min: 1, max: 3}
gitops: {repo: "https://git.example.com/ml/platform.git"}
budget: {monthly_usd: 100000}
components:
"""


def _aws(tmp_path: Path, body: str = SHAPE):
    return compiled_env(tmp_path, {"e1": aws_env("e1", body)}, "e1")


def _gcp(tmp_path: Path, body: str = SHAPE):
    return compiled_env(tmp_path, {"g1": gcp_env("g1", body)}, "g1")


def _azure(tmp_path: Path, body: str = SHAPE):
    text = AZURE + "\n".join("  " + line for line in body.strip("\n").splitlines()) + "\n"
    return compiled_env(tmp_path, {"a1": text}, "a1")


def _artifacts(compiled) -> dict[str, dict]:
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.kubernetes.emit import emit_kubernetes
    from compiler.targets.terraform.emitter import emit_terraform

    return {a.path: a.content for a in emit_kubernetes(compiled) + emit_terraform(compiled) + emit_argo(compiled)}


def _statements(files: dict[str, dict], path: str, name: str) -> dict[str, list[str]]:
    doc = files[path]
    policy = policy_of({"f.tf.json": doc}, doc["resource"]["aws_iam_role_policy"][name]["policy"])

    def items(value) -> list[str]:
        return [value] if isinstance(value, str) else list(value)

    return {s["Sid"]: [*items(s["Resource"]), *items(s["Action"])] for s in policy["Statement"]}


LAKE = "${aws_s3_bucket.lake.arn}"
GLUE_READ = [
    "glue:BatchGetPartition",
    "glue:GetDatabase",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:GetTables",
]


# --- grants per edge type ---------------------------------------------------------------------
def test_plan_grants_per_edge_type(tmp_path: Path) -> None:
    compiled = _aws(tmp_path)
    assert compiled.grants["score"].access == (Access("feats", "reads"),)
    assert compiled.grants["push"].access == (Access("feats", "writes", write=True),)
    # the feature store's own identity: its materialisation
    assert compiled.grants["feats"].reads == ("lake",) and compiled.grants["feats"].writes == ("feats", "lake")
    assert compiled.grants["feats"].access == (
        Access("lake", "offline", catalog="read"),  # the lake has a catalog (Glue)
        Access("lake", "registry", prefix="feast/feats", write=True, delete=True),
        Access("feats", "materialize", write=True),
    )


def test_aws_reader_gets_offline_read_of_the_lake_writer_gets_no_iam(tmp_path: Path) -> None:
    files = _artifacts(_aws(tmp_path))
    catalog = [
        "arn:aws:glue:eu-west-1:123456789012:catalog",
        "${aws_glue_catalog_database.lake.arn}",
        "arn:aws:glue:eu-west-1:123456789012:table/${aws_glue_catalog_database.lake.name}/*",
    ]
    # the catalog resources come out sorted, as the policy renderer sorts them
    assert _statements(files, "terraform/identity-score.tf.json", "score") == {
        "FeatsReadOfflineList": [LAKE, "s3:ListBucket"],
        "FeatsReadOfflineObjects": [f"{LAKE}/*", "s3:GetObject"],
        "FeatsReadOfflineKey": ["${aws_kms_key.lake.arn}", "kms:Decrypt"],
        "FeatsReadOfflineCatalog": [*sorted(catalog), *GLUE_READ],
    }
    # pushing features is Redis AUTH over the network: the role has no policy at all
    push = files["terraform/identity-push.tf.json"]["resource"]
    assert "aws_iam_role" in push and "aws_iam_role_policy" not in push


def test_aws_materialisation_reads_offline_and_writes_only_its_registry(tmp_path: Path) -> None:
    files = _artifacts(_aws(tmp_path))
    prefix = ["feast/feats", "feast/feats/*"]
    got = _statements(files, "terraform/store-feats.tf.json", "feats")
    assert got == {
        "LakeOfflineList": [LAKE, "s3:ListBucket"],
        "LakeOfflineObjects": [f"{LAKE}/*", "s3:GetObject"],
        "LakeOfflineKey": ["${aws_kms_key.lake.arn}", "kms:Decrypt"],
        "LakeOfflineCatalog": got["LakeOfflineCatalog"][:3] + GLUE_READ,
        "LakeRegistryList": [LAKE, "s3:ListBucket", "s3:ListBucketMultipartUploads"],
        "LakeRegistryObjects": [
            f"{LAKE}/feast/feats",
            f"{LAKE}/feast/feats/*",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListMultipartUploadParts",
            "s3:PutObject",
        ],
        "LakeRegistryKey": ["${aws_kms_key.lake.arn}", "kms:Decrypt", "kms:GenerateDataKey"],
    }
    doc = policy_of(
        {"f": files["terraform/store-feats.tf.json"]},
        files["terraform/store-feats.tf.json"]["resource"]["aws_iam_role_policy"]["feats"]["policy"],
    )
    (registry_list,) = [s for s in doc["Statement"] if s["Sid"] == "LakeRegistryList"]
    assert registry_list["Condition"] == {"StringLike": {"s3:prefix": prefix}}


def test_gcp_grants_reader_offline_read_and_materialiser_registry_prefix(tmp_path: Path) -> None:
    files = _artifacts(_gcp(tmp_path))
    score = files["terraform/identity-score.tf.json"]["resource"]
    assert {k: (v["role"], v["bucket"]) for k, v in score["google_storage_bucket_iam_member"].items()} == {
        "score-lake-via-feats-objectviewer": ("roles/storage.objectViewer", "${google_storage_bucket.lake.name}")
    }
    assert "condition" not in score["google_storage_bucket_iam_member"]["score-lake-via-feats-objectviewer"]
    push = files["terraform/identity-push.tf.json"]["resource"]
    assert "google_storage_bucket_iam_member" not in push and "google_project_iam_member" not in push
    store = files["terraform/store-feats.tf.json"]["resource"]
    members = store["google_storage_bucket_iam_member"]
    assert sorted(members) == ["feats-lake-offline-objectviewer", "feats-lake-registry-objectuser"]
    assert members["feats-lake-registry-objectuser"]["role"] == "roles/storage.objectUser"
    assert members["feats-lake-registry-objectuser"]["condition"]["title"] == "only feast/feats"
    assert "condition" not in members["feats-lake-offline-objectviewer"]


# --- lineage ----------------------------------------------------------------------------------
def test_classification_flows_lake_to_feature_store_to_readers(tmp_path: Path) -> None:
    body = SHAPE.replace("  classification: pii\n  offline: lake", "  offline: lake")  # feats declared internal
    graph = _aws(tmp_path, body).graph
    assert graph.lineage["feats"].own == "internal"
    assert (graph.lineage["feats"].effective, graph.lineage["feats"].path) == ("pii", ("lake", "feats"))
    assert (graph.lineage["score"].effective, graph.lineage["score"].path) == ("pii", ("lake", "feats", "score"))
    assert graph.lineage["push"].effective == "internal"  # a writer receives nothing from it


def test_fraud_example_lineage_runs_stream_to_serving(tmp_path: Path) -> None:
    from compiler.pipeline import plan_environment
    from tests.support.helpers import example_environments

    fraud = plan_environment(next(e for e in example_environments() if e.name == "fraud"))
    lineage = fraud.graph.lineage
    assert lineage["fraud-features"].effective == "pii"
    assert lineage["fraud-scorer"].path[-2:] == ("fraud-features", "fraud-scorer")
    assert {e.kind for e in fraud.graph.edges if e.target == "fraud-features"} == {"offline", "writes"}
    assert fraud.graph.ordering.has_edge("features-lake", "fraud-features")


# --- cost -------------------------------------------------------------------------------------
def test_costs(tmp_path: Path) -> None:
    aws = {i.component: i for i in _aws(tmp_path / "a").cost.items}["feats"]
    # 8 GB: 2 x cache.r7g.large (13.07 GiB) x 730 h x 0.219 + 60 h x 2 vCPU-equiv (2 CPU, 8 GiB at m6i's 4 GiB/vCPU) x 0.048
    assert float(aws.rounded) == round(2 * 730 * 0.219 + 60 * 2 * 0.048, 2)
    assert aws.detail.startswith("online store 2 x cache.r7g.large x 730 h x $0.219/h; materialisation 60 h x 2 vCPU-equiv")
    gcp = {i.component: i for i in _gcp(tmp_path / "g").cost.items}["feats"]
    # 8 GB in tier M2 (5-10 GB) at 0.035/GB-h
    assert gcp.detail.startswith("online store 8 GB (M2) x 730 h x $0.035/GB-h; materialisation 60 h x ")


# --- input errors -----------------------------------------------------------------------------
def test_dynamodb_is_refused_at_its_line(tmp_path: Path) -> None:
    body = SHAPE.replace("online: {size_gb: 8}", "online: {engine: dynamodb}")
    with pytest.raises(InputError) as err:
        _aws(tmp_path, body)
    # line 17: "    online: {engine: dynamodb}", the value at column 22
    assert [(d.code, str(d.location)) for d in err.value.diagnostics] == [("MLC-E026", "environments/e1.yaml:17:22")]
    assert err.value.diagnostics[0].message.startswith(
        'feature_store "feats": online engine "dynamodb" is not supported on aws (supported: redis)'
    )


def test_offline_must_be_a_data_lake(tmp_path: Path) -> None:
    body = SHAPE.replace("offline: lake", "offline: push")
    with pytest.raises(InputError) as err:
        _aws(tmp_path, body)
    assert [(d.code, str(d.location), d.message) for d in err.value.diagnostics] == [
        # line 16: "    offline: push", the value at column 14
        ("MLC-E041", "environments/e1.yaml:16:14", 'offline names "push", a job; expected a data lake (data_lake)')
    ]


# --- emitted objects --------------------------------------------------------------------------
def test_aws_online_store_is_encrypted_private_redis(tmp_path: Path) -> None:
    files = _artifacts(_aws(tmp_path))
    doc = files["terraform/store-feats.tf.json"]
    assert validate_terraform_json(doc, "aws") == []
    assert doc["resource"]["aws_elasticache_replication_group"]["feats"] == {
        "replication_group_id": "mlc-e1-feats",
        "description": "mlc e1: Feast online store of feature store feats",
        "engine": "redis",
        "engine_version": "7.1",
        "node_type": "cache.r7g.large",
        "num_cache_clusters": 2,
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "port": 6379,
        "at_rest_encryption_enabled": True,
        "kms_key_id": "${aws_kms_key.feats.arn}",
        "transit_encryption_enabled": True,
        "auth_token": '${var.cache_auth_tokens["feats"]}',
        "subnet_group_name": "${var.cache_subnet_group_name}",
        "security_group_ids": "${var.cache_security_group_ids}",
        "snapshot_retention_limit": 7,
        "auto_minor_version_upgrade": True,
        "apply_immediately": False,
        "tags": {"mlc:classification": "pii", "mlc:component": "feats"},
    }
    assert files["terraform/variables.tf.json"]["variable"]["cache_auth_tokens"]["sensitive"] is True


def test_gcp_online_store_is_encrypted_private_memorystore(tmp_path: Path) -> None:
    files = _artifacts(_gcp(tmp_path))
    doc = files["terraform/store-feats.tf.json"]
    assert validate_terraform_json(doc, "google") == []
    redis = doc["resource"]["google_redis_instance"]["feats"]
    assert {k: redis[k] for k in ("tier", "memory_size_gb", "auth_enabled", "transit_encryption_mode", "connect_mode")} == {
        "tier": "STANDARD_HA",
        "memory_size_gb": 8,
        "auth_enabled": True,
        "transit_encryption_mode": "SERVER_AUTHENTICATION",
        "connect_mode": "PRIVATE_SERVICE_ACCESS",
    }
    assert redis["customer_managed_key"] == "${google_kms_crypto_key.feats.id}"
    assert redis["authorized_network"] == "${var.network}"
    agent = doc["resource"]["google_kms_crypto_key_iam_member"]["feats-redis-agent"]
    assert agent["member"] == "serviceAccount:service-${data.google_project.this.number}@cloud-redis.iam.gserviceaccount.com"
    assert redis["depends_on"] == ["google_kms_crypto_key_iam_member.feats-redis-agent"]


AZ_TAGS = {"managed-by": "mlc", "mlc-classification": "pii", "mlc-component": "feats", "mlc-environment": "a1"}
AZ_LAKE = "${azurerm_storage_account.lake.id}/blobServices/default/containers/lake"
AZ_BLOBS = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs"


def test_azure_online_store_is_tls_only_private_redis(tmp_path: Path) -> None:
    files = _artifacts(_azure(tmp_path))
    doc = files["terraform/store-feats.tf.json"]
    assert validate_terraform_json(doc, "azurerm") == []
    resources = doc["resource"]
    assert {t: sorted(v) for t, v in resources.items()} == {
        "azurerm_user_assigned_identity": ["feats"],
        "azurerm_federated_identity_credential": ["feats"],
        "azurerm_role_assignment": ["feats-lake-offline", "feats-lake-registry"],
        "azurerm_redis_cache": ["feats"],
        "azurerm_private_endpoint": ["feats"],
    }
    assert resources["azurerm_redis_cache"]["feats"] == {
        "name": "mlc-a1-feats-4bc390",
        "location": "swedencentral",
        "resource_group_name": "rg-a",
        "sku_name": "Premium",
        "family": "P",
        "capacity": 2,  # P2 (13 GB), the smallest Premium size holding online.size_gb 8
        "redis_version": "6",
        "replicas_per_primary": 1,
        "zones": ["1", "2"],
        "non_ssl_port_enabled": False,
        "minimum_tls_version": "1.2",
        "public_network_access_enabled": False,
        "access_keys_authentication_enabled": True,
        "redis_configuration": {"authentication_enabled": True},
        "patch_schedule": [{"day_of_week": "Sunday", "start_hour_utc": 3}],
        "tags": AZ_TAGS,
    }
    assert resources["azurerm_private_endpoint"]["feats"] == {
        "name": "mlc-a1-feats-4bc390-pe",
        "location": "swedencentral",
        "resource_group_name": "rg-a",
        "subnet_id": "${var.private_endpoint_subnet_id}",
        "private_service_connection": {
            "name": "mlc-a1-feats-4bc390-redis",
            "private_connection_resource_id": "${azurerm_redis_cache.feats.id}",
            "subresource_names": ["redisCache"],
            "is_manual_connection": False,
        },
        "private_dns_zone_group": {"name": "redis", "private_dns_zone_ids": ["${var.redis_private_dns_zone_id}"]},
        "tags": AZ_TAGS,
    }
    variables = files["terraform/variables.tf.json"]["variable"]
    assert {"private_endpoint_subnet_id", "redis_private_dns_zone_id"} <= set(variables)
    assert not any("password" in k or "key" in k for k in variables)  # Azure generates the access keys: no secret input
    assert validate_terraform_json(files["terraform/variables.tf.json"], "azurerm") == []


def test_azure_materialiser_and_reader_grants(tmp_path: Path) -> None:
    files = _artifacts(_azure(tmp_path))
    store = files["terraform/store-feats.tf.json"]["resource"]
    principal = "${azurerm_user_assigned_identity.feats.principal_id}"
    assert store["azurerm_federated_identity_credential"]["feats"]["subject"] == "system:serviceaccount:ml-a1:feats"
    prefixed = " AND ".join(f"!(ActionMatches{{'{AZ_BLOBS}/{a}'}})" for a in ("read", "write", "delete", "add/action", "move/action"))
    assert store["azurerm_role_assignment"] == {
        "feats-lake-offline": {
            "scope": AZ_LAKE,
            "role_definition_name": "Storage Blob Data Reader",
            "principal_id": principal,
            "principal_type": "ServicePrincipal",
            "description": "feats materialisation reads lake (offline store) (mlc graph)",
            "depends_on": ["azurerm_storage_data_lake_gen2_filesystem.lake"],
        },
        "feats-lake-registry": {
            "scope": AZ_LAKE,
            "role_definition_name": "Storage Blob Data Contributor",
            "principal_id": principal,
            "principal_type": "ServicePrincipal",
            "condition": f"(({prefixed}) OR (@Resource[{AZ_BLOBS}:path] StringStartsWith 'feast/feats/'))",
            "condition_version": "2.0",
            "description": "feats materialisation reads and writes lake/feast/feats/ (its Feast registry) (mlc graph)",
            "depends_on": ["azurerm_storage_data_lake_gen2_filesystem.lake"],
        },
    }
    # a reader: offline read of the lake; a writer (online push): no role at all (Redis AUTH)
    score = files["terraform/identity-score.tf.json"]
    assert validate_terraform_json(score, "azurerm") == []
    assert score["resource"]["azurerm_role_assignment"] == {
        "score-feats-offline": {
            "scope": AZ_LAKE,
            "role_definition_name": "Storage Blob Data Reader",
            "principal_id": "${azurerm_user_assigned_identity.score.principal_id}",
            "principal_type": "ServicePrincipal",
            "description": "score reads feature store feats: its offline store lake (mlc graph)",
            "depends_on": ["azurerm_storage_data_lake_gen2_filesystem.lake"],
        }
    }
    assert "azurerm_role_assignment" not in files["terraform/identity-push.tf.json"]["resource"]


def test_azure_reader_of_the_lake_itself_gets_one_role(tmp_path: Path) -> None:
    body = SHAPE.replace("  reads: [feats]", "  reads: [feats, lake]")
    files = _artifacts(_azure(tmp_path, body))
    roles = files["terraform/identity-score.tf.json"]["resource"]["azurerm_role_assignment"]
    assert sorted(roles) == ["score-lake"]
    assert roles["score-lake"]["role_definition_name"] == "Storage Blob Data Reader"


def test_azure_connection_secret_cost_and_network(tmp_path: Path) -> None:
    compiled = _azure(tmp_path)
    files = _artifacts(compiled)
    secret = files["kubernetes/externalsecret-feats-online-store.yaml"]["spec"]
    # a Key Vault secret name (1-127 of [0-9a-zA-Z-]) of the env's vault, through the mlc-azure store
    assert secret["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "mlc-azure"}
    assert secret["data"] == [
        {"secretKey": "connection_string", "remoteRef": {"key": "mlc-a1-feats-online-store", "property": "connection_string"}}
    ]
    redis = {"ports": [{"protocol": "TCP", "port": 6380}]}  # Azure Cache's TLS port
    assert files["kubernetes/networkpolicy-feats.yaml"]["spec"]["egress"] == [{"ports": [{"protocol": "TCP", "port": 443}]}, redis]
    for workload in ("score", "push"):
        assert redis in files[f"kubernetes/networkpolicy-{workload}.yaml"]["spec"]["egress"], workload
    item = {i.component: i for i in compiled.cost.items}["feats"]
    # one P2 Premium cache (primary + replica) 730 h x 1.108 + 60 h x 2 vCPU-equiv x 0.048
    assert float(item.rounded) == round(730 * 1.108 + 60 * 2 * 0.048, 2)
    assert item.detail.startswith("online store 1 x P2 x 730 h x $1.108/h; materialisation 60 h x 2 vCPU-equiv")


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_kubernetes_and_argo_objects_validate(tmp_path: Path, cloud: str) -> None:
    compiled = {"aws": _aws, "gcp": _gcp, "azure": _azure}[cloud](tmp_path)
    files = _artifacts(compiled)
    names = [
        "kubernetes/featurestore-feats.yaml",
        "kubernetes/externalsecret-feats-online-store.yaml",
        "kubernetes/configmap-feats-feast.yaml",
        "kubernetes/serviceaccount-feats.yaml",
        "kubernetes/networkpolicy-feats.yaml",
        "argo/cronworkflow-feats.yaml",
    ]
    for name in names:
        assert validate_k8s_object(files[name]) == [], name
    scheme = {"aws": "s3://", "gcp": "gs://", "azure": "https://"}[cloud]
    store = files["kubernetes/featurestore-feats.yaml"]["spec"]
    registry = store["services"]["registry"]["local"]["persistence"]["file"]["path"]
    assert registry.startswith(scheme) and registry.endswith("/feast/feats/registry.db")
    assert store["feastProject"] == "feats"
    assert store["services"]["onlineStore"]["persistence"]["store"] == {"type": "redis", "secretRef": {"name": "feats-online-store"}}
    assert store["services"]["offlineStore"] == {"persistence": {"file": {"type": "duckdb"}}}


def test_materialisation_cron_workflow(tmp_path: Path) -> None:
    import yaml

    files = _artifacts(_aws(tmp_path))
    cron = files["argo/cronworkflow-feats.yaml"]
    assert cron["spec"]["schedules"] == ["15 * * * *"]
    (step,) = cron["spec"]["workflowSpec"]["templates"]
    assert step["activeDeadlineSeconds"] == 2 * 3600 + 600  # max_runtime_hours default 2 + the margin
    job = yaml.safe_load(step["resource"]["manifest"])
    assert validate_k8s_object({**job, "metadata": {**job["metadata"], "name": "x"}}) == []
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "feats"
    (main,) = pod["containers"]
    assert main["image"] == REPO_IMG
    assert main["command"] == ["feast", "-f", "/etc/feast/feature_store.yaml", "materialize-incremental"]
    assert main["args"] == ["{{workflow.creationTimestamp.RFC3339}}"]
    assert {
        "name": "FEAST_REDIS_CONNECTION_STRING",
        "valueFrom": {"secretKeyRef": {"name": "feats-online-store", "key": "FEAST_REDIS_CONNECTION_STRING"}},
    } in main["env"]
    assert main["resources"]["requests"] == {"cpu": "2", "memory": "8Gi"}


def test_network_policies(tmp_path: Path) -> None:
    files = _artifacts(_aws(tmp_path))
    redis = {"ports": [{"protocol": "TCP", "port": 6379}]}
    assert files["kubernetes/networkpolicy-feats.yaml"]["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "feats"}},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [{"ports": [{"protocol": "TCP", "port": 443}]}, redis],
    }
    for reader in ("score", "push"):  # readers and writers reach its online store
        assert redis in files[f"kubernetes/networkpolicy-{reader}.yaml"]["spec"]["egress"], reader


def test_azure_override_weakening_the_online_store_is_flagged(tmp_path: Path) -> None:
    """MLC-SEC-062 on Azure: an override turning the non-TLS port back on for a pii online store."""
    from compiler.policy.engine import python_findings

    top = "overrides:\n  terraform:\n    - address: azurerm_redis_cache.feats\n      set: {non_ssl_port_enabled: true, shard_count: 2}\n"
    text = AZURE.replace("components:\n", top + "components:\n") + "".join("  " + line + "\n" for line in SHAPE.strip("\n").splitlines())
    compiled = compiled_env(tmp_path, {"a1": text}, "a1")
    hits = [(f.rule, f.component, str(f.location)) for f in python_findings(compiled) if f.rule == "MLC-SEC-062"]
    # line 14: "      set: {non_ssl_port_enabled: ...}", at the attribute (shard_count is not a protection)
    assert hits == [("MLC-SEC-062", "feats", "environments/a1.yaml:14:13")]
