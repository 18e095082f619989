"""Argo Workflows and Argo CD emitters: DAGs from the graph, schedules, RBAC, projects, `{{` safety."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.support.helpers import aws_env, compiled_env, example_environments

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from tests.support import validators as v

    if not hasattr(v, "validate_k8s_object"):  # a PyPI package of the same name
        raise ImportError
except ImportError:  # pragma: no cover
    from tests.support import validators as v

IMAGE = "registry.example.com/ml/job:1.0.0@sha256:" + "a" * 64


# --- helpers ----------------------------------------------------------------------------
def spark(name: str, reads=(), writes=(), after=(), extra: str = "") -> str:
    lines = [f"{name}:", "  type: spark_job", f"  image: {IMAGE}", "  main: local:///opt/app/job.py"]
    for key, values in (("reads", reads), ("writes", writes), ("after", after)):
        if values:
            lines.append(f"  {key}: [{', '.join(values)}]")
    return "\n".join(lines) + "\n" + extra


def store(name: str) -> str:
    return f"{name}: {{type: object_store}}\n"


def pipeline(name: str, steps, extra: str = "") -> str:
    return f"{name}:\n  type: pipeline\n  steps: [{', '.join(steps)}]\n{extra}"


def compile_components(tmp_path, components: str, env: str = "e1"):
    return compiled_env(tmp_path, {env: aws_env(env, components)}, env)


def emit(compiled) -> dict[str, dict[str, Any]]:
    from compiler.targets.argo.emit import emit_argo

    return {a.path: a.content for a in emit_argo(compiled)}


def dag_edges(template: dict[str, Any]) -> set[tuple[str, str]]:
    main = next(t for t in template["spec"]["templates"] if t["name"] == template["spec"]["entrypoint"])
    return {(dep, task["name"]) for task in main["dag"]["tasks"] for dep in task.get("dependencies", [])}


def template_named(obj: dict[str, Any], name: str) -> dict[str, Any]:
    templates = obj["spec"]["templates"] if "templates" in obj["spec"] else obj["spec"]["workflowSpec"]["templates"]
    return next(t for t in templates if t["name"] == name)


def assert_valid(objects) -> None:
    problems = [p for obj in objects for p in v.validate_k8s_object(obj)]
    assert problems == []


# --- the example environments -----------------------------------------------------------
EXPECTED_EXAMPLE_EDGES = {
    # base.yaml's nightly: feature-etl writes features, read by train-ranker and batch-score;
    # train-ranker writes models, read by batch-score.
    ("prod", "nightly"): {("feature-etl", "train-ranker"), ("feature-etl", "batch-score"), ("train-ranker", "batch-score")},
    ("staging", "nightly"): {("feature-etl", "train-ranker"), ("feature-etl", "batch-score"), ("train-ranker", "batch-score")},
    ("prod-azure", "nightly"): {("feature-etl", "train-ranker"), ("feature-etl", "batch-score"), ("train-ranker", "batch-score")},
    # research-gcp: pretrain reads corpus (written by tokenize) and runs after tokenize
    ("research-gcp", "weekly-pretrain"): {("tokenize", "pretrain")},
    ("lab", "nightly"): {("feature-etl", "train-ranker"), ("feature-etl", "batch-score"), ("train-ranker", "batch-score")},
    # lab: train-notes (Ray) reads the embeddings embed-notes writes
    ("lab", "notes-weekly"): {("embed-notes", "train-notes")},
}


@pytest.fixture(scope="module")
def examples():
    from compiler.pipeline import plan_environment

    return {env.name: plan_environment(env) for env in example_environments()}


def test_example_pipeline_dags_follow_the_graph_edge_by_edge(examples):
    seen = set()
    for env_name, compiled in sorted(examples.items()):
        artifacts = emit(compiled)
        for pipe in compiled.env.of_type("pipeline"):
            seen.add((env_name, pipe.name))
            template = artifacts[f"argo/workflowtemplate-{pipe.name}.yaml"]
            edges = dag_edges(template)
            graph_edges = set(compiled.graph.pipeline_order(pipe.name))
            expected = EXPECTED_EXAMPLE_EDGES[(env_name, pipe.name)]
            assert graph_edges == expected  # the hand-built expectation agrees with the graph
            for edge in sorted(expected):
                assert edge in edges, f"{env_name}/{pipe.name}: missing dependency {edge[0]} -> {edge[1]}"
            steps = set(pipe.get("steps"))
            for edge in sorted(e for e in edges if set(e) <= steps):  # data-quality check tasks: test_monitoring.py
                assert edge in expected, f"{env_name}/{pipe.name}: unexpected dependency {edge[0]} -> {edge[1]}"
            tasks = template_named(template, "main")["dag"]["tasks"]
            assert sorted(t["name"] for t in tasks if t["name"] in steps) == sorted(pipe.get("steps"))
    assert seen == set(EXPECTED_EXAMPLE_EDGES)


def test_example_objects_validate_against_upstream_schemas(examples):
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.argocd.emit import emit_argocd

    for compiled in examples.values():
        argo = emit_argo(compiled)
        assert_valid(a.content for a in argo)
        assert_valid(a.content for a in emit_argocd(compiled, argo))


def test_example_run_manifests_validate_against_their_schemas(examples):
    for compiled in examples.values():
        for content in emit(compiled).values():
            if content["kind"] not in ("WorkflowTemplate", "CronWorkflow"):
                continue
            spec = content["spec"].get("workflowSpec", content["spec"])
            for template in spec.get("templates", []):
                if "manifest" in template.get("resource", {}):
                    text = template["resource"]["manifest"].replace("{{workflow.name}}", "nightly-1700000000")
                    manifest = yaml.safe_load(text)
                    manifest["metadata"]["name"] = manifest["metadata"]["generateName"] + "abcde"
                    assert_valid([manifest])


def test_example_schedules(examples):
    prod = emit(examples["prod"])
    cron = prod["argo/cronworkflow-nightly.yaml"]
    assert cron["spec"]["schedules"] == ["30 1 * * *"]
    assert "schedule" not in cron["spec"]
    assert cron["spec"]["workflowSpec"] == {"workflowTemplateRef": {"name": "nightly"}}
    assert cron["spec"]["concurrencyPolicy"] == "Forbid" and cron["spec"]["timezone"] == "UTC"
    dev = emit(examples["dev"])  # dev drops the pipeline and schedules batch-score on its own
    assert not any(p.startswith("argo/workflowtemplate-") for p in dev)
    score = dev["argo/cronworkflow-batch-score.yaml"]
    assert score["spec"]["schedules"] == ["0 6 * * 1-5"]
    run = template_named(score, "create-batch-score")
    assert yaml.safe_load(run["resource"]["manifest"])["kind"] == "Job"
    assert score["spec"]["workflowSpec"]["entrypoint"] == "run-batch-score"


def test_emission_is_deterministic(examples):
    from compiler.output.serialize import dump_yaml
    from compiler.targets.argo.emit import emit_argo

    for compiled in examples.values():
        first = [(a.path, dump_yaml(a.content)) for a in emit_argo(compiled)]
        assert first == [(a.path, dump_yaml(a.content)) for a in emit_argo(compiled)]


# --- synthetic pipelines ----------------------------------------------------------------
def test_after_only_ordering(tmp_path):
    components = spark("a") + spark("b", after=["a"]) + spark("c", after=["b"]) + pipeline("p", ["c", "a", "b"])
    template = emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]
    assert dag_edges(template) == {("a", "b"), ("b", "c")}  # no shortcut a -> c: b already waits for a


def test_diamond_through_stores(tmp_path):
    components = "".join(store(s) for s in ("s0", "s1", "s2", "s3"))
    components += spark("top", writes=["s0"]) + spark("left", reads=["s0"], writes=["s1"])
    components += spark("right", reads=["s0"], writes=["s2"]) + spark("bottom", reads=["s1", "s2"], writes=["s3"])
    components += pipeline("diamond", ["top", "left", "right", "bottom"])
    compiled = compile_components(tmp_path, components)
    template = emit(compiled)["argo/workflowtemplate-diamond.yaml"]
    expected = {("top", "left"), ("top", "right"), ("left", "bottom"), ("right", "bottom")}
    assert dag_edges(template) == expected == set(compiled.graph.pipeline_order("diamond"))
    tasks = {t["name"]: t for t in template_named(template, "main")["dag"]["tasks"]}
    assert tasks["bottom"]["dependencies"] == ["left", "right"]
    assert "dependencies" not in tasks["top"]


def test_order_through_a_component_outside_the_pipeline(tmp_path):
    # a -> s -> x (not a step, runs on its own) -> t -> b: data flow through x does not order a
    # run of p, since x is not part of it; `after` through x (x after a, b after x) does
    components = store("s") + store("t") + spark("a", writes=["s"]) + spark("x", reads=["s"], writes=["t"])
    components += spark("b", reads=["t"]) + pipeline("p", ["a", "b"])
    assert dag_edges(emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]) == set()
    components = store("s") + store("t") + spark("a", writes=["s"]) + spark("x", reads=["s"], writes=["t"], after=["a"])
    components += spark("b", reads=["t"], after=["x"]) + pipeline("p", ["a", "b"])
    assert dag_edges(emit(compile_components(tmp_path / "after", components))["argo/workflowtemplate-p.yaml"]) == {("a", "b")}


def test_independent_steps_have_no_dependencies(tmp_path):
    components = store("s") + spark("a", reads=["s"]) + spark("b", reads=["s"]) + pipeline("p", ["a", "b"])
    template = emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]
    tasks = template_named(template, "main")["dag"]["tasks"]
    assert [t["name"] for t in tasks] == ["a", "b"]
    assert all("dependencies" not in t for t in tasks)
    assert template["spec"]["onExit"] == "on-exit"  # the cleanup of a failed or stopped run
    assert all("retryStrategy" not in t for t in template["spec"]["templates"])  # retries default 0
    assert "argo/cronworkflow-p.yaml" not in emit(compile_components(tmp_path, components))


def test_on_failure_runs_the_handler_only_when_the_workflow_did_not_succeed(tmp_path):
    components = spark("a") + spark("alert") + pipeline("p", ["a"], "  on_failure: alert\n")
    template = emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]
    assert template["spec"]["onExit"] == "on-exit"
    handler = template_named(template, "on-exit")
    assert handler["steps"] == [
        [{"name": "cleanup", "template": "cleanup", "when": "{{workflow.status}} != Succeeded"}],
        [{"name": "alert", "template": "run-alert", "when": "{{workflow.status}} != Succeeded"}],
    ]
    run = template_named(template, "create-alert")
    assert yaml.safe_load(run["resource"]["manifest"])["metadata"]["generateName"] == "alert-"
    assert "alert" not in {t["name"] for t in template_named(template, "main")["dag"]["tasks"]}
    assert_valid([template])


def test_retries_with_exponential_backoff_covering_every_attempt(tmp_path):
    from compiler.targets.argo.emit import step_deadline

    components = spark("a") + pipeline("p", ["a"], "  retries: 3\n")
    compiled = compile_components(tmp_path, components)
    template = emit(compiled)["argo/workflowtemplate-p.yaml"]
    strategy = template_named(template, "run-a")["retryStrategy"]
    deadline = step_deadline(compiled.env.components["a"])
    assert strategy["limit"] == 3 and strategy["retryPolicy"] == "Always"
    assert strategy["backoff"]["duration"] == "1m" and strategy["backoff"]["factor"] == 2
    # maxDuration counts from the first attempt: 4 attempts plus 1 + 2 + 4 minutes of backoff
    assert strategy["backoff"]["maxDuration"] == f"{4 * deadline + 7 * 60}s"
    assert template["spec"]["activeDeadlineSeconds"] == 4 * deadline + 7 * 60
    assert_valid([template])


def test_run_templates_create_fresh_owned_objects_with_conditions(tmp_path):
    components = store("s") + spark("etl", writes=["s"])
    components += f"train:\n  type: training_job\n  image: {IMAGE}\n  nodes: 3\n  reads: [s]\n  max_runtime_hours: 2\n"
    components += f"single:\n  type: training_job\n  image: {IMAGE}\n  reads: [s]\n"
    components += pipeline("p", ["etl", "train", "single"])
    template = emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]
    for name in ("etl", "train", "single"):
        assert template_named(template, f"run-{name}")["steps"] == [
            [{"name": "clean", "template": f"clean-{name}"}],
            [{"name": "create", "template": f"create-{name}"}],
        ]
        resource = template_named(template, f"create-{name}")["resource"]
        manifest = yaml.safe_load(resource["manifest"])
        assert resource["action"] == "create" and resource["setOwnerReference"] is True
        assert "name" not in manifest["metadata"] and manifest["metadata"]["generateName"] == f"{name}-"
        assert not any(k.startswith("argocd.argoproj.io/") for k in manifest["metadata"].get("annotations", {}))
    assert template_named(template, "create-etl")["resource"]["successCondition"] == "status.applicationState.state == COMPLETED"
    assert template_named(template, "create-train")["resource"]["successCondition"].startswith("status.replicaStatuses.")
    assert template_named(template, "create-train")["activeDeadlineSeconds"] == 2 * 3600 + 600
    assert template_named(template, "create-single")["resource"]["successCondition"] == "status.succeeded > 0"


def test_run_conditions_by_kind():
    from compiler.targets.argo.emit import run_conditions

    spark_app = {"kind": "SparkApplication", "spec": {}}
    assert run_conditions(spark_app) == (
        "status.applicationState.state == COMPLETED",
        "status.applicationState.state in (FAILED,SUBMISSION_FAILED)",
    )
    master = {"kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1}, "Worker": {"replicas": 3}}}}
    assert run_conditions(master) == (
        "status.replicaStatuses.Master.succeeded > 0",
        "status.replicaStatuses.Master.failed > 0,status.replicaStatuses.Worker.failed > 0",
    )
    workers = {"kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Worker": {"replicas": 4}}}}
    assert run_conditions(workers) == ("status.replicaStatuses.Worker.succeeded > 3", "status.replicaStatuses.Worker.failed > 0")
    assert run_conditions({"kind": "Job", "spec": {"backoffLimit": 0}}) == ("status.succeeded > 0", "status.failed > 0")
    assert run_conditions({"kind": "Job", "spec": {}}) == ("status.succeeded > 0", "status.failed > 6")
    with pytest.raises(AssertionError):
        run_conditions({"kind": "CronJob", "spec": {}})


LABEL_KEY = r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_VALUE = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
REQUIREMENT = re.compile(
    rf"(?P<key>{LABEL_KEY}) *(?:(?:==|=|!=) *{LABEL_VALUE}|[<>] *[0-9]+|(?:in|notin) *\( *{LABEL_VALUE}( *, *{LABEL_VALUE})* *\))"
)


def selector_requirements(selector: str) -> list[str]:
    """Split a label selector at the commas outside parentheses (as the Kubernetes lexer does)."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


