"""The pull-request loop (issue 19): diff of blocked environments, exit codes, summaries,
cost formats and rounding, trace, closed pipes, graph renderers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from compiler.cli import main
from tests.output.test_gitops import IMG, child, git, project_with
from tests.support.helpers import REPO

TODAY = "2026-01-15"


def committed(tmp_path: Path, count: int = 2) -> Path:
    root = project_with(tmp_path, count)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    return root


# --- mlc diff: a blocked environment ----------------------------------------------------------
def test_a_change_that_blocks_an_environment_is_shown_as_blocked_not_deleted(tmp_path: Path, capsys) -> None:
    root = committed(tmp_path)
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {classification: pii, public: true}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0] == "== env00: BLOCKED; cost $281.27 → $281.27 ($0.00)"
    assert lines[1] == "   note: head: blocked by error-level findings: out/ would not be written for it"
    assert lines[2] == ("  blocking finding: environments/env00.yaml:6:39: MLC-SEC-002 [data] public store holds pii data")
    assert "removed" not in captured.out and "env01" not in captured.out
    assert captured.err == "error: error-level policy findings in env00: they would not be written\n"
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--format", "markdown"]) == 1
    markdown = capsys.readouterr().out
    assert "| `env00` | **blocked** | – | $0.00 ($281.27) | 2 / 0 | 0 |" in markdown.splitlines()
    # the location and message are escaped like every string that reaches Markdown
    assert "- :no_entry: blocking `MLC-SEC-002` on `data` (environments/env00\\.yaml\\:6\\:39): public store holds pii data" in markdown


def test_diff_exits_2_when_the_head_side_does_not_compile(tmp_path: Path, capsys) -> None:
    root = committed(tmp_path)
    (root / "environments" / "env01.yaml").write_text(child("env01", "components:\n  data: {size_gb: lots}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "== env01: INVALID; cost $281.27 → —"
    assert "removed" not in captured.out
    assert captured.err == "mlc: error: invalid input in env01 (run `mlc validate`)\n"


# --- plaintext-secret hint ---------------------------------------------------------------------
def test_the_plaintext_secret_fix_hint_survives_redaction(tmp_path: Path, capsys) -> None:
    from tests.support.helpers import make_project

    env = child("env00", f'components:\n  etl: {{env: {{GH_PAT: "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"}}, image: "{IMG}"}}\n')
    root = make_project(tmp_path, {"base": project_with.__globals__["PARENT"], "env00": env})
    capsys.readouterr()
    assert main(["check", "--project", str(root), "--today", TODAY]) == 1
    out = capsys.readouterr().out
    assert (
        "environments/env00.yaml:6:23: error MLC-SEC-001: the value at components.etl.env.GH_PAT looks like a credential "
        '(GitHub token) in plaintext; rotate it, store it in the secret manager and reference it as {secret: "<path>#<key>"} [env00: etl]'
    ) in out.splitlines()
    assert "ghp_" not in out


def test_the_password_rule_still_finds_quoted_values_but_not_placeholders() -> None:
    from compiler.core.secrets_scan import find_secret

    assert find_secret('password: "Hunter2hunter"') == "password assignment"
    assert find_secret("token=abcDEF123") == "password assignment"
    assert find_secret('{secret: "<path>#<key>"}') is None
    assert find_secret("secret: '<vault path>#Key1'") is None


# --- summaries and messages -------------------------------------------------------------------
def test_compile_summary_does_not_count_the_abstract_parent(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == "2 compiled, 0 unchanged (cached), 0 blocked"


def test_check_prints_a_one_line_summary_also_when_clean(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    assert main(["check", "--project", str(root), "--today", TODAY]) == 0
    captured = capsys.readouterr()
    assert captured.out == "2 environments checked: no findings\n"
    assert main(["check", "--project", str(root), "--today", TODAY, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) is not None and captured.err == "2 environments checked: no findings\n"
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {classification: pii, public: true}\n"))
    assert main(["check", "--project", str(root), "--today", TODAY]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "1 error, 1 warning, 0 info, 0 waived"  # the report's own summary, once
    assert "checked" not in captured.out + captured.err


def test_only_commands_that_write_say_nothing_was_written(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 1)
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {size_gb: lots}\n"))
    for argv, says in (
        (["validate"], False),
        (["graph", "env00"], False),
        (["check"], False),
        (["compile", "--check"], False),
        (["compile"], True),
    ):
        capsys.readouterr()
        assert main([*argv, "--project", str(root), "--today", TODAY]) == 2
        last = capsys.readouterr().err.splitlines()[-1]
        assert last == ("1 problem found; nothing was written" if says else "1 problem found"), argv


# --- cost: formats and agreement with diff ---------------------------------------------------
def test_cost_base_honours_format_and_agrees_with_diff_to_the_cent(tmp_path: Path, capsys) -> None:
    root = committed(tmp_path, 1)
    # 0.005 GB-month differences make float formatting and half-up rounding disagree
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {size_gb: 1010.5}\n"))
    capsys.readouterr()
    assert main(["cost", "--project", str(root), "env00", "--base", "HEAD", "--today", TODAY]) == 0
    table = capsys.readouterr().out
    assert not table.startswith("###") and "|" not in table
    lines = table.splitlines()
    assert lines[0].split() == ["ITEM", "KIND", "TYPE", "BASE", "USD", "HEAD", "USD", "CHANGE"]
    total = next(line for line in lines if line.startswith("TOTAL")).split()  # notes may follow it
    base_total, head_total = total[1], total[2]
    assert main(["cost", "--project", str(root), "env00", "--today", TODAY]) == 0
    assert next(line for line in capsys.readouterr().out.splitlines() if line.startswith("TOTAL")).split()[1] == head_total
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert f"cost ${base_total} → ${head_total} " in first
    assert main(["cost", "--project", str(root), "env00", "--base", "HEAD", "--format", "markdown", "--today", TODAY]) == 0
    assert capsys.readouterr().out.startswith("### mlc cost estimate")


def test_diff_and_cost_round_half_up_like_each_other() -> None:
    from compiler.build import EnvOutcome
    from compiler.output.diffing import diff_outcomes, render_text
    from compiler.plan.cost import CostEstimate, money

    def outcome(total: float) -> EnvOutcome:
        o = EnvOutcome("e", files=("environments/e.yaml",), content={"plan.json": str(total).encode()})
        o.cost = CostEstimate(total_usd=total, items=())
        return o

    before, after = outcome(10.125), outcome(20.675)  # float formatting gives 10.12 and 20.68
    (d,) = diff_outcomes({"e": before}, {"e": after})
    assert (d.cost_before, d.cost_after) == (money(10.125), money(20.675))
    assert render_text([d], "HEAD").splitlines()[0] == "== e: 0 added, 1 changed, 0 removed; cost $10.13 → $20.68 (+$10.55)"


# --- trace -----------------------------------------------------------------------------------
def _trace_project(tmp_path: Path) -> Path:
    from tests.support.helpers import MINIMAL_AWS, make_project

    base = MINIMAL_AWS.replace("NAME", "base") + (
        "abstract: true\ncomponents:\n  s: {type: object_store, size_gb: 1, versioning: false}\n  t: {type: object_store, size_gb: 3}\n"
    )
    e1 = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: base\ncomponents:\n  s: {size_gb: 2}\n  t: null\n"
    return make_project(tmp_path, {"base": base, "e1": e1})


def test_trace_describes_a_deep_merged_map(tmp_path: Path, capsys) -> None:
    root = _trace_project(tmp_path)
    assert main(["trace", "--project", str(root), "e1", "components.s"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('components.s = {"type": "object_store", "size_gb": 2, "versioning": false')
    assert lines[1:4] == [
        "  a map merged from 2 files:",
        "    size_gb: environments/e1.yaml:6:6 (in e1)",
        '    type, versioning: environments/base.yaml:13:6 (in base, inherited from parent "base")',
    ]
    assert lines[4].startswith("    ") and lines[4].endswith(": schema defaults") and "public" in lines[4]


def test_trace_describes_a_nulled_component(tmp_path: Path, capsys) -> None:
    root = _trace_project(tmp_path)
    assert main(["trace", "--project", str(root), "e1", "components.t.size_gb"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "components.t.size_gb: removed",
        "  removed with components.t: null at environments/e1.yaml:7:6 (in e1)",
        "  was set at environments/base.yaml:14:36 (in base)",
    ]
    assert main(["trace", "--project", str(root), "e1", "components.t"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["components.t: removed", "  set to null at environments/e1.yaml:7:6 (in e1)"]


def test_trace_suggests_the_closest_key(tmp_path: Path, capsys) -> None:
    root = _trace_project(tmp_path)
    assert main(["trace", "--project", str(root), "e1", "components.s.sise_gb"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        'mlc: error: "components.s.sise_gb" is not set in the resolved environment "e1": '
        'components.s has no key "sise_gb" (did you mean "size_gb"?)'
    )


# --- closed pipes ------------------------------------------------------------------------------
def test_a_closed_stdout_pipe_is_not_an_error() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away before the first byte, like `| head -0`
    try:
        done = subprocess.run(
            [sys.executable, "-m", "compiler", "cost", "prod", "--project", str(REPO)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")


def test_head_of_a_long_output_exits_0_without_broken_pipe() -> None:
    script = f'set -o pipefail; "{sys.executable}" -m compiler cost prod --project "{REPO}" --format json | head -1'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "{\n", "")


# --- graph renderers ------------------------------------------------------------------------
def test_dot_carries_the_roles_and_classifications_mermaid_shows(capsys) -> None:
    assert main(["graph", "--project", str(REPO), "prod", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert (
        '  "features" [shape=cylinder, class="store", style="filled", fillcolor="#e8f1fb", color="#2b6cb0", '
        'classification="pii", penwidth=2, fontcolor="#c53030", label="features\\ndata_lake\\npii"];'
    ) in dot
    assert (
        '  "metadata-db" [shape=cylinder, class="store", style="filled", fillcolor="#e8f1fb", color="#2b6cb0", '
        'label="metadata-db\\ndatabase"];' in dot
    )
    assert main(["graph", "--project", str(REPO), "prod"]) == 0
    mermaid = capsys.readouterr().out
    sensitive = {
        line.split('"')[1]: line.split('classification="')[1].split('"')[0] for line in dot.splitlines() if "classification=" in line
    }
    assert sensitive and set(sensitive.values()) <= {"pii", "confidential"}
    for name, level in sensitive.items():
        assert any(f'"{name}<br/><i>' in m and f'</i><br/>{level}"' in m for m in mermaid.splitlines()), name
    roles = {line.split('"')[1]: line.split('class="')[1].split('"')[0] for line in dot.splitlines() if 'class="' in line}
    for role in ("store", "run", "endpoint", "ops"):
        members = sorted(n for n, r in roles.items() if r == role)
        assert f"  class {','.join('n_' + n.replace('-', '_') for n in members)} {role}" in mermaid


# --- findings baseline ------------------------------------------------------------------------
PII_PUBLIC = "components:\n  data: {classification: pii, public: true}\n"


def test_check_with_a_baseline_fails_only_on_new_findings(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    (root / "environments" / "env00.yaml").write_text(child("env00", PII_PUBLIC))
    baseline = tmp_path / "baseline.json"
    assert main(["check", "--project", str(root), "--today", TODAY, "--write-baseline", str(baseline)]) == 0
    data = json.loads(baseline.read_text())
    assert [(e["rule"], e["environment"], e["component"], e["file"]) for e in data["findings"]] == [
        ("MLC-GOV-006", "env00", None, "environments/env00.yaml"),  # the warning that comes with pii
        ("MLC-SEC-002", "env00", "data", "environments/env00.yaml"),
    ]
    assert all(set(e) == {"fingerprint", "rule", "environment", "component", "file", "message"} for e in data["findings"])
    capsys.readouterr()
    assert main(["check", "--project", str(root), "--today", TODAY, "--baseline", str(baseline)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "2 environments checked: no findings\n"
    assert captured.err == f"{len(data['findings'])} findings in the baseline {baseline} not shown\n"
    # the same finding, moved down two lines: still known (fingerprints carry no line numbers)
    (root / "environments" / "env00.yaml").write_text(child("env00", "# moved\n# down\n" + PII_PUBLIC))
    assert main(["check", "--project", str(root), "--today", TODAY, "--baseline", str(baseline)]) == 0
    # the same problem in another environment is new
    (root / "environments" / "env01.yaml").write_text(child("env01", PII_PUBLIC))
    capsys.readouterr()
    assert main(["check", "--project", str(root), "--today", TODAY, "--baseline", str(baseline)]) == 1
    out = capsys.readouterr().out
    assert "environments/env01.yaml:6:39: error MLC-SEC-002" in out and "env00.yaml" not in out


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 1)
    bad = tmp_path / "bad.json"
    bad.write_text('{"findings": 3}')
    assert main(["check", "--project", str(root), "--baseline", str(bad)]) == 2
    assert "is not an mlc baseline" in capsys.readouterr().err
    assert main(["check", "--project", str(root), "--baseline", str(tmp_path / "missing.json")]) == 2


def test_fingerprints_ignore_positions_but_not_content() -> None:
    from compiler.core.diagnostics import Location
    from compiler.policy.baseline import fingerprint
    from compiler.policy.findings import Finding

    a = Finding(Location("environments/e.yaml", 3, 5), "MLC-SEC-002", "error", "x derives from y (environments/b.yaml:12)", "e", "x")
    b = Finding(Location("environments/e.yaml", 9, 1), "MLC-SEC-002", "error", "x derives from y (environments/b.yaml:40)", "e", "x")
    c = Finding(Location("environments/e.yaml", 3, 5), "MLC-SEC-002", "error", "x derives from z (environments/b.yaml:12)", "e", "x")
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


# --- cost gates -------------------------------------------------------------------------------
def test_a_cost_increase_above_the_limit_fails_diff_and_cost(tmp_path: Path, capsys) -> None:
    root = committed(tmp_path, 2)
    # +1000 GB of S3 standard = +$23.00 per month for env00
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {size_gb: 1010}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--max-increase-usd", "23"]) == 0
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--max-increase-usd", "22.99"]) == 1
    assert capsys.readouterr().err == (
        "error: cost gate: env00: monthly cost increases by $23.00 ($281.27 → $304.27), above the allowed $22.99\n"
    )
    assert main(["cost", "--project", str(root), "env00", "--base", "HEAD", "--today", TODAY, "--max-increase-usd", "10"]) == 1
    assert "error: cost gate: env00: monthly cost increases by $23.00" in capsys.readouterr().err
    # the limit in the spec (budget.max_increase_usd), also inherited
    (root / "environments" / "env00.yaml").write_text(
        child("env00", "budget: {monthly_usd: 100000, max_increase_usd: 20}\ncomponents:\n  data: {size_gb: 1010}\n")
    )
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY]) == 1
    assert "above the allowed $20.00" in capsys.readouterr().err
    assert main(["cost", "--project", str(root), "env00", "--base", "HEAD", "--today", TODAY, "--format", "json"]) == 1
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--max-increase-usd", "50"]) == 0  # the flag wins
    # a decrease never trips the gate
    (root / "environments" / "env00.yaml").write_text(child("env00", "budget: {monthly_usd: 100000, max_increase_usd: 0}\n"))
    (root / "environments" / "env01.yaml").write_text(child("env01", "components:\n  data: {size_gb: 1}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--max-increase-usd", "0"]) == 0
