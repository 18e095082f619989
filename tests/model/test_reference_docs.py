"""The reference docs are generated from the schema and the registries (issue 19): every
schema property is described, docs/reference/ is what `python -m compiler.docs` writes
today, and a kind registered anywhere gets its page without editing the generator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compiler import docs
from compiler.model.kinds import Kind
from tests.model.test_extension_points import notebook_kind  # noqa: F401 - a pytest fixture
from tests.support.helpers import REPO

SCHEMA = REPO / "schemas" / "environment.schema.json"


def undescribed(node: Any, pointer: str = "") -> list[str]:
    """JSON pointers of properties without a description. Not properties: a `true` placeholder
    (the field is defined in an `allOf` part) and the `if` of a condition (a matcher)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "if":
                continue
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    if isinstance(prop, dict) and "description" not in prop:
                        found.append(f"{pointer}/properties/{name}")
            found += undescribed(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += undescribed(item, f"{pointer}/{index}")
    return found


def test_every_schema_property_has_a_description() -> None:
    assert undescribed(json.loads(SCHEMA.read_text())) == []
    assert SCHEMA.read_bytes() == (REPO / "compiler" / "data" / "environment.schema.json").read_bytes()


def test_the_description_check_finds_a_missing_one() -> None:
    schema = {"properties": {"a": {"type": "string"}, "b": True, "c": {"description": "x", "properties": {"d": {}}}}}
    schema["allOf"] = [{"if": {"properties": {"type": {"const": "x"}}}, "then": {"properties": {"e": {"type": "integer"}}}}]
    assert undescribed(schema) == ["/properties/a", "/properties/c/properties/d", "/allOf/0/then/properties/e"]


def test_docs_reference_is_up_to_date() -> None:
    pages = docs.generate(REPO)
    folder = REPO / "docs" / "reference"
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    stale = sorted(name for name in set(pages) | set(on_disk) if pages.get(name) != on_disk.get(name))
    assert stale == [], f"docs/reference is out of date ({', '.join(stale)}): run `make docs`"


def test_a_page_shows_fields_defaults_targets_outputs_and_an_example() -> None:
    page = docs.generate(REPO)["serving.md"]
    lines = page.splitlines()
    assert '| `type` | `"serving"` |  | yes | The component kind; decides which other fields are allowed and what is emitted ' in page
    assert "| `port` | integer, 1024–65535 | `8080` |  | Port the serving container listens on. |" in lines
    assert "| `replicas.min` | integer, 0–1000 | `1` |  | Fewest replicas (0: scale to zero, with a KServe runtime only). |" in lines
    assert "| `model.from` | string |  | yes | Store holding the model. |" in lines
    assert "| argo | nothing: not a workflow |" in lines
    assert "| terraform (aws) | emits (see below) |" in lines
    assert "- `kubernetes/inferenceservice-<name>.yaml`: InferenceService (serving.kserve.io/v1beta1)" in lines
    assert "- `terraform/identity-<name>.tf.json`: aws_iam_role, aws_iam_role_policy" in lines
    assert "- `model.from` names an object_store or data_lake holding the model (graph edge `model`)" in lines
    example = page[page.index("## Example") :]
    assert example.startswith("## Example\n\nFrom environments/")
    assert "```yaml\ncomponents:\n" in example and "    type: serving\n" in example
    environment = docs.generate(REPO)["environment.md"]
    assert "| `cluster.node_pools.<name>.disk_gb` | integer, 20–16000 | `100` |  | Boot disk size of each node in GB. |" in environment
    assert "- [`pipeline`](pipeline.md): An Argo WorkflowTemplate whose DAG follows the graph among its steps." in environment


def test_a_kind_registered_anywhere_gets_its_page(notebook_kind: Kind, tmp_path: Path) -> None:  # noqa: F811
    pages = docs.generate(REPO)
    page = pages["notebook.md"]
    assert "- category: workload; traits: none" in page
    assert "| `idle_minutes` | integer, 5– | `30` |  |  |" in page
    assert "| `image` | string |  | yes | Container image reference; pin it by digest (@sha256:...). |" in page
    assert "| argo | nothing: not a workflow |" in page and "| terraform (gcp) | emits (see below) |" in page
    assert "No example environment declares a component of this kind yet." in page
    assert "- [`notebook`](notebook.md) (workload)" in pages["README.md"]
    # --check fails until the page is written, then passes
    out = tmp_path / "reference"
    assert docs.main(["--project", str(REPO), "--out", str(out), "--check"]) == 1
    assert docs.main(["--project", str(REPO), "--out", str(out)]) == 0
    assert docs.main(["--project", str(REPO), "--out", str(out), "--check"]) == 0
    (out / "stale.md").write_text("old")
    assert docs.main(["--project", str(REPO), "--out", str(out), "--check"]) == 1
