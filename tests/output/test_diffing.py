"""compiler/output/diffing.py (`mlc diff --base REF`) on outcomes built by hand: which files
count as added / changed / removed, the findings introduced and resolved, the cost delta,
and the exact text and Markdown renderings. test_gitops covers the command end to end
against a git revision; these pin the details the mutation run found unchecked."""

from __future__ import annotations

import re
from types import SimpleNamespace

from compiler.build import EnvOutcome
from compiler.core.diagnostics import Location
from compiler.output.diffing import diff_outcomes, render_markdown, render_text
from compiler.policy.findings import Finding

MAX_DIFF_LINES = 400  # the documented cut, spelled out: a mutant of the constant must fail


def finding(rule: str, message: str, component: str | None = "api", waived: bool = False) -> Finding:
    return Finding(Location("environments/e1.yaml", 3, 1), rule, "warning", message, "e1", component, waived)


def outcome(env: str, files: dict[str, bytes], cost: float | None = None, **kw) -> EnvOutcome:
    return EnvOutcome(env, content=files, cost=SimpleNamespace(total_usd=cost) if cost is not None else None, **kw)


BASE = {
    "e1": outcome(
        "e1",
        {"a.yaml": b"a: 1\n", "gone.yaml": b"x\n", "same.yaml": b"s\n", ".mlc-manifest.json": b"{1}"},
        cost=100.0,
        findings=[finding("MLC-SEC-005", "old"), finding("MLC-SEC-004", "kept"), finding("MLC-NET-001", "waived", waived=True)],
        owners={"a.yaml": "api", "gone.yaml": None},
    )
}
HEAD = {
    "e1": outcome(
        "e1",
        {"a.yaml": b"a: 2\n", "new.yaml": b"n\n", "same.yaml": b"s\n", ".mlc-manifest.json": b"{2}"},
        cost=112.5,
        findings=[finding("MLC-SEC-004", "kept"), finding("MLC-SEC-001", "new one", component=None)],
        owners={"a.yaml": "api", "new.yaml": "etl"},
    )
}


def test_files_findings_and_cost_of_one_environment() -> None:
    """Guards the classification of each path (manifest skipped, equal skipped), the
    waived-findings filter, new vs resolved, and both costs."""
    (d,) = diff_outcomes(BASE, HEAD)
    assert (d.env, d.added, d.changed, d.removed) == ("e1", ["new.yaml"], ["a.yaml"], ["gone.yaml"])
    assert (d.cost_before, d.cost_after, d.note) == (100.0, 112.5, "")
    assert [f.message for f in d.new_findings] == ["new one"]
    assert [f.message for f in d.resolved_findings] == ["old"]
    assert d.owners == {"a.yaml": "api", "gone.yaml": None, "new.yaml": "etl"}
    assert d.patches["a.yaml"] == ["--- a/out/e1/a.yaml", "+++ b/out/e1/a.yaml", "@@ -1 +1 @@", "-a: 1", "+a: 2"]
    assert d.patches["gone.yaml"] == ["--- a/out/e1/gone.yaml", "+++ b/out/e1/gone.yaml", "@@ -1 +0,0 @@", "-x"]


def test_an_unchanged_environment_is_left_out_and_nothing_renders_as_no_change() -> None:
    """Guards EnvDiff.empty (every field, and equal costs) and the no-change renderings."""
    same = {"e1": outcome("e1", {"a.yaml": b"a\n"}, cost=5.0, findings=[finding("MLC-SEC-004", "kept")])}
    assert diff_outcomes(same, same) == []
    assert render_text([], "main") == "no change to compiled output against main\n"
    assert render_markdown([], "main") == "### mlc: compiled output against `main`\n\nNo change to compiled output.\n"
    cheaper = {"e1": outcome("e1", {"a.yaml": b"a\n"}, cost=4.0, findings=[finding("MLC-SEC-004", "kept")])}
    (d,) = diff_outcomes(same, cheaper)
    assert (d.added, d.changed, d.removed, d.cost_before, d.cost_after) == ([], [], [], 5.0, 4.0)