@pytest.mark.parametrize(
    "obj",
    [
        {"kind": "SparkApplication", "spec": {}},
        {"kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1}, "Worker": {"replicas": 3}}}},
        {"kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Worker": {"replicas": 2}}}},
        {"kind": "Job", "spec": {"backoffLimit": 4, "completions": 2}},
    ],
)
def test_run_conditions_parse_as_label_selectors(obj):
    """Argo parses the conditions with Kubernetes' label-selector parser: keys must be
    qualified names (so gjson list queries are impossible), values label values, `>` an integer."""
    from compiler.targets.argo.emit import run_conditions

    for condition in run_conditions(obj):
        for requirement in selector_requirements(condition):
            assert REQUIREMENT.fullmatch(requirement), requirement


# --- schedules --------------------------------------------------------------------------
def test_scheduled_workloads(tmp_path):
    components = store("m") + store("out")
    components += f"score:\n  type: batch_inference\n  image: {IMAGE}\n  model: {{from: m}}\n  writes: [out]\n  schedule: '@daily'\n"
    components += f"dist:\n  type: training_job\n  image: {IMAGE}\n  nodes: 2\n  schedule: '0 2 * * 0'\n"
    components += f"solo:\n  type: training_job\n  image: {IMAGE}\n  schedule: '0 3 * * 0'\n"  # a CronJob (Kubernetes emitter)
    components += spark("nightly-spark", extra="  schedule: '0 4 * * *'\n")  # a ScheduledSparkApplication
    components += f"unscheduled:\n  type: batch_inference\n  image: {IMAGE}\n  model: {{from: m}}\n"
    artifacts = emit(compile_components(tmp_path, components))
    crons = {p: c for p, c in artifacts.items() if c["kind"] == "CronWorkflow"}
    assert sorted(crons) == ["argo/cronworkflow-dist.yaml", "argo/cronworkflow-score.yaml"]
    assert crons["argo/cronworkflow-score.yaml"]["spec"]["schedules"] == ["@daily"]
    assert crons["argo/cronworkflow-dist.yaml"]["spec"]["schedules"] == ["0 2 * * 0"]
    dist = template_named(crons["argo/cronworkflow-dist.yaml"], "create-dist")
    assert yaml.safe_load(dist["resource"]["manifest"])["kind"] == "PyTorchJob"
    for cron in crons.values():
        spec = cron["spec"]
        assert spec["concurrencyPolicy"] == "Forbid" and spec["timezone"] == "UTC" and spec["startingDeadlineSeconds"] > 0
        assert spec["workflowSpec"]["serviceAccountName"] == "mlc.argo-workflow"
    rules = artifacts["argo/role-mlc.argo-workflow.yaml"]["rules"]
    assert {(tuple(r["apiGroups"]), tuple(r["resources"])) for r in rules} == {
        (("argoproj.io",), ("workflowtaskresults",)),
        (("batch",), ("jobs",)),
        (("kubeflow.org",), ("pytorchjobs",)),
    }
    assert_valid(artifacts.values())


