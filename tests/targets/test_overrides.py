"""Overrides (`overrides:`): applied like kustomize/Terraform would, validated, policy-checked.

Protections: mlc's patched view equals `kubectl kustomize` object by object (so what policies
check is what Argo CD applies); a patch that matches nothing, a JSON patch that does not
apply, an unknown Terraform attribute and an unusable manifest are errors at their line;
privileged containers, removed hardening, public buckets, wildcard IAM and another identity
are findings at the line inside the patch; overrides inherit like any list.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from compiler.cli import main
from compiler.core.diagnostics import InputError
from compiler.targets.overrides import json_patch, strategic_merge
from tests.support.helpers import REPO, aws_env, make_project
from tests.support.validators import validate_k8s_object, validate_terraform_json

DIGEST = "@sha256:" + "a" * 64
COMPONENTS = f"""
models: {{type: object_store}}
api:
  type: serving
  image: reg.example.com/ml/api:1.0{DIGEST}
  model: {{from: models, path: api/v1}}
  replicas: {{min: 2, max: 3}}
ranker:
  type: serving
  runtime: sklearn
  model: {{from: models, path: ranker/v1}}
train:
  type: training_job
  image: reg.example.com/ml/train:1.0{DIGEST}
  command: [python, train.py]
  writes: [models]
  resources: {{cpu: 2, memory: 4Gi}}