def test_added_and_removed_environments_and_notes() -> None:
    """Guards the `if before` / `if after` sides: a new environment is all added, a deleted
    one all removed, with no cost on the missing side; invalid input and blocked outcomes
    are noted on each side; a head side that writes nothing has unknown files (not removed),
    its blocking findings are the unwaived errors, and its status says why."""
    error = Finding(Location("environments/e1.yaml", 4, 3), "MLC-SEC-002", "error", "public", "bad", "api")
    waived_error = Finding(Location("environments/e1.yaml", 5, 3), "MLC-SEC-003", "error", "waived", "bad", "api", True)
    base = {
        "old": outcome("old", {"x.yaml": b"x\n"}, cost=1.0),
        "bad": EnvOutcome("bad", content={"x.yaml": b"x\n"}, diagnostics=["d1", "d2"]),
        "worse": EnvOutcome("worse", content={"x.yaml": b"x\n"}, blocked=True),
    }
    head = {
        "new": outcome("new", {"y.yaml": b"y\n"}, cost=2.0),
        "bad": EnvOutcome("bad", blocked=True, findings=[error, waived_error]),
        "worse": EnvOutcome("worse", diagnostics=["d"]),
    }
    diffs = {d.env: d for d in diff_outcomes(base, head)}
    assert sorted(diffs) == ["bad", "new", "old", "worse"]
    assert (diffs["new"].added, diffs["new"].cost_before, diffs["new"].cost_after) == (["y.yaml"], None, 2.0)
    assert (diffs["old"].removed, diffs["old"].cost_before, diffs["old"].cost_after) == (["x.yaml"], 1.0, None)
    assert (diffs["new"].status, diffs["old"].status) == ("added", "removed")
    bad, worse = diffs["bad"], diffs["worse"]
    assert bad.note == "base: invalid input (2 problem(s)); head: blocked by error-level findings: out/ would not be written for it; "
    assert (bad.status, bad.blocking, bad.problems, bad.removed) == ("blocked", [error], 0, [])
    assert worse.note == "base: blocked by error-level findings; head: invalid input (1 problem(s)): not compiled, run `mlc validate`; "
    assert (worse.status, worse.blocking, worse.problems, worse.removed) == ("invalid", [], 1, [])


def test_long_patches_are_cut() -> None:
    """Guards MAX_DIFF_LINES and the count of lines left out."""
    old = "".join(f"line {i}\n" for i in range(MAX_DIFF_LINES)).encode()
    (d,) = diff_outcomes({"e1": outcome("e1", {"big.yaml": old})}, {"e1": outcome("e1", {"big.yaml": b""})})
    patch = d.patches["big.yaml"]
    assert len(patch) == MAX_DIFF_LINES + 1 and patch[-1] == "... 3 more lines"
    exact = "".join(f"line {i}\n" for i in range(MAX_DIFF_LINES - 3)).encode()  # + 3 header lines: exactly the limit
    (d,) = diff_outcomes({"e1": outcome("e1", {"big.yaml": exact})}, {"e1": outcome("e1", {"big.yaml": b""})})
    assert len(d.patches["big.yaml"]) == MAX_DIFF_LINES and d.patches["big.yaml"][-1] == f"-line {MAX_DIFF_LINES - 4}"


def test_text_rendering() -> None:
    diffs = diff_outcomes(BASE, HEAD)
    assert render_text(diffs, "main") == (
        "== e1: 1 added, 1 changed, 1 removed; cost $100.00 → $112.50 (+$12.50)\n"
        "  (environment):\n"
        "    removed gone.yaml\n"
        "  api:\n"
        "    changed a.yaml\n"
        "  etl:\n"
        "    added new.yaml\n"
        "  new finding: warning MLC-SEC-001 [-] new one\n"
        "  resolved finding: MLC-SEC-005 [api] old\n"
        "--- a/out/e1/new.yaml\n+++ b/out/e1/new.yaml\n@@ -0,0 +1 @@\n+n\n"
        "--- a/out/e1/a.yaml\n+++ b/out/e1/a.yaml\n@@ -1 +1 @@\n-a: 1\n+a: 2\n"
        "--- a/out/e1/gone.yaml\n+++ b/out/e1/gone.yaml\n@@ -1 +0,0 @@\n-x\n"
    )


