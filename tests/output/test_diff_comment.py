"""The pull-request comment of `mlc diff --format markdown`: summary first, diffs folded,
replaced resources marked, and never more than GitHub's 65,536 characters (issue 19)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from compiler.cli import main
from compiler.output.diffing import COMMENT_LIMIT, EnvDiff, render_markdown
from tests.output.test_gitops import child, git, project_with
from tests.support.helpers import REPO

TODAY = "2026-01-15"


def test_every_emitted_terraform_resource_type_has_a_force_new_entry() -> None:
    from compiler.targets.terraform.force_new import FORCE_NEW

    emitted = set()
    for path in (REPO / "out").glob("*/terraform/*.tf.json"):
        emitted |= set(json.loads(path.read_text()).get("resource", {}))
    assert emitted and emitted <= set(FORCE_NEW), sorted(emitted - set(FORCE_NEW))


def test_a_change_that_replaces_a_resource_is_marked(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    # a new instance type cannot be changed in place on an EKS managed node group
    (root / "environments" / "env00.yaml").write_text(child("env00", "cluster:\n  node_pools:\n    cpu: {instance_type: m6i.4xlarge}\n"))
    # a bigger store is an in-place update (only the estimate changes)
    (root / "environments" / "env01.yaml").write_text(child("env01", "components:\n  data: {size_gb: 99}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    lines = markdown.splitlines()
    assert lines[2] == "| environment | status | files (+ ~ -) | monthly cost | findings new / resolved | replaced |"
    assert lines[4].startswith("| `env00` | changed | +0 ~") and lines[4].endswith("| 0 / 0 | **1** |")
    assert lines[5].startswith("| `env01` | changed | +0 ~1 -0 | +$") and lines[5].endswith("| 0 / 0 | 0 |")
    assert "- :warning: **replaced** (destroyed and re-created): `aws_eks_node_group.cpu (instance_types)`" in lines
    assert "<details><summary><code>out/env00/terraform/cluster.tf.json</code> (changed)</summary>" in lines
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY]) == 0
    assert "  replaced (destroyed and re-created): aws_eks_node_group.cpu (instance_types)" in capsys.readouterr().out.splitlines()


def _big(env: str, files: int, lines_per_file: int) -> EnvDiff:
    d = EnvDiff(env)
    for i in range(files):
        path = f"{['terraform', 'kubernetes', 'argo'][i % 3]}/file-{i:03d}.yaml"
        d.changed.append(path)
        d.patches[path] = [f"--- a/out/{env}/{path}", f"+++ b/out/{env}/{path}"] + [f"+line {n} " + "x" * 60 for n in range(lines_per_file)]
    d.changed.append("plan.json")
    d.patches["plan.json"] = ["+plan"] * 50
    return d


def test_the_comment_stays_under_the_limit_keeping_the_summary_and_the_important_diffs() -> None:
    diffs = [_big(f"env{i:02d}", 12, 120) for i in range(6)]  # ~600 kB of diffs
    text = render_markdown(diffs, "origin/main")
    assert len(text) <= COMMENT_LIMIT
    lines = text.splitlines()
    assert sum(1 for line in lines if line.startswith("| `env")) == 6  # every environment in the summary
    assert lines[-1].startswith("_") and "file diffs left out to stay under GitHub's 65,536-character comment limit" in lines[-1]
    assert lines[-1].endswith("run `mlc diff --base origin/main` to see everything._")
    shown = [line for line in lines if line.startswith("<details><summary>")]
    # Terraform first; the big Kubernetes and Argo diffs are what is left out (small ones still fit)
    assert sum("/terraform/" in line for line in shown) >= 5
    assert all("/terraform/" in line or "plan.json" in line for line in shown)
    # fits: nothing left out, no note
    small = render_markdown([_big("env00", 3, 5)], "origin/main")
    assert "left out" not in small and small.count("<details>") == 4


def test_thousands_of_environments_still_fit(tmp_path: Path) -> None:
    diffs = [_big(f"env{i:04d}", 1, 3) for i in range(3000)]
    text = render_markdown(diffs, "HEAD")
    assert len(text) <= COMMENT_LIMIT
    assert "more environments changed; run `mlc diff --base HEAD` to see them._" in text


def test_adding_an_example_environment_gives_a_comment_that_fits(tmp_path: Path, capsys) -> None:
    root = tmp_path / "p"
    for folder in ("environments", "schemas", "policies"):
        shutil.copytree(REPO / folder, root / folder)
    prod = (root / "environments" / "prod.yaml").read_text()
    (root / "environments" / "prod.yaml").unlink()
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    (root / "environments" / "prod.yaml").write_text(prod)
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--today", TODAY, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert len(markdown) <= COMMENT_LIMIT
    assert markdown.splitlines()[4].startswith("| `prod` | added | +")
    assert "<details><summary><code>out/prod/terraform/" in markdown


def test_diff_compiles_only_the_environments_whose_inputs_differ(tmp_path: Path) -> None:
    from compiler.frontend.project import Project
    from compiler.output.diffing import diff_against_base

    root = project_with(tmp_path, 12)
    leaf = child("leaf").replace("extends: base", "extends: env03")
    (root / "environments" / "leaf.yaml").write_text(leaf)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    today = __import__("datetime").date(2026, 1, 15)

    def compiled() -> dict[str, list[str]]:
        stats: dict[str, list[str]] = {}
        diff_against_base(Project.at(root), "HEAD", today, stats)
        return stats

    assert compiled() == {"head": [], "base": []}  # nothing changed: nothing compiled
    (root / "environments" / "env07.yaml").write_text(child("env07", "budget: {monthly_usd: 5000}\n"))
    assert compiled() == {"head": ["env07"], "base": ["env07"]}
    (root / "environments" / "env03.yaml").write_text(child("env03", "budget: {monthly_usd: 6000}\n"))
    assert compiled() == {"head": ["env03", "env07", "leaf"], "base": ["env03", "env07", "leaf"]}  # and what extends it
    git(root, "commit", "-qam", "two")
    (root / "environments" / "new.yaml").write_text(child("new"))
    (root / "environments" / "env11.yaml").unlink()
    assert compiled() == {"head": ["new"], "base": ["env11"]}
    git(root, "add", "-A")
    git(root, "commit", "-qm", "three")
    parent = root / "environments" / "base.yaml"
    parent.write_text(parent.read_text().replace("size_gb: 10", "size_gb: 11"))
    every = sorted(["leaf", "new", *[f"env{i:02d}" for i in range(11)]])
    assert compiled() == {"head": every, "base": every}  # the parent: all of them (the abstract parent itself is not compiled)


def test_which_environments_an_unreadable_file_or_a_folder_named_like_a_policy_affect(tmp_path: Path) -> None:
    """Guards _manifests_differ's `return True` for an unchanged environment file that mentions
    manifests but does not parse (it is compiled, so its problems are reported, never skipped),
    and _inputs_shared_by_all_differ's `p.is_file() and not p.is_symlink()` (a folder named
    like a policy file is not a policy: it does not make every environment affected), and
    affected_environments' filter: an unchanged file that names no affected environment is
    not parsed, so one that does not parse is not compiled either."""
    from compiler.frontend.project import Project
    from compiler.output.diffing import diff_against_base

    root = project_with(tmp_path, 3)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    today = __import__("datetime").date(2026, 1, 15)

    def compiled() -> dict[str, list[str]]:
        stats: dict[str, list[str]] = {}
        diff_against_base(Project.at(root), "HEAD", today, stats)
        return stats

    # not YAML; a manifests folder that is not a string: unchanged, yet compiled on both sides
    for odd in ("overrides: {manifests: [unclosed\n", "overrides: {manifests: [5]}\n"):
        (root / "environments" / "odd.yaml").write_text(odd)
        git(root, "add", ".")
        git(root, "commit", "-qm", "odd")
        assert compiled() == {"head": ["odd"], "base": ["odd"]}, odd
    # not YAML and naming no changed environment: not parsed, not compiled (only files that mention one are read)
    (root / "environments" / "odd.yaml").write_text("metadata: [unclosed\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "odd")
    env01 = root / "environments" / "env01.yaml"
    env01.write_text(child("env01", "budget: {monthly_usd: 5000}\n"))
    assert compiled() == {"head": ["env01"], "base": ["env01"]}
    git(root, "checkout", "-q", "--", "environments/env01.yaml")
    # a manifests folder named with capitals at its ends: unchanged, so the environment is not compiled
    (root / "environments" / "odd.yaml").write_text("overrides: {manifests: [/Xpatches/]}\n")
    (root / "Xpatches").mkdir()
    (root / "Xpatches" / "a.yaml").write_text("kind: ConfigMap\n")
    (root / "Xpatches" / "b.yml").write_text("kind: Secret\n")  # both suffixes are compared
    git(root, "add", ".")
    git(root, "commit", "-qm", "folder")
    assert compiled() == {"head": [], "base": []}
    (root / "environments" / "odd.yaml").unlink()
    git(root, "commit", "-qam", "no odd")
    (root / "policies" / "folder.k").mkdir(parents=True)
    assert compiled() == {"head": [], "base": []}
