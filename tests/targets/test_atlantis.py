"""out/atlantis.yaml: Atlantis' repo-level config carrying out/<env>/terraform to an apply (issue 19).

No upstream JSON Schema exists for atlantis.yaml (SchemaStore has none; see the shared
SOURCES.md), so ATLANTIS_SCHEMA below is written from Atlantis' documented keys, version 3:
https://www.runatlantis.io/docs/repo-level-atlantis-yaml (Reference: Top-Level Keys, Project,
Autoplan). Unknown keys are errors, as they are for Atlantis' own strict parser.
"""

from __future__ import annotations

import os
from pathlib import Path

import jsonschema
import yaml

from compiler.cli import main
from tests.output.test_gitops import child, project_with
from tests.support.helpers import REPO

TODAY = "2026-01-15"

ATLANTIS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"const": 3},
        "automerge": {"type": "boolean"},
        "autodiscover": {"type": "object", "properties": {"mode": {"enum": ["auto", "enabled", "disabled"]}}},
        "delete_source_branch_on_merge": {"type": "boolean"},
        "parallel_plan": {"type": "boolean"},
        "parallel_apply": {"type": "boolean"},
        "abort_on_execution_order_fail": {"type": "boolean"},
        "projects": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["dir"],
                "properties": {
                    "name": {"type": "string"},
                    "branch": {"type": "string"},
                    "dir": {"type": "string"},
                    "workspace": {"type": "string"},
                    "execution_order_group": {"type": "integer"},
                    "delete_source_branch_on_merge": {"type": "boolean"},
                    "repo_locking": {"type": "boolean"},
                    "custom_policy_check": {"type": "boolean"},
                    "autoplan": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"enabled": {"type": "boolean"}, "when_modified": {"type": "array", "items": {"type": "string"}}},
                    },
                    "terraform_version": {"type": "string"},
                    "plan_requirements": {"type": "array", "items": {"enum": ["approved", "mergeable", "undiverged"]}},
                    "apply_requirements": {"type": "array", "items": {"enum": ["approved", "mergeable", "undiverged"]}},
                    "import_requirements": {"type": "array", "items": {"enum": ["approved", "mergeable", "undiverged"]}},
                    "silence_pr_comments": {"type": "array", "items": {"enum": ["plan", "apply"]}},
                    "workflow": {"type": "string"},
                    "depends_on": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "workflows": {"type": "object"},
        "allowed_regexp_prefixes": {"type": "array", "items": {"type": "string"}},
    },
}


def errors(config: object) -> list[str]:
    return [e.message for e in jsonschema.Draft202012Validator(ATLANTIS_SCHEMA).iter_errors(config)]


def test_the_examples_atlantis_config_matches_the_documented_keys() -> None:
    text = (REPO / "out" / "atlantis.yaml").read_text()
    config = yaml.safe_load(text)
    assert errors(config) == []
    assert [(p["name"], p["dir"], p["execution_order_group"]) for p in config["projects"]] == [
        ("dev", "out/dev/terraform", 0),
        ("fraud", "out/fraud/terraform", 0),
        ("lab", "out/lab/terraform", 0),
        ("prod-azure", "out/prod-azure/terraform", 0),
        ("research-gcp", "out/research-gcp/terraform", 0),
        ("staging", "out/staging/terraform", 1),
        ("prod", "out/prod/terraform", 2),
    ]
    for project in config["projects"]:
        assert project["autoplan"] == {"enabled": True, "when_modified": ["*.tf.json"]}
        assert project["apply_requirements"] == ["approved", "mergeable"]
        assert (REPO / project["dir"] / "terraform.tf.json").is_file()
    assert errors({**config, "projects": [{**config["projects"][0], "apply_requirement": ["approved"]}]}) != []  # strict


def test_compile_writes_checks_and_updates_atlantis_yaml(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    (root / "environments" / "env01.yaml").write_text(child("env01", "gitops: {apply_order: 3}\n"))
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    assert "out/atlantis.yaml: added" in capsys.readouterr().out
    config = yaml.safe_load((root / "out" / "atlantis.yaml").read_text())
    assert errors(config) == []
    assert [(p["name"], p["dir"], p["execution_order_group"]) for p in config["projects"]] == [
        ("env00", "out/env00/terraform", 0),
        ("env01", "out/env01/terraform", 3),
    ]
    # a cached run (nothing compiled) rebuilds the same bytes from the cache, and writes nothing
    before = os.stat(root / "out" / "atlantis.yaml").st_mtime_ns
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    assert capsys.readouterr().err.startswith("0 compiled, 2 unchanged (cached)")
    assert os.stat(root / "out" / "atlantis.yaml").st_mtime_ns == before
    assert main(["compile", "--project", str(root), "--check", "--today", TODAY]) == 0
    # drift: an edited file is reported by --check, and restored by compile
    (root / "out" / "atlantis.yaml").write_text("version: 3\n")
    capsys.readouterr()
    assert main(["compile", "--project", str(root), "--check", "--today", TODAY]) == 1
    assert capsys.readouterr().out == "would change out/atlantis.yaml\n"
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    assert yaml.safe_load((root / "out" / "atlantis.yaml").read_text()) == config
    # a deleted environment leaves the config; a selected compile does not rewrite it
    (root / "environments" / "env01.yaml").unlink()
    assert main(["compile", "--project", str(root), "env00", "--today", TODAY]) == 0
    assert yaml.safe_load((root / "out" / "atlantis.yaml").read_text()) == config
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    assert [p["name"] for p in yaml.safe_load((root / "out" / "atlantis.yaml").read_text())["projects"]] == ["env00"]


def test_an_environment_never_written_is_not_a_project(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    (root / "environments" / "env01.yaml").write_text(child("env01", "components:\n  data: {classification: pii, public: true}\n"))
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 1  # env01 blocked, never written
    assert [p["name"] for p in yaml.safe_load((root / "out" / "atlantis.yaml").read_text())["projects"]] == ["env00"]


def test_a_symlink_at_out_atlantis_yaml_is_replaced_not_followed(tmp_path: Path) -> None:
    root = project_with(tmp_path, 1)
    (root / "out").mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("do not touch\n")
    os.symlink(target, root / "out" / "atlantis.yaml")
    (root / "out" / ".mlc-staging-atlantis.yaml-deadbeef0000").write_text("left by a killed run\n")
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    assert target.read_text() == "do not touch\n"
    assert not (root / "out" / "atlantis.yaml").is_symlink()
    assert yaml.safe_load((root / "out" / "atlantis.yaml").read_text())["projects"][0]["name"] == "env00"
    assert sorted(p.name for p in (root / "out").iterdir()) == ["_platform", "atlantis.yaml", "env00"]


def test_project_dirs_are_relative_to_the_git_repository_root(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    root = project_with(tmp_path / "platform", 1)
    assert main(["compile", "--project", str(root), "--today", TODAY]) == 0
    config = yaml.safe_load((root / "out" / "atlantis.yaml").read_text())
    assert config["projects"][0]["dir"] == "platform/out/env00/terraform"