def test_markdown_rendering_and_cost_deltas() -> None:
    """Guards render_markdown: the summary row (status, counts, cost change, findings), the
    escaped note, findings before the per-component verbs, each file's diff folded."""
    diffs = diff_outcomes(BASE, HEAD)
    diffs[0].note = "head: blocked by error-level findings; "
    text = render_markdown(diffs, "main")
    fold = "\n<details><summary><code>out/e1/{}</code> ({})</summary>\n\n```diff\n--- a/out/e1/{}\n+++ b/out/e1/{}\n{}\n```\n\n</details>\n"
    assert text == (
        "### mlc: compiled output against `main`\n\n"
        "| environment | status | files (+ ~ -) | monthly cost | findings new / resolved | replaced |\n"
        "|---|---|---:|---|---:|---:|\n"
        "| `e1` | changed | +1 ~1 -1 | +$12.50 ($112.50) | 1 / 1 | 0 |\n\n"
        "#### `e1`\n"
        "> head\\: blocked by error-level findings\n"
        "- :warning: new `MLC-SEC-001` (warning) on `e1`: new one\n"
        "- :white_check_mark: resolved `MLC-SEC-005` on `api`\n"
        "- **\\(environment\\)**: 1 removed\n- **api**: 1 changed\n- **etl**: 1 added\n"
        + fold.format("gone.yaml", "removed", "gone.yaml", "gone.yaml", "@@ -1 +0,0 @@\n-x")
        + fold.format("new.yaml", "added", "new.yaml", "new.yaml", "@@ -0,0 +1 @@\n+n")
        + fold.format("a.yaml", "changed", "a.yaml", "a.yaml", "@@ -1 +1 @@\n-a: 1\n+a: 2")
    )
    cheaper = diff_outcomes({"e1": outcome("e1", {}, cost=1234.5)}, {"e1": outcome("e1", {}, cost=1000.0)})
    assert "| `e1` | changed | +0 ~0 -0 | -$234.50 ($1,000.00) | 0 / 0 | 0 |\n" in render_markdown(cheaper, "x")
    unknown = diff_outcomes({"e1": outcome("e1", {})}, {"e1": outcome("e1", {}, cost=3.0)})
    assert render_text(unknown, "x") == "== e1: 0 added, 0 changed, 0 removed; cost — → $3.00\n"
    assert "| `e1` | added | +0 ~0 -0 | — → $3.00 | 0 / 0 | 0 |\n" in render_markdown(unknown, "x")
    assert "```diff" not in render_markdown(unknown, "x")


def test_patches_have_two_lines_of_context_and_notes_and_verbs_are_rendered() -> None:
    """Guards difflib's n=2, the note line of the text rendering, and the ", " between the
    verbs of one component in Markdown."""
    old = b"".join(f"l{i}\n".encode() for i in range(9))
    new = old.replace(b"l4\n", b"L4\n")
    base = {"e1": outcome("e1", {"a.yaml": old, "b.yaml": b"b\n"}, owners={"a.yaml": "api", "b.yaml": "api"})}
    head = {"e1": outcome("e1", {"a.yaml": new, "c.yaml": b"c\n"}, owners={"a.yaml": "api", "c.yaml": "api"})}
    (d,) = diff_outcomes(base, head)
    assert d.patches["a.yaml"][2:] == ["@@ -3,5 +3,5 @@", " l2", " l3", "-l4", "+L4", " l5", " l6"]
    d.note = "head: blocked by error-level findings; "
    assert "\n   note: head: blocked by error-level findings\n" in render_text([d], "main")
    assert "- **api**: 1 added, 1 changed, 1 removed\n" in render_markdown([d], "main")


def test_a_new_or_deleted_environment_lists_the_resources_it_creates_or_destroys() -> None:
    """Guards `if old_files or new_files` before plan_markers: an environment on one side only
    still gets its created / destroyed Terraform resources (one side's files are enough)."""
    tf = b'{"resource": {"aws_s3_bucket": {"raw": {"bucket": "b"}}}}'
    diffs = {
        d.env: d
        for d in diff_outcomes({"old": outcome("old", {"terraform/s.tf.json": tf})}, {"new": outcome("new", {"terraform/s.tf.json": tf})})
    }
    assert (diffs["new"].created, diffs["new"].destroyed) == (["aws_s3_bucket.raw"], [])
    assert (diffs["old"].created, diffs["old"].destroyed) == ([], ["aws_s3_bucket.raw"])
    assert "  destroyed: aws_s3_bucket.raw\n" in render_text([diffs["old"]], "main")


