"""Renderers (text, JSON, SARIF 2.1.0, GitHub annotations), exit codes, and secret safety."""

from __future__ import annotations

import json
from datetime import date

import pytest

from compiler.core.diagnostics import Location
from compiler.policy.engine import all_rules, run_policies
from compiler.policy.findings import Finding
from compiler.policy.render import escape_data, escape_property, exit_code, render
from tests.policy.test_policy_rules import job, spec
from tests.support.helpers import compiled_env
from tests.support.validators import validate_sarif

TODAY = date(2026, 6, 1)


def finding(
    severity: str = "error",
    rule: str = "MLC-SEC-002",
    waived: bool = False,
    message: str = "public store holds pii data",
    component: str | None = "data",
) -> Finding:
    return Finding(
        Location("environments/prod.yaml", 14, 7),
        rule,
        severity,
        message,
        "prod",
        component,
        waived,
        "mirror of open data" if waived else None,
    )


def test_text_line_format():
    text = render([finding(), finding("warning", "MLC-SEC-004", waived=True, component=None)], "text")
    lines = text.splitlines()
    assert lines[0] == "environments/prod.yaml:14:7: error MLC-SEC-002: public store holds pii data [prod: data]"
    assert lines[1] == "environments/prod.yaml:14:7: warning MLC-SEC-004: public store holds pii data [prod] (waived: mirror of open data)"
    assert lines[2] == "1 error, 0 warnings, 0 info, 1 waived"


def test_json_is_sorted_data():
    document = json.loads(render([finding("info", "MLC-REL-009"), finding()], "json"))
    assert [f["rule"] for f in document["findings"]] == ["MLC-REL-009", "MLC-SEC-002"]  # by location, then rule
    assert document["findings"][1] == {
        "rule": "MLC-SEC-002",
        "severity": "error",
        "environment": "prod",
        "component": "data",
        "file": "environments/prod.yaml",
        "line": 14,
        "column": 7,
        "message": "public store holds pii data",
        "waived": False,
        "waiver_reason": None,
    }
    assert document["summary"] == {"error": 1, "warning": 0, "info": 1, "waived": 0}


def test_sarif_validates_and_carries_rules_locations_and_suppressions():
    findings = [finding(), finding("warning", "MLC-SEC-004", waived=True), finding("info", "MLC-REL-009")]
    log = json.loads(render(findings, "sarif"))
    assert validate_sarif(log) == []
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["MLC-REL-009", "MLC-SEC-002", "MLC-SEC-004"]
    sec = rules[1]
    assert sec["name"] == "StoresHoldingPiiOrConfidentialDataAreNotPublic"
    assert sec["shortDescription"]["text"] == "Stores holding pii or confidential data are not public"
    assert sec["defaultConfiguration"]["level"] == "error" and sec["fullDescription"]["text"] and sec["help"]["text"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["MLC-SEC-002"]["level"] == "error" and by_rule["MLC-REL-009"]["level"] == "note"
    assert by_rule["MLC-SEC-002"]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "environments/prod.yaml"},
        "region": {"startLine": 14, "startColumn": 7},
    }
    assert rules[by_rule["MLC-SEC-004"]["ruleIndex"]]["id"] == "MLC-SEC-004"
    assert by_rule["MLC-SEC-004"]["suppressions"] == [{"kind": "external", "status": "accepted", "justification": "mirror of open data"}]
    assert "suppressions" not in by_rule["MLC-SEC-002"]


def test_sarif_of_a_real_environment_with_kcl_rules_validates(tmp_path):
    text = spec("data: {type: object_store, classification: pii, public: true}", labels="{team: t1}")
    findings = run_policies(compiled_env(tmp_path, {"e1": text}, "e1"), tmp_path / "policies", TODAY)
    log = json.loads(render(findings, "sarif", all_rules(tmp_path / "policies")))
    assert validate_sarif(log) == []
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["MLC-GOV-101"]["shortDescription"]["text"] == "Every environment has team and cost-center labels"
    assert render(findings, "sarif") == render(list(reversed(findings)), "sarif")  # deterministic, order-free


def test_sarif_without_findings_validates():
    log = json.loads(render([], "sarif"))
    assert validate_sarif(log) == [] and log["runs"][0]["results"] == []


def test_github_annotations_escape_properties_and_data():
    f = Finding(Location("environments/a,b:c.yaml", 3, 5), "MLC-SEC-002", "error", "100% bad\r\nnext: line, here", "prod", "data")
    line = render([f], "github").rstrip("\n")
    assert line == "::error file=environments/a%2Cb%3Ac.yaml,line=3,col=5,title=MLC-SEC-002::100%25 bad%0D%0Anext: line, here [prod: data]"
    assert "\n" not in line
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25" and escape_data("a:b,c%\n") == "a:b,c%25%0A"


