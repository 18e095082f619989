"""The explicit list of built-in Python checks: rule id -> predicate. No import-time magic.

Adding a rule: write its catalog entry (catalog.py), its check function (checks_*.py),
one line here, and a failing and a passing fixture in tests/policy/test_policy_rules.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from compiler.plan.compiled import Compiled
from compiler.policy import checks_governance as gov
from compiler.policy import checks_reliability as rel
from compiler.policy import checks_security as sec
from compiler.policy import checks_streaming as streaming
from compiler.policy.hits import Hit

Check = Callable[[Compiled], Iterable[Hit]]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("MLC-SEC-001", sec.plaintext_credentials),
    ("MLC-SEC-002", sec.sensitive_public_store),
    ("MLC-SEC-003", sec.public_endpoint_pii_model),
    ("MLC-SEC-004", sec.public_store),
    ("MLC-SEC-005", sec.image_not_pinned),
    ("MLC-SEC-006", sec.public_endpoint_confidential_model),
    ("MLC-SEC-007", sec.credential_named_plaintext),
    ("MLC-SEC-008", sec.sensitive_store_unversioned),
    ("MLC-IAM-001", sec.admin_to_everyone),
    ("MLC-IAM-002", sec.admin_to_every_group),
    ("MLC-IAM-003", sec.editor_to_everyone),
    ("MLC-IAM-004", sec.grants_match_declarations),
    ("MLC-IAM-005", sec.grants_without_wildcards),
    ("MLC-IAM-006", sec.duplicate_access_group),
    ("MLC-NET-001", sec.public_endpoint_unbounded),
    ("MLC-NET-002", sec.public_endpoint_writes),
    ("MLC-BUD-001", gov.over_budget),
    ("MLC-BUD-002", gov.near_budget),
    ("MLC-BUD-003", gov.no_budget),
    ("MLC-BUD-004", gov.cost_suggestions),
    ("MLC-BUD-005", gov.large_store_without_lifecycle),
    ("MLC-BUD-006", gov.gpu_job_without_deadline),
    ("MLC-BUD-007", gov.gpu_pool_always_on),
    ("MLC-GOV-001", gov.region_not_allowed),
    ("MLC-GOV-004", gov.classification_below_lineage),
    ("MLC-GOV-005", gov.pii_without_expiry),
    ("MLC-GOV-006", gov.pii_without_compliance),
    ("MLC-GOV-070", gov.confidential_computing),
    ("MLC-REL-001", rel.spot_training_without_checkpoint),
    ("MLC-REL-002", rel.checkpoints_outlive_run),
    ("MLC-REL-003", rel.serving_without_slo),
    ("MLC-REL-004", rel.serving_unmonitored),
    ("MLC-REL-005", rel.prod_serving_single_replica),
    ("MLC-REL-006", rel.prod_database_single_az),
    ("MLC-REL-007", rel.prod_database_short_backups),
    ("MLC-REL-008", rel.spot_pipeline_without_retries),
    ("MLC-REL-009", rel.pipeline_without_failure_handler),
    ("MLC-REL-010", rel.failure_handler_is_step),
    ("MLC-REL-011", rel.prod_serving_on_spot),
    ("MLC-REL-012", rel.high_availability_single_replica),
    ("MLC-REL-013", rel.monitoring_without_alerts),
    ("MLC-REL-050", rel.capacity_headroom),
    ("MLC-SEC-060", streaming.pii_stream_unencrypted),
    ("MLC-SEC-061", streaming.pii_stream_retention),
    ("MLC-SEC-062", streaming.pii_online_store_unprotected),
    ("MLC-REL-060", streaming.spot_stream_job_without_checkpoint),
    ("MLC-REL-061", streaming.spot_stream_job_checkpoints_rarely),
)

# rules whose findings come from the waiver pass (waivers.py), not from a check
WAIVER_RULES = ("MLC-GOV-002", "MLC-GOV-003")
# rules on the patched output of `overrides:` (checks_overrides.py), not on the model
OVERRIDE_RULES = ("MLC-SEC-050", "MLC-SEC-051", "MLC-SEC-052", "MLC-IAM-050", "MLC-IAM-051")
