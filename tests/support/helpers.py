"""Test helpers: tiny projects written to a temp dir, compiled in-process."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMA = REPO / "schemas" / "environment.schema.json"

HEADER = """apiVersion: mlc/v1
kind: Environment
"""

MINIMAL_AWS = """apiVersion: mlc/v1
kind: Environment
metadata: {name: NAME}
cloud: {provider: aws, region: eu-west-1, account: "123456789012"}
cluster:
  name: c1
  node_pools:
    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
gitops: {repo: "https://git.example.com/ml/platform.git"}
budget: {monthly_usd: 100000}
"""


def make_project(tmp_path: Path, files: dict[str, str], copy_policies: bool = True) -> Path:
    """A project in tmp_path with environments/<name>.yaml for each entry (text dedented)."""
    (tmp_path / "environments").mkdir(parents=True, exist_ok=True)
    (tmp_path / "schemas").mkdir(exist_ok=True)
    shutil.copy(REPO / "schemas" / "environment.schema.json", tmp_path / "schemas" / "environment.schema.json")
    if copy_policies and (REPO / "policies").is_dir():
        shutil.copytree(REPO / "policies", tmp_path / "policies", dirs_exist_ok=True)
    for name, text in files.items():
        (tmp_path / "environments" / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


MINIMAL_GCP = """apiVersion: mlc/v1
kind: Environment
metadata: {name: NAME}
cloud: {provider: gcp, region: europe-west4, account: proj-1}
cluster:
  name: c1
  node_pools:
    cpu: {instance_type: n2-standard-8, min: 1, max: 3}
gitops: {repo: "https://git.example.com/ml/platform.git"}
budget: {monthly_usd: 100000}
"""


def aws_env(name: str, components: str = "", extra: str = "") -> str:
    """A minimal valid AWS environment with the given `components:` body (YAML, indented 2)."""
    return _with_components(MINIMAL_AWS.replace("NAME", name) + extra, components)


def gcp_env(name: str, components: str = "") -> str:
    """A minimal valid GCP environment with the given `components:` body (YAML, indented 2)."""
    return _with_components(MINIMAL_GCP.replace("NAME", name), components)


def _with_components(text: str, components: str) -> str:
    body = textwrap.dedent(components).strip("\n")
    text += "components:\n" + ("\n".join("  " + line for line in body.splitlines()) if body else "  {}") + "\n"
    return text.replace("components:\n  {}\n", "components: {}\n")


def load_env(tmp_path: Path, files: dict[str, str], name: str):
    from compiler.frontend.project import Project

    make_project(tmp_path, files)
    return next(e for e in Project.at(tmp_path).load_environments([name]) if e.name == name)


def compiled_env(tmp_path: Path, files: dict[str, str], name: str):
    from compiler.pipeline import plan_environment

    return plan_environment(load_env(tmp_path, files, name))


def model_of(spec: dict, name: str = "t"):
    """A raw spec as the stages after resolve see it: every schema default filled in (the same
    `apply_defaults` the resolver uses), so fixtures cannot skip defaults the compiler relies on."""
    from compiler.model.environment import Environment, apply_defaults

    spec = {"metadata": {"name": name}, **spec}
    return Environment(name, f"environments/{name}.yaml", (name,), (f"environments/{name}.yaml",), apply_defaults(spec, str(SCHEMA)))


def example_environments():
    from compiler.frontend.project import Project

    return Project.at(REPO).load_environments()
