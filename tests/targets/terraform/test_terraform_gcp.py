"""Terraform emitter for GCP: validity, storage, Cloud SQL, Workload Identity and grants,
node pools, budget, audit."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from compiler.model.kinds import Trait
from compiler.providers import gcp, naming
from tests.support.terraform_helpers import SYNTHETIC_GCP, compile_env, emit, example_environments, files_of, load_env, resources, with_spec
from tests.support.validators import validate_terraform_json, validate_terraform_module


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return compile_env(load_env(tmp_path_factory.mktemp("lab"), {"lab": SYNTHETIC_GCP}, "lab"))


@pytest.fixture(scope="module")
def research():
    return compile_env(next(e for e in example_environments() if e.name == "research-gcp"))


def test_validates_against_google_provider_schema(lab, research):
    for compiled in (lab, research):
        files = files_of(emit(compiled))
        for fname, doc in files.items():
            assert validate_terraform_json(doc, "google") == [], fname
        assert validate_terraform_module(files, "google") == []
        assert not any(t.startswith("aws_") for doc in files.values() for t in doc.get("resource", {}))


def test_settings_and_provider(research):
    files = files_of(emit(research))
    assert files["terraform.tf.json"]["terraform"] == {
        "required_version": ">= 1.10",
        "required_providers": {"google": {"source": "hashicorp/google", "version": "~> 6.50"}},
        "backend": {"gcs": {"bucket": "ml-research-4711-research-gcp-tfstate", "prefix": "research-gcp"}},
    }
    assert files["main.tf.json"]["provider"]["google"] == {
        "project": "ml-research-4711",
        "region": "europe-west4",
        "default_labels": {
            "cost-center": "cc-77",
            "env": "research",
            "managed-by": "mlc",
            "mlc-environment": "research-gcp",
            "team": "research",
        },
    }


def test_bucket_and_catalog(lab):
    res = resources(files_of(emit(lab)))
    bucket = res["google_storage_bucket.lake"]
    expected = {
        "name": "lab-project-1-lab-lake-d71559",
        "location": "EUROPE-WEST4",
        "uniform_bucket_level_access": True,
        "public_access_prevention": "enforced",
        "versioning": {"enabled": True},
        "encryption": {"default_kms_key_name": "${google_kms_crypto_key.lake.id}"},
        "logging": {"log_bucket": "${google_storage_bucket.access-logs.name}", "log_object_prefix": "lab-project-1-lab-lake-d71559"},
        "depends_on": ["google_kms_crypto_key_iam_member.lake-gcs-agent"],
    }
    assert {k: bucket[k] for k in expected} == expected
    assert bucket["lifecycle_rule"] == [
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": 7}},
        {"action": {"type": "Delete"}, "condition": {"days_since_noncurrent_time": 90}},
        {
            "action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
            "condition": {"age": 30, "matches_storage_class": ["STANDARD"]},
        },
        {
            "action": {"type": "SetStorageClass", "storage_class": "ARCHIVE"},
            "condition": {"age": 365, "matches_storage_class": ["STANDARD", "NEARLINE"]},
        },
        {"action": {"type": "Delete"}, "condition": {"age": 900}},
    ]
    # lake is written by etl, which reads the pii bucket "secrets": lineage makes lake pii
    assert bucket["labels"] == {"mlc-classification": "pii", "mlc-component": "lake"}
    key = res["google_kms_crypto_key.lake"]
    assert key["rotation_period"] == "7776000s" and key["key_ring"] == "${google_kms_key_ring.mlc.id}"
    agents = {res[a]["member"] for a in res if a.startswith("google_kms_crypto_key_iam_member.lake-")}
    assert agents == {
        "serviceAccount:${data.google_storage_project_service_account.this.email_address}",
        "serviceAccount:${data.google_bigquery_default_service_account.this.email}",
    }
    dataset = res["google_bigquery_dataset.lake"]
    assert dataset["dataset_id"] == "mlc_lab_lake"
    assert dataset["default_encryption_configuration"] == {"kms_key_name": "${google_kms_crypto_key.lake.id}"}


def test_public_bucket_is_not_enforced(lab):
    compiled = compile_env(with_spec(lab.env, lambda s: s["components"]["lake"].update(public=True)))
    assert resources(files_of(emit(compiled)))["google_storage_bucket.lake"]["public_access_prevention"] == "inherited"


def test_cloud_sql_is_private_backed_up_and_passwordless(lab):
    res = resources(files_of(emit(lab)))
    pg, my = res["google_sql_database_instance.pg"], res["google_sql_database_instance.my"]
    assert pg["database_version"] == "POSTGRES_16" and my["database_version"] == "MYSQL_8_0"
    assert pg["settings"]["availability_type"] == "REGIONAL" and my["settings"]["availability_type"] == "ZONAL"
    assert pg["settings"]["ip_configuration"] == {
        "ipv4_enabled": False,
        "private_network": "${var.network}",
        "ssl_mode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
    }
    assert pg["settings"]["backup_configuration"]["point_in_time_recovery_enabled"] is True
    assert pg["settings"]["backup_configuration"]["backup_retention_settings"] == {"retained_backups": 7, "retention_unit": "COUNT"}
    assert my["settings"]["backup_configuration"] == {"enabled": False}  # backup_retention_days: 0
    assert pg["settings"]["deletion_protection_enabled"] is True and pg["deletion_protection"] is True
    assert pg["encryption_key_name"] == "${google_kms_crypto_key.pg.id}"
    flags = {f["name"]: f["value"] for f in pg["settings"]["database_flags"]}
    assert flags["cloudsql.iam_authentication"] == "on" and flags["log_connections"] == "on"
    assert res["google_secret_manager_secret.pg"]["secret_id"] == "mlc-lab-pg-admin"
    assert not any(a.startswith("google_secret_manager_secret_version.") for a in res)
    for address, body in res.items():
        assert "password" not in body and "root_password" not in body, address
        if address.startswith("google_sql_user."):
            assert body["type"] == "CLOUD_IAM_SERVICE_ACCOUNT"


def test_workload_identity_and_grants_equal_graph(lab, research):
    for compiled in (lab, research):
        env = compiled.env
        res = resources(files_of(emit(compiled)))
        for workload, grants in compiled.grants.items():
            name, component = workload.replace("-", "_"), env.components[workload]
            sa = res[f"google_service_account.{name}"]
            assert sa["account_id"] == gcp.service_account_id(env, component)
            binding = res[f"google_service_account_iam_member.{name}-workload-identity"]
            assert binding["role"] == "roles/iam.workloadIdentityUser"
            assert (
                binding["member"]
                == f"serviceAccount:{env.spec['cloud']['account']}.svc.id.goog[{env.namespace}/{naming.service_account(component)}]"
            )
            member = f"serviceAccount:${{google_service_account.{name}.email}}"
            mine = {a: b for a, b in res.items() if b.get("member") == member}
            bound = {b["bucket"].split(".")[1] for a, b in mine.items() if a.startswith("google_storage_bucket_iam_member.")}
            buckets = {s for s in grants.stores if env.components[s].has(Trait.BUCKET)}
            assert bound == {s.replace("-", "_") for s in buckets}, workload  # roles per edge: tests/targets/terraform/test_gcp_grants.py
            databases = set(grants.stores) - buckets
            project_roles = {
                (b["role"], b["condition"]["expression"]) for a, b in mine.items() if a.startswith("google_project_iam_member.")
            }
            assert project_roles == {
                (
                    role,
                    (
                        f"resource.name == 'projects/{env.spec['cloud']['account']}/instances/"
                        f"{naming.db_instance_name(env, env.components[d])}' && "
                        "resource.type == 'sqladmin.googleapis.com/Instance'"
                    ),
                )
                for d in databases
                for role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser")
            }, workload
            users = {b["instance"] for a, b in res.items() if a.startswith(f"google_sql_user.{name}-")}
            assert users == {f"${{google_sql_database_instance.{d.replace('-', '_')}.name}}" for d in databases}
            kinds = ("google_storage_bucket_iam_member", "google_project_iam_member", "google_bigquery_dataset_iam_member")
            assert all(a.split(".")[0] in kinds for a in mine)


def test_node_pools(lab, research):
    pools = resources(files_of(emit(lab)), "google_container_node_pool")
    l4, h100, cpu = (pools[f"google_container_node_pool.{n}"] for n in ("l4", "h100", "cpu"))
    assert l4["node_config"]["guest_accelerator"] == [
        {"type": "nvidia-l4", "count": 1, "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"}}
    ]
    assert (
        h100["node_config"]["guest_accelerator"][0]["type"] == "nvidia-h100-80gb"
        and h100["node_config"]["guest_accelerator"][0]["count"] == 8
    )
    assert "guest_accelerator" not in cpu["node_config"]
    assert l4["node_config"]["spot"] is True and l4["node_config"]["taint"] == [
        {"key": "mlc.dev/spot", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    assert "taint" not in h100["node_config"]  # GKE taints GPU nodes itself
    assert cpu["node_config"]["labels"] == {naming.NODE_POOL_LABEL: "cpu"}
    assert cpu["node_config"]["workload_metadata_config"] == {"mode": "GKE_METADATA"}
    assert cpu["node_config"]["shielded_instance_config"] == {"enable_secure_boot": True, "enable_integrity_monitoring": True}
    assert cpu["autoscaling"]["total_min_node_count"] == 1 and cpu["autoscaling"]["total_max_node_count"] == 3
    gpu = resources(files_of(emit(research)), "google_container_node_pool")["google_container_node_pool.gpu_a100"]
    assert gpu["node_config"]["guest_accelerator"][0]["type"] == "nvidia-tesla-a100"


def test_budget_equals_spec(lab, research):
    for compiled in (lab, research):
        budget = compiled.env.spec["budget"]
        body = resources(files_of(emit(compiled)))["google_billing_budget.monthly"]
        amount = body["amount"]["specified_amount"]
        assert Decimal(amount["units"]) + Decimal(amount["nanos"]) / 10**9 == Decimal(str(budget["monthly_usd"]))
        assert amount["currency_code"] == "USD"
        rules = {(r["threshold_percent"], r["spend_basis"]) for r in body["threshold_rules"]}
        assert rules == {(budget["warn_ratio"], "CURRENT_SPEND"), (1.0, "FORECASTED_SPEND")}
        assert body["billing_account"] == "${var.billing_account}"


def test_audit_config_only_with_sensitive_buckets(lab, research):
    audit = resources(files_of(emit(lab)))["google_project_iam_audit_config.storage"]
    assert audit["service"] == "storage.googleapis.com"
    assert sorted(c["log_type"] for c in audit["audit_log_config"]) == ["DATA_READ", "DATA_WRITE"]
    assert "audit.tf.json" not in files_of(emit(research))  # research-gcp holds only internal data


def test_labels_are_sanitised_and_escaping_is_moot(lab):
    compiled = compile_env(with_spec(lab.env, lambda s: s["metadata"]["labels"].update({"Note": "${var.x}"})))
    labels = files_of(emit(compiled))["main.tf.json"]["provider"]["google"]["default_labels"]
    assert labels["team"] == "research" and labels["note"] == "__var_x_"
    assert "${" not in json.dumps(labels)


def test_database_role_bindings_have_stable_addresses(lab):
    """Guards DATABASE_ROLES' keys: they name the google_project_iam_member resources
    (<workload>-<database>-client / -instance-user); a renamed key would make Terraform
    destroy and recreate every database grant."""
    res = resources(files_of(emit(lab)), "google_project_iam_member")
    assert all(name.endswith(("-client", "-instance-user")) for name in res)
    assert sum(name.endswith("-client") for name in res) == sum(name.endswith("-instance-user") for name in res) > 0
