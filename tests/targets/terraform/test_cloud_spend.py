"""Budgets see the spend, and regional correctness of the emitted Terraform:

* the budget filter's tag (AWS) / label (GCP) is carried by every instance and disk the node
  pools create (EKS: launch-template tag_specifications; GKE: node_config.resource_labels);
* GKE pools of accelerator machine types are pinned to zones that offer them, and a region
  without such a zone is MLC-E064 at the pool's instance_type line;
* the Cloud SQL CMEK grant waits for the Cloud SQL API; secrets stay in the region.
"""

from __future__ import annotations

import pytest

from compiler.core.diagnostics import InputError
from tests.support.helpers import compiled_env
from tests.support.terraform_helpers import compile_env, emit, example_environments, files_of, resources

EXAMPLES = {e.name: e for e in example_environments()}


def _tf(name: str):
    return files_of(emit(compile_env(EXAMPLES[name])))


@pytest.mark.parametrize("name", sorted(n for n, e in EXAMPLES.items() if e.provider == "aws"))
def test_aws_budget_filter_matches_the_tags_of_instances_and_volumes(name):
    files = _tf(name)
    (budget,) = resources(files, "aws_budgets_budget").values()
    ((flt,),) = [[f for f in budget["cost_filter"] if f["name"] == "TagKeyValue"]]
    (value,) = flt["values"]
    assert value.startswith("user:")  # a user-defined cost allocation tag: user:<key>$<value>
    key, tag_value = value[len("user:") :].split("$", 1)
    groups = resources(files, "aws_eks_node_group")
    templates = resources(files, "aws_launch_template")
    assert groups and len(templates) == len(groups)
    for address, group in groups.items():
        template_name = group["launch_template"]["id"].removeprefix("${aws_launch_template.").removesuffix(".id}")
        template = templates[f"aws_launch_template.{template_name}"]
        specs = {s["resource_type"]: s["tags"] for s in template["tag_specifications"]}
        assert set(specs) == {"instance", "volume"}, address
        for tags in specs.values():
            assert tags[key] == tag_value == name, address
        assert "disk_size" not in group  # EKS refuses disk_size next to a launch template
        assert template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"


def test_gcp_budget_filter_matches_the_labels_of_the_pool_vms():
    files = _tf("research-gcp")
    (budget,) = resources(files, "google_billing_budget").values()
    wanted = budget["budget_filter"]["labels"]
    assert wanted == {"mlc-environment": "research-gcp"}
    pools = resources(files, "google_container_node_pool")
    assert pools
    for address, pool in pools.items():
        labels = pool["node_config"]["resource_labels"]
        assert {k: labels.get(k) for k in wanted} == wanted, address


def test_gke_gpu_pool_is_pinned_to_the_zones_offering_its_machine_type():
    pools = resources(_tf("research-gcp"), "google_container_node_pool")
    # a2-highgpu in europe-west4: zones a and b (pricing data, machine_zones)
    assert pools["google_container_node_pool.gpu_a100"]["node_locations"] == ["europe-west4-a", "europe-west4-b"]
    assert "node_locations" not in pools["google_container_node_pool.cpu"]  # n2: every zone


GCP_ENV = """apiVersion: mlc/v1
kind: Environment
metadata: {name: g1}
cloud: {provider: gcp, region: REGION, account: proj-1}
cluster:
  name: c1
  node_pools:
    cpu: {instance_type: n2-standard-8, min: 1, max: 3}
    h100: {instance_type: a3-highgpu-1g, max: 2}  # <-
gitops: {repo: "https://git.example.com/ml/platform.git"}
components: {}
"""


def test_a_region_without_a_zone_for_the_machine_type_is_an_error(tmp_path):
    text = GCP_ENV.replace("REGION", "europe-west2")  # no a3-highgpu zone there in the table
    with pytest.raises(InputError) as err:
        compiled_env(tmp_path, {"g1": text}, "g1")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "# <-" in row)
    assert [(d.code, d.location.file, d.location.line) for d in err.value.diagnostics] == [("MLC-E064", "environments/g1.yaml", line)]
    assert "no zone of europe-west2 offers a3-highgpu-1g" in err.value.diagnostics[0].message


def test_cloud_sql_key_grant_waits_for_the_api_and_secrets_stay_in_the_region():
    files = _tf("research-gcp")
    grant = resources(files, "google_kms_crypto_key_iam_member")["google_kms_crypto_key_iam_member.experiments_db-cloudsql-agent"]
    api = resources(files, "google_project_service")
    assert grant["depends_on"] == ["google_project_service.experiments_db-sqladmin"]
    assert api["google_project_service.experiments_db-sqladmin"] == {"service": "sqladmin.googleapis.com", "disable_on_destroy": False}
    for address, secret in resources(files, "google_secret_manager_secret").items():
        assert secret["replication"] == {"user_managed": {"replicas": [{"location": "europe-west4"}]}}, address
        assert "europe-west4" in EXAMPLES["research-gcp"].spec["compliance"]["allowed_regions"]
