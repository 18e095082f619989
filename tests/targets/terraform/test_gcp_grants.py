"""GCP grants, table-driven and static (there is no GCP emulator that enforces IAM): for every
workload edge the roles bound on that bucket / dataset hold the permissions the client's
requests need, nothing is bound on another store, delete only where declared, and a path
edge is conditioned to that path.

Role permissions (the object-level `storage.*` and table-level `bigquery.*` subset that
decides data access) are from Google's predefined-role reference:
  https://cloud.google.com/iam/docs/roles-permissions/storage  (roles/storage.objectViewer,
    roles/storage.objectCreator, roles/storage.objectUser)
  https://cloud.google.com/iam/docs/roles-permissions/bigquery (roles/bigquery.dataViewer,
    roles/bigquery.dataEditor)
Permissions per request are from https://cloud.google.com/storage/docs/access-control/iam-xml
and iam-json: GET object -> storage.objects.get; GET bucket (list) -> storage.objects.list;
POST/PUT object -> storage.objects.create, plus storage.objects.delete when it replaces an
existing object; multipart -> storage.multipartUploads.create / listParts / abort.
"""

from __future__ import annotations

import pytest

from tests.support.terraform_helpers import SYNTHETIC_GCP, compile_env, emit, example_environments, files_of, load_env, resources

ROLE_PERMISSIONS = {
    "roles/storage.objectViewer": {"storage.objects.get", "storage.objects.list", "storage.folders.get", "storage.folders.list"},
    "roles/storage.objectCreator": {
        "storage.objects.create",
        "storage.multipartUploads.create",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.listParts",
        "storage.folders.create",
    },
    "roles/storage.objectUser": {
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
        "storage.objects.restore",
        "storage.objects.update",
        "storage.multipartUploads.abort",
        "storage.multipartUploads.create",
        "storage.multipartUploads.list",
        "storage.multipartUploads.listParts",
        "storage.folders.create",
        "storage.folders.delete",
        "storage.folders.get",
        "storage.folders.list",
        "storage.folders.rename",
    },
    "roles/bigquery.dataViewer": {"bigquery.datasets.get", "bigquery.tables.get", "bigquery.tables.getData", "bigquery.tables.list"},
    "roles/bigquery.dataEditor": {
        "bigquery.datasets.get",
        "bigquery.tables.get",
        "bigquery.tables.getData",
        "bigquery.tables.list",
        "bigquery.tables.create",
        "bigquery.tables.update",
        "bigquery.tables.updateData",
        "bigquery.tables.delete",
    },
}

READ = {"storage.objects.get", "storage.objects.list"}
WRITE = READ | {"storage.objects.create", "storage.multipartUploads.create", "storage.multipartUploads.listParts"}
DELETE = {"storage.objects.delete"}
CATALOG = {
    "read": {"bigquery.datasets.get", "bigquery.tables.get", "bigquery.tables.getData", "bigquery.tables.list"},
    "write": {"bigquery.tables.create", "bigquery.tables.update", "bigquery.tables.updateData"},
}


def needed(access) -> set[str]:
    return (WRITE if access.write else READ) | (DELETE if access.delete else set())


def gcp_examples():
    return [e for e in example_environments() if e.provider == "gcp"]


@pytest.fixture(scope="module")
def gcp_compiled(tmp_path_factory):
    synthetic = load_env(tmp_path_factory.mktemp("lab"), {"lab": SYNTHETIC_GCP}, "lab")
    return [compile_env(e) for e in [*gcp_examples(), synthetic]]


def bindings_by_store(res: dict, workload_tf: str) -> tuple[dict, dict]:
    member = f"serviceAccount:${{google_service_account.{workload_tf}.email}}"
    buckets: dict[str, list[dict]] = {}
    datasets: dict[str, list[dict]] = {}
    for address, body in res.items():
        if body.get("member") != member:
            continue
        if address.startswith("google_storage_bucket_iam_member."):
            buckets.setdefault(body["bucket"].split(".")[1], []).append(body)
        elif address.startswith("google_bigquery_dataset_iam_member."):
            datasets.setdefault(body["dataset_id"].split(".")[1], []).append(body)
    return buckets, datasets


def condition_for(prefix: str, bucket_ref: str) -> dict:
    base = f"projects/_/buckets/{bucket_ref}"
    return {
        "title": f"only {prefix}",
        "expression": f"resource.name == '{base}' || resource.name == '{base}/objects/' + '{prefix}' || "
        f"resource.name.startsWith('{base}/objects/' + '{prefix}/')",
    }


def test_every_gcp_edge_has_the_permissions_its_client_needs_and_no_more(gcp_compiled):
    checked = 0
    for compiled in gcp_compiled:
        env = compiled.env
        res = resources(files_of(emit(compiled)))
        for workload, grants in compiled.grants.items():
            buckets, datasets = bindings_by_store(res, workload.replace("-", "_"))
            bucket_accesses = [a for a in grants.access if env.components[a.store].type != "database"]
            assert set(buckets) == {a.store.replace("-", "_") for a in bucket_accesses}, workload
            for access in bucket_accesses:
                tf = access.store.replace("-", "_")
                ref = f"${{google_storage_bucket.{tf}.name}}"
                mine = [b for b in buckets[tf] if b.get("condition") == (condition_for(access.prefix, ref) if access.prefix else None)]
                granted = set().union(*(ROLE_PERMISSIONS[b["role"]] for b in mine))
                assert needed(access) <= granted, (workload, access)
                if access.prefix and not access.delete:
                    assert "storage.objects.delete" not in granted, (workload, access)
                if access.catalog:
                    roles = {d["role"] for d in datasets[tf]}
                    assert any(CATALOG[access.catalog] <= ROLE_PERMISSIONS[r] for r in roles), (workload, access)
                    if not any(a.catalog == "write" for a in bucket_accesses if a.store == access.store):
                        assert roles == {"roles/bigquery.dataViewer"}, (workload, access)
                checked += 1
            assert set(datasets) == {a.store.replace("-", "_") for a in bucket_accesses if a.catalog}, workload
            for tf, bs in buckets.items():  # delete on the whole bucket only where a whole-store edge deletes
                whole_delete = any("storage.objects.delete" in ROLE_PERMISSIONS[b["role"]] for b in bs if "condition" not in b)
                declared = any(a.delete and not a.prefix for a in bucket_accesses if a.store.replace("-", "_") == tf)
                assert whole_delete == declared, (workload, tf)
    assert checked >= 8


def test_serving_reads_only_its_model_path_on_gcp():
    (research,) = [compile_env(e) for e in gcp_examples()]
    res = resources(files_of(emit(research)))
    bindings = [b for a, b in res.items() if a.startswith("google_storage_bucket_iam_member.demo-")]
    ref = "${google_storage_bucket.checkpoints.name}"
    assert bindings == [
        {
            "bucket": ref,
            "role": "roles/storage.objectViewer",
            "member": "serviceAccount:${google_service_account.demo.email}",
            "condition": condition_for("demo/latest", ref),
        }
    ]
    pretrain = {a: b for a, b in res.items() if a.startswith("google_storage_bucket_iam_member.pretrain-checkpoints")}
    assert {b["role"] for b in pretrain.values()} == {
        "roles/storage.objectCreator",
        "roles/storage.objectViewer",
        "roles/storage.objectUser",
    }
    (ckpt,) = [b for b in pretrain.values() if b["role"] == "roles/storage.objectUser"]
    assert ckpt["condition"] == condition_for("pretrain", ref)
