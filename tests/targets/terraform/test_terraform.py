"""Terraform emitter (AWS and shared parts): schema validity, exact shapes, least-privilege
IAM equal to the graph's grants, escaping, budget, node groups, audit."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from compiler.model.kinds import Trait
from compiler.plan.compiled import Access
from compiler.providers import aws, naming
from compiler.targets.terraform.aws import ami_type
from compiler.targets.terraform.common import Expr, escape_tf, finalize, gcp_labels, percent, policy_json
from tests.support.aws_policy import policy_of
from tests.support.terraform_helpers import (
    compile_env,
    emit,
    example_environments,
    files_of,
    load_env,
    resources,
    synthetic_aws_text,
    tf_provider,
    with_spec,
)
from tests.support.validators import validate_terraform_json, validate_terraform_module

EXAMPLES = {env.name: env for env in example_environments()}
AWS_EXAMPLES = sorted(n for n, e in EXAMPLES.items() if e.provider == "aws")


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return compile_env(load_env(tmp_path_factory.mktemp("synth"), {"synth": synthetic_aws_text()}, "synth"))


def all_compiled(synth):
    return [compile_env(e) for e in EXAMPLES.values()] + [synth]


# --- every block validates ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_environments_validate_against_provider_schema(name):
    compiled = compile_env(EXAMPLES[name])
    artifacts = emit(compiled)
    assert artifacts and all(a.format == "json" and a.path.endswith(".tf.json") for a in artifacts)
    files = files_of(artifacts)
    for fname, doc in files.items():
        assert validate_terraform_json(doc, tf_provider(compiled)) == [], fname
    assert validate_terraform_module(files, tf_provider(compiled)) == []


def test_synthetic_environment_validates(synth):
    files = files_of(emit(synth))
    assert validate_terraform_module(files, "aws") == []
    assert sorted(files) == [
        "audit.tf.json",
        "budget.tf.json",
        "cluster.tf.json",
        "identity-idle.tf.json",
        "identity-loner.tf.json",
        "identity-reader.tf.json",
        "identity-writer.tf.json",
        "logging.tf.json",
        "main.tf.json",
        "rds-monitoring.tf.json",
        "store-lake.tf.json",
        "store-open-data.tf.json",
        "store-orders-db.tf.json",
        "store-results.tf.json",
        "store-scratch.tf.json",
        "terraform.tf.json",
        "variables.tf.json",
    ]


def test_output_is_deterministic(synth):
    first = [(a.path, json.dumps(a.content)) for a in emit(synth)]
    assert first == [(a.path, json.dumps(a.content)) for a in emit(synth)]


# --- exact shapes of small things ---------------------------------------------------------
def test_terraform_block_backend_and_provider():
    files = files_of(emit(compile_env(EXAMPLES["prod"])))
    assert files["terraform.tf.json"]["terraform"] == {
        "required_version": ">= 1.10",
        "required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 6.47"}},
        "backend": {
            "s3": {
                "bucket": "123456789012-prod-tfstate",
                "key": "prod/terraform.tfstate",
                "region": "eu-central-1",
                "encrypt": True,
                "use_lockfile": True,
            }
        },
    }
    provider = files["main.tf.json"]["provider"]["aws"]
    assert provider["region"] == "eu-central-1"
    assert provider["allowed_account_ids"] == ["123456789012"]
    assert provider["default_tags"]["tags"] == {
        "cost-center": "cc-42",
        "env": "prod",
        "managed-by": "mlc",
        "mlc:environment": "prod",
        "team": "ml-platform",
        "tier": "critical",
    }


def test_object_store_resources_exactly(synth):
    store = files_of(emit(synth))["store-results.tf.json"]["resource"]
    assert sorted(store) == [
        "aws_kms_alias",
        "aws_kms_key",
        "aws_kms_key_policy",
        "aws_s3_bucket",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_logging",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
    ]
    assert store["aws_s3_bucket"]["results"]["bucket"] == "210987654321-synth-results-365afb"
    assert store["aws_kms_key"]["results"]["enable_key_rotation"] is True
    assert store["aws_kms_alias"]["results"] == {"name": "alias/mlc-synth-results", "target_key_id": "${aws_kms_key.results.key_id}"}
    key_policy = json.loads(store["aws_kms_key_policy"]["results"]["policy"])
    assert [s["Principal"] for s in key_policy["Statement"]] == [{"AWS": "arn:aws:iam::210987654321:root"}]
    assert store["aws_s3_bucket_server_side_encryption_configuration"]["results"]["rule"] == [
        {
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.results.arn}"},
            "bucket_key_enabled": True,
        }
    ]
    assert store["aws_s3_bucket_versioning"]["results"]["versioning_configuration"] == {"status": "Suspended"}
    assert store["aws_s3_bucket_ownership_controls"]["results"]["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    assert store["aws_s3_bucket_logging"]["results"]["target_bucket"] == "${aws_s3_bucket.access-logs.id}"
    pab = store["aws_s3_bucket_public_access_block"]["results"]
    assert [pab[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")] == [True] * 4
    (tls,) = json.loads(store["aws_s3_bucket_policy"]["results"]["policy"])["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert store["aws_s3_bucket_lifecycle_configuration"]["results"]["rule"] == [
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        },
        {
            "id": "tiering-and-expiration",
            "status": "Enabled",
            "filter": {},
            "transition": [{"days": 30, "storage_class": "STANDARD_IA"}],
            "expiration": {"days": 60},
        },
    ]


def test_public_bucket_lifts_block_and_versioned_bucket_expires_noncurrent(synth):
    res = resources(files_of(emit(synth)))
    pab = res["aws_s3_bucket_public_access_block.open_data"]
    assert not any(pab[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    rules = {r["id"]: r for r in res["aws_s3_bucket_lifecycle_configuration.scratch"]["rule"]}
    assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"] == {"noncurrent_days": 90}
    assert "aws_glue_catalog_database.lake" not in res  # catalog: false
    prod = resources(files_of(emit(compile_env(EXAMPLES["prod"]))))
    assert prod["aws_glue_catalog_database.features"]["name"] == "mlc_prod_features"
    assert prod["aws_glue_catalog_database.features"]["location_uri"] == "s3://${aws_s3_bucket.features.bucket}/"


def test_access_log_bucket_is_encrypted_versioned_blocked_and_owned(synth):
    res = resources(files_of(emit(synth)))
    assert res["aws_s3_bucket.access-logs"]["bucket"] == naming.log_bucket_name(synth.env)
    assert res["aws_s3_bucket_server_side_encryption_configuration.access-logs"]["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "AES256"
    }
    assert res["aws_s3_bucket_versioning.access-logs"]["versioning_configuration"]["status"] == "Enabled"
    assert res["aws_s3_bucket_public_access_block.access-logs"]["block_public_policy"] is True
    assert "aws_s3_bucket_ownership_controls.access-logs" in res
    assert "aws_s3_bucket_logging.access-logs" not in res


def test_database_is_encrypted_private_and_holds_no_password(synth):
    res = resources(files_of(emit(synth)))
    db = res["aws_db_instance.orders_db"]
    expected = {
        "identifier": "mlc-synth-orders-db",
        "engine": "mysql",
        "storage_encrypted": True,
        "kms_key_id": "${aws_kms_key.orders_db.arn}",
        "publicly_accessible": False,
        "deletion_protection": True,
        "multi_az": True,
        "backup_retention_period": 3,
        "manage_master_user_password": True,
        "iam_database_authentication_enabled": True,
        "copy_tags_to_snapshot": True,
        "auto_minor_version_upgrade": True,
        "db_subnet_group_name": "${var.db_subnet_group_name}",
    }
    assert {k: db[k] for k in expected} == expected
    assert "performance_insights_enabled" not in db  # RDS for MySQL: none on *.small
    assert res["aws_db_parameter_group.orders_db"]["family"] == "mysql8.0"
    prod_db = resources(files_of(emit(compile_env(EXAMPLES["prod"]))))["aws_db_instance.metadata_db"]
    assert prod_db["performance_insights_kms_key_id"] == "${aws_kms_key.metadata_db.arn}"
    for body in resources(files_of(emit(synth))).values():
        assert "password" not in body and "password_wo" not in body


# --- IAM: nothing more, nothing less ------------------------------------------------------
_BUCKET = re.compile(r"^\$\{aws_s3_bucket\.(\w+)\.arn\}$")
_OBJECTS = re.compile(r"^\$\{aws_s3_bucket\.(\w+)\.arn\}/(.*)$")
_KEY = re.compile(r"^\$\{aws_kms_key\.(\w+)\.arn\}$")
_DBUSER = re.compile(r"^arn:aws:rds-db:[a-z0-9-]+:\d{12}:dbuser:\$\{aws_db_instance\.(\w+)\.resource_id\}/(\w+)$")
# what each kind of access needs (the table docs/terraform.md gives, written out independently)
READ_OBJECT = {"s3:GetObject"}
WRITE_OBJECT = {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
CONSUME = {
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
}
PRODUCE = {"kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"}
GLUE_READ = {"glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"}
GLUE_WRITE = GLUE_READ | {
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:DeletePartition",
    "glue:BatchDeletePartition",
}


def _as_list(value):
    return [value] if isinstance(value, str) else list(value)


def expected_edge_statements(env, workload, access) -> list[dict]:
    """The statements one edge must get, rendered as IAM JSON (Sid suffix -> statement)."""
    store = env.components[access.store]
    tf = access.store.replace("-", "_")
    if store.type == "database":
        return [{"Effect": "Allow", "Action": "rds-db:connect", "user": workload.replace("-", "_"), "db": tf}]
    if store.has(Trait.FEATURE_STORE):  # a reader: read of its offline lake; writing it (online push) needs no IAM
        if access.write:
            return []
        lake = env.components[store.spec["offline"]]
        return expected_edge_statements(env, workload, Access(lake.name, "reads", catalog="read" if lake.spec.get("catalog") else ""))
    if store.has(Trait.STREAM):  # consume (reads) or produce (writes) on the Kinesis stream and its key
        actions, key = (PRODUCE, "kms:GenerateDataKey") if access.write else (CONSUME, "kms:Decrypt")
        return [
            {"Effect": "Allow", "Action": sorted(actions), "Resource": f"${{aws_kinesis_stream.{tf}.arn}}"},
            {"Effect": "Allow", "Action": key, "Resource": f"${{aws_kms_key.{tf}.arn}}"},
        ]
    arn = f"${{aws_s3_bucket.{tf}.arn}}"
    objects = (READ_OBJECT | (WRITE_OBJECT if access.write else set())) | ({"s3:DeleteObject"} if access.delete else set())
    listing = {
        "Effect": "Allow",
        "Action": sorted({"s3:ListBucket"} | ({"s3:ListBucketMultipartUploads"} if access.write else set())),
        "Resource": arn,
    }
    if access.prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [access.prefix, access.prefix + "/*"]}}
        obj_res = sorted([f"{arn}/{access.prefix}", f"{arn}/{access.prefix}/*"])
    else:
        obj_res = f"{arn}/*"
    key = sorted({"kms:Decrypt"} | ({"kms:GenerateDataKey"} if access.write else set()))
    out = [
        listing,
        {"Effect": "Allow", "Action": sorted(objects), "Resource": obj_res},
        {"Effect": "Allow", "Action": key if len(key) > 1 else key[0], "Resource": f"${{aws_kms_key.{tf}.arn}}"},
    ]
    if access.catalog:  # decided in the plan: a cataloged data lake read or written through its tables
        out.append({"Effect": "Allow", "Action": sorted(GLUE_WRITE if access.write else GLUE_READ), "catalog": tf})
    for st in out[:2]:
        if isinstance(st["Action"], list) and len(st["Action"]) == 1:
            st["Action"] = st["Action"][0]
    return out


def test_iam_policy_has_exactly_one_statement_group_per_declared_edge(synth):
    """Every Access of the plan becomes its statements (exact actions, exact resources,
    the path condition), in plan order; nothing else is in the policy."""
    checked = 0
    for compiled in all_compiled(synth):
        if compiled.env.provider != "aws":
            continue
        env = compiled.env
        files = files_of(emit(compiled))
        res = resources(files)
        for workload, grants in compiled.grants.items():
            name = workload.replace("-", "_")
            role = res[f"aws_iam_role.{name}"]
            component = env.components.get(workload) or next(m.component(env) for m in compiled.monitors if m.name == workload)
            assert role["name"] == aws.role_name(env, component)
            policy = res.get(f"aws_iam_role_policy.{name}")
            if not grants.stores:
                assert policy is None, f"{workload} touches no store and gets no policy"
                continue
            if not str(policy["policy"]).startswith("${data.aws_iam_policy_document."):
                # an edge fleet's role (read-only on its model path, with a kms:ViaService
                # condition) is emitted by aws_edge.py and checked in tests/e2e/test_lifecycle.py
                assert env.components[workload].kind.name == "edge_deployment", workload
                continue
            statements = policy_of(files, policy["policy"])["Statement"]
            expected = [st for a in grants.access for st in expected_edge_statements(env, workload, a)]
            assert len(statements) == len(expected), workload
            for got, want in zip(statements, expected, strict=True):
                assert got["Effect"] == "Allow" and "NotAction" not in got and "NotResource" not in got
                if "db" in want:
                    (m,) = [_DBUSER.match(r) for r in _as_list(got["Resource"])]
                    assert m and (m[1], m[2]) == (want["db"], want["user"]) and got["Action"] == "rds-db:connect"
                elif "catalog" in want:
                    assert sorted(_as_list(got["Action"])) == want["Action"]
                    db = want["catalog"]
                    assert sorted(_as_list(got["Resource"])) == sorted(
                        [
                            f"arn:aws:glue:{env.region}:{env.spec['cloud']['account']}:catalog",
                            f"${{aws_glue_catalog_database.{db}.arn}}",
                            f"arn:aws:glue:{env.region}:{env.spec['cloud']['account']}:table/${{aws_glue_catalog_database.{db}.name}}/*",
                        ]
                    )
                else:
                    one = {k: (v[0] if k == "Action" and isinstance(v, list) and len(v) == 1 else v) for k, v in got.items()}
                    assert {k: v for k, v in one.items() if k != "Sid"} == want, (workload, got["Sid"])
            union_reads = {
                a.store for a in grants.access if a.edge in ("reads", "model", "checkpoint", "backend", "logs", "offline", "registry")
            }
            union_writes = {a.store for a in grants.access if a.write}
            assert union_reads == set(grants.reads) and union_writes == set(grants.writes), workload
            checked += 1
    assert checked >= 10


def test_writer_deletes_only_where_its_library_deletes(synth):
    """Spark writers and data-lake writers may delete; a training job writing an
    object_store may not, except in its own checkpoint prefix."""
    prod = compile_env(EXAMPLES["prod"])
    by_edge = {(a.store, a.edge): a for a in prod.grants["train-ranker"].access}
    assert by_edge[("models", "writes")].delete is False
    assert by_edge[("models", "checkpoint")] == Access("models", "checkpoint", "train-ranker", True, True, True, "")
    assert prod.grants["feature-etl"].access == (
        Access("features", "writes", "", True, True, True, "write"),
        Access("raw-events", "reads", "", True, False, False, ""),
    )
    assert prod.grants["ranker"].access == (Access("models", "model", "ranker/v12"),)
    staging = compile_env(EXAMPLES["staging"])
    assert staging.grants["ranker"].access == (Access("models", "model", "ranker/v12"), Access("models", "model", "ranker/v13"))


def test_trust_policy_admits_only_the_workload_service_account(synth):
    env = synth.env
    role = resources(files_of(emit(synth)))["aws_iam_role.reader"]
    (st,) = policy_of(files_of(emit(synth)), role["assume_role_policy"])["Statement"]
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Principal"] == {"Federated": "${data.aws_iam_openid_connect_provider.cluster.arn}"}
    sa = naming.service_account(env.components["reader"])
    assert st["Condition"] == {
        "StringEquals": {"${local.oidc_issuer}:aud": "sts.amazonaws.com", "${local.oidc_issuer}:sub": f"system:serviceaccount:team-ns:{sa}"}
    }
    assert aws.role_arn(env, env.components["reader"]).endswith(f":role/{role['name']}")


# --- escaping ---------------------------------------------------------------------------
def test_escape_tf_and_finalize():
    assert escape_tf("${var.x} and %{ if true }") == "$${var.x} and %%{ if true }"
    assert finalize({"${k}": ["%{x}", Expr("${aws_s3_bucket.a.id}")]}) == {"$${k}": ["%%{x}", "${aws_s3_bucket.a.id}"]}
    doc = json.loads(policy_json({"Resource": Expr("${aws_kms_key.a.arn}"), "Sid": "${oops}"}))
    assert doc == {"Resource": "${aws_kms_key.a.arn}", "Sid": "$${oops}"}
    assert type(finalize(Expr("x"))) is str  # the writer accepts exact types only


def test_spec_strings_are_escaped_in_emitted_terraform(synth):
    def inject(spec):
        spec["metadata"]["labels"] = {"team": "${var.x}", "note": "%{ if }"}
        spec["components"]["results"]["labels"] = {"owner": '${file("/etc/passwd")}'}

    compiled = compile_env(with_spec(synth.env, inject))
    files = files_of(emit(compiled))
    tags = files["main.tf.json"]["provider"]["aws"]["default_tags"]["tags"]
    assert tags["team"] == "$${var.x}" and tags["note"] == "%%{ if }"
    assert resources(files)["aws_s3_bucket.results"]["tags"]["owner"] == '$${file("/etc/passwd")}'
    text = json.dumps(files)
    assert "${var.x}" not in text.replace("$${var.x}", "") and "%{ if }" not in text.replace("%%{ if }", "")
    for fname, doc in files.items():
        assert validate_terraform_json(doc, "aws") == [], fname


# --- budget, node groups, audit -------------------------------------------------------
@pytest.mark.parametrize("name", AWS_EXAMPLES + ["synth"])
def test_budget_limit_equals_spec(name, synth):
    compiled = synth if name == "synth" else compile_env(EXAMPLES[name])
    budget = compiled.env.spec["budget"]
    body = resources(files_of(emit(compiled)))["aws_budgets_budget.monthly"]
    assert Decimal(body["limit_amount"]) == Decimal(str(budget["monthly_usd"]))
    assert re.fullmatch(r"\d+\.\d\d", body["limit_amount"])
    assert (body["budget_type"], body["time_unit"], body["limit_unit"]) == ("COST", "MONTHLY", "USD")
    thresholds = {(n["notification_type"], n["threshold"]) for n in body["notification"]}
    assert thresholds == {("ACTUAL", percent(budget["warn_ratio"])), ("FORECASTED", 100)}
    assert Decimal(str(percent(budget["warn_ratio"]))) == Decimal(str(budget["warn_ratio"])) * 100
    assert all(n["subscriber_email_addresses"] == "${var.budget_alert_emails}" for n in body["notification"])


def test_node_groups(synth):
    groups = resources(files_of(emit(synth)), "aws_eks_node_group")
    gpu, cpu, cheap, neuron = (groups[f"aws_eks_node_group.{n}"] for n in ("gpu", "cpu", "cheap", "neuron"))
    assert gpu["ami_type"] == "AL2023_x86_64_NVIDIA" and gpu["capacity_type"] == "SPOT"
    assert gpu["labels"] == {naming.NODE_POOL_LABEL: "gpu"}
    assert gpu["taint"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "mlc.dev/spot", "value": "true", "effect": "NO_SCHEDULE"},
    ]
    assert gpu["scaling_config"] == {"min_size": 0, "max_size": 2, "desired_size": 0}
    assert cpu["ami_type"] == "AL2023_x86_64_STANDARD" and cpu["capacity_type"] == "ON_DEMAND" and "taint" not in cpu
    assert cpu["scaling_config"] == {"min_size": 1, "max_size": 3, "desired_size": 1}
    assert cheap["taint"] == [{"key": "mlc.dev/spot", "value": "true", "effect": "NO_SCHEDULE"}]
    assert neuron["ami_type"] == "AL2023_x86_64_NEURON"
    assert ami_type("m7g.large", 0) == "AL2023_ARM_64_STANDARD" and ami_type("g5.2xlarge", 1) == "AL2023_x86_64_NVIDIA"
    assert cpu["node_group_name"] == "synth-cpu"


def test_audit_trail_covers_exactly_the_sensitive_buckets(synth):
    for compiled in [compile_env(EXAMPLES[n]) for n in AWS_EXAMPLES] + [synth]:
        env = compiled.env
        res = resources(files_of(emit(compiled)))
        sensitive = {c.name for c in env.with_trait(Trait.BUCKET) if compiled.graph.lineage[c.name].effective in ("pii", "confidential")}
        trail = res.get("aws_cloudtrail.data-events")
        if not sensitive:
            assert trail is None
            continue
        selector = {f["field"]: f for f in trail["advanced_event_selector"][0]["field_selector"]}
        watched = {re.match(r"\$\{aws_s3_bucket\.(\w+)\.arn\}/$", a)[1] for a in selector["resources.ARN"]["starts_with"]}
        assert watched == {s.replace("-", "_") for s in sensitive}
        assert selector["eventCategory"]["equals"] == ["Data"]
        assert trail["enable_log_file_validation"] and trail["is_multi_region_trail"]
        assert trail["kms_key_id"] == "${aws_kms_key.audit-trail.arn}"
    assert "open_data" not in json.dumps(resources(files_of(emit(synth)))["aws_cloudtrail.data-events"])


def test_no_audit_without_sensitive_data(tmp_path):
    from tests.support.helpers import aws_env

    env = load_env(tmp_path, {"plain": aws_env("plain", "data:\n  type: object_store\n")}, "plain")
    files = files_of(emit(compile_env(env)))
    assert "audit.tf.json" not in files and "store-data.tf.json" in files


def test_gcp_label_sanitising():
    assert gcp_labels({"Team": "ML Platform", "app.kubernetes.io/name": "x", "9lives": "A", "team": "dup"}) == {
        "app_kubernetes_io_name": "x",
        "l9lives": "a",
        "team": "ml_platform",
    }


def test_statement_ids_stay_unique_when_store_names_camel_case_alike(tmp_path):
    """Guards grant_statements' `used` set: stores "a-1" and "a1" both camel-case to "A1";
    the second gets a numbered base, so the policy's Sids stay unique (IAM rejects duplicates)."""
    from tests.support.helpers import aws_env

    image = "reg.example.com/ml/app:1.0@sha256:" + "ab" * 32
    text = aws_env(
        "e1",
        "a-1: {type: object_store}\na1: {type: object_store}\n"
        f"etl: {{type: spark_job, image: '{image}', main: 'local:///a.py', reads: [a-1, a1]}}",
    )
    compiled = compile_env(load_env(tmp_path, {"e1": text}, "e1"))
    files = files_of(emit(compiled))
    (policy,) = resources(files, "aws_iam_role_policy").values()
    names = sorted(st["Sid"] for st in policy_of(files, policy["policy"])["Statement"])
    assert names == ["A1Read1Key", "A1Read1List", "A1Read1Objects", "A1ReadKey", "A1ReadList", "A1ReadObjects"]
