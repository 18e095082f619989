"""Terraform and Kubernetes output for Azure: validity against azurerm 4.79.0, storage
accounts and keys, flexible servers, workload identity and grants, AKS node pools and what
the pods select and tolerate, budget, diagnostics, names."""

from __future__ import annotations

import pytest

from compiler.model.kinds import Trait
from compiler.providers import azure, naming
from compiler.targets.kubernetes.emit import emit_kubernetes
from tests.support.terraform_helpers import compile_env, emit, example_environments, files_of, load_env, resources, with_spec
from tests.support.validators import validate_k8s_object, validate_terraform_json, validate_terraform_module

SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
SYNTHETIC = f"""
apiVersion: mlc/v1
kind: Environment
metadata: {{name: lab, labels: {{team: research}}}}
cloud: {{provider: azure, region: swedencentral, subscription: "{SUB}", resource_group: rg-lab}}
cluster:
  name: aks-lab
  node_pools:
    cpu: {{instance_type: Standard_D4s_v5, min: 1, max: 3}}
    gpu-h100: {{instance_type: Standard_NC40ads_H100_v5, min: 0, max: 2}}
gitops: {{repo: "https://git.example.com/ml/platform.git"}}
budget: {{monthly_usd: 1234.5, warn_ratio: 0.7}}
components:
  open-data: {{type: object_store, classification: public, public: true, versioning: false}}
  lake: {{type: data_lake, classification: confidential}}
  db: {{type: database, engine: mysql, version: "8.0", instance_class: GP_Standard_D2ds_v5, storage_gb: 20, backup_retention_days: 0}}
  etl:
    type: job_placeholder
"""


