"""The security and identity checks (compiler/policy/checks_security.py), called directly.

test_policy_rules.py proves each rule fires once on a failing fixture; these tests pin what
the mutation run (docs/mutation-report.md) found unchecked there: exact messages, exact
counts, the boundaries between rules, and the IAM invariants fed a plan that breaks them.
Each docstring names the mutant (or protection) it guards.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from compiler.analysis.graph import DependencyGraph, Edge
from compiler.core.diagnostics import Location
from compiler.plan.capacity import Problem
from compiler.plan.compiled import Access, Compiled, PlanErrors, WorkloadGrants
from compiler.plan.pricing import InstanceType
from compiler.policy import checks_security as sec
from tests.policy.test_policy_rules import job, serving, spec, training
from tests.support.helpers import compiled_env

FIX = 'rotate it, store it in the secret manager and reference it as {secret: "<path>#<key>"}'


def compiled(tmp_path: Path, text: str) -> Compiled:
    return compiled_env(tmp_path, {"e1": text}, "e1")


def hits(check, c: Compiled) -> list[tuple]:
    return [tuple(h) for h in check(c)]


# --- MLC-SEC-002 / MLC-SEC-004: public stores ---------------------------------------------
@pytest.mark.parametrize("classification", ["confidential", "pii"])
def test_a_public_sensitive_store_gets_exactly_one_finding_sec_002(tmp_path: Path, classification: str) -> None:
    """Guards `>= CLASSIFICATION_RANK["confidential"]` in SEC-002 and `<` in SEC-004: a
    confidential public store is SEC-002 only (the `>` mutant gave none, `<=` gave two)."""
    c = compiled(tmp_path, spec(f"data: {{type: object_store, classification: {classification}, public: true}}"))
    assert hits(sec.sensitive_public_store, c) == [("data", "/components/data/public", f"public store holds {classification} data", False)]
    assert hits(sec.public_store, c) == []


@pytest.mark.parametrize("classification", ["public", "internal"])
def test_a_public_store_of_low_class_is_sec_004_only(tmp_path: Path, classification: str) -> None:
    c = compiled(tmp_path, spec(f"data: {{type: object_store, classification: {classification}, public: true}}"))
    message = f"store is public (classification {classification}): anyone on the internet can read it"
    assert hits(sec.public_store, c) == [("data", "/components/data/public", message, False)]
    assert hits(sec.sensitive_public_store, c) == []


def test_sec_002_explains_a_class_inherited_through_lineage(tmp_path: Path) -> None:
    """Guards the lineage explanation (`lineage.effective == lineage.own` flipped): a store
    that is internal itself but fed from pii data names the path; its own class does not."""
    stores = "raw: {type: object_store, classification: pii}\nout: {type: object_store, public: true}\n"
    text = spec(stores + job("etl", reads="[raw]", writes="[out]"))
    c = compiled(tmp_path, text)
    assert hits(sec.sensitive_public_store, c) == [
        ("out", "/components/out/public", "public store holds pii data (lineage: raw (pii) -> etl -> out)", False)
    ]
    assert hits(sec.public_store, c) == []


def test_a_private_store_is_never_reported(tmp_path: Path) -> None:
    """Guards `if store.get("public")` in _public_stores."""
    c = compiled(tmp_path, spec("a: {type: object_store, classification: pii}\nb: {type: object_store, public: false}"))
    assert hits(sec.sensitive_public_store, c) == [] and hits(sec.public_store, c) == []


def test_sec_008_names_the_lineage_only_when_inherited(tmp_path: Path) -> None:
    """Guards SEC-008's `>= confidential` (a confidential store counts, an internal one not)
    and its lineage explanation, shown only for an inherited class."""
    text = spec(
        "raw: {type: object_store, classification: pii, versioning: false}\n"
        "out: {type: object_store, versioning: false}\n"
        "conf: {type: object_store, classification: confidential, versioning: false}\n"
        "free: {type: object_store, versioning: false}\n"
        "ok: {type: object_store, classification: pii}\n" + job("etl", reads="[raw]", writes="[out]")
    )
    assert hits(sec.sensitive_store_unversioned, compiled(tmp_path, text)) == [
        ("conf", "/components/conf/versioning", "versioning is off on a store holding confidential data", False),
        ("out", "/components/out/versioning", "versioning is off on a store holding pii data (lineage: raw (pii) -> etl -> out)", False),
        ("raw", "/components/raw/versioning", "versioning is off on a store holding pii data", False),
    ]


# --- MLC-SEC-003 / 006: public endpoints --------------------------------------------------
@pytest.mark.parametrize(
    "classification,check", [("pii", "public_endpoint_pii_model"), ("confidential", "public_endpoint_confidential_model")]
)
def test_a_public_endpoint_is_reported_by_exactly_the_rule_of_its_class(tmp_path: Path, classification: str, check: str) -> None:
    """Guards `lineage.effective == classification` and the class each rule passes."""
    text = spec(
        f"models: {{type: object_store}}\nsrc: {{type: object_store, classification: {classification}}}\n"
        + training("train", reads="[src]", writes="[models]")
        + serving("api", "public: true")
        + serving("inner").replace("inner:", "inner:", 1)
    )
    c = compiled(tmp_path, text)
    other = "public_endpoint_confidential_model" if check == "public_endpoint_pii_model" else "public_endpoint_pii_model"
    message = f"public endpoint serves a model derived from {classification} data: src ({classification}) -> train -> models -> api"
    assert hits(getattr(sec, check), c) == [("api", "/components/api/public", message, False)]
    assert hits(getattr(sec, other), c) == []


# --- MLC-SEC-001: plaintext credentials ---------------------------------------------------
def sec001(tmp_path: Path, extra: str) -> list[tuple]:
    return hits(sec.plaintext_credentials, compiled(tmp_path, spec(job("etl", extra))))


def test_a_credential_split_over_two_list_items_with_a_single_dash_flag(tmp_path: Path) -> None:
    """Guards the split-flag detection in _strings (`-{1,2}` of _CREDENTIAL_FLAG, the
    `previous` item, `index - 1`, the joined `flag=value` yield): ["-password", "Hunter2024"]
    is one finding on the value; the same value after a harmless flag, or first, is none."""
    found = sec001(tmp_path, 'args: ["-password", "Hunter2024", "-p", "Hunter2024", "Hunter2024"]')
    line = next(n for n, text in enumerate(spec(job("etl", "args: []")).splitlines(), 1) if "args: []" in text)
    message = f"the value at components.etl.args.1 looks like a credential (password assignment) in plaintext; {FIX}"
    assert found == [("etl", Location("environments/e1.yaml", line, 25), message, False)]


@pytest.mark.parametrize("flag", ["--password", "-api-key", "--db-token", "-SECRET", "--access-key"])
def test_every_credential_flag_spelling_is_recognised(tmp_path: Path, flag: str) -> None:
    found = sec001(tmp_path, f'args: ["{flag}", "Hunter2024"]')
    assert [h[2].split(" looks")[0] for h in found] == ["the value at components.etl.args.1"]


@pytest.mark.parametrize("flag", ["-p", "--passage", "password", "--verbose"])
def test_a_flag_that_is_not_a_credential_flag_joins_nothing(tmp_path: Path, flag: str) -> None:
    assert sec001(tmp_path, f'args: ["{flag}", "Hunter2024"]') == []


def test_a_credential_list_item_on_its_own_is_found(tmp_path: Path) -> None:
    """Guards `yield from _strings(...)` for list items."""
    found = sec001(tmp_path, 'args: ["--verbose", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"]')
    assert [h[2] for h in found] == [f"the value at components.etl.args.1 looks like a credential (GitHub token) in plaintext; {FIX}"]


def test_a_credential_used_as_a_key_is_located_at_the_key_and_not_echoed(tmp_path: Path) -> None:
    """Guards `yield child, str(key), True` (keys are scanned, and as keys) and _safe_path's
    redaction of a path token that is itself the secret."""
    text = spec(job("etl", "labels: {ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789: x}"))
    found = hits(sec.plaintext_credentials, compiled(tmp_path, text))
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "labels: {ghp_" in row)
    message = f"a key at components.etl.labels.<redacted> looks like a credential (GitHub token) in plaintext; {FIX}"
    assert found == [("etl", Location("environments/e1.yaml", line, 14), message, False)]


def test_a_credential_outside_components_has_no_component_and_a_dotted_path(tmp_path: Path) -> None:
    """Guards the component attribution (`parts[1] == "components"` ...) and the ~1
    unescaping of _safe_path (a label key with "/" in it)."""
    text = spec("{}", labels='{team: t1, cost-center: cc-1, "example.com/owner": "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"}')
    found = hits(sec.plaintext_credentials, compiled(tmp_path, text))
    assert [(h[0], h[2]) for h in found] == [
        (None, f"the value at metadata.labels.example.com/owner looks like a credential (GitHub token) in plaintext; {FIX}")
    ]


def test_the_path_of_a_root_level_value_is_named(tmp_path: Path) -> None:
    """Guards `or "(document root)"` of _safe_path."""
    assert sec._safe_path("") == "(document root)"
    assert sec._safe_path("/components/etl/env/A~1B~0C") == "components.etl.env.A/B~C"
    assert sec._safe_path("/metadata/labels/ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789") == "metadata.labels.<redacted>"


# --- MLC-SEC-007: credential-named env vars -----------------------------------------------
CREDENTIALS = [
    "DB_PASSWORD",
    "PASSWD",
    "MYSQL_PWD",
    "APP_SECRET",
    "HF_TOKEN",
    "SERVICE_APIKEY",
    "GCP_CREDENTIAL",
    "AWS_CREDENTIALS",
    "KEY_PASSPHRASE",
    "OPENAI_API_KEY",
    "S3_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "SSH_PRIVATE_KEY",
    "SVC_AUTH_KEY",
    "OAUTH_CLIENT_SECRET",
    "db_password",
]
NOT_CREDENTIALS = [
    "TOKENIZER",
    "TOKEN_FILE",
    "SECRET_NAME",
    "PASSWORD_PATH",
    "SECRET_DIR",
    "TOKEN_ID",
    "CREDENTIALS_TYPE",
    "TOKEN_ENDPOINT",
    "SECRET_URL",
    "AUTH_TOKEN_HEADER",
    "PASSWORD_LENGTH",
    "TOKEN_TTL",
    "TOKEN_EXPIRY",
    "SECRET_REF",
    "SECRET_ARN",
    "API_KEY_FILE",
    "KEY_API",
    "PUBLIC_KEY",
    "KEYSTORE",
    "MONKEY",
]


@pytest.mark.parametrize("name", CREDENTIALS)
def test_credential_names(name: str) -> None:
    """Guards each word of _CREDENTIAL_WORDS and each pair of _CREDENTIAL_PAIRS."""
    assert sec.credential_name(name)


@pytest.mark.parametrize("name", NOT_CREDENTIALS)
def test_names_that_are_not_credentials(name: str) -> None:
    """Guards each suffix of _NOT_A_VALUE (a name for a file, id, URL... of a secret is not
    the secret) and that KEY alone, or a pair in the wrong order, is not a credential."""
    assert not sec.credential_name(name)


def test_sec_007_skips_empty_values_references_and_values_sec_001_reports(tmp_path: Path) -> None:
    """Guards `isinstance(value, str) and value and ... and find_secret(value) is None`:
    an empty value and a secret reference are fine; a value SEC-001 already reports (it
    looks like a credential itself) is not reported twice."""
    extra = (
        "env:\n"
        '  OPENAI_API_KEY: "abc"\n'
        '  EMPTY_PASSWORD: ""\n'
        '  DB_PASSWORD: {secret: "db/main#password"}\n'
        '  GH_TOKEN: "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"\n'
        '  TOKEN_FILE: "/var/run/token"\n'
        '  A_TOKEN: "plain"'
    )
    found = hits(sec.credential_named_plaintext, compiled(tmp_path, spec(job("etl", extra))))
    message = "{} is named like a credential but has a plaintext value; use a secret reference"
    assert found == [
        ("etl", "/components/etl/env/A_TOKEN", message.format("A_TOKEN"), False),
        ("etl", "/components/etl/env/OPENAI_API_KEY", message.format("OPENAI_API_KEY"), False),
    ]


# --- MLC-SEC-005 ----------------------------------------------------------------------------
def test_image_pinning_exact_message(tmp_path: Path) -> None:
    text = spec(job("etl").replace("image: reg", "image: reg.example.com/ml/app:1.0  # reg", 1) + job("ok"))
    found = hits(sec.image_not_pinned, compiled(tmp_path, text))
    assert found == [("etl", "/components/etl/image", 'image "reg.example.com/ml/app:1.0" is not pinned by digest (@sha256:...)', False)]


# --- MLC-IAM-001/002/003/006: access ------------------------------------------------------
def access(tmp_path: Path, entries: str) -> Compiled:
    return compiled(tmp_path, spec("{}", top=f"access:\n{entries}"))


def test_a_single_admin_group_is_not_every_group_admin(tmp_path: Path) -> None:
    """Guards `len(access) >= 2` of MLC-IAM-002: one admin group is the normal case."""
    assert hits(sec.admin_to_every_group, access(tmp_path, "  - {group: ops, role: admin}")) == []


def test_every_group_admin_lists_the_groups_sorted(tmp_path: Path) -> None:
    """Guards `all(... == "admin")` and the sorted group list of MLC-IAM-002."""
    c = access(tmp_path, "  - {group: zeta, role: admin}\n  - {group: alpha, role: admin}")
    assert hits(sec.admin_to_every_group, c) == [(None, "/access", "every group in access is admin (alpha, zeta)", True)]
    mixed = access(tmp_path / "m", "  - {group: zeta, role: admin}\n  - {group: alpha, role: viewer}")
    assert hits(sec.admin_to_every_group, mixed) == []


def test_everyone_grants_name_their_entry(tmp_path: Path) -> None:
    """Guards the group/role comparisons of MLC-IAM-001 and 003 and their messages."""
    c = access(
        tmp_path,
        '  - {group: ops, role: admin}\n  - {group: "*", role: viewer}\n  - {group: "*", role: editor}\n  - {group: "*", role: admin}',
    )
    assert hits(sec.admin_to_everyone, c) == [(None, "/access/3/role", 'admin is granted to "*" (every authenticated identity)', False)]
    assert hits(sec.editor_to_everyone, c) == [(None, "/access/2/role", 'editor is granted to "*" (every authenticated identity)', False)]


def test_a_duplicate_group_names_the_first_entry(tmp_path: Path) -> None:
    entries = "  - {group: a, role: viewer}\n  - {group: b, role: admin}\n  - {group: a, role: editor}\n  - {group: a, role: admin}"
    c = access(tmp_path, entries)
    message = 'group "a" is already listed (access[0]); it gets the union of both roles'
    assert hits(sec.duplicate_access_group, c) == [(None, "/access/2/group", message, False), (None, "/access/3/group", message, False)]


# --- MLC-IAM-004/005: grants fed a plan that disagrees with the graph ---------------------
STORES_ONLY = "raw: {type: object_store}\n"
FLOW = spec(
    "raw: {type: object_store}\nmodels: {type: object_store}\nckpt: {type: object_store}\nlogs: {type: object_store}\n"
    + training("train", "checkpoint_to: ckpt", reads="[raw]", writes="[models]")
    + serving("api", model="models")
)


def test_consistent_grants_have_no_finding(tmp_path: Path) -> None:
    """The real plan: grants == graph == spec, model source and checkpoint included."""
    c = compiled(tmp_path, FLOW)
    assert c.grants["train"] == WorkloadGrants(
        "train",
        ("ckpt", "raw"),
        ("ckpt", "models"),
        (
            Access("ckpt", "checkpoint", "train", read=True, write=True, delete=True),
            Access("models", "writes", "", read=True, write=True),
            Access("raw", "reads", "", read=True),
        ),
    )
    assert c.grants["api"] == WorkloadGrants("api", ("models",), (), (Access("models", "model", "m/v1", read=True),))
    assert hits(sec.grants_match_declarations, c) == [] and hits(sec.grants_without_wildcards, c) == []


def test_grants_that_disagree_with_the_spec_are_reported_both_ways(tmp_path: Path) -> None:
    """Guards both directions of MLC-IAM-004: a derived grant the spec does not declare
    (extra) and a declared access without a grant (missing), for reads and for writes,
    including the checkpoint store (read and written) and the model source."""
    c = compiled(tmp_path, FLOW)
    grants = dict(c.grants)
    grants["train"] = WorkloadGrants("train", ("raw",), ("logs", "models"))  # ckpt lost, logs extra
    grants["api"] = WorkloadGrants("api", (), ())  # model source lost
    found = hits(sec.grants_match_declarations, dataclasses.replace(c, grants=grants))
    assert found == [
        ("api", "/components/api", "declared reads of models has no derived grant", True),
        ("train", "/components/train", "declared reads of ckpt has no derived grant", True),
        ("train", "/components/train", "derived writes access to logs is not declared by the spec", True),
        ("train", "/components/train", "declared writes of ckpt has no derived grant", True),
    ]


def test_a_graph_edge_the_spec_does_not_declare_is_reported(tmp_path: Path) -> None:
    """Guards `got | edges` of MLC-IAM-004: the graph itself (not only the grants) must
    agree with the spec; an extra edge in the graph is a finding even if grants agree."""
    c = compiled(tmp_path, FLOW)
    graph = DependencyGraph(c.env, [*c.graph.edges, Edge("logs", "api", "reads", "/components/api")])
    assert hits(sec.grants_match_declarations, dataclasses.replace(c, graph=graph)) == [
        ("api", "/components/api", "derived reads access to logs is not declared by the spec", True)
    ]


def test_grants_for_something_that_is_not_a_workload(tmp_path: Path) -> None:
    """Guards `set(compiled.grants) - workloads` and a workload without any grant entry."""
    c = compiled(tmp_path, FLOW)
    grants = {k: v for k, v in c.grants.items() if k != "api"}
    grants["raw"] = WorkloadGrants("raw", ("models",), ())
    found = hits(sec.grants_match_declarations, dataclasses.replace(c, grants=grants))
    assert found == [
        (None, "/components", 'grants exist for "raw", which is not a workload of this environment', True),
        ("api", "/components/api", "declared reads of models has no derived grant", True),
    ]


def test_wildcard_and_unknown_grants(tmp_path: Path) -> None:
    """Guards MLC-IAM-005: a name that is not a store, a pattern, the component of the hit."""
    c = compiled(tmp_path, FLOW)
    grants = dict(c.grants)
    grants["train"] = WorkloadGrants("train", ("raw", "raw*"), ("api", "models"))
    grants["ghost"] = WorkloadGrants("ghost", ("*",), ())
    assert hits(sec.grants_without_wildcards, dataclasses.replace(c, grants=grants)) == [
        (None, "/components/ghost", "derived grant names *, not a store of this environment", True),
        ("train", "/components/train", "derived grant names api, raw*, not a store of this environment", True),
    ]


# --- MLC-NET ---------------------------------------------------------------------------------
def test_public_endpoint_without_limits_names_what_is_missing(tmp_path: Path) -> None:
    text = spec(
        "models: {type: object_store}\nlogs: {type: object_store}\n"
        + serving("a", "public: true")
        + serving("b", "public: true\nreplicas: {min: 1, max: 5}")
        + serving("c", "public: true\nautoscaling: {metric: rps, target: 50}")
        + serving("d", "replicas: {min: 1}\nwrites: [logs]")
        + serving("e", "public: true\nwrites: [logs]\nreplicas: {min: 1, max: 5}\nautoscaling: {metric: rps, target: 50}")
    )
    c = compiled(tmp_path, text)
    assert [(h[0], h[2]) for h in sec.public_endpoint_unbounded(c)] == [
        ("a", "public endpoint without autoscaling and an explicit replicas.max"),
        ("b", "public endpoint without autoscaling"),
        ("c", "public endpoint without an explicit replicas.max"),
    ]
    assert hits(sec.public_endpoint_writes, c) == [("e", "/components/e/writes", "public endpoint can write to logs", False)]


def test_a_component_whose_name_looks_like_a_credential_is_attributed_to_it(tmp_path: Path) -> None:
    """Guards `len(parts) > 2` (the 2 -> 3 mutant): the key /components/<name> itself is a
    three-part pointer; a name that is a valid label and a Slack token format is reported on
    that component, with the name redacted from the path."""
    found = hits(sec.plaintext_credentials, compiled(tmp_path, spec("xoxb-1234567890ab: {type: object_store}")))
    assert [(h[0], h[2]) for h in found] == [
        ("xoxb-1234567890ab", f"a key at components.<redacted> looks like a credential (Slack token) in plaintext; {FIX}")
    ]


# --- model and monitor prefixes of the grants (compiled._model_paths, derive_iam_grants) ------
def model_access(tmp_path: Path, serving_spec: str) -> tuple[Access, ...]:
    text = spec("models: {type: object_store}\n" + serving_spec)
    return compiled(tmp_path, text).grants["api"].access


def test_a_model_without_a_path_grants_the_whole_store_even_with_a_canary(tmp_path: Path) -> None:
    """Guards `model.get("path") or ""` and `[""] if "" in paths`: no model path means the
    whole store, which already covers the canary's path: one Access, prefix "" (not "XX", and
    not a second, narrower one for the canary)."""
    api = "api:\n  type: serving\n  runtime: sklearn\n  model: {from: models}\n  canary: {path: v2, traffic_percent: 10}\n"
    assert model_access(tmp_path, api) == (Access("models", "model", "", read=True),)


def test_model_and_canary_paths_lose_only_their_trailing_slash(tmp_path: Path) -> None:
    """Guards both `.strip("/")` of _model_paths: a trailing slash goes (the schema lets a
    path end with one, not start with one), nothing else (a path starting with X keeps it)."""
    api = (
        "api:\n  type: serving\n  runtime: sklearn\n  model: {from: models, path: XGBoost/v3/}\n"
        "  canary: {path: XGBoost/v4/, traffic_percent: 10}\n"
    )
    assert model_access(tmp_path, api) == (
        Access("models", "model", "XGBoost/v3", read=True),
        Access("models", "model", "XGBoost/v4", read=True),
    )


def test_a_monitor_reads_its_dataset_path_without_the_trailing_slash(tmp_path: Path) -> None:
    """Guards `monitor.path.strip("/")` in derive_iam_grants: the drift detector's grant is
    scoped to the reference path exactly as written, minus its trailing slash."""
    image = "registry.example.com/m:1@sha256:" + "a" * 64
    text = spec(
        "feats: {type: object_store, classification: confidential}\nmodels: {type: object_store}\n"
        f"train: {{type: training_job, image: '{image}', reads: [feats], writes: [models]}}\n"
        "api: {type: serving, runtime: sklearn, model: {from: models}}\n"
        f"mon: {{type: monitoring, targets: [api], image: '{image}', drift: {{reference: {{store: feats, path: Xref/2026/}}}}, "
        "alerts: {drift_threshold: 0.3}}\n"
    )
    c = compiled(tmp_path, text)
    assert c.grants["mon-api-drift"] == WorkloadGrants("mon-api-drift", ("feats",), (), (Access("feats", "reads", "Xref/2026", read=True),))
    # Compiled.effective_class: a monitor workload has the classification of the store it reads
    assert [m.name for m in c.monitors] == ["mon-api-drift"]
    assert (c.effective_class("mon-api-drift"), c.effective_class("api")) == ("confidential", "confidential")


def test_pool_gpus_needs_a_known_instance_with_gpus(tmp_path: Path) -> None:
    """Guards Compiled.pool_gpus' `instance is not None and instance.gpus`: an unknown pool or
    instance type, and an instance without GPUs (whatever model it names), have (0, None)."""
    c = compiled(tmp_path, FLOW)
    cpu = InstanceType("m5.xlarge", 0.192, 4, 16, 0, "nvidia-t4")
    gpu = InstanceType("g5.xlarge", 1.006, 4, 16, 1, "nvidia-a10g")
    c = dataclasses.replace(c, pools={"unknown": None, "cpu": cpu, "gpu": gpu})
    assert [c.pool_gpus(p) for p in ("missing", "unknown", "cpu", "gpu")] == [(0, None), (0, None), (0, None), (1, "nvidia-a10g")]


def test_plan_errors_are_sorted_by_place_then_code_and_all_shown() -> None:
    """Guards PlanErrors: problems sorted by (pointer, code), every one in the message."""
    errors = PlanErrors(
        [
            Problem("/components/b", "MLC-E061", "too big"),
            Problem("/components/a", "MLC-E062", "x"),
            Problem("/components/a", "MLC-E060", "y"),
        ]
    )
    assert [(p.pointer, p.code) for p in errors.problems] == [
        ("/components/a", "MLC-E060"),
        ("/components/a", "MLC-E062"),
        ("/components/b", "MLC-E061"),
    ]
    assert str(errors) == "/components/a: MLC-E060: y\n/components/a: MLC-E062: x\n/components/b: MLC-E061: too big"


def test_an_unknown_instance_type_is_an_input_error_at_the_pool(tmp_path: Path) -> None:
    """Guards plan()'s cost errors: an instance type without a price is MLC-E060 (not a
    compile without diagnostics), reported at the pool's instance_type."""
    from compiler.core.diagnostics import InputError

    pools = "    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}\n    odd: {instance_type: m6i.97xlarge, min: 0, max: 1}"
    with pytest.raises(InputError) as info:
        compiled(tmp_path, spec(STORES_ONLY, pools=pools))
    assert [(d.code, d.location.line) for d in info.value.diagnostics] == [("MLC-E060", 11)]  # the odd pool
