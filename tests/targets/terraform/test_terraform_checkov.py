"""Checkov (framework terraform_json) over the emitted Terraform of every example
environment and of the synthetic ones: no failed check except the ones listed here, each
with the reason it does not apply to us."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from compiler.model.environment import Component
from tests.support.helpers import REPO
from tests.support.terraform_helpers import SYNTHETIC_GCP, compile_env, emit, example_environments, load_env, synthetic_aws_text, write_tree


def find_checkov() -> str | None:
    local = REPO / ".tools" / "checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


CHECKOV = find_checkov()
pytestmark = pytest.mark.skipif(CHECKOV is None, reason="checkov not installed (.tools/checkov/bin/checkov or PATH)")

# check id -> (resource names it may fail for (regex on the last address part), reason)
ACCEPTED_FAILURES: dict[str, tuple[str, str]] = {
    "CKV_AWS_144": (
        ".*",
        "cross-region replication is not wanted by default: "
        "a second-region copy is a per-store disaster-recovery and data-residency (gdpr) decision",
    ),
    "CKV2_AWS_62": (
        ".*",
        "S3 event notifications: nothing consumes them; an SNS/EventBridge target per bucket would only add cost and noise",
    ),
    "CKV_AWS_145": (
        "access-logs",
        "S3 server access logging delivers only to buckets encrypted with SSE-S3, so the access-log bucket uses AES256, not KMS",
    ),
    "CKV2_AWS_10": (
        "data-events",
        "the data-event trail goes to a KMS-encrypted S3 bucket with log-file validation; streaming it to CloudWatch Logs has no consumer",
    ),
    "CKV_AWS_252": ("data-events", "SNS notifications of trail log-file deliveries: nothing consumes them"),
    "CKV_GCP_62": ("access-logs", "the access-log bucket does not log access to itself (it would log its own log deliveries)"),
    # --- Azure
    "CKV_AZURE_40": (
        ".*",
        "keys carry a rotation_policy (rotate 30 days before expiry, expire after 365 days); a fixed expiration_date "
        "would be a date in the compiled output that is either stale or changes with every compile",
    ),
    "CKV_AZURE_59": (
        ".*",
        "the AKS subnet reaches the account through a service endpoint, which needs the public endpoint; its firewall "
        "denies everything else (default_action Deny, CKV_AZURE_35 passes)",
    ),
    "CKV_AZURE_33": (".*", "Queue service logging: mlc creates no queues in these accounts (blob-only)"),
    "CKV_AZURE_53": (
        ".*",
        "false positive: the check reads public_network_access_enabled, an azurerm_mysql_server (single server) "
        'attribute; the flexible server sets public_network_access = "Disabled" and runs in a delegated subnet',
    ),
    "CKV2_AZURE_33": (
        ".*",
        "storage is reached through service endpoints and a default-deny firewall, not private endpoints (docs/azure.md)",
    ),
    "CKV2_AZURE_32": (
        "mlc|mlc-geo",
        "the Key Vault is reached through a service endpoint and a default-deny firewall, not a private endpoint",
    ),
    "CKV2_AZURE_56": (
        ".*",
        "flexible servers use private access (VNet integration in a delegated subnet), the alternative to a private endpoint",
    ),
    "CKV2_AZURE_57": (
        ".*",
        "flexible servers use private access (VNet integration in a delegated subnet), the alternative to a private endpoint",
    ),
    "CKV2_AZURE_21": (
        ".*",
        "the check wants azurerm_log_analytics_storage_insights (not in the provider schema mlc validates against); blob "
        "read/write/delete logs of pii and confidential stores go to Log Analytics through diagnostic settings (audit.tf.json)",
    ),
}

# check id -> (what the spec says, predicate on the component): the emitter does what the
# user asked for; the policy engine (not Checkov, not the emitter) judges the choice.
_PUBLIC = ("public: true", lambda c: bool(c.get("public")))
_NO_BACKUPS = ("backup_retention_days: 0", lambda c: c.get("backup_retention_days") == 0)
SPEC_DRIVEN: dict[str, tuple[str, Callable[[Component], bool]]] = {
    "CKV_AWS_157": ("multi_az: false", lambda c: not c.get("multi_az")),
    "CKV_AWS_21": ("versioning: false", lambda c: c.get("versioning") is False),
    "CKV_AWS_53": _PUBLIC,
    "CKV_AWS_54": _PUBLIC,
    "CKV_AWS_55": _PUBLIC,
    "CKV_AWS_56": _PUBLIC,
    "CKV2_AWS_6": _PUBLIC,
    "CKV_GCP_14": _NO_BACKUPS,
    "CKV2_GCP_20": _NO_BACKUPS,
    "CKV_GCP_79": ("`version` pins the engine's major version", lambda c: c.type == "database"),
}

MUST_PASS = {
    "aws": {
        "CKV2_AWS_6",
        "CKV_AWS_21",
        "CKV_AWS_19",
        "CKV2_AWS_61",
        "CKV_AWS_300",
        "CKV_AWS_18",
        "CKV2_AWS_65",
        "CKV_AWS_7",
        "CKV_AWS_33",
        "CKV2_AWS_64",
        "CKV_AWS_60",
        "CKV_AWS_63",
        "CKV2_AWS_40",
    },
    "aws-db": {"CKV_AWS_16", "CKV_AWS_17", "CKV_AWS_133", "CKV_AWS_293", "CKV_AWS_161", "CKV2_AWS_69", "CKV_AWS_354"},
    "gcp": {"CKV_GCP_29", "CKV_GCP_78", "CKV_GCP_114", "CKV_GCP_62", "CKV_GCP_43", "CKV_GCP_82", "CKV_GCP_69", "CKV_GCP_68"},
    "gcp-db": {"CKV_GCP_6", "CKV_GCP_14", "CKV_GCP_110", "CKV_GCP_51", "CKV_GCP_52"},
    "azure": {
        "CKV_AZURE_3",  # HTTPS only
        "CKV_AZURE_44",  # TLS 1.2
        "CKV_AZURE_190",  # no public nested items (blobs)
        "CKV_AZURE_34",  # private containers
        "CKV_AZURE_35",  # storage firewall denies by default
        "CKV_AZURE_206",  # zone/geo-redundant replication
        "CKV_AZURE_244",  # no local users
        "CKV2_AZURE_1",  # customer-managed key
        "CKV_AZURE_42",  # Key Vault recoverable
        "CKV_AZURE_110",  # purge protection
        "CKV_AZURE_109",  # Key Vault firewall
        "CKV_AZURE_112",  # HSM-backed keys
        "CKV_AZURE_168",  # node pools: at least 50 pods
        "CKV_AZURE_227",  # encryption at host
    },
    "azure-db": {"CKV_AZURE_136", "CKV_AZURE_94"},
}


def run_checkov(directory: Path) -> dict:
    # terraform.tf.json holds only the terraform block (versions, backend): Checkov 3.3's
    # terraform_json parser raises "this method receives only dicts" on its string
    # attributes (required_version), so that file is skipped; it has no resources.
    cmd = [
        CHECKOV,
        "-d",
        str(directory),
        "--framework",
        "terraform_json",
        "-o",
        "json",
        "--skip-download",
        "--skip-path",
        r"terraform\.tf\.json",
    ]
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "LOG_LEVEL": "ERROR"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    report = json.loads(proc.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    compiled = [compile_env(e) for e in example_environments()]
    compiled.append(compile_env(load_env(tmp_path_factory.mktemp("synth-src"), {"synth": synthetic_aws_text()}, "synth")))
    compiled.append(compile_env(load_env(tmp_path_factory.mktemp("lab-src"), {"lab": SYNTHETIC_GCP}, "lab")))
    trees = {c.env.name: (c, write_tree(emit(c), tmp_path_factory.mktemp(c.env.name))) for c in compiled}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(trees, pool.map(run_checkov, [t for _, t in trees.values()]), strict=True))
    return {name: (trees[name][0], report) for name, report in results.items()}


def test_no_failures_but_the_accepted_ones(reports):
    unexpected = []
    for name, (compiled, report) in sorted(reports.items()):
        assert report["summary"]["parsing_errors"] == 0, name
        by_resource_name = {c.name.replace("-", "_"): c for c in compiled.env.components.values()}
        for failed in report["results"]["failed_checks"]:
            check_id, resource_name = failed["check_id"], failed["resource"].rsplit(".", 1)[-1]
            allowed = ACCEPTED_FAILURES.get(check_id)
            if allowed is not None and re.fullmatch(allowed[0], resource_name):
                continue
            component = by_resource_name.get(resource_name)
            if check_id in SPEC_DRIVEN and component is not None and SPEC_DRIVEN[check_id][1](component):
                continue
            unexpected.append(f"{name}: {failed['check_id']} {failed['check_name']} -- {failed['resource']} ({failed['file_path']})")
    assert unexpected == [], "\n".join(unexpected)


def test_key_checks_ran_and_passed(reports):
    for name, (compiled, report) in sorted(reports.items()):
        cloud = compiled.env.provider
        passed = {p["check_id"] for p in report["results"]["passed_checks"]}
        wanted = set(MUST_PASS[cloud])
        if any(True for _ in compiled.env.of_type("database")):
            wanted |= MUST_PASS[f"{cloud}-db"]
        assert wanted - passed == set(), name