def test_text_cost_deltas_carry_their_sign() -> None:
    """Guards _delta's sign: a decrease is "-$", an increase below one dollar still "+$"."""
    cheaper = diff_outcomes({"e1": outcome("e1", {}, cost=1234.5)}, {"e1": outcome("e1", {}, cost=1000.0)})
    assert render_text(cheaper, "x") == "== e1: 0 added, 0 changed, 0 removed; cost $1,234.50 → $1,000.00 (-$234.50)\n"
    dearer = diff_outcomes({"e1": outcome("e1", {}, cost=10.0)}, {"e1": outcome("e1", {}, cost=10.5)})
    assert render_text(dearer, "x") == "== e1: 0 added, 0 changed, 0 removed; cost $10.00 → $10.50 (+$0.50)\n"
    assert "| `e1` | changed | +0 ~0 -0 | +$0.50 ($10.50) | 0 / 0 | 0 |" in render_markdown(dearer, "x").splitlines()  # _cost_cell


def test_lines_keep_a_last_line_without_newline_and_show_invalid_utf8() -> None:
    """Guards _lines: only a trailing empty piece is dropped (a file without a final newline
    keeps its last line), and bytes that are not UTF-8 become U+FFFD instead of failing."""
    (d,) = diff_outcomes({"e1": outcome("e1", {"a.txt": b"x\na"})}, {"e1": outcome("e1", {"a.txt": b"x\nb\xff"})})
    assert d.patches["a.txt"][2:] == ["@@ -1,2 +1,2 @@", " x", "-a", "+b\ufffd"]


def test_diff_never_compiles_an_abstract_environment_on_its_own(tmp_path) -> None:
    """Guards diff_against_base's `not project.is_abstract(n)` on both sides: a changed abstract
    parent is not an environment (never compiled or listed on its own); the environment
    extending it is what the diff shows."""
    from datetime import date

    from compiler.frontend.project import Project
    from compiler.output.diffing import diff_against_base
    from tests.output.test_gitops import git
    from tests.support.helpers import aws_env, make_project

    base = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: base, labels: {team: t1}}\nabstract: true\n"
    root = make_project(tmp_path, {"base": base, "e1": aws_env("e1", extra="extends: base\n")})
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    (root / "environments" / "base.yaml").write_text(base.replace("team: t1", "team: t2"))
    diffs = diff_against_base(Project.at(root), "HEAD", date(2026, 6, 1))
    assert [d.env for d in diffs] == ["e1"] and diffs[0].changed


def test_file_diffs_come_in_order_of_importance() -> None:
    """Guards _FILE_WEIGHT: Terraform first, then Kubernetes, Argo Workflows, Argo CD, the rest
    (so the diffs that matter most are the ones kept when the comment must be cut)."""
    paths = ["argo/w.yaml", "argocd/app.yaml", "kubernetes/d.yaml", "plan.json", "terraform/s.tf.json"]
    old, new = ({p: b'{"a": 1}\n' for p in paths}, {p: b'{"a": 2}\n' for p in paths})
    (d,) = diff_outcomes({"e1": outcome("e1", old)}, {"e1": outcome("e1", new)})
    text = render_markdown([d], "main")
    shown = [p for p in re.findall(r"<code>out/e1/([^<]+)</code>", text)]
    assert shown == ["terraform/s.tf.json", "kubernetes/d.yaml", "argo/w.yaml", "argocd/app.yaml", "plan.json"]
    # the weights, not the patch sizes (the next key) nor the paths: the more important a file, the longer its diff here
    lines = {p: 6 - i for i, p in enumerate(["terraform/s.tf.json", "kubernetes/d.yaml", "argo/w.yaml", "argocd/app.yaml", "plan.json"])}
    old = {p: "".join(f'{{"a{j}": 1}}\n' for j in range(n)).encode() for p, n in lines.items()}
    new = {p: "".join(f'{{"a{j}": 2}}\n' for j in range(n)).encode() for p, n in lines.items()}
    (d,) = diff_outcomes({"e1": outcome("e1", old)}, {"e1": outcome("e1", new)})
    assert [len(d.patches[p]) for p in lines] == [15, 13, 11, 9, 7]
    shown = re.findall(r"<code>out/e1/([^<]+)</code>", render_markdown([d], "main"))
    assert shown == ["terraform/s.tf.json", "kubernetes/d.yaml", "argo/w.yaml", "argocd/app.yaml", "plan.json"]


