"""The policy engine end to end: examples, KCL policies (user and broken), waivers, invariants."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from compiler.core.diagnostics import InputError
from compiler.frontend.project import UsageError
from compiler.pipeline import plan_environment
from compiler.policy.engine import PolicyError, all_rules, explain, run_policies
from tests.policy.test_policy_rules import CASES, PROD, job, serving, spec
from tests.support.helpers import REPO, compiled_env, example_environments

TODAY = date(2026, 6, 1)

OWNER_POLICY = """
_plan = option("plan")
mlc_rules = [{
    id = "MLC-USR-001"
    title = "Serving endpoints have an owner label"
    severity = "error"
    rationale = "On-call needs to know whom to page."
    fix = "Add labels: {owner: <team>}."
}]
mlc_findings = [{
    rule = "MLC-USR-001"
    component = c.name
    pointer = "/components/${c.name}/labels"
    key = True
    message = "endpoint ${c.name} has no owner label"
} for c in _plan.components if c.type == "serving" and "owner" not in (c.spec.labels or {})]
"""

API_ENV = spec(
    "models: {type: object_store}\n"
    + serving("api").replace("api:", "api:  # <-", 1)
    + serving("ok", "labels: {owner: search}")
    + "mon: {type: monitoring, targets: [api, ok], alerts: {error_rate: 0.01}}"
)


def line_of(text: str, marker: str = "# <-") -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if marker in line)


def check(tmp_path: Path, text: str, policies: dict[str, str] | None = None, today: date = TODAY):
    from compiler.pipeline import plan_environment
    from tests.support.helpers import load_env

    env = load_env(tmp_path, {"e1": text}, "e1")
    for name, body in (policies or {}).items():
        (tmp_path / "policies").mkdir(exist_ok=True)
        (tmp_path / "policies" / name).write_text(textwrap.dedent(body), encoding="utf-8")
    compiled = plan_environment(env)
    return run_policies(compiled, tmp_path / "policies", today)


# ---------------------------------------------------------------------------- examples


@pytest.fixture(scope="module")
def example_findings():
    return {env.name: run_policies(plan_environment(env), REPO / "policies", TODAY) for env in example_environments()}


def test_examples_have_no_error_level_findings(example_findings):
    errors = [str(f.location) + " " + f.rule for fs in example_findings.values() for f in fs if f.severity == "error"]
    assert errors == []
    assert set(example_findings) == {"dev", "fraud", "lab", "prod", "prod-azure", "research-gcp", "staging"}


def test_examples_grants_are_exactly_the_declared_flow(example_findings):
    """MLC-IAM-004/005 hold by construction on every example and every rule fixture."""
    assert not [f for fs in example_findings.values() for f in fs if f.rule in ("MLC-IAM-004", "MLC-IAM-005")]


@pytest.mark.parametrize("case", CASES[::3], ids=[c.rule for c in CASES[::3]])
def test_fixture_grants_are_exactly_the_declared_flow(tmp_path, case):
    from compiler.policy.checks_security import grants_match_declarations, grants_without_wildcards

    for text in (case.bad, case.good):
        compiled = compiled_env(tmp_path, {"e1": text}, "e1")
        assert list(grants_match_declarations(compiled)) == [] and list(grants_without_wildcards(compiled)) == []


def test_policies_are_deterministic(tmp_path):
    first = check(tmp_path, API_ENV, {"owner.k": OWNER_POLICY})
    second = check(tmp_path, API_ENV, {"owner.k": OWNER_POLICY})
    assert first == second and len(first) >= 3


# ---------------------------------------------------------------------------- KCL policies


def test_user_kcl_policy_is_picked_up_and_reported(tmp_path):
    found = [f for f in check(tmp_path, API_ENV, {"owner.k": OWNER_POLICY}) if f.rule == "MLC-USR-001"]
    assert [(f.component, f.location.file, f.location.line, f.severity) for f in found] == [
        ("api", "environments/e1.yaml", line_of(API_ENV), "error")
    ]
    assert found[0].message == "endpoint api has no owner label"
    rules = {r.id: r for r in all_rules(tmp_path / "policies")}
    assert rules["MLC-USR-001"].source == "policies/owner.k"
    assert "On-call needs to know whom to page." in explain("MLC-USR-001", tmp_path / "policies")


def test_user_kcl_findings_can_be_waived(tmp_path):
    text = API_ENV.replace(
        "components:",
        'exceptions:\n  - {rule: MLC-USR-001, component: api, reason: "owner being hired", expires: "2026-12-31"}\ncomponents:',
    )
    (found,) = [f for f in check(tmp_path, text, {"owner.k": OWNER_POLICY}) if f.rule == "MLC-USR-001"]
    assert found.waived and found.waiver_reason == "owner being hired" and not found.blocking


def test_two_policy_files_with_the_same_private_names_do_not_interfere(tmp_path):
    other = OWNER_POLICY.replace("MLC-USR-001", "MLC-USR-002").replace('"serving"', '"monitoring"').replace("_plan", "_p")
    other = other.replace('_p = option("plan")', '_p = option("plan")\n_plan = 42')  # a clash if files shared a scope
    found = check(tmp_path, API_ENV, {"a.k": OWNER_POLICY, "b.k": other})
    assert {f.rule for f in found} >= {"MLC-USR-001", "MLC-USR-002"}


def test_one_kcl_evaluation_per_environment(tmp_path, monkeypatch):
    from compiler.policy import kcl

    calls = []
    original = kcl._EVALUATOR.run
    monkeypatch.setattr(kcl._EVALUATOR, "run", lambda *args: calls.append(args) or original(*args))
    check(tmp_path, API_ENV, {"a.k": OWNER_POLICY, "b.k": OWNER_POLICY.replace("USR-001", "USR-002")})
    assert len(calls) == 1


@pytest.mark.parametrize(
    "body, line, col, code, words",
    [
        ("mlc_rules = [\nmlc_findings = []\n", 2, 14, "MLC-E090", "InvalidSyntax"),
        ('_p = option("plan")\nmlc_rules = []\nmlc_findings = [_p.components[99].name]\n', 3, 1, "MLC-E090", "list index out of range"),
        ("mlc_rules = []\nmlc_findings = [undefined_name]\n", 2, 17, "MLC-E090", "undefined_name"),
        ("mlc_rules = []\n", 1, 1, "MLC-E091", "mlc_findings"),
        (
            'mlc_rules = [{id = "MLC-SEC-002", title = "t", severity = "error", rationale = "r", fix = "f"}]\nmlc_findings = []\n',
            1,
            21,
            "MLC-E091",
            "already declared",
        ),
        (
            'mlc_rules = [{id = "SEC-2", title = "t", severity = "error", rationale = "r", fix = "f"}]\nmlc_findings = []\n',
            1,
            21,
            "MLC-E091",
            "must look like",
        ),
        ('mlc_rules = []\nmlc_findings = [{rule = "MLC-USR-009", message = "m"}]\n', 2, 26, "MLC-E091", "does not declare"),
    ],
)
def test_broken_policy_is_a_located_input_error(tmp_path, body, line, col, code, words):
    with pytest.raises(PolicyError) as raised:
        check(tmp_path, API_ENV, {"owner.k": OWNER_POLICY, "bad.k": body})
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.location.file, diagnostic.location.line, diagnostic.location.col, diagnostic.code) == (
        "policies/bad.k",
        line,
        col,
        code,
    )
    assert words in diagnostic.message and "\x1b" not in diagnostic.message
    assert str(diagnostic).startswith(f"policies/bad.k:{line}:{col}: error {code}: ")
    assert "MLC-USR-001" in {f.rule for f in raised.value.findings}  # the good file still ran


def test_broken_policy_exits_2_in_the_cli(tmp_path, capsys):
    from compiler.cli import main

    check(tmp_path, API_ENV)
    (tmp_path / "policies" / "bad.k").write_text("mlc_rules = [\nmlc_findings = []\n", encoding="utf-8")
    assert main(["check", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "policies/bad.k:" in err and "MLC-E090" in err and "Traceback" not in err


def test_explain_prints_rationale_and_fix():
    text = explain("MLC-SEC-003", None)
    assert text.startswith("MLC-SEC-003: Public endpoints do not serve models derived from pii data\nseverity: error")
    assert "Why:" in text and "Fix:" in text
    assert "compiler/policy/kcl/governance.k" in explain("MLC-GOV-101", None)
    with pytest.raises(UsageError, match='did you mean "MLC-SEC-003"'):
        explain("MLC-SEC-03", None)


# ---------------------------------------------------------------------------- waivers

PUBLIC = "open: {type: object_store, classification: public, public: true}"


def waiver(
    rule: str = "MLC-SEC-004", component: str | None = "open", expires: str = "2026-12-31", reason: str = "mirror of open data"
) -> str:
    comp = f", component: {component}" if component else ""
    return f'exceptions:\n  - {{rule: {rule}{comp}, reason: "{reason}", expires: "{expires}"}}  # <-'


def test_waived_finding_stays_visible_and_does_not_block(tmp_path):
    (found,) = [f for f in check(tmp_path, spec(PUBLIC, top=waiver())) if f.rule == "MLC-SEC-004"]
    assert found.waived and found.waiver_reason == "mirror of open data" and found.component == "open"


def test_waiver_is_valid_through_its_expiry_date(tmp_path):
    text = spec(PUBLIC, top=waiver(expires="2026-06-01"))
    assert [f.waived for f in check(tmp_path, text, today=date(2026, 6, 1)) if f.rule == "MLC-SEC-004"] == [True]
    found = check(tmp_path, text, today=date(2026, 6, 2))
    assert [f.waived for f in found if f.rule == "MLC-SEC-004"] == [False]
    (expired,) = [f for f in found if f.rule == "MLC-GOV-002"]
    assert (expired.severity, expired.location.line) == ("warning", line_of(text))
    assert "expired on 2026-06-01" in expired.message


def test_waiver_without_component_covers_only_environment_level_findings(tmp_path):
    text = spec(PUBLIC, top=waiver(component=None))
    found = check(tmp_path, text)
    assert [f.waived for f in found if f.rule == "MLC-SEC-004"] == [False]
    assert [f.rule for f in found if f.location.line == line_of(text)] == ["MLC-GOV-003"]


def test_unused_waiver_names_the_missing_component(tmp_path):
    text = spec(PUBLIC, top=waiver(component="opne"))
    (unused,) = [f for f in check(tmp_path, text) if f.rule == "MLC-GOV-003"]
    assert 'did you mean "open"' in unused.message and unused.severity == "info"


@pytest.mark.parametrize(
    "rule, code, words",
    [
        ("MLC-SEC-044", "MLC-E080", 'unknown rule "MLC-SEC-044" (did you mean "MLC-SEC-004"?)'),
        ("MLC-SEC-001", "MLC-E081", "cannot be waived"),
        ("MLC-USR-123", "MLC-E080", "unknown rule"),
    ],
)
def test_invalid_waiver_is_a_located_input_error(tmp_path, rule, code, words):
    text = spec(PUBLIC, top=waiver(rule=rule))
    with pytest.raises(InputError) as raised:
        check(tmp_path, text)
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.location.file, diagnostic.location.line) == (code, "environments/e1.yaml", line_of(text))
    assert words in diagnostic.message


def test_waiver_with_impossible_date(tmp_path):
    with pytest.raises(InputError) as raised:
        check(tmp_path, spec(PUBLIC, top=waiver(expires="2026-02-30")))
    assert [d.code for d in raised.value.diagnostics] == ["MLC-E082"]


def test_waiver_for_a_kcl_rule_is_validated_against_kcl_ids(tmp_path):
    from compiler.policy.waivers import validate_waivers
    from tests.support.helpers import load_env

    env = load_env(tmp_path, {"e1": spec(PUBLIC, top=waiver(rule="MLC-GOV-101", component=None))}, "e1")
    assert validate_waivers(env, {r.id for r in all_rules(None)}) == []
    assert [d.code for d in validate_waivers(env, {"MLC-SEC-004"})] == ["MLC-E080"]


# ---------------------------------------------------------------------------- prod and inheritance


def test_finding_in_a_parent_file_points_into_the_parent(tmp_path):
    base = spec("models: {type: object_store}\n" + serving("api", "replicas: {min: 1, max: 3}  # <-")).replace("name: e1", "name: base")
    base = base.replace("kind: Environment\n", "kind: Environment\nabstract: true\n")
    child = "apiVersion: mlc/v1\nkind: Environment\nmetadata:\n  name: e1\n  labels: {env: prod}\nextends: base\n"
    compiled = compiled_env(tmp_path, {"base": base, "e1": child}, "e1")
    found = [f for f in run_policies(compiled, None, TODAY) if f.rule == "MLC-REL-005"]
    assert [(f.location.file, f.location.line) for f in found] == [("environments/base.yaml", line_of(base))]


def test_secret_in_a_parent_value_overridden_by_the_child_is_still_reported(tmp_path):
    base = spec(job("etl", 'env:\n  TOKEN_X: "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"  # <-')).replace("name: e1", "name: base")
    base = base.replace("kind: Environment\n", "kind: Environment\nabstract: true\n")
    child = (
        "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: base\n"
        'components:\n  etl:\n    env: {TOKEN_X: {secret: "ci/x#token"}}\n'
    )
    compiled = compiled_env(tmp_path, {"base": base, "e1": child}, "e1")
    found = [f for f in run_policies(compiled, None, TODAY) if f.rule == "MLC-SEC-001"]
    assert [(f.component, f.location.file, f.location.line) for f in found] == [("etl", "environments/base.yaml", line_of(base))]


def test_prod_detection_uses_env_or_tier_label(tmp_path):
    from compiler.policy.hits import is_prod

    assert is_prod(compiled_env(tmp_path, {"e1": spec("{}", labels=PROD)}, "e1").env)
    assert is_prod(compiled_env(tmp_path, {"e1": spec("{}", labels="{tier: production}")}, "e1").env)
    assert not is_prod(compiled_env(tmp_path, {"e1": spec("{}", labels="{env: staging, tier: critical}")}, "e1").env)


# ---------------------------------------------------------------------------- budget


@pytest.mark.parametrize(
    "budget, rule", [("budget: {monthly_usd: 10}", "MLC-BUD-001"), ("budget: {monthly_usd: 600, warn_ratio: 0.5}", "MLC-BUD-002")]
)
def test_budget_findings_name_the_biggest_contributors(tmp_path, budget, rule):
    from compiler.policy.hits import usd
    from tests.policy.test_policy_rules import training

    text = spec(
        "models: {type: object_store, size_gb: 100}\n"
        + serving("api", "replicas: {min: 4, max: 4}")
        + training("train", "gpus: {type: nvidia-a10g, count: 1}\nnode_pool: gpu\nhours_per_month: 100"),
        budget=budget,
    )
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    found = [f for f in run_policies(compiled, None, TODAY) if f.rule in ("MLC-BUD-001", "MLC-BUD-002")]
    assert [(f.rule, f.location.line) for f in found] == [(rule, line_of(text, "budget:"))]
    top = compiled.cost.top(3)
    assert [i.component for i in top] == ["cpu", "api", "train"]
    assert found[0].message.endswith(
        "; biggest: "
        + ", ".join(
            f"{i.component} {usd(i.monthly_usd)}" + (f" ({i.type})" if i.kind == "component" else f" (node pool, {i.type})") for i in top
        )
    )