def test_github_levels_and_waived_as_notice():
    out = render(
        [finding(), finding("warning", "MLC-SEC-004"), finding("info", "MLC-REL-009"), finding(rule="MLC-SEC-008", waived=True)], "github"
    )
    commands = [line.split(" ", 1)[0] for line in out.splitlines()]
    assert commands == ["::notice", "::error", "::warning", "::notice"]  # sorted by rule: REL-009, SEC-002, SEC-004, SEC-008
    assert "(waived: mirror of open data)" in out.splitlines()[3]


@pytest.mark.parametrize(
    "severities, fail_on, code",
    [
        ([], "error", 0),
        (["info"], "warning", 0),
        (["warning"], "error", 0),
        (["warning"], "warning", 1),
        (["error"], "error", 1),
        (["error"], "warning", 1),
    ],
)
def test_exit_code(severities, fail_on, code):
    assert exit_code([finding(s) for s in severities], fail_on) == code


def test_waived_errors_do_not_fail():
    assert exit_code([finding(waived=True)], "error") == 0
    assert exit_code([finding("warning", waived=True)], "warning") == 0


def test_unknown_format_and_fail_on_are_errors():
    with pytest.raises(ValueError):
        render([], "xml")
    with pytest.raises(ValueError):
        exit_code([], "info")


SECRETS = [
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "postgres://admin:S3cr3tPassw0rd@db.internal:5432/app",
    "xoxb-1234567890-abcdefghijklmnop",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz12345678",
    "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZkdISUpLTE1O",  # high entropy
]


@pytest.mark.parametrize("secret", SECRETS)
def test_secret_is_reported_but_never_echoed(tmp_path, secret):
    text = spec(job("etl", f'env:\n  SOME_SETTING: "{secret}"\nargs: ["--dsn={secret}"]'))
    policy = (
        '_plan = option("plan")\n'
        'mlc_rules = [{id = "MLC-USR-001", title = "t", severity = "info", rationale = "r", fix = "f"}]\n'
        'mlc_findings = [{rule = "MLC-USR-001", component = c.name, message = "saw " + c.spec.env.SOME_SETTING} '
        "for c in _plan.components]\n"
    )
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    (tmp_path / "policies" / "echo.k").write_text(policy, encoding="utf-8")
    findings = run_policies(compiled, tmp_path / "policies", TODAY)
    assert len([f for f in findings if f.rule == "MLC-SEC-001"]) == 2  # the env value and the arg
    (echo,) = [f.message for f in findings if f.rule == "MLC-USR-001"]
    assert echo.startswith("saw <redacted>")
    for fmt in ("text", "json", "sarif", "github"):
        assert secret not in render(findings, fmt, all_rules(tmp_path / "policies"))
        assert secret[:12] not in render(findings, fmt, all_rules(tmp_path / "policies"))


def test_secret_used_as_a_key_is_not_echoed_in_the_path(tmp_path):
    secret = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
    text = spec("data: {type: object_store, labels: {" + secret + ": x}}")
    (found,) = [f for f in run_policies(compiled_env(tmp_path, {"e1": text}, "e1"), None, TODAY) if f.rule == "MLC-SEC-001"]
    assert secret not in found.message and "components.data.labels.<redacted>" in found.message


def test_mlc_check_formats_and_exit_codes(tmp_path, capsys):
    from compiler.cli import main
    from tests.support.helpers import make_project

    warn_only = spec("open: {type: object_store, classification: public, public: true}")
    make_project(tmp_path, {"e1": warn_only})
    args = ["check", "--project", str(tmp_path), "--today", "2026-06-01"]
    assert main(args) == 0
    assert "warning MLC-SEC-004" in capsys.readouterr().out
    assert main([*args, "--fail-on", "warning"]) == 1
    capsys.readouterr()
    assert main([*args, "--format", "sarif"]) == 0
    assert validate_sarif(json.loads(capsys.readouterr().out)) == []
    (tmp_path / "environments" / "e1.yaml").write_text(warn_only.replace("classification: public", "classification: pii"), encoding="utf-8")
    assert main([*args, "--format", "github"]) == 1
    assert "::error file=environments/e1.yaml,line=" in capsys.readouterr().out


@pytest.mark.parametrize("prose", ["token: rotated monthly by the platform team", "api key: replaced by workload identity"])
def test_prose_about_credentials_is_not_a_credential(tmp_path, prose):
    text = spec(
        "open: {type: object_store, classification: public, public: true}",
        top=f'exceptions:\n  - {{rule: MLC-SEC-004, component: open, reason: "{prose}", expires: "2026-12-31"}}',
    )
    assert [f.rule for f in run_policies(compiled_env(tmp_path, {"e1": text}, "e1"), None, TODAY) if f.rule == "MLC-SEC-001"] == []
