"""The extension points: a component kind or a cloud provider defined only in a test flows
through every stage (or is refused with a clear error), without touching the compiler.

Both the kind and the provider are registered in memory; the schema of the test project is
the published schema plus the kind's fragment / the provider's name. The schema stays data
(what editors show); the registries are what the compiler supports, and
`test_registries_agree_with_the_published_schema` keeps the two equal for the built-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from compiler import providers
from compiler.core.diagnostics import InputError
from compiler.model import kinds
from compiler.model.environment import Component
from compiler.model.kinds import AFTER, Category, Kind
from compiler.model.kinds.dispatch import NotApplicable, UnsupportedKindError
from compiler.model.kinds.stores import READS, WRITES
from compiler.pipeline import compile_environment
from compiler.plan.advice import SUGGESTERS
from compiler.plan.compiled import Compiled
from compiler.targets.argo.emit import HANDLERS as ARGO
from compiler.targets.argocd.emit import HANDLERS as ARGOCD
from compiler.targets.kubernetes import common as k8s
from compiler.targets.kubernetes.kinds import HANDLERS as KUBERNETES
from compiler.targets.kubernetes.kinds import K8sKind
from compiler.targets.terraform.aws import EMITTER as AWS_TERRAFORM
from compiler.targets.terraform.aws_iam import identity_file as aws_identity_file
from compiler.targets.terraform.gcp import EMITTER as GCP_TERRAFORM
from compiler.targets.terraform.gcp_iam import identity_file as gcp_identity_file
from tests.support.helpers import MINIMAL_AWS, REPO, SCHEMA

TODAY = date(2026, 11, 28)
IMG = "reg.example.com/ml/nb:1.0@sha256:" + "d" * 64
TABLES = {
    "kubernetes": KUBERNETES,
    "argo": ARGO,
    "argocd": ARGOCD,
    "terraform (aws)": AWS_TERRAFORM.components,
    "terraform (gcp)": GCP_TERRAFORM.components,
}


class Notebook(Kind):
    """A hosted notebook server: a workload with an image, reading and writing stores."""

    name = "notebook"
    category = Category.WORKLOAD
    references = (READS, WRITES, AFTER)
    emits_to = frozenset({"kubernetes", "terraform"})
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["image"],
        "properties": {
            **{key: True for key in ("type", "labels", "classification", "after", "env", "resources", "reads", "writes")},
            "image": {"$ref": "#/$defs/image"},
            "idle_minutes": {"type": "integer", "minimum": 5, "default": 30},
        },
        "allOf": [{"$ref": "#/$defs/common"}, {"$ref": "#/$defs/workload"}],
    }

    def cost(self, est: Any, component: Component) -> tuple[float, str]:
        return 12.5, f"flat fee, idles after {component.spec['idle_minutes']} min"


def notebook_objects(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    meta = k8s.metadata(compiled, "ConfigMap", f"{component.name}-notebook", component)
    return [k8s.k8s_object("v1", "ConfigMap", meta, data={"idle_minutes": str(component.spec["idle_minutes"])})]


def schema_with(kind: Kind | None = None, provider: str | None = None) -> dict[str, Any]:
    """The published schema plus a kind's fragment and/or a provider's name."""
    schema = json.loads(SCHEMA.read_text())
    if kind is not None:
        assert kind.schema is not None
        schema["$defs"][kind.name] = kind.schema
        component = schema["$defs"]["component"]
        component["properties"]["type"]["enum"].append(kind.name)
        component["allOf"].append(
            {"if": {"properties": {"type": {"const": kind.name}}, "required": ["type"]}, "then": {"$ref": f"#/$defs/{kind.name}"}}
        )
    if provider is not None:
        schema["properties"]["cloud"]["properties"]["provider"]["enum"].append(provider)
    return schema


@pytest.fixture
def notebook_kind() -> Iterator[Kind]:
    kind = kinds.register(Notebook())
    KUBERNETES.register("notebook", K8sKind(notebook_objects))
    ARGO.register("notebook", NotApplicable("not a workflow"))
    ARGOCD.register("notebook", NotApplicable("synced by the environment's Application"))
    AWS_TERRAFORM.components.register("notebook", aws_identity_file)
    GCP_TERRAFORM.components.register("notebook", gcp_identity_file)
    SUGGESTERS.register("notebook", NotApplicable("no savings rule"))
    try:
        yield kind
    finally:
        for table in (KUBERNETES, ARGO, ARGOCD, AWS_TERRAFORM.components, GCP_TERRAFORM.components, SUGGESTERS):
            table.unregister("notebook")
        kinds.unregister("notebook")


def write_project(tmp_path: Path, text: str, schema: dict[str, Any]):
    from tests.support.helpers import make_project

    make_project(tmp_path, {"e1": text})
    (tmp_path / "schemas" / "environment.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    from compiler.frontend.project import Project

    (env,) = Project.at(tmp_path).load_environments(["e1"])
    return env


NOTEBOOK_ENV = MINIMAL_AWS.replace("NAME", "e1") + (
    "components:\n"
    "  data: {type: object_store, size_gb: 10, lifecycle: {expire_after_days: 30}}\n"
    f"  nb: {{type: notebook, image: '{IMG}', reads: [data]}}\n"
)


def test_a_kind_defined_in_a_test_flows_through_every_stage(tmp_path: Path, notebook_kind: Kind) -> None:
    env = write_project(tmp_path, NOTEBOOK_ENV, schema_with(kind=notebook_kind))
    assert env.components["nb"].spec["idle_minutes"] == 30  # the fragment's default, applied once
    result = compile_environment(env, tmp_path / "policies", TODAY)
    compiled = result.compiled
    assert [(e.source, e.target, e.kind) for e in compiled.graph.edges] == [("data", "nb", "reads")]
    assert compiled.grants["nb"].reads == ("data",)
    assert [(i.component, i.type, i.monthly_usd, i.detail) for i in compiled.cost.items if i.component == "nb"] == [
        ("nb", "notebook", 12.5, "flat fee, idles after 30 min")
    ]
    assert not result.blocked and result.artifacts is not None
    owned = sorted(a.path for a in result.artifacts if a.component == "nb")
    assert owned == [
        "kubernetes/configmap-nb-notebook.yaml",
        "kubernetes/networkpolicy-nb.yaml",
        "kubernetes/serviceaccount-nb.yaml",
        "terraform/identity-nb.tf.json",
    ]
    configmap = next(a.content for a in result.artifacts if a.path == "kubernetes/configmap-nb-notebook.yaml")
    assert configmap["data"] == {"idle_minutes": "30"}
    plan = next(a.content for a in result.artifacts if a.path == "plan.json")
    assert [c["type"] for c in plan["components"]] == ["object_store", "notebook"]
    assert [f.rule for f in result.findings if f.component == "nb"] == []  # pinned image, nothing to say


def test_policies_apply_to_a_new_workload_kind(tmp_path: Path, notebook_kind: Kind) -> None:
    text = NOTEBOOK_ENV.replace(IMG, "reg.example.com/ml/nb:latest")
    env = write_project(tmp_path, text, schema_with(kind=notebook_kind))
    findings = [f for f in compile_environment(env, tmp_path / "policies", TODAY).findings if f.component == "nb"]
    assert [(f.rule, f.location.file, f.location.line) for f in findings] == [("MLC-SEC-005", "environments/e1.yaml", 13)]


def test_the_kinds_reference_rules_come_from_the_registry(tmp_path: Path, notebook_kind: Kind) -> None:
    text = NOTEBOOK_ENV + "  mon: {type: monitoring, targets: [nb]}\n  nb2: {type: notebook, image: '" + IMG + "', reads: [nb]}\n"
    env = write_project(tmp_path, text, schema_with(kind=notebook_kind))
    with pytest.raises(InputError) as err:
        compile_environment(env, None, TODAY)
    # a notebook is a workload, so monitoring may target it; it is not a store, so nothing may read it
    assert [(d.code, d.message) for d in err.value.diagnostics] == [
        (
            "MLC-E041",
            'reads names "nb", a notebook; expected a storage component (object_store, data_lake, database, stream, feature_store)',
        )
    ]


def test_a_kind_a_target_does_not_list_is_an_error_not_a_silent_skip(tmp_path: Path, notebook_kind: Kind) -> None:
    env = write_project(tmp_path, NOTEBOOK_ENV, schema_with(kind=notebook_kind))
    KUBERNETES.unregister("notebook")
    with pytest.raises(UnsupportedKindError, match='the kubernetes target has no handler for component kind "notebook"'):
        compile_environment(env, None, TODAY)


@pytest.mark.parametrize("kind", kinds.names())
def test_each_targets_table_lists_every_kind_and_agrees_with_emits_to(kind: str) -> None:
    declared = kinds.get(kind).emits_to
    assert KUBERNETES.applies(kind) == ("kubernetes" in declared)
    argo = ARGO.handler(kind)
    assert (argo is not None and argo.emit is not None) == ("argo" in declared)
    assert ARGOCD.applies(kind) == ("argocd" in declared)
    for name in ("terraform (aws)", "terraform (gcp)"):
        assert TABLES[name].applies(kind) == ("terraform" in declared), name
    assert SUGGESTERS.entry(kind) is not None


def test_the_tables_list_exactly_the_registered_kinds() -> None:
    for table in (*TABLES.values(), SUGGESTERS):
        assert set(table.kinds()) == set(kinds.names()), table.target


def test_registries_agree_with_the_published_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$defs"]["component"]["properties"]["type"]["enum"] == list(kinds.names())
    assert schema["properties"]["cloud"]["properties"]["provider"]["enum"] == list(providers.names())
    assert (REPO / "compiler" / "data" / "environment.schema.json").read_bytes() == SCHEMA.read_bytes()


# --- a third provider ---------------------------------------------------------------------
class FakeCloud(providers.Provider):
    """Priced like AWS (its own declared choice), but without identities or Terraform."""

    name = "fakecloud"
    pricing_key = "aws"


@pytest.fixture
def fake_provider() -> Iterator[providers.Provider]:
    provider = providers.register(FakeCloud())
    try:
        yield provider
    finally:
        providers.unregister("fakecloud")


FAKE_ENV = (
    MINIMAL_AWS.replace("NAME", "e1").replace(
        '{provider: aws, region: eu-west-1, account: "123456789012"}', "{provider: fakecloud, region: eu-west-1}"
    )
    + f"components:\n  data: {{type: object_store, size_gb: 1, lifecycle: {{expire_after_days: 30}}}}\n"
    f"  job: {{type: training_job, image: '{IMG}', reads: [data], max_runtime_hours: 2}}\n"
)


def test_a_provider_registered_in_a_test_is_not_supported_by_the_targets(tmp_path: Path, fake_provider: providers.Provider) -> None:
    env = write_project(tmp_path, FAKE_ENV, schema_with(provider="fakecloud"))
    with pytest.raises(InputError) as err:
        compile_environment(env, None, TODAY)
    ((diagnostic,),) = [err.value.diagnostics]
    assert (diagnostic.code, diagnostic.location.file, diagnostic.location.line, diagnostic.location.col) == (
        "MLC-E026",
        "environments/e1.yaml",
        4,
        19,
    )
    assert diagnostic.message == 'cloud provider "fakecloud" is not supported by the kubernetes target (no workload identity)'


def test_the_fake_provider_fails_the_cli_with_exit_2_and_writes_nothing(
    tmp_path: Path, fake_provider: providers.Provider, capsys: pytest.CaptureFixture[str]
) -> None:
    from compiler.cli import main

    write_project(tmp_path, FAKE_ENV, schema_with(provider="fakecloud"))
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "environments/e1.yaml:4:19: error MLC-E026: "
        'cloud provider "fakecloud" is not supported by the kubernetes target (no workload identity)',
        "1 problem found; nothing was written",
    ]
    assert not (tmp_path / "out" / "e1").exists()


def test_terraform_refuses_a_provider_without_an_emitter(tmp_path: Path, fake_provider: providers.Provider) -> None:
    from compiler.pipeline import plan_environment
    from compiler.providers import NotSupportedError
    from compiler.targets.terraform.emitter import emit_terraform

    compiled = plan_environment(write_project(tmp_path, FAKE_ENV, schema_with(provider="fakecloud")))
    with pytest.raises(NotSupportedError, match=r'"fakecloud" is not supported by the terraform target \(no Terraform emitter\)'):
        emit_terraform(compiled)