def test_long_names_fit_argo_limits(tmp_path):
    name = "p" + "-x" * 30  # 61 characters
    components = spark("a") + pipeline(name, ["a"], "  schedule: '@hourly'\n")
    artifacts = emit(compile_components(tmp_path, components))
    cron = next(c for c in artifacts.values() if c["kind"] == "CronWorkflow")
    assert len(cron["metadata"]["name"]) <= 52
    assert cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"] == name
    assert_valid(artifacts.values())


# --- RBAC -------------------------------------------------------------------------------
def test_workflow_role_grants_exactly_what_the_templates_create(tmp_path):
    components = spark("a") + spark("b") + pipeline("p", ["a", "b"])
    artifacts = emit(compile_components(tmp_path, components))
    role = artifacts["argo/role-mlc.argo-workflow.yaml"]
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]},
        {"apiGroups": ["sparkoperator.k8s.io"], "resources": ["sparkapplications"], "verbs": ["create", "delete", "get", "list", "watch"]},
    ]
    binding = artifacts["argo/rolebinding-mlc.argo-workflow.yaml"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mlc.argo-workflow"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlc.argo-workflow", "namespace": "ml-e1"}]
    template = artifacts["argo/workflowtemplate-p.yaml"]
    assert template["spec"]["serviceAccountName"] == "mlc.argo-workflow"
    assert template["spec"]["securityContext"]["runAsNonRoot"] is True
    assert template["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert template["spec"]["archiveLogs"] is False and template["spec"]["podGC"]["strategy"]
    assert template["spec"]["ttlStrategy"]["secondsAfterSuccess"] > 0 and template["spec"]["activeDeadlineSeconds"] > 0


def test_no_argo_output_without_pipelines_or_scheduled_runs(tmp_path):
    from compiler.targets.argocd.emit import emit_argocd

    compiled = compile_components(tmp_path, store("s") + spark("a", reads=["s"]))
    assert emit(compiled) == {}
    paths = [a.path for a in emit_argocd(compiled, [])]
    assert paths == ["argocd/appproject-e1.yaml", "argocd/application-e1.yaml"]  # no empty workflows app


# --- Argo CD ----------------------------------------------------------------------------
def _kubernetes_artifacts(compiled):
    """The Kubernetes emitter's output when it exists, plus objects exercising every branch."""
    from compiler.targets.artifact import Artifact

    try:
        from compiler.targets.kubernetes.emit import emit_kubernetes
    except ImportError:
        real = []
    else:
        real = emit_kubernetes(compiled)
    ns = compiled.env.namespace
    synthetic = [
        Artifact(
            "kubernetes/kustomization.yaml",
            {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": []},
            "yaml",
        ),
        Artifact("kubernetes/namespace-x.yaml", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, "yaml"),
        Artifact(
            "kubernetes/deployment-x.yaml",
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": ns}},
            "yaml",
        ),
        Artifact("terraform/main.tf.json", {"resource": {}}, "json"),
    ]
    return real, synthetic


def test_app_project_allows_exactly_the_emitted_kinds(tmp_path):
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.argocd.emit import CLUSTER_SCOPED, emit_argocd, group_kind

    compiled = compile_components(tmp_path, spark("a") + pipeline("p", ["a"], "  schedule: '@daily'\n"))
    real, synthetic = _kubernetes_artifacts(compiled)
    argo = emit_argo(compiled)
    emitted = real + synthetic + argo
    out = {a.path: a.content for a in emit_argocd(compiled, emitted)}
    assert sorted(out) == ["argocd/application-e1-workflows.yaml", "argocd/application-e1.yaml", "argocd/appproject-e1.yaml"]
    project = out["argocd/appproject-e1.yaml"]["spec"]
    deployed = [a.content for a in emitted if a.path.startswith(("kubernetes/", "argo/")) and a.content.get("kind") != "Kustomization"]
    expected = {group_kind(o) for o in deployed} - CLUSTER_SCOPED
    whitelist = [(r["group"], r["kind"]) for r in project["namespaceResourceWhitelist"]]
    assert whitelist == sorted(expected)  # sorted, no duplicates, nothing more
    assert {("argoproj.io", "WorkflowTemplate"), ("argoproj.io", "CronWorkflow"), ("apps", "Deployment")} <= set(whitelist)
    assert ("apps", "Deployment") in whitelist and ("", "ServiceAccount") in whitelist
    assert ("kustomize.config.k8s.io", "Kustomization") not in whitelist and ("", "Namespace") not in whitelist
    assert project["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace", "name": "ml-e1"}]
    assert project["sourceRepos"] == ["https://git.example.com/ml/platform.git"]
    assert project["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "ml-e1"}]
    assert project["orphanedResources"] == {"warn": True}
    assert_valid(out.values())
    if real:
        assert_valid(a.content for a in real if a.content.get("kind") != "Kustomization")


def test_applications_sync_the_environment_output(tmp_path):
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.argocd.emit import emit_argocd

    extra = "gitops: {repo: 'https://git.example.com/ml/platform.git', revision: release-1, server: 'https://eks.example.com'}\n"
    text = aws_env("e1", spark("a") + pipeline("p", ["a"])).replace('gitops: {repo: "https://git.example.com/ml/platform.git"}\n', extra)
    compiled = compiled_env(tmp_path, {"e1": text}, "e1")
    out = {a.path: a.content for a in emit_argocd(compiled, emit_argo(compiled))}
    main, workflows = out["argocd/application-e1.yaml"], out["argocd/application-e1-workflows.yaml"]
    for app, path in ((main, "out/e1/kubernetes"), (workflows, "out/e1/argo")):
        assert app["metadata"]["namespace"] == "argocd"
        assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        spec = app["spec"]
        assert spec["project"] == "e1"
        assert spec["source"] == {"repoURL": "https://git.example.com/ml/platform.git", "targetRevision": "release-1", "path": path}
        assert spec["destination"] == {"server": "https://eks.example.com", "namespace": "ml-e1"}
        assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
        assert spec["syncPolicy"]["syncOptions"] == [
            "ServerSideApply=true",
            "CreateNamespace=false",
            "PruneLast=true",
            "ApplyOutOfSyncOnly=true",
        ]
        assert spec["syncPolicy"]["retry"]["backoff"]["factor"] == 2
    wave = "argocd.argoproj.io/sync-wave"
    assert int(workflows["metadata"]["annotations"][wave]) > int(main["metadata"]["annotations"][wave])
    assert out["argocd/appproject-e1.yaml"]["spec"]["destinations"][0]["server"] == "https://eks.example.com"
    assert_valid(out.values())


# --- `{{` never reaches Argo ------------------------------------------------------------
def test_template_braces_are_rejected_at_their_yaml_line(tmp_path):
    from compiler.analysis.template_syntax import argo_template_violations
    from compiler.core.diagnostics import InputError
    from compiler.targets.argo.emit import emit_argo

    components = spark("a", extra="  args: ['--date', '{{workflow.creationTimestamp}}']\n  env: {GREETING: 'hi {{=sprig.env(\"X\")}}'}\n")
    components += spark("standalone", extra="  args: ['{{ not run by Argo }}']\n")  # kubernetes/ only: Argo never sees it
    components += f"score:\n  type: batch_inference\n  image: {IMAGE}\n  model: {{from: m}}\n  schedule: '@daily'\n"
    components += "  command: [python, '{{inputs.parameters.x}}']\n" + store("m")
    components += pipeline("p", ["a"])
    files = {"e1": aws_env("e1", components)}
    from compiler.analysis.graph import build_graph
    from compiler.plan.compiled import plan
    from tests.support.helpers import load_env

    env = load_env(tmp_path, files, "e1")
    graph = build_graph(env)
    compiled = plan(env, graph)  # bypasses validation, which rejects it
    with pytest.raises(InputError):
        compiled_env(tmp_path, files, "e1")
    diagnostics = argo_template_violations(compiled.env)
    assert [(d.code, d.location.file) for d in diagnostics] == [("MLC-E051", "environments/e1.yaml")] * 3
    lines = files["e1"].splitlines()
    located = {(lines[d.location.line - 1].strip(), d.message.split(":")[0]) for d in diagnostics}
    assert located == {
        ("args: ['--date', '{{workflow.creationTimestamp}}']", "a.args.1"),
        ("env: {GREETING: 'hi {{=sprig.env(\"X\")}}'}", "a.env.GREETING"),
        ("command: [python, '{{inputs.parameters.x}}']", "score.command.1"),
    }
    for d in diagnostics:
        assert "{{workflow" not in d.message and "sprig" not in d.message  # the value is never echoed
        assert lines[d.location.line - 1][d.location.col - 1 :].startswith("'")  # column of the value itself
    with pytest.raises(InputError) as raised:
        emit_argo(compiled)
    assert raised.value.diagnostics == diagnostics


def test_no_violations_in_the_examples(examples):
    from compiler.analysis.template_syntax import argo_template_violations

    assert all(argo_template_violations(c.env) == [] for c in examples.values())


def test_only_exit_handler_conditions_use_argo_expressions(examples):
    """The only `{{...}}` mlc writes into argo/: its exit-handler condition, the workflow's name
    (labels and selectors of run objects) and a materialisation's end time (the workflow's
    creation time, the argument of `feast materialize-incremental`)."""
    from compiler.output.serialize import dump_yaml

    for compiled in examples.values():
        for content in emit(compiled).values():
            text = dump_yaml(content)
            allowed = ("{{workflow.status}} != Succeeded", "{{workflow.name}}", "{{workflow.creationTimestamp.RFC3339}}")
            assert text.count("{{") == sum(text.count(a) for a in allowed)


# --- failure detection and cleanup (issue 25) --------------------------------------------
def test_argo_owns_retries_so_the_first_failed_pod_fails_the_step(tmp_path):
    components = store("s") + f"train:\n  type: training_job\n  image: {IMAGE}\n  nodes: 3\n  reads: [s]\n"
    components += f"single:\n  type: training_job\n  image: {IMAGE}\n  reads: [s]\n"
    components += pipeline("p", ["train", "single"], "  retries: 2\n")
    template = emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]
    train = template_named(template, "create-train")["resource"]
    job = yaml.safe_load(train["manifest"])
    for replica in job["spec"]["pytorchReplicaSpecs"].values():  # OnFailure restarts in place: no failure ever shows
        assert replica["restartPolicy"] == "Never" and replica["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["runPolicy"]["backoffLimit"] == 0
    assert train["failureCondition"] == "status.replicaStatuses.Master.failed > 0,status.replicaStatuses.Worker.failed > 0"
    single = template_named(template, "create-single")["resource"]
    assert yaml.safe_load(single["manifest"])["spec"]["backoffLimit"] == 0
    assert single["failureCondition"] == "status.failed > 0"
    assert "retryStrategy" in template_named(template, "run-train")  # the retry re-runs clean + create


def test_every_attempt_deletes_the_previous_one_and_a_failed_workflow_cleans_up(tmp_path):
    components = store("s") + spark("etl", writes=["s"]) + pipeline("p", ["etl"], "  retries: 1\n")
    template = emit(compile_components(tmp_path, components))["argo/workflowtemplate-p.yaml"]
    manifest = yaml.safe_load(template_named(template, "create-etl")["resource"]["manifest"])
    assert manifest["metadata"]["labels"]["mlc.dev/workflow"] == "{{workflow.name}}"
    assert manifest["metadata"]["labels"]["mlc.dev/step"] == "etl"
    assert template_named(template, "clean-etl")["resource"] == {
        "action": "delete",
        "flags": [
            "sparkapplications.sparkoperator.k8s.io",
            "--selector",
            "mlc.dev/workflow={{workflow.name}},mlc.dev/step=etl",
            "--cascade=foreground",
            "--wait=true",
        ],
    }
    assert template_named(template, "cleanup")["resource"]["flags"][:3] == [
        "sparkapplications.sparkoperator.k8s.io",
        "--selector",
        "mlc.dev/workflow={{workflow.name}}",
    ]
    assert template_named(template, "on-exit")["steps"][0] == [
        {"name": "cleanup", "template": "cleanup", "when": "{{workflow.status}} != Succeeded"}
    ]
    assert_valid([template])