"""


def project(tmp_path: Path, overrides: str, files: dict[str, str] | None = None) -> Path:
    text = aws_env("dev", COMPONENTS) + textwrap.dedent(overrides)
    root = make_project(tmp_path, {"dev": text})
    for rel, content in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def line_of(root: Path, marker: str) -> int:
    lines = (root / "environments" / "dev.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if marker in line)


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--project", str(root)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def patched_view(root: Path) -> tuple[list, object]:
    from compiler.frontend.project import Project
    from compiler.pipeline import override_environment, plan_environment

    (env,) = Project.at(root).load_environments(["dev"])
    compiled = plan_environment(env)
    return env, override_environment(compiled, root)


# --- mlc's view equals kustomize's -----------------------------------------------------------------

KUSTOMIZE_CASES = {
    "merge by key, patch items first, delete directive, null deletes": """
        overrides:
          kubernetes:
            - target: {kind: Deployment, name: api}
              patch:
                metadata: {annotations: {team.example.com/owner: search}}
                spec:
                  template:
                    spec:
                      containers:
                        - name: sidecar
                          image: reg.example.com/ml/proxy:2.0@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
                          securityContext:
                            {allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
                        - name: server
                          env: [{name: FEATURE_X, value: "on"}]
                      terminationGracePeriodSeconds: 60
            - target: {kind: InferenceService, name: ranker}
              patch:
                metadata: {labels: {tier: gold}}
                spec: {predictor: {minReplicas: 2, model: {resources: {$patch: delete}}}}
            - target: {kind: Service, name: api}
              json6902:
                - {op: add, path: /metadata/annotations, value: {a.example.com/x: "1"}}
                - {op: replace, path: /spec/ports/0/name, value: web}
    """,
}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("overrides", list(KUSTOMIZE_CASES.values()), ids=list(KUSTOMIZE_CASES))
def test_patched_view_equals_kubectl_kustomize(tmp_path: Path, overrides: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, overrides)
    assert run(root, "compile", capsys=capsys)[0] == 0
    built = subprocess.run(["kubectl", "kustomize", str(root / "out" / "dev" / "kubernetes")], capture_output=True, text=True, check=True)
    theirs = {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(built.stdout)}
    env, result = patched_view(root)
    assert result is not None and len(result.after) == 3
    for path, ours in result.after.items():
        ours = json.loads(json.dumps(ours))
        key = (ours["kind"], ours["metadata"]["name"])
        ours["metadata"].setdefault("namespace", env.namespace)
        assert theirs[key] == ours, path
        assert validate_k8s_object(ours) == [], path
    # the patches really changed something
    deployment = theirs[("Deployment", "api")]["spec"]["template"]["spec"]
    assert [c["name"] for c in deployment["containers"]] == ["sidecar", "server"]
    assert {"name": "FEATURE_X", "value": "on"} in deployment["containers"][1]["env"]
    assert "resources" not in theirs[("InferenceService", "ranker")]["spec"]["predictor"]["model"]


def test_strategic_merge_follows_kustomize_for_custom_resources_and_builtin_kinds() -> None:
    target = {"spec": {"containers": [{"name": "a", "env": [{"name": "A", "value": "1"}]}, {"name": "b"}], "tolerations": [{"key": "x"}]}}
    patch = {"spec": {"containers": [{"name": "b", "image": "i"}, {"name": "a", "$patch": "delete"}], "tolerations": [{"key": "y"}]}}
    assert strategic_merge(target, patch, builtin=True) == {
        "spec": {"containers": [{"name": "b", "image": "i"}], "tolerations": [{"key": "y"}]}
    }
    # custom resources: kustomize has no merge keys, lists are replaced
    assert strategic_merge(target, patch, builtin=False)["spec"]["containers"] == [{"name": "b", "image": "i"}]
    assert strategic_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": None}}, builtin=True) == {"a": {"c": 2}}
    assert strategic_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": {"$patch": "delete"}}}, builtin=False) == {"a": {"c": 2}}
    assert strategic_merge({"a": {"b": 1, "c": 2}}, {"a": {"$patch": "replace", "d": 3}}, builtin=False) == {"a": {"d": 3}}


def test_json_patch_operations() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    ops = [
        {"op": "add", "path": "/a/-", "value": 3},
        {"op": "add", "path": "/a/0", "value": 0},
        {"op": "replace", "path": "/b/c", "value": 2},
        {"op": "copy", "from": "/b", "path": "/d"},
        {"op": "move", "from": "/d/c", "path": "/e"},
        {"op": "remove", "path": "/a/1"},
        {"op": "test", "path": "/e", "value": 2},
    ]
    assert json_patch(doc, ops) == ({"a": [0, 2, 3], "b": {"c": 2}, "d": {}, "e": 2}, None, "")
    assert doc == {"a": [1, 2], "b": {"c": 1}}  # the input is not modified
    assert json_patch(doc, [{"op": "remove", "path": "/x/y"}]) == (doc, 0, 'path "/x/y" does not exist in the object (no "x")')
    assert json_patch(doc, [{"op": "test", "path": "/b/c", "value": 5}])[1:] == (0, 'test failed: "/b/c" does not hold the given value')


# --- the example environment -----------------------------------------------------------------------


def test_example_environment_uses_each_override_type() -> None:
    spec = yaml.safe_load((REPO / "environments" / "staging.yaml").read_text())["overrides"]
    assert spec["kubernetes"] and spec["terraform"] and spec["manifests"]
    kustomization = yaml.safe_load((REPO / "out" / "staging" / "kubernetes" / "kustomization.yaml").read_text())
    assert [p["target"] for p in kustomization["patches"]] == [
        {"kind": o["target"]["kind"], "name": o["target"]["name"]} for o in spec["kubernetes"]
    ]
    assert "extra-configmap-ranker-feature-flags.yaml" in kustomization["resources"]
    override = json.loads((REPO / "out" / "staging" / "terraform" / "override.tf.json").read_text())
    assert override == {"resource": {"aws_s3_bucket": {"models": {"force_destroy": False}}}}
    assert validate_terraform_json(override, "aws") == []


def test_terraform_attributes_data_is_up_to_date() -> None:
    from tests.support.gen_terraform_attributes import TARGET, generate

    assert TARGET.read_text(encoding="utf-8") == generate(), "run python -m tests.support.gen_terraform_attributes"


# --- errors at the override's line ------------------------------------------------------------------


def _errors(root: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, _, err = run(root, "compile", capsys=capsys)
    assert code == 2
    assert not (root / "out" / "dev").exists()
    *errors, summary = err.strip().splitlines()
    assert summary.endswith("nothing was written"), summary
    return errors


def test_unmatched_targets_are_errors_at_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(
        tmp_path,
        """
        overrides:
          kubernetes:
            - target: {kind: Deployment, name: apii}  # k8s
              patch: {metadata: {labels: {a: b}}}
          terraform:
            - address: aws_s3_bucket.modles  # tf
              set: {force_destroy: false}
        """,
    )
    assert _errors(root, capsys) == [
        f"environments/dev.yaml:{line_of(root, '# k8s')}:15: error MLC-E053: no Deployment named 'apii' is emitted (did you mean \"api\"?)",
        f"environments/dev.yaml:{line_of(root, '# tf')}:16: error MLC-E053: no resource 'aws_s3_bucket.modles' is emitted"
        ' (did you mean "aws_s3_bucket.models"?)',
    ]


def test_json_patch_that_does_not_apply_is_an_error_at_the_operation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(
        tmp_path,
        """
        overrides:
          kubernetes:
            - target: {kind: Service, name: api}
              json6902:
                - {op: add, path: /metadata/labels/x, value: "1"}
                - {op: remove, path: /spec/nothing}  # bad
        """,
    )
    assert _errors(root, capsys) == [
        f"environments/dev.yaml:{line_of(root, '# bad')}:11: "
        'error MLC-E054: JSON patch does not apply: path "/spec/nothing" does not exist in the object'
    ]


def test_terraform_attribute_unknown_to_the_provider_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(
        tmp_path,
        """
        overrides:
          terraform:
            - address: aws_s3_bucket.models
              set:
                force_destroy: false
                forse_destroy: true  # unknown
                arn: "arn:aws:s3:::x"  # computed
                count: 2  # meta
        """,
    )
    assert _errors(root, capsys) == [
        f"environments/dev.yaml:{line_of(root, '# unknown')}:9: error MLC-E055: aws_s3_bucket has no attribute"
        ' "forse_destroy" (did you mean "force_destroy"?)',
        f"environments/dev.yaml:{line_of(root, '# computed')}:9: "
        'error MLC-E055: "arn" of aws_s3_bucket is computed by the provider and cannot be set',
        f'environments/dev.yaml:{line_of(root, "# meta")}:9: error MLC-E055: "count" cannot be overridden',
    ]


def test_unusable_manifests_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(
        tmp_path,
        """
        overrides:
          manifests: [extra, missing, extra/../../outside]
        """,
        {
            "extra/a-role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\nrules: []\n",
            "extra/b-secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: y}\nstringData: {k: v}\n",
            "extra/c-ns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z, namespace: kube-system}\n",
            "extra/d-api.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {ports: [{port: 1}]}\n",
            "extra/e-list.yaml": "- a\n- b\n",
        },
    )
    where = line_of(root, "manifests:")
    assert _errors(root, capsys) == [
        f"environments/dev.yaml:{where}:22: error MLC-E056: 'missing' is not a folder of the project",
        f"environments/dev.yaml:{where}:31: error MLC-E056: 'extra/../../outside' must be a folder inside the project (relative, no '..')",
        "extra/a-role.yaml:2:7: error MLC-E056: ClusterRole is cluster-scoped; extra manifests stay in the environment's namespace",
        "extra/b-secret.yaml:2:7: "
        "error MLC-E056: a Secret would put its value in out/; reference the secret manager instead (ExternalSecret)",
        "extra/c-ns.yaml:3:32: error MLC-E056: namespace must be the environment's (ml-dev) or omitted",
        "extra/d-api.yaml:1:1: error MLC-E056: Service 'api' is already emitted; patch it instead",
        "extra/e-list.yaml:1:1: error MLC-E007: the document root is a list; expected a mapping (apiVersion, kind, metadata, ...)",
    ]


# --- findings at the patch's line -------------------------------------------------------------------

FINDINGS = """
overrides:
  kubernetes:
    - target: {kind: Deployment, name: api}
      patch:
        spec:
          template:
            spec:
              serviceAccountName: train  # identity
              containers:
                - name: server
                  securityContext:
                    privileged: true  # privileged
                    readOnlyRootFilesystem: false  # hardening
  terraform:
    - address: aws_s3_bucket_public_access_block.models
      set: {block_public_policy: false}  # public
    - address: aws_iam_role_policy.api
      set:
        policy: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'  # wildcard
"""


def test_weakening_overrides_are_findings_at_the_patch_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, FINDINGS)
    code, out, _ = run(root, "check", "--format", "json", capsys=capsys)
    assert code == 1
    found = sorted((f["rule"], f["line"], f["message"]) for f in json.loads(out)["findings"] if f["rule"] in RULES)
    assert found == [
        ("MLC-IAM-050", line_of(root, "# wildcard"), "override of aws_iam_role_policy.api: allows s3:*"),
        ("MLC-IAM-051", line_of(root, "# identity"), "override of Deployment 'api': runs as ServiceAccount 'train'"),
        (
            "MLC-SEC-050",
            line_of(root, "# privileged"),
            "override of Deployment 'api': container 'server' of spec.template.spec is privileged",
        ),
        (
            "MLC-SEC-051",
            line_of(root, "# hardening"),
            "override of Deployment 'api': container 'server' of spec.template.spec has a writable root filesystem",
        ),
        ("MLC-SEC-052", line_of(root, "# public"), "override of aws_s3_bucket_public_access_block.models: block_public_policy is not true"),
    ]
    assert not (root / "out" / "dev").exists()


RULES = {"MLC-SEC-050", "MLC-SEC-051", "MLC-SEC-052", "MLC-IAM-050", "MLC-IAM-051"}


def test_every_override_rule_is_tested() -> None:
    from compiler.policy.registry import OVERRIDE_RULES

    assert set(OVERRIDE_RULES) == RULES


def test_override_findings_are_waivable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = "".join(f"  - {{rule: {rule}, reason: accepted for this test case, expires: 2099-01-01}}\n" for rule in sorted(RULES))
    root = project(tmp_path, FINDINGS + "exceptions:\n" + waivers)
    code, out, _ = run(root, "check", "--format", "json", capsys=capsys)
    assert code == 0
    assert {f["rule"] for f in json.loads(out)["findings"] if f["rule"] in RULES and f.get("waived")} == RULES


def test_extra_manifest_weaknesses_and_borrowed_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pod = f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: helper}}
        spec:
          selector: {{matchLabels: {{app: helper}}}}
          template:
            metadata: {{labels: {{app: helper}}}}
            spec:
              serviceAccountName: api
              hostNetwork: true
              containers:
                - name: helper
                  image: reg.example.com/ml/h:1{DIGEST}
                  securityContext:
                    {{allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: {{drop: [ALL]}}}}
    """
    root = project(tmp_path, "overrides:\n  manifests: [extra]  # here\n", {"extra/helper.yaml": pod})
    code, out, _ = run(root, "check", "--format", "json", capsys=capsys)
    assert code == 1
    found = sorted((f["rule"], f["line"], f["message"]) for f in json.loads(out)["findings"] if f["rule"] in RULES)
    line = line_of(root, "# here")
    assert found == [
        ("MLC-IAM-051", line, "extra manifest Deployment 'helper' runs as 'api', the identity of an mlc workload"),
        ("MLC-SEC-050", line, "extra manifest Deployment 'helper': spec.template.spec sets hostNetwork"),
    ]


# --- inheritance and trace ---------------------------------------------------------------------------


def test_overrides_inherit_like_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parent = aws_env("base", COMPONENTS).replace("metadata: {name: base}", "metadata: {name: base}\nabstract: true") + textwrap.dedent(
        """
        overrides:
          kubernetes:
            - target: {kind: Deployment, name: api}
              patch: {metadata: {labels: {from: parent}}}
        """
    )
    files = {
        "base": parent,
        "child": "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: child}\nextends: base\noverrides:\n  kubernetes:\n"
        "    - target: {kind: Service, name: api}\n      patch: {metadata: {labels: {from: child}}}\n",
        "plain": "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: plain}\nextends: base\n",
        "removed": "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: removed}\nextends: base\noverrides: null\n",
    }
    root = make_project(tmp_path, files)
    assert run(root, "compile", capsys=capsys)[0] == 0

    def targets(env: str) -> list[dict[str, str]]:
        kustomization = yaml.safe_load((root / "out" / env / "kubernetes" / "kustomization.yaml").read_text())
        return [p["target"] for p in kustomization.get("patches", [])]

    assert targets("child") == [{"kind": "Service", "name": "api"}]
    assert targets("plain") == [{"kind": "Deployment", "name": "api"}]
    assert targets("removed") == []


def test_trace_names_the_override_that_set_an_output_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(
        tmp_path,
        """
        overrides:
          kubernetes:
            - target: {kind: Deployment, name: api}  # patch
              patch: {metadata: {annotations: {team.example.com/owner: search}}}
          terraform:
            - address: aws_s3_bucket.models  # tf
              set: {force_destroy: false}
        """,
    )
    code, out, _ = run(root, "trace", "dev", "kubernetes/deployment-api.yaml#/metadata/annotations/team.example.com~1owner", capsys=capsys)
    assert (code, out) == (
        0,
        'kubernetes/deployment-api.yaml#/metadata/annotations/team.example.com~1owner = "search"\n'
        f"  set by the override at environments/dev.yaml:{line_of(root, '# patch')}:7 (overrides.kubernetes.0)\n",
    )
    code, out, _ = run(root, "trace", "dev", "terraform/store-models.tf.json#/resource/aws_s3_bucket/models/force_destroy", capsys=capsys)
    assert out.splitlines()[1] == f"  set by the override at environments/dev.yaml:{line_of(root, '# tf')}:7 (overrides.terraform.0)"
    code, out, _ = run(root, "trace", "dev", "kubernetes/deployment-api.yaml#/spec/template/spec/serviceAccountName", capsys=capsys)
    assert out == (
        'kubernetes/deployment-api.yaml#/spec/template/spec/serviceAccountName = "api"\n'
        "  emitted by mlc (component 'api'); no override changes it\n"
    )
    code, _, err = run(root, "trace", "dev", "kubernetes/deployment-apii.yaml#/spec", capsys=capsys)
    assert code == 2 and 'did you mean "kubernetes/deployment-api.yaml"' in err


def test_override_values_cannot_inject_terraform_templates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(
        tmp_path, "overrides:\n  terraform:\n    - address: aws_s3_bucket.models\n      set: {bucket_prefix: 'x-${var.region}'}\n"
    )
    assert run(root, "compile", capsys=capsys)[0] == 0
    override = json.loads((root / "out" / "dev" / "terraform" / "override.tf.json").read_text())
    assert override["resource"]["aws_s3_bucket"]["models"]["bucket_prefix"] == "x-$${var.region}"


def test_errors_leave_out_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, "")
    assert run(root, "compile", capsys=capsys)[0] == 0
    before = {p: p.read_bytes() for p in (root / "out").rglob("*") if p.is_file()}
    with (root / "environments" / "dev.yaml").open("a") as handle:
        handle.write("overrides:\n  kubernetes:\n    - target: {kind: Deployment, name: nope}\n      patch: {}\n")
    code, _, err = run(root, "compile", capsys=capsys)
    assert code == 2 and "MLC-E053" in err
    assert {p: p.read_bytes() for p in (root / "out").rglob("*") if p.is_file()} == before
    with pytest.raises(InputError):
        patched_view(root)
