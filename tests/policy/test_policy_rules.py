"""Every rule (Python and built-in KCL): a failing and a passing fixture.

Each case is a tiny environment. The failing spec marks the line the finding must point at
with `# <-` (or names a text `at` on that line); the test asserts the rule's findings are
exactly [(component, environments/e1.yaml, that line)], and that the passing spec has none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from compiler.plan.compiled import Compiled, WorkloadGrants
from compiler.policy.catalog import CATALOG
from compiler.policy.engine import all_rules, run_policies
from compiler.policy.registry import CHECKS
from tests.support.helpers import compiled_env

TODAY = date(2026, 6, 1)
DIGEST = "@sha256:" + "ab" * 32
IMG = f"reg.example.com/ml/app:1.0{DIGEST}"
POOLS = """    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    spotcpu: {instance_type: m6i.2xlarge, min: 0, max: 3, spot: true}
    gpu: {instance_type: g5.2xlarge, min: 0, max: 2}"""


def spec(
    components: str,
    top: str = "",
    labels: str = "{team: t1, cost-center: cc-1}",
    budget: str = "budget: {monthly_usd: 100000}",
    pools: str = POOLS,
) -> str:
    body = "\n".join("  " + line for line in components.strip("\n").splitlines())
    return "\n".join(
        [
            "apiVersion: mlc/v1",
            "kind: Environment",
            "metadata:",
            "  name: e1",
            f"  labels: {labels}",
            'cloud: {provider: aws, region: eu-west-1, account: "123456789012"}',
            "cluster:",
            "  name: c1",
            "  node_pools:",
            pools,
            'gitops: {repo: "https://git.example.com/ml/platform.git"}',
            budget,
            top.strip("\n"),
            "components:",
            body,
            "",
        ]
    )


def job(name: str, extra: str = "", reads: str = "[]", writes: str = "[]") -> str:
    lines = [f"{name}:", "  type: spark_job", f"  image: {IMG}", "  main: local:///app.py", f"  reads: {reads}", f"  writes: {writes}"]
    return "\n".join(lines + ["  " + ln for ln in extra.strip("\n").splitlines()]) + "\n"


def training(name: str, extra: str = "", reads: str = "[]", writes: str = "[]") -> str:
    lines = [f"{name}:", "  type: training_job", f"  image: {IMG}", f"  reads: {reads}", f"  writes: {writes}"]
    return "\n".join(lines + ["  " + ln for ln in extra.strip("\n").splitlines()]) + "\n"


def serving(name: str, extra: str = "", model: str = "models") -> str:
    lines = [f"{name}:", "  type: serving", f"  model: {{from: {model}, path: m/v1}}", "  runtime: sklearn"]
    return "\n".join(lines + ["  " + ln for ln in extra.strip("\n").splitlines()]) + "\n"


STORES = "models: {type: object_store}\nraw: {type: object_store, classification: pii}\n"
PROD = "{team: t1, cost-center: cc-1, env: prod}"
WAIVE = 'reason: "reviewed and accepted", expires: "2027-01-01"'


def tamper_reads(c: Compiled) -> Compiled:
    grants = dict(c.grants)
    grants["etl"] = WorkloadGrants("etl", ("models", "raw"), grants["etl"].writes)
    return dataclasses.replace(c, grants=grants)


def tamper_wildcard(c: Compiled) -> Compiled:
    grants = dict(c.grants)
    grants["etl"] = WorkloadGrants("etl", ("*",), grants["etl"].writes)
    return dataclasses.replace(c, grants=grants)


@dataclass(frozen=True)
class Case:
    rule: str
    bad: str  # failing environment file
    good: str  # passing environment file
    component: str | None
    at: str = "# <-"  # text on the expected line of `bad`
    mutate: Callable[[Compiled], Compiled] | None = None  # for invariants the spec cannot break


CASES = [
    Case(
        "MLC-SEC-001",
        spec(job("etl", 'env:\n  GH_PAT: "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"  # <-')),
        spec(job("etl", 'env:\n  GH_PAT: {secret: "ci/github#pat"}')),
        "etl",
    ),
    Case(
        "MLC-SEC-002",
        spec("data: {type: object_store, classification: pii, public: true}  # <-"),
        spec("data: {type: object_store, classification: pii}"),
        "data",
    ),
    Case(
        "MLC-SEC-003",
        spec(STORES + training("train", reads="[raw]", writes="[models]") + serving("api", "public: true  # <-")),
        spec(STORES + training("train", reads="[raw]", writes="[models]") + serving("api")),
        "api",
    ),
    Case(
        "MLC-SEC-004",
        spec("open: {type: object_store, classification: public, public: true}  # <-"),
        spec("open: {type: object_store, classification: public}"),
        "open",
    ),
    Case("MLC-SEC-005", spec(job("etl").replace(f"image: {IMG}", "image: reg.example.com/ml/app:1.0  # <-")), spec(job("etl")), "etl"),
    Case(
        "MLC-SEC-006",
        spec(
            "models: {type: object_store}\nsrc: {type: object_store, classification: confidential}\n"
            + training("train", reads="[src]", writes="[models]")
            + serving("api", "public: true  # <-")
        ),
        spec(
            "models: {type: object_store}\nsrc: {type: object_store, classification: confidential}\n"
            + training("train", reads="[src]", writes="[models]")
            + serving("api")
        ),
        "api",
    ),
    Case(
        "MLC-SEC-007",
        spec(job("etl", 'env:\n  DB_PASSWORD: "hunter2"  # <-')),
        spec(job("etl", 'env:\n  DB_PASSWORD: {secret: "db/main#password"}\n  TOKENIZER: "bpe"')),
        "etl",
    ),
    Case(
        "MLC-SEC-008",
        spec("data: {type: object_store, classification: pii, versioning: false}  # <-"),
        spec("data: {type: object_store, classification: pii}"),
        "data",
    ),
    Case(
        "MLC-IAM-001",
        spec("{}", top='access:\n  - {group: "*", role: admin}  # <-'),
        spec("{}", top='access:\n  - {group: "*", role: viewer}'),
        None,
    ),
    Case(
        "MLC-IAM-002",
        spec("{}", top="access:  # <-\n  - {group: a, role: admin}\n  - {group: b, role: admin}"),
        spec("{}", top="access:\n  - {group: a, role: admin}\n  - {group: b, role: viewer}"),
        None,
    ),
    Case(
        "MLC-IAM-003",
        spec("{}", top='access:\n  - {group: "*", role: editor}  # <-'),
        spec("{}", top="access:\n  - {group: ops, role: editor}"),
        None,
    ),
    Case(
        "MLC-IAM-004",
        spec(STORES + job("etl", reads="[models]").replace("etl:", "etl:  # <-", 1)),
        spec(STORES + job("etl", reads="[models]")),
        "etl",
        mutate=tamper_reads,
    ),
    Case(
        "MLC-IAM-005",
        spec(STORES + job("etl", reads="[models]").replace("etl:", "etl:  # <-", 1)),
        spec(STORES + job("etl", reads="[models]")),
        "etl",
        mutate=tamper_wildcard,
    ),
    Case(
        "MLC-IAM-006",
        spec("{}", top="access:\n  - {group: a, role: viewer}\n  - {group: a, role: admin}  # <-"),
        spec("{}", top="access:\n  - {group: a, role: viewer}\n  - {group: b, role: admin}"),
        None,
    ),
    Case(
        "MLC-NET-001",
        spec("models: {type: object_store}\n" + serving("api", "public: true").replace("api:", "api:  # <-", 1)),
        spec(
            "models: {type: object_store}\n"
            + serving("api", "public: true\nreplicas: {min: 1, max: 5}\nautoscaling: {metric: rps, target: 50}")
        ),
        "api",
    ),
    Case(
        "MLC-NET-002",
        spec("models: {type: object_store}\nlogs: {type: object_store}\n" + serving("api", "public: true\nwrites: [logs]  # <-")),
        spec("models: {type: object_store}\nlogs: {type: object_store}\n" + serving("api", "writes: [logs]")),
        "api",
    ),
    Case("MLC-BUD-001", spec("{}", budget="budget: {monthly_usd: 10}  # <-"), spec("{}"), None),
    Case("MLC-BUD-002", spec("{}", budget="budget: {monthly_usd: 100000, warn_ratio: 0.001}  # <-"), spec("{}"), None),
    Case("MLC-BUD-003", spec("{}", budget=""), spec("{}"), None, at="metadata:"),
    Case(
        "MLC-BUD-004",
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 4, max: 4}  # <-")),
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 2, max: 4}")),
        "api",
    ),
    Case(
        "MLC-BUD-005",
        spec("big:  # <-\n  type: object_store\n  size_gb: 5000"),
        spec("big:\n  type: object_store\n  size_gb: 5000\n  lifecycle: {infrequent_after_days: 30}"),
        "big",
    ),
    Case(
        "MLC-BUD-006",
        spec(training("train", "gpus: {type: nvidia-a10g, count: 1}\nnode_pool: gpu").replace("train:", "train:  # <-", 1)),
        spec(training("train", "gpus: {type: nvidia-a10g, count: 1}\nnode_pool: gpu\nmax_runtime_hours: 12")),
        "train",
    ),
    Case(
        "MLC-BUD-007",
        spec("{}", pools=POOLS.replace("gpu: {instance_type: g5.2xlarge, min: 0", "gpu: {instance_type: g5.2xlarge, min: 1") + "  # <-"),
        spec("{}"),
        None,
    ),
    Case(
        "MLC-GOV-001",
        spec("{}", top="compliance: {allowed_regions: [eu-central-1]}"),
        spec("{}", top="compliance: {allowed_regions: [eu-west-1]}"),
        None,
        at="cloud:",
    ),
    Case(
        "MLC-GOV-002",
        spec(
            "open: {type: object_store, classification: public, public: true}",
            top='exceptions:\n  - {rule: MLC-SEC-004, component: open, reason: "open data mirror", expires: "2026-05-31"}  # <-',
        ),
        spec(
            "open: {type: object_store, classification: public, public: true}",
            top='exceptions:\n  - {rule: MLC-SEC-004, component: open, reason: "open data mirror", expires: "2026-06-01"}',
        ),
        None,
    ),
    Case(
        "MLC-GOV-003",
        spec("open: {type: object_store}", top=f"exceptions:\n  - {{rule: MLC-SEC-004, component: open, {WAIVE}}}  # <-"),
        spec(
            "open: {type: object_store, classification: public, public: true}",
            top=f"exceptions:\n  - {{rule: MLC-SEC-004, component: open, {WAIVE}}}",
        ),
        None,
    ),
    Case(
        "MLC-GOV-004",
        spec(STORES + job("etl", reads="[raw]", writes="[models]")).replace(
            "models: {type: object_store}", "models: {type: object_store}  # <-"
        ),
        spec(
            STORES.replace("models: {type: object_store}", "models: {type: object_store, classification: pii}")
            + job("etl", reads="[raw]", writes="[models]")
        ),
        "models",
    ),
    Case(
        "MLC-GOV-005",
        spec(
            "raw:  # <-\n  type: object_store\n  classification: pii", top="compliance: {allowed_regions: [eu-west-1], frameworks: [gdpr]}"
        ),
        spec(
            "raw:\n  type: object_store\n  classification: pii\n  lifecycle: {expire_after_days: 365}",
            top="compliance: {allowed_regions: [eu-west-1], frameworks: [gdpr]}",
        ),
        "raw",
    ),
    Case(
        "MLC-GOV-006",
        spec("raw: {type: object_store, classification: pii}"),
        spec("raw: {type: object_store, classification: pii}", top="compliance: {allowed_regions: [eu-west-1], frameworks: [gdpr]}"),
        None,
        at="metadata:",
    ),
    Case(
        "MLC-REL-001",
        spec(training("train", "spot: true  # <-")),
        spec("ckpt: {type: object_store}\n" + training("train", "spot: true\ncheckpoint_to: ckpt")),
        "train",
    ),
    Case(
        "MLC-REL-002",
        spec(
            "ckpt: {type: object_store, lifecycle: {expire_after_days: 1}}\n"
            + training("train", "checkpoint_to: ckpt  # <-\nmax_runtime_hours: 48")
        ),
        spec(
            "ckpt: {type: object_store, lifecycle: {expire_after_days: 3}}\n"
            + training("train", "checkpoint_to: ckpt\nmax_runtime_hours: 48")
        ),
        "train",
    ),
    Case(
        "MLC-REL-003",
        spec("models: {type: object_store}\n" + serving("api").replace("api:", "api:  # <-", 1)),
        spec("models: {type: object_store}\n" + serving("api", "slo: {latency_p99_ms: 100}")),
        "api",
    ),
    Case(
        "MLC-REL-004",
        spec("models: {type: object_store}\n" + serving("api").replace("api:", "api:  # <-", 1)),
        spec("models: {type: object_store}\n" + serving("api") + "mon: {type: monitoring, targets: [api]}"),
        "api",
    ),
    Case(
        "MLC-REL-005",
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 1, max: 3}  # <-"), labels=PROD),
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 2, max: 3}"), labels=PROD),
        "api",
    ),
    Case(
        "MLC-REL-006",
        spec("db: {type: database, instance_class: db.t3.large, multi_az: false}  # <-", labels=PROD),
        spec("db: {type: database, instance_class: db.t3.large, multi_az: true}", labels=PROD),
        "db",
    ),
    Case(
        "MLC-REL-007",
        spec("db: {type: database, instance_class: db.t3.large, multi_az: true, backup_retention_days: 3}  # <-", labels=PROD),
        spec("db: {type: database, instance_class: db.t3.large, multi_az: true, backup_retention_days: 3}"),
        "db",
    ),
    Case(
        "MLC-REL-008",
        spec(job("etl", "spot: true") + "flow: {type: pipeline, steps: [etl]}  # <-"),
        spec(job("etl", "spot: true") + "flow: {type: pipeline, steps: [etl], retries: 2}"),
        "flow",
    ),
    Case(
        "MLC-REL-009",
        spec(job("etl") + 'flow: {type: pipeline, steps: [etl], schedule: "0 1 * * *"}  # <-'),
        spec(job("etl") + job("alert") + 'flow: {type: pipeline, steps: [etl], schedule: "0 1 * * *", on_failure: alert}'),
        "flow",
    ),
    Case(
        "MLC-REL-010",
        spec(job("etl") + "flow:\n  type: pipeline\n  steps: [etl]\n  on_failure: etl  # <-"),
        spec(job("etl") + job("alert") + "flow:\n  type: pipeline\n  steps: [etl]\n  on_failure: alert"),
        "flow",
    ),
    Case(
        "MLC-REL-011",
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 2}\nnode_pool: spotcpu  # <-"), labels=PROD),
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 2}\nnode_pool: cpu"), labels=PROD),
        "api",
    ),
    Case(
        "MLC-REL-012",
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 1, max: 3}  # <-\nslo: {availability: 0.999}")),
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 1, max: 3}\nslo: {availability: 0.99}")),
        "api",
    ),
    Case(
        "MLC-REL-013",
        spec("models: {type: object_store}\n" + serving("api") + "mon: {type: monitoring, targets: [api]}  # <-"),
        spec("models: {type: object_store}\n" + serving("api") + "mon: {type: monitoring, targets: [api], alerts: {error_rate: 0.01}}"),
        "mon",
    ),
    Case(
        "MLC-REL-050",  # pool "gpu" (max 2 x 1 A10G): the 2-node job next to the always-on endpoint needs 3 nodes
        spec(
            "models: {type: object_store}\n"
            + serving("api", "gpus: {type: nvidia-a10g, count: 1}\nnode_pool: gpu")
            + training("train", "gpus: {type: nvidia-a10g, count: 1}\nnodes: 2\nnode_pool: gpu")
        ),
        spec(
            "models: {type: object_store}\n"
            + serving("api", "gpus: {type: nvidia-a10g, count: 1}\nnode_pool: gpu")
            + training("train", "gpus: {type: nvidia-a10g, count: 1}\nnode_pool: gpu")
        ),
        None,
        at="gpu: {instance_type: g5.2xlarge",
    ),
    # ---- built-in KCL rules (compiler/policy/kcl/*.k)
    Case("MLC-GOV-101", spec("{}", labels="{team: t1}"), spec("{}"), None, at="labels:"),
    Case(
        "MLC-GOV-102",
        spec(
            "raw: {type: object_store, classification: pii}\n"
            + job("etl", reads="[raw]", writes="[lake]")
            + "lake:\n  type: data_lake\n  format: parquet  # <-"
        ),
        spec(
            "raw: {type: object_store, classification: pii}\n"
            + job("etl", reads="[raw]", writes="[lake]")
            + "lake:\n  type: data_lake\n  format: delta"
        ),
        "lake",
    ),
    Case(
        "MLC-REL-101",
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 5, max: 2}  # <-")),
        spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 2, max: 2}")),
        "api",
    ),
    # lineage: the endpoint reads only `models` (internal), but the model was trained on confidential data
    Case(
        "MLC-GOV-070",
        spec(
            "models: {type: object_store}\nsrc: {type: object_store, classification: confidential}\n"
            + training("train", "node_pool: conf", reads="[src]", writes="[models]")
            + serving("api", "node_pool: cpu  # <-"),
            top="compliance: {confidential_computing: [confidential]}",
            pools=POOLS + "\n    conf: {instance_type: m6a.2xlarge, min: 1, max: 3, confidential: true}",
        ),
        spec(
            "models: {type: object_store}\nsrc: {type: object_store, classification: confidential}\n"
            + training("train", "node_pool: conf", reads="[src]", writes="[models]")
            + serving("api", "node_pool: conf"),
            top="compliance: {confidential_computing: [confidential]}",
            pools=POOLS + "\n    conf: {instance_type: m6a.2xlarge, min: 1, max: 3, confidential: true}",
        ),
        "api",
    ),
]


def stream_job(name: str, extra: str = "") -> str:
    lines = [f"{name}:", "  type: stream_job", f"  image: {IMG}", "  main: local:///opt/flink/usrlib/job.jar", "  reads: [clicks]"]
    return "\n".join(lines + ["  " + ln for ln in extra.strip("\n").splitlines()]) + "\n"


GDPR = "compliance: {allowed_regions: [eu-west-1], frameworks: [gdpr, soc2]}"
CLICKS = "clicks: {type: stream, classification: pii}\n"
FEATS = (
    "lake: {type: data_lake, classification: pii}\n"
    "feats: {type: feature_store, offline: lake, materialize: {schedule: '@daily', image: 'r.example/feast:1@sha256:" + "c" * 64 + "'}}\n"
)
CASES += [
    Case(
        "MLC-SEC-060",
        spec(
            CLICKS,
            top="overrides:\n  terraform:\n    - address: aws_kinesis_stream.clicks\n      set:\n        encryption_type: NONE  # <-",
        ),
        spec(
            CLICKS, top="overrides:\n  terraform:\n    - address: aws_kinesis_stream.clicks\n      set: {enforce_consumer_deletion: true}"
        ),
        "clicks",
    ),
    Case(  # the feature store is declared internal; pii flows into it from its offline lake
        "MLC-SEC-062",
        spec(
            FEATS,
            top="overrides:\n  terraform:\n    - address: aws_elasticache_replication_group.feats\n      set:\n"
            "        transit_encryption_enabled: false  # <-",
        ),
        spec(
            FEATS,
            top="overrides:\n  terraform:\n    - address: aws_elasticache_replication_group.feats\n"
            "      set: {snapshot_retention_limit: 14}",
        ),
        "feats",
    ),
    Case(
        "MLC-SEC-061",
        spec("clicks: {type: stream, classification: pii, retention_hours: 200}  # <-", top=GDPR),
        spec("clicks: {type: stream, classification: pii, retention_hours: 168}", top=GDPR),
        "clicks",
    ),
    Case(
        "MLC-REL-060",
        spec(CLICKS + stream_job("agg", "node_pool: spotcpu  # <-")),
        spec(CLICKS + "ckpt: {type: object_store}\n" + stream_job("agg", "node_pool: spotcpu\ncheckpoint_to: ckpt")),
        "agg",
    ),
    Case(
        "MLC-REL-061",
        spec(
            CLICKS
            + "ckpt: {type: object_store}\n"
            + stream_job("agg", "spot: true\ncheckpoint_to: ckpt\ncheckpoint_interval_seconds: 120  # <-")
        ),
        spec(
            CLICKS + "ckpt: {type: object_store}\n" + stream_job("agg", "spot: true\ncheckpoint_to: ckpt\ncheckpoint_interval_seconds: 60")
        ),
        "agg",
    ),
]


def findings_of(tmp_path, text: str, rule: str, mutate=None):
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    if mutate is not None:
        compiled = mutate(compiled)
    found = run_policies(compiled, tmp_path / "policies", TODAY)
    return [(f.component, f.location.file, f.location.line) for f in found if f.rule == rule and not f.waived]


def expected_line(text: str, at: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if at in line]
    assert len(lines) == 1, f"marker {at!r} must be on exactly one line of the fixture"
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fails_on_bad_fixture(tmp_path, case: Case):
    got = findings_of(tmp_path, case.bad, case.rule, case.mutate)
    assert got == [(case.component, "environments/e1.yaml", expected_line(case.bad, case.at))]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_passes_on_good_fixture(tmp_path, case: Case):
    assert findings_of(tmp_path, case.good, case.rule) == []


def test_every_rule_has_a_case():
    """A rule cannot be added without its fixtures (Python catalog and built-in KCL rules).
    Rules on the patched output of `overrides:` have theirs in tests/targets/test_overrides.py."""
    from compiler.policy.registry import OVERRIDE_RULES

    ids = {r.id for r in all_rules(None)} - set(OVERRIDE_RULES)
    assert ids == {c.rule for c in CASES}
    assert len(CASES) == len({c.rule for c in CASES})


def test_catalog_and_registry_agree():
    from compiler.policy.registry import OVERRIDE_RULES, WAIVER_RULES

    checked = [rule_id for rule_id, _ in CHECKS]
    assert len(checked) == len(set(checked))
    assert set(checked) | set(WAIVER_RULES) | set(OVERRIDE_RULES) == {r.id for r in CATALOG}
    for rule in CATALOG:
        assert rule.severity in ("error", "warning", "info") and rule.title and rule.rationale and rule.fix


def test_gpu_quota_finding_when_pods_spread_over_pools(tmp_path):
    """MLC-REL-050 on the namespace quota: no single pool is overbooked (the pods may use either
    A10G pool), but 2 GPUs of quota cannot hold the 2-GPU job next to the 1-GPU endpoint."""
    pools = """    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    gpu-a: {instance_type: g5.2xlarge, min: 0, max: 1}
    gpu-b: {instance_type: g5.xlarge, min: 0, max: 1}"""
    bad = spec(
        "models: {type: object_store}\n"
        + serving("api", "gpus: {type: nvidia-a10g, count: 1}")
        + training("train", "gpus: {type: nvidia-a10g, count: 1}\nnodes: 2  # <-"),
        pools=pools,
    ).replace("nodes: 2  # <-", "nodes: 2")
    compiled = compiled_env(tmp_path, {"e1": bad}, "e1")
    found = [f for f in run_policies(compiled, tmp_path / "policies", TODAY) if f.rule == "MLC-REL-050"]
    gpus_line = next(n for n, line in enumerate(bad.splitlines(), 1) if "train" in line) + 5
    assert bad.splitlines()[gpus_line - 1].strip() == "gpus: {type: nvidia-a10g, count: 1}"
    assert [(f.component, f.location.line, f.message) for f in found] == [
        (
            "train",
            gpus_line,
            "train needs 2 GPUs and the always-on pods hold 1, but the namespace GPU quota (every pool's max x GPUs per node) is 2",
        )
    ]