def _synthetic(tmp_path_factory, **changes):
    text = SYNTHETIC.replace(
        "  etl:\n    type: job_placeholder\n",
        "  etl:\n    type: batch_inference\n    image: r.example/etl:1@sha256:" + "a" * 64 + "\n"
        "    command: [run]\n    model: {from: open-data, path: m}\n    reads: [open-data, db]\n    writes: [lake]\n",
    )
    for old, new in changes.items():
        text = text.replace(old, new)
    return compile_env(load_env(tmp_path_factory.mktemp("az"), {"lab": text}, "lab"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    return _synthetic(tmp_path_factory)


@pytest.fixture(scope="module")
def prod():
    return compile_env(next(e for e in example_environments() if e.name == "prod-azure"))


def test_validates_against_the_azurerm_schema(lab, prod):
    for compiled in (lab, prod):
        files = files_of(emit(compiled))
        for fname, doc in files.items():
            assert validate_terraform_json(doc, "azurerm") == [], fname
        assert validate_terraform_module(files, "azurerm") == []
        assert {t.split("_", 1)[0] for doc in files.values() for t in doc.get("resource", {})} == {"azurerm"}


def test_settings_backend_and_provider(prod):
    files = files_of(emit(prod))
    backend = files["terraform.tf.json"]["terraform"]["backend"]["azurerm"]
    assert backend == {
        "subscription_id": SUB,
        "resource_group_name": "ml-prod",
        "storage_account_name": azure.storage_account_name(prod.env, "_tfstate"),
        "container_name": "tfstate",
        "key": "prod-azure.tfstate",
        "use_azuread_auth": True,
    }
    assert files["terraform.tf.json"]["terraform"]["required_providers"] == {
        "azurerm": {"source": "hashicorp/azurerm", "version": "~> 4.79"}
    }
    provider = files["main.tf.json"]["provider"]["azurerm"]
    assert provider["subscription_id"] == SUB and provider["storage_use_azuread"] is True
    vault = resources(files)["azurerm_key_vault.mlc"]
    assert (vault["rbac_authorization_enabled"], vault["purge_protection_enabled"], vault["sku_name"]) == (True, True, "premium")
    assert vault["network_acls"]["default_action"] == "Deny"


def test_storage_accounts_are_hardened(lab):
    res = resources(files_of(emit(lab)))
    for store in ("open_data", "lake"):
        account = res[f"azurerm_storage_account.{store}"]
        assert account["min_tls_version"] == "TLS1_2"
        assert account["shared_access_key_enabled"] is False
        assert account["https_traffic_only_enabled"] is True
        assert account["network_rules"]["default_action"] == "Deny"
        assert account["customer_managed_key"] == {
            "key_vault_key_id": f"${{azurerm_key_vault_key.{store}.versionless_id}}",
            "user_assigned_identity_id": f"${{azurerm_user_assigned_identity.{store}.id}}",
        }
        assert account["depends_on"] == [f"azurerm_role_assignment.{store}"]
        key_grant = res[f"azurerm_role_assignment.{store}"]
        assert key_grant["role_definition_name"] == "Key Vault Crypto Service Encryption User"
        assert key_grant["scope"] == f"${{azurerm_key_vault_key.{store}.resource_versionless_id}}"
        # swedencentral's pair (swedensouth) is allowed: no allowed_regions list
        assert account["account_replication_type"] == "GZRS"
    assert res["azurerm_storage_account.lake"]["is_hns_enabled"] is True
    assert res["azurerm_storage_account.open_data"]["is_hns_enabled"] is False
    # public: true is what the user asked for (MLC-SEC-004 judges it); private otherwise
    assert res["azurerm_storage_account.open_data"]["allow_nested_items_to_be_public"] is True
    assert res["azurerm_storage_account.lake"]["allow_nested_items_to_be_public"] is False
    assert res["azurerm_storage_container.open_data"]["container_access_type"] == "blob"
    assert res["azurerm_storage_data_lake_gen2_filesystem.lake"]["name"] == "lake"
    assert res["azurerm_storage_account.open_data"]["blob_properties"]["versioning_enabled"] is False
    assert "versioning_enabled" not in res["azurerm_storage_account.lake"]["blob_properties"]  # not with HNS


def test_lifecycle_is_a_management_policy(prod):
    res = resources(files_of(emit(prod)))
    (rule,) = res["azurerm_storage_management_policy.raw_events"]["rule"]
    assert rule["actions"] == {
        "base_blob": {
            "tier_to_cool_after_days_since_modification_greater_than": 30,
            "tier_to_cold_after_days_since_modification_greater_than": 90,
            "delete_after_days_since_modification_greater_than": 365,
        },
        "version": {"delete_after_days_since_creation": 90},
    }
    assert rule["filters"] == {"blob_types": ["blockBlob"]}


def test_geo_redundancy_follows_the_region_pair_and_allowed_regions(prod, tmp_path_factory):
    res = resources(files_of(emit(prod)))  # westeurope, pair northeurope is allowed
    pg = res["azurerm_postgresql_flexible_server.metadata_db"]
    assert pg["geo_redundant_backup_enabled"] is True
    assert pg["customer_managed_key"]["geo_backup_key_vault_key_id"] == "${azurerm_key_vault_key.metadata_db-geo.versionless_id}"
    assert res["azurerm_user_assigned_identity.metadata_db-geo"]["location"] == "northeurope"
    assert resources(files_of(emit(prod)), "azurerm_key_vault")["azurerm_key_vault.mlc-geo"]["location"] == "northeurope"
    only_home = with_spec(prod.env, lambda s: s["compliance"].update(allowed_regions=["westeurope"]))
    res = resources(files_of(emit(compile_env(only_home))))
    assert res["azurerm_postgresql_flexible_server.metadata_db"]["geo_redundant_backup_enabled"] is False
    assert "geo_backup_key_vault_key_id" not in res["azurerm_postgresql_flexible_server.metadata_db"]["customer_managed_key"]
    assert "azurerm_key_vault.mlc-geo" not in res
    assert res["azurerm_storage_account.models"]["account_replication_type"] == "ZRS"


def test_flexible_servers(prod, lab):
    res = resources(files_of(emit(prod)))
    pg = res["azurerm_postgresql_flexible_server.metadata_db"]
    assert pg["high_availability"] == {"mode": "ZoneRedundant", "standby_availability_zone": "2"}
    assert pg["authentication"] == {
        "active_directory_auth_enabled": True,
        "password_auth_enabled": False,
        "tenant_id": "${data.azurerm_client_config.current.tenant_id}",
    }
    assert (pg["public_network_access_enabled"], pg["storage_mb"], pg["backup_retention_days"], pg["version"]) == (False, 524288, 14, "16")
    assert pg["delegated_subnet_id"] == "${var.postgres_subnet_id}"
    assert res["azurerm_postgresql_flexible_server_configuration.metadata_db-require-secure-transport"]["value"] == "on"
    mysql = resources(files_of(emit(lab)))["azurerm_mysql_flexible_server.db"]
    assert mysql["public_network_access"] == "Disabled"
    assert (
        mysql["administrator_password_wo"]
        == '${var.mysql_admin_passwords["' + azure.flexible_server_name(lab.env, lab.env.components["db"]) + '"]}'
    )
    assert "administrator_password" not in mysql and "high_availability" not in mysql
    assert mysql["backup_retention_days"] == 1 and mysql["version"] == "8.0.21" and mysql["storage"]["size_gb"] == 20
    variables = files_of(emit(lab))["variables.tf.json"]["variable"]
    assert variables["mysql_admin_passwords"]["ephemeral"] is True and variables["mysql_admin_passwords"]["sensitive"] is True


def test_role_assignments_are_exactly_the_graph_grants_at_container_scope(lab, prod):
    for compiled in (lab, prod):
        env = compiled.env
        res = resources(files_of(emit(compiled)))
        assignments = {a: b for a, b in res.items() if a.startswith("azurerm_role_assignment.")}
        for workload, grants in compiled.grants.items():
            tf = workload.replace("-", "_")
            principal = f"${{azurerm_user_assigned_identity.{tf}.principal_id}}"
            mine = {b["scope"]: b["role_definition_name"] for b in assignments.values() if b["principal_id"] == principal}
            expected = {}
            for store in grants.stores:
                component = env.components[store]
                if component.has(Trait.BUCKET):
                    account = f"${{azurerm_storage_account.{store.replace('-', '_')}.id}}"
                    scope = f"{account}/blobServices/default/containers/{azure.container_name(component)}"
                    expected[scope] = "Storage Blob Data Contributor" if store in grants.writes else "Storage Blob Data Reader"
            assert mine == expected, workload
        for body in assignments.values():  # nothing subscription-, resource-group- or account-wide
            assert "/containers/" in body["scope"] or body["scope"].startswith("${azurerm_key_vault"), body["scope"]
    etl = {b["role_definition_name"] for a, b in resources(files_of(emit(lab))).items() if a.startswith("azurerm_role_assignment.etl-")}
    assert etl == {"Storage Blob Data Reader", "Storage Blob Data Contributor"}


def test_node_pools_spot_gpu_and_what_pods_tolerate(prod, lab):
    res = resources(files_of(emit(prod)))
    gpu = res["azurerm_kubernetes_cluster_node_pool.gpu_a100"]
    assert (gpu["priority"], gpu["eviction_policy"], gpu["spot_max_price"], gpu["gpu_driver"]) == ("Spot", "Delete", -1, "Install")
    assert gpu["node_taints"] == ["nvidia.com/gpu=present:NoSchedule", "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    assert gpu["node_labels"] == {"kubernetes.azure.com/scalesetpriority": "spot", naming.NODE_POOL_LABEL: "gpu-a100"}
    assert gpu["name"] == "gpua100" and gpu["vm_size"] == "Standard_NC96ads_A100_v4"
    assert (
        gpu["kubernetes_cluster_id"]
        == f"/subscriptions/{SUB}/resourceGroups/ml-prod/providers/Microsoft.ContainerService/managedClusters/aks-ml-prod"
    )
    cpu = res["azurerm_kubernetes_cluster_node_pool.cpu"]
    assert "priority" not in cpu and "node_taints" not in cpu and cpu["upgrade_settings"] == {"max_surge": "1"}
    assert resources(files_of(emit(lab)))["azurerm_kubernetes_cluster_node_pool.gpu_h100"]["node_taints"] == [
        "nvidia.com/gpu=present:NoSchedule"
    ]
    # Kubernetes: the training job on the spot GPU pool selects it and tolerates both taints
    objects = {(o.content["kind"], o.content["metadata"]["name"]): o.content for o in emit_kubernetes(prod) if "metadata" in o.content}
    spark = objects[("ServiceAccount", "feature-etl")]
    assert spark["metadata"]["annotations"][azure.CLIENT_ID_ANNOTATION] == "3c1e5a7b-9d2f-4e6a-8b1c-0d2e4f6a8b1c"
    from compiler.targets.kubernetes.workloads import build_run_object

    job = build_run_object(prod, prod.env.components["train-ranker"])  # a PyTorchJob run by the nightly pipeline
    tolerations = list(_find(job, "tolerations"))
    assert list(_find(job, "nodeSelector")) == [] and "'mlc.dev/node-pool': 'gpu-a100'" in str(job)
    spot = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot", "effect": "NoSchedule"}
    assert spot in tolerations and {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in tolerations
    assert not [t for t in tolerations if t["key"] == naming.SPOT_TAINT_KEY]


def _find(value, key):
    """Every list under `key` anywhere in value, flattened."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and isinstance(v, list):
                yield from v
            else:
                yield from _find(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from _find(v, key)


def test_pods_carry_the_workload_identity_label_and_blob_uris(prod):
    objects = {(o.content["kind"], o.content["metadata"]["name"]): o.content for o in emit_kubernetes(prod) if "metadata" in o.content}
    isvc = objects[("InferenceService", "ranker")]
    predictor = isvc["spec"]["predictor"]
    assert predictor["labels"][azure.USE_LABEL] == "true"
    account = azure.storage_account_name(prod.env, prod.env.components["models"])
    assert predictor["model"]["storageUri"] == f"https://{account}.blob.core.windows.net/models/ranker/v12"
    deployment = objects[("Deployment", "ranker-fallback")]
    assert deployment["spec"]["template"]["metadata"]["labels"][azure.USE_LABEL] == "true"
    assert azure.USE_LABEL not in deployment["spec"]["selector"]["matchLabels"]
    for obj in objects.values():
        assert validate_k8s_object(obj) == [], obj["metadata"]["name"]
    # egress: 443 anywhere covers the Entra ID token endpoint and the blob endpoints
    policy = objects[("NetworkPolicy", "ranker")]
    assert {"ports": [{"protocol": "TCP", "port": 443}]} in policy["spec"]["egress"]


def test_unrecorded_client_id_leaves_the_annotation_out(prod):
    env = with_spec(prod.env, lambda s: s["cloud"]["workload_client_ids"].pop("ranker"))
    compiled = compile_env(env)
    sa = next(o.content for o in emit_kubernetes(compiled) if o.content.get("kind") == "ServiceAccount" and o.component == "ranker")
    assert azure.CLIENT_ID_ANNOTATION not in sa["metadata"]["annotations"]


def test_budget_and_diagnostics(lab, prod):
    files = files_of(emit(lab))
    budget = resources(files)["azurerm_consumption_budget_resource_group.monthly"]
    assert budget["amount"] == 1234.5 and budget["resource_group_id"] == f"/subscriptions/{SUB}/resourceGroups/rg-lab"
    assert budget["filter"] == {"tag": {"name": "mlc-environment", "operator": "In", "values": ["lab"]}}
    assert [(n["threshold"], n["threshold_type"]) for n in budget["notification"]] == [(70, "Actual"), (100, "Actual"), (100, "Forecasted")]
    diagnostics = resources(files, "azurerm_monitor_diagnostic_setting")
    assert set(diagnostics) == {"azurerm_monitor_diagnostic_setting.lake", "azurerm_monitor_diagnostic_setting.key-vault"}
    lake = diagnostics["azurerm_monitor_diagnostic_setting.lake"]
    assert lake["enabled_log"] == [{"category": "StorageRead"}, {"category": "StorageWrite"}, {"category": "StorageDelete"}]
    assert lake["target_resource_id"] == "${azurerm_storage_account.lake.id}/blobServices/default"
    prod_diag = resources(files_of(emit(prod)), "azurerm_monitor_diagnostic_setting")
    assert {a.rsplit(".", 1)[1] for a in prod_diag} == {
        "raw_events",
        "features",
        "models",
        "predictions",
        "mlflow_artifacts",
        "key-vault",
    }  # the pii stores and the vault


def test_names_follow_azure_rules(prod, tmp_path_factory):
    env = prod.env
    for store in env.with_trait(Trait.BUCKET):
        name = azure.storage_account_name(env, store)
        assert 3 <= len(name) <= 24 and name.isalnum() and name.islower()
    assert azure.storage_account_name(env, "dev-eu") != azure.storage_account_name(env, "deveu")
    kv = azure.key_vault_name(env)
    assert 3 <= len(kv) <= 24 and "--" not in kv and kv[0].isalpha()
    assert azure.aks_pool_name(env, "gpu-a100") == "gpua100"
    pools = {"gpu-a": {}, "gpua": {}, "a-very-long-pool-name": {}, "1x": {}}
    odd = with_spec(env, lambda s: s["cluster"].update(node_pools=pools))
    names = {p: azure.aks_pool_name(odd, p) for p in pools}
    assert len(set(names.values())) == 4
    assert all(1 <= len(n) <= 12 and n.isalnum() and n[0].isalpha() for n in names.values()), names


def test_override_checks_know_azure_weakenings(prod):
    from compiler.policy.checks_overrides import PUBLIC, WILDCARD, terraform_facts

    # what mlc emits for prod-azure has no weakness the override rules look for
    for address, body in resources(files_of(emit(prod))).items():
        assert terraform_facts(address.split(".", 1)[0], body) == {PUBLIC: set(), WILDCARD: set()}, address
    account = terraform_facts("azurerm_storage_account", {"allow_nested_items_to_be_public": False, "shared_access_key_enabled": True})
    assert account[PUBLIC] == {"shared_access_key_enabled is not false (account keys and SAS tokens bypass Entra ID)"}
    assert terraform_facts("azurerm_storage_container", {"container_access_type": "container"})[PUBLIC] == {
        "container_access_type is container"
    }
    wide = terraform_facts(
        "azurerm_role_assignment", {"role_definition_name": "Contributor", "scope": f"/subscriptions/{SUB}/resourceGroups/ml"}
    )
    assert wide[WILDCARD] == {
        "assigns the broad role Contributor",
        f"is scoped to /subscriptions/{SUB}/resourceGroups/ml (a subscription or resource group, not one container)",
    }
    assert terraform_facts(
        "azurerm_role_assignment", {"role_definition_name": "Storage Blob Data Reader", "scope": f"/subscriptions/{SUB}"}
    )[WILDCARD] == {f"is scoped to /subscriptions/{SUB} (a subscription or resource group, not one container)"}


def test_documented_cluster_secret_store_is_valid():
    import yaml

    from tests.support.helpers import REPO

    text = (REPO / "docs" / "azure.md").read_text(encoding="utf-8")
    block = text.split("```yaml\napiVersion: external-secrets.io/v1\n", 1)[1].split("```", 1)[0]
    store = yaml.safe_load(
        "apiVersion: external-secrets.io/v1\n" + block.replace("https://<key_vault_uri output>", "https://kv.vault.azure.net")
    )
    assert store["metadata"]["name"] == naming.secret_store(load_prod_env())
    assert validate_k8s_object(store) == []


def load_prod_env():
    return next(e for e in example_environments() if e.name == "prod-azure")