def test_the_comment_budget_is_exact_at_every_stage() -> None:
    """Guards render_markdown's arithmetic: the 400 characters reserved for the notes, each
    line counted with its newline, and `< 0` (a part that fits to the character is kept).
    Each stage (summary row, environment section, file diff) is cut at its exact size."""
    (d,) = diff_outcomes({"e1": outcome("e1", {"a.yaml": b"a: 1\n"})}, {"e1": outcome("e1", {"a.yaml": b"a: 2\n"})})
    full = render_markdown([d], "main")
    reserve = 400
    assert "left out" not in full and full.count("<details>") == 1
    # everything up to the file diff, and the header + table + row alone
    prefix = full[: full.index("\n\n<details>") + 1]
    table = full[: full.index("| `e1` |")]
    row = full[len(table) : full.index("\n", len(table)) + 1]
    run = "run `mlc diff --base main`"
    assert render_markdown([d], "main", limit=len(full) + reserve) == full
    file_note = f"\n_1 file diff left out to stay under GitHub's 65,536-character comment limit; {run} to see everything._\n"
    assert render_markdown([d], "main", limit=len(full) + reserve - 1) == prefix + file_note
    assert render_markdown([d], "main", limit=len(prefix) + reserve) == prefix + file_note
    section_note = f"\n_Details of 1 environments left out to fit; {run}._\n"
    assert render_markdown([d], "main", limit=len(prefix) + reserve - 1) == table + row + section_note
    assert render_markdown([d], "main", limit=len(table) + len(row) + reserve) == table + row + section_note
    row_note = f"\n_1 more environments changed; {run} to see them._\n"
    assert render_markdown([d], "main", limit=len(table) + len(row) + reserve - 1) == table + row_note
    # two file diffs: the second fits only when the first was counted with its newline, to the character
    files = ({"a.yaml": b"a: 1\n", "b.yaml": b"b: 1\n"}, {"a.yaml": b"a: 2\n", "b.yaml": b"b: 2\n"})
    (d,) = diff_outcomes({"e1": outcome("e1", files[0])}, {"e1": outcome("e1", files[1])})
    full = render_markdown([d], "main")
    assert full.count("<details>") == 2 and render_markdown([d], "main", limit=len(full) + reserve) == full
    cut = render_markdown([d], "main", limit=len(full) + reserve - 1)
    assert cut.count("<details>") == 1 and cut.endswith(file_note) and "out/e1/a.yaml" in cut and "out/e1/b.yaml" not in cut


def test_an_environment_whose_head_side_does_not_compile_is_invalid_in_both_renderings() -> None:
    """Guards the "invalid" status of _counts and _summary_row (bold, no file counts) and of
    render_text, and the note naming the number of problems."""
    base = {"e1": outcome("e1", {"a.yaml": b"a\n"}, cost=5.0)}
    head = {"e1": outcome("e1", {"a.yaml": b"b\n"}, diagnostics=["problem one", "problem two"])}
    (d,) = diff_outcomes(base, head)
    assert (d.status, d.problems, d.changed) == ("invalid", 2, [])
    assert render_text([d], "main").splitlines()[:2] == [
        "== e1: INVALID; cost $5.00 → —",
        "   note: head: invalid input (2 problem(s)): not compiled, run `mlc validate`",
    ]
    assert "| `e1` | **invalid** | – | $5.00 → — | 0 / 0 | 0 |" in render_markdown([d], "main").splitlines()


def test_the_comment_names_destroyed_resources_and_counts_created_ones() -> None:
    """Guards _env_section's "destroyed" list and "created" count (singular and plural)."""
    one = b'{"resource": {"aws_s3_bucket": {"raw": {"bucket": "b"}}}}'
    two = b'{"resource": {"aws_s3_bucket": {"raw": {"bucket": "b"}, "logs": {"bucket": "l"}}}}'
    diffs = {
        d.env: d
        for d in diff_outcomes(
            {"old": outcome("old", {"terraform/s.tf.json": two}), "one": outcome("one", {})},
            {"new": outcome("new", {"terraform/s.tf.json": two}), "one": outcome("one", {"terraform/s.tf.json": one})},
        )
    }
    old = render_markdown([diffs["old"]], "main").splitlines()
    assert "- destroyed: `aws_s3_bucket.logs`, `aws_s3_bucket.raw`" in old
    assert not any(line.startswith("- created") for line in old)
    assert "- created: 2 resources" in render_markdown([diffs["new"]], "main").splitlines()
    assert "- created: 1 resource" in render_markdown([diffs["one"]], "main").splitlines()
