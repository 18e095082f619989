"""Secrets: credentials in any string field are rejected and never echoed; compiled output
holds nothing secret-looking (tests/support/secret_corpus.py has the corpus).

Every credential of the corpus, placed in every string field the schema has, must end in
either a located input error (exit 2, the field's pattern refuses it) or the plaintext-
credential policy finding MLC-SEC-001 at that field (exit 1, not waivable); and no
message, report format, or file under out/ contains it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

from compiler.core.secrets_scan import find_secret, redact, scrub
from tests.support.secret_corpus import CREDENTIALS, NOT_SECRETS
from tests.support.spec_strategies import (
    REPO,
    compile_args,
    emitted_files,
    fast,
    parse_file,
    projects,
    run_main,
    snapshot,
    to_yaml,
    write_project,
)

TODAY = date(2026, 6, 1)
DIGEST = "@sha256:" + "cd" * 32


def core(secret: str) -> str:
    """The part of a credential that must never appear anywhere: its longest token with a
    digit (the key material), or the whole text."""
    password = re.search(r"://[^:/@\s]*:([^@\s/]+)@|[Pp]assword=([^;&\s]+)", secret)
    if password:
        return password.group(1) or password.group(2)
    runs = [r for r in re.findall(r"[A-Za-z0-9+/=_-]+", secret) if re.search(r"[0-9]", r) and len(r) >= 8]
    return max(runs, key=len) if runs else secret


def assert_not_echoed(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text, "the credential is echoed"
        assert core(secret) not in text, f"the credential's key material {core(secret)[:6]}... is echoed"
        for line in secret.splitlines():
            if len(line) >= 20 and "PRIVATE KEY" not in line:
                assert line not in text, "a line of the credential is echoed"


# --- the detector itself --------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_every_credential_format_is_detected(name: str) -> None:
    """Guards KNOWN_FORMATS and the entropy check in compiler.secrets_scan."""
    assert find_secret(CREDENTIALS[name]), name
    assert find_secret(f"prefix {CREDENTIALS[name]} suffix"), name  # embedded in other text


@pytest.mark.parametrize("name", sorted(NOT_SECRETS))
def test_realistic_non_secrets_are_not_flagged(name: str) -> None:
    """Guards the allow-lists (digests, paths, CamelCase identifiers): a false positive
    blocks a valid environment (MLC-SEC-001 is an error and cannot be waived)."""
    assert find_secret(NOT_SECRETS[name]) is None, f"{name}: {find_secret(NOT_SECRETS[name])}"


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_redact_and_scrub_never_echo(name: str) -> None:
    secret = CREDENTIALS[name]
    assert_not_echoed(secret, redact(secret), scrub(f"value was {secret} here"))
    assert scrub("nothing secret here") == "nothing secret here"


ADVERSARIAL = {
    "dash-words": "a-" * 100_000,
    "dot-words": "a." * 100_000,
    "schemes": "://:" * 50_000,
    "jwt-prefixes": "eyJ-" * 50_000,
    "password-assignments": "password:" * 22_000,
    "camel-acronyms": "ABC12" * 40_000 + "x!",
    "aws-and-spaces": "aws" + " " * 200_000,
    "long-token": "Ab1" * 66_000,
}


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_detection_is_linear_time(case: str) -> None:
    """Guards the bounded patterns: error messages run redact() on any value of any size (up
    to the 1 MiB file limit), so one quadratic pattern was a denial of service (200 kB of
    "a-a-..." took ~100 s with the unbounded URL-scheme pattern; "ABC12ABC12..." made the
    first CamelCase check backtrack exponentially)."""
    start = time.process_time()  # CPU time of this process: other load on the machine does not count
    find_secret(ADVERSARIAL[case])
    scrub(ADVERSARIAL[case])
    assert time.process_time() - start < 2.0


# --- every field ----------------------------------------------------------------------------------
def base_spec() -> dict[str, Any]:
    return {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": "e1", "labels": {"team": "t1", "cost-center": "cc-1"}},
        "cloud": {"provider": "aws", "region": "eu-west-1", "account": "123456789012"},
        "cluster": {"name": "c1", "node_pools": {"cpu": {"instance_type": "m6i.2xlarge", "min": 1, "max": 3}}},
        "gitops": {"repo": "https://git.example.com/ml/platform.git"},
        "budget": {"monthly_usd": 1_000_000},
        "access": [{"group": "ml-engineers", "role": "viewer"}],
        "components": {
            "data": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
            "etl": {
                "type": "spark_job",
                "image": "registry.example.com/ml/etl:1" + DIGEST,
                "main": "local:///app/etl.py",
                "args": ["--x"],
                "reads": ["data"],
                "writes": ["data"],
            },
            "models": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
            "train": {
                "type": "training_job",
                "image": "registry.example.com/ml/t:1" + DIGEST,
                "command": ["python"],
                "reads": ["data"],
                "writes": ["models"],
                "max_runtime_hours": 1,
            },
            "srv": {
                "type": "serving",
                "runtime": "sklearn",
                "model": {"from": "data", "path": "m"},
                "canary": {"path": "c", "traffic_percent": 10},
                "replicas": {"min": 2, "max": 3},
            },
            "spare": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
            "score": {
                "type": "batch_inference",
                "image": "registry.example.com/ml/b:1" + DIGEST,
                "command": ["python"],
                "model": {"from": "data", "path": "m"},
            },
        },
        "exceptions": [{"rule": "MLC-SEC-004", "component": "data", "reason": "reviewed by the platform team", "expires": "2027-01-01"}],
    }


Setter = Callable[[dict[str, Any], str], str]  # puts the secret in; returns its JSON pointer


def at(path: str, *, key: bool = False, fmt: str = "{}") -> Setter:
    """A setter for the field at `path` (slash-separated; the last token is replaced by the
    secret when `key`)."""

    def setter(spec: dict[str, Any], secret: str) -> str:
        tokens = path.split("/")
        node = spec
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node.setdefault(token, {})
        last = tokens[-1]
        value = fmt.format(secret)
        if key:
            node[value] = node.pop(last) if last in node else "x"
            return "/" + "/".join([*tokens[:-1], value.replace("~", "~0").replace("/", "~1")])
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return "/" + path

    return setter


KEY_FIELDS = {"label key", "env key", "node pool name", "component name", "unknown field"}
# a harmless value per field, to show the field's setter yields a valid spec (so a rejection
# is caused by the credential); None: the field cannot hold anything valid here
BENIGN = {
    "cloud account": "123456789013",
    "schedule": "@daily",
    "extends": None,
    "unknown field": None,
    "gitops repo": "https://git.example.com/x1.git",
}
FIELDS: dict[str, Setter] = {
    # free text
    "spark env value": at("components/etl/env/SETTING"),
    "training env value": at("components/train/env/SETTING"),
    "serving env value": at("components/srv/env/SETTING"),
    "batch env value": at("components/score/env/SETTING"),
    "spark args": at("components/etl/args/0"),
    "training command": at("components/train/command/0"),
    "batch command": at("components/score/command/0"),
    "waiver reason": at("exceptions/0/reason", fmt="rotated: {}"),
    # restricted alphabets
    "environment label value": at("metadata/labels/team"),
    "component label value": at("components/data/labels/owner"),
    "label key": at("components/data/labels/owner", key=True),
    "env key": at("components/etl/env/SETTING", key=True),
    "model path": at("components/srv/model/path"),
    "canary path": at("components/srv/canary/path"),
    "secret reference path": at("components/etl/env/REF/secret", fmt="{}#key"),
    "gitops repo": at("gitops/repo"),
    "gitops revision": at("gitops/revision"),
    "access group": at("access/0/group"),
    "spark main": at("components/etl/main", fmt="local:///{}"),
    "image": at("components/etl/image"),
    "cloud account": at("cloud/account"),
    "cluster name": at("cluster/name"),
    "namespace": at("cluster/namespace"),
    "extends": at("extends"),
    "node pool name": at("cluster/node_pools/cpu", key=True),
    "component name": at("components/spare", key=True),
    "schedule": at("components/score/schedule"),
    "unknown field": at("components/data/x", key=True),
}


def run_field(root: Path, spec: dict[str, Any]) -> tuple[str, list[Any], list[Any]]:
    """Front end + policies in-process (what `mlc check` does): (status, diagnostics, findings)."""
    from compiler.build import compile_one
    from compiler.frontend.project import Project
    from compiler.pipeline import Mode

    (root / "environments" / "e1.yaml").write_text(to_yaml(spec), encoding="utf-8")
    outcome = compile_one(Project.at(root), "e1", TODAY, Mode.POLICY, "t")
    if outcome.diagnostics:
        return "rejected", outcome.diagnostics, []
    return "checked", [], outcome.findings


@pytest.fixture(scope="module")
def field_root(tmp_path_factory: Any) -> Path:
    return write_project(tmp_path_factory.mktemp("fields"), {})


def test_the_base_spec_is_clean(field_root: Path) -> None:
    status, diagnostics, findings = run_field(field_root, base_spec())
    assert status == "checked" and not [f for f in findings if f.severity == "error" and not f.waived], (diagnostics, findings)


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_a_credential_in_any_field_is_rejected_and_never_echoed(field_root: Path, field: str) -> None:
    from compiler.frontend.loader import parse
    from compiler.policy.render import render

    benign = BENIGN.get(field, "x1")
    if benign is not None:
        spec = base_spec()
        FIELDS[field](spec, benign)
        status, diagnostics, findings = run_field(field_root, spec)
        assert status == "checked" and not [f for f in findings if f.rule == "MLC-SEC-001"], (
            f"{field}: a harmless value is refused: {diagnostics}"
        )
    for name, secret in sorted(CREDENTIALS.items()):
        spec = base_spec()
        pointer = FIELDS[field](spec, secret)
        status, diagnostics, findings = run_field(field_root, spec)
        where = f"{field} <- {name}"
        if status == "rejected":
            assert all(str(d).startswith("environments/e1.yaml:") for d in diagnostics), where
            assert_not_echoed(secret, *(str(d) for d in diagnostics))
            continue
        hits = [f for f in findings if f.rule == "MLC-SEC-001"]
        assert hits, f"{where}: accepted without MLC-SEC-001"
        assert all(f.severity == "error" and not f.waived for f in hits), where
        doc = parse("environments/e1.yaml", (field_root / "environments" / "e1.yaml").read_text())
        line = doc.locate(pointer, key=field in KEY_FIELDS).line
        assert any(f.location.line == line for f in hits), f"{where}: no finding at line {line}: {[str(f.location) for f in hits]}"
        for fmt in ("text", "json", "sarif", "github"):
            assert_not_echoed(secret, render(findings, fmt))


@pytest.mark.parametrize(
    "name", ["aws-access-key-id", "rsa-private-key", "postgres-url", "jwt", "github-classic-token", "high-entropy-alnum"]
)
def test_end_to_end_a_credential_blocks_the_environment_and_reaches_no_output(tmp_path: Path, name: str) -> None:
    """The real CLI: credential in every free-text field at once; exit 1, one finding per
    field, nothing written, nothing echoed on stdout or stderr (in any --format)."""
    secret = CREDENTIALS[name]
    spec = base_spec()
    pointers = [FIELDS[f](spec, secret) for f in FIELDS if f.endswith(("env value", "args", "command", "reason"))]
    root = write_project(tmp_path, {"e1": spec})
    (root / "out" / "e1").mkdir(parents=True)
    (root / "out" / "e1" / "keep.yaml").write_text("old\n")
    code, out, err = run_main(*compile_args(root), "-v")
    assert code == 1, err
    assert err.count("MLC-SEC-001") >= len(pointers)
    assert_not_echoed(secret, out, err)
    assert snapshot(root / "out") == {"e1/keep.yaml": b"old\n"}
    for fmt in ("text", "json", "sarif", "github"):
        code, out, err = run_main("check", "--project", str(root), "--today", TODAY.isoformat(), "--format", fmt)
        assert code == 1
        assert_not_echoed(secret, out, err)


def test_input_errors_never_echo_a_credential(tmp_path: Path) -> None:
    """Values quoted by schema, loader and reference errors go through redact()."""
    secret = CREDENTIALS["github-classic-token"]
    lower = "xoxb-" + "1234567890-" * 2 + "abcdefghijklmnopqrstuvwx"  # a lower-case token fits a DNS label
    assert find_secret(lower)
    cases = {
        "duplicate key": f"a: 1\n{secret}: 1\n{secret}: 2\n",
        "bad tag": f"a: !{secret} x\n",
        "const": f"apiVersion: mlc/v1\nkind: {secret}\n",
        "enum": f"apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: e1}}\ncloud: {{provider: {secret}}}\n",
        "unknown parent": f"apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: e1}}\nextends: {lower}\n",
        "unknown reference": base_text_with(f"reads: [{lower}]"),
        "unknown node pool": base_text_with(f"node_pool: {lower}"),
    }
    for case, text in cases.items():
        root = write_project(tmp_path / case.replace(" ", "-"), {}, raw={"e1": text})
        code, out, err = run_main("validate", "--project", str(root))
        assert code == 2, f"{case}: {err}"
        for value in (secret, lower):
            assert value not in out + err, f"{case}: echoed: {err}"


def base_text_with(extra: str) -> str:
    """The base spec with one more `key: value` (YAML) in the Spark job."""
    return _with_etl_field(base_spec(), extra)


def _with_etl_field(spec: dict[str, Any], extra: str) -> str:
    key, value = extra.split(":", 1)
    spec["components"]["etl"][key] = yaml.safe_load(value)
    return to_yaml(spec)


# --- compiled output holds nothing secret-looking --------------------------------------------------
def strings_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings_of(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings_of(v)]
    return []


def secret_looking(files: dict[str, bytes]) -> list[str]:
    """(file, kind) of every string in every emitted file that looks like a credential;
    embedded YAML documents (Argo manifests) and JSON strings are parsed and scanned too."""
    found = []
    for path, data in sorted(files.items()):
        for text in strings_of(parse_file(path, data)):
            for part in _expand(text):
                kind = find_secret(part)
                if kind:
                    found.append(f"{path}: {kind}: {part[:60]!r}")
    return found


#: an object-store URI mlc composes (naming.store_uri): the store's base (bucket, or Azure account
#: and container) and the spec's path. The two are scanned apart: joined, a short random path
#: glued to a host name's last label (`net/models/kV=g0st...`) reads as one high-entropy token.
_STORE_URI = re.compile(r"\A(?P<base>(?:s3a?|gs|abfss)://[^/]+|https://[^/]+\.blob\.core\.windows\.net/[^/]+)/(?P<path>.+)\Z")


def _expand(text: str) -> list[str]:
    """The string and, if it holds a YAML/JSON document, that document's strings; a store URI as
    its base and its path."""
    uri = _STORE_URI.match(text)
    if uri:
        return [uri["base"], uri["path"]]
    if "\n" in text or text.startswith(("{", "[")):
        try:
            inner = yaml.safe_load(text)
        except yaml.YAMLError:
            return [text]
        if isinstance(inner, dict | list):
            return [text, *(s for t in strings_of(inner) for s in _expand(t))]
    return [text]


def test_compiled_examples_hold_nothing_secret_looking(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, err = run_main("compile", "--project", str(REPO), "--out", str(out), "--no-cache")
    assert code == 0, err
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert len(files) > 50
    assert secret_looking(files) == []


@fast(25)
@given(projects())
def test_compiled_random_specs_hold_nothing_secret_looking(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> None:
    import uuid

    root = write_project(tmp_path / uuid.uuid4().hex[:8], documents)
    assert secret_looking(emitted_files(root)) == []


def test_the_output_scan_would_see_a_secret() -> None:
    """The scanner itself: a credential anywhere in an emitted file, or inside an embedded
    manifest, is found."""
    token = CREDENTIALS["github-classic-token"]
    assert secret_looking({"kubernetes/x.yaml": yaml.safe_dump({"data": {"k": token}}).encode()})
    assert secret_looking({"argo/w.yaml": yaml.safe_dump({"manifest": yaml.safe_dump({"env": [{"value": token}]})}).encode()})
    assert secret_looking({"terraform/x.tf.json": json.dumps({"locals": {"x": "a " + token}}).encode()})
    for uri in (f"s3://bucket-1/models/{token}", f"https://acct.blob.core.windows.net/models/{token}/v1"):  # a store URI's path too
        assert secret_looking({"kubernetes/x.yaml": yaml.safe_dump({"value": uri}).encode()}), uri


def test_a_secret_split_over_two_list_items_is_found_and_not_echoed(tmp_path) -> None:
    """Guards the flag/value join in the plaintext-credential rule (MLC-SEC-001)."""
    from datetime import date

    from compiler.policy.engine import run_policies
    from compiler.policy.render import render
    from tests.support.helpers import aws_env, compiled_env

    image = "reg.example.com/ml/app:1@sha256:" + "d" * 64
    components = (
        f"s: {{type: object_store}}\njob:\n  type: spark_job\n  image: '{image}'\n  main: 'local:///a.py'\n"
        "  args: ['--db-password', 'Tr0ub4dor&3xyz', '--mode', 'full']\n"
    )
    compiled = compiled_env(tmp_path, {"e1": aws_env("e1", components)}, "e1")
    hits = [f for f in run_policies(compiled, None, date(2026, 11, 28)) if f.rule == "MLC-SEC-001"]
    assert [(f.component, f.location.line) for f in hits] == [("job", 17)]
    assert "Tr0ub4dor" not in render(hits, "text") + render(hits, "sarif") + render(hits, "github")
    clean = components.replace("'Tr0ub4dor&3xyz'", "'${DB_PASSWORD}'")
    compiled = compiled_env(tmp_path / "ok", {"e1": aws_env("e1", clean)}, "e1")
    assert not [f for f in run_policies(compiled, None, date(2026, 11, 28)) if f.rule == "MLC-SEC-001"]
