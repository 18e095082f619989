"""Argo Workflows emitter: pipelines and scheduled workloads -> out/<env>/argo/.

  pipeline                      -> WorkflowTemplate: a DAG whose task dependencies are exactly
                                   `graph.pipeline_order(name)`; each task creates the step's
                                   run object (SparkApplication / PyTorchJob / Job, built by the
                                   Kubernetes emitter) through a resource template and waits
                                   for its success or failure condition
  pipeline with schedule        -> + CronWorkflow referencing the WorkflowTemplate
  batch_inference with schedule -> CronWorkflow creating its Job (resource template)
  training_job, schedule, nodes>1 -> CronWorkflow creating its PyTorchJob
  any of the above              -> ServiceAccount + Role + RoleBinding for the workflow pods

Decisions:
- Resource templates, not container templates: the workload runs as the object the
  Kubernetes emitter hardens (its own least-privilege ServiceAccount, cloud identity,
  securityContext, secrets from ExternalSecrets), one definition for both paths. The workflow
  ServiceAccount only creates and watches those objects.
- Run objects get `metadata.generateName` instead of `name`: every run and every retry
  creates a new object; `setOwnerReference` lets Kubernetes delete them with the Workflow
  (whose lifetime `ttlStrategy` bounds).
- Success / failure conditions are Kubernetes label-selector expressions over the object's
  JSON (Argo evaluates each key as a gjson path; keys must be qualified names, so list
  elements such as `status.conditions[type=Failed]` cannot be addressed). Comma-separated
  success conditions are ANDed, failure conditions ORed.
- Strings from the spec never contain `{{` here (see argo_inputs; checked again below).
"""

from __future__ import annotations

import copy
from typing import Any

from compiler.analysis.template_syntax import TEMPLATE_OPEN, argo_template_violations, is_distributed_training, scheduled_runs
from compiler.core.diagnostics import InputError
from compiler.model.environment import Component, Environment
from compiler.output.serialize import dump_yaml
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.artifact import Artifact

API_VERSION = "argoproj.io/v1alpha1"
ENTRYPOINT = "main"
EXIT_HANDLER = "on-exit"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# RBAC first, then templates, then what references them (CronWorkflow -> WorkflowTemplate).
WAVE_RBAC, WAVE_TEMPLATE, WAVE_CRON = "0", "1", "2"

EXECUTOR_UID = 8737  # the argoexec image's non-root user
STEP_DEADLINE_MARGIN = 600  # the run object's own deadline fires first; Argo's is a backstop
DEFAULT_RUN_HOURS = {"spark_job": 6, "batch_inference": 6, "training_job": 24}
BACKOFF_SECONDS, BACKOFF_FACTOR, BACKOFF_CAP_SECONDS = 60, 2, 1800
TTL_AFTER_SUCCESS, TTL_AFTER_FAILURE = 86400, 7 * 86400
CRON_STARTING_DEADLINE = 600
CRON_HISTORY = 3

# (group, kind) of a run object -> resource name for RBAC
RUN_RESOURCES = {
    ("sparkoperator.k8s.io", "SparkApplication"): "sparkapplications",
    ("kubeflow.org", "PyTorchJob"): "pytorchjobs",
    ("batch", "Job"): "jobs",
}
# create: the executor's `kubectl create`; get: polling the conditions; list/watch: the
# informer-based resource agent of Argo Workflows v4. No delete/patch: owner references GC.
RUN_VERBS = ["create", "get", "list", "watch"]


def emit_argo(compiled: Compiled) -> list[Artifact]:
    """WorkflowTemplates, CronWorkflows and the workflow RBAC of one environment."""
    env = compiled.env
    violations = argo_template_violations(env)
    if violations:  # normally reported by the validation stage already
        raise InputError(violations)
    artifacts: list[Artifact] = []
    run_kinds: set[tuple[str, str]] = set()
    for pipeline in env.of_type("pipeline"):
        template, kinds = workflow_template(compiled, pipeline)
        run_kinds |= kinds
        artifacts.append(_artifact(template, pipeline))
        if pipeline.get("schedule"):
            artifacts.append(_artifact(pipeline_cron_workflow(compiled, pipeline), pipeline))
    for workload in scheduled_runs(env):
        cron, kinds = workload_cron_workflow(compiled, workload)
        run_kinds |= kinds
        artifacts.append(_artifact(cron, workload))
    if artifacts:
        artifacts += [Artifact(_path(obj), obj, "yaml") for obj in workflow_rbac(env, run_kinds)]
    return sorted(artifacts, key=lambda a: a.path)


def _path(obj: dict[str, Any]) -> str:
    return f"argo/{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def _artifact(obj: dict[str, Any], component: Component) -> Artifact:
    return Artifact(_path(obj), obj, "yaml", component.name)


def _metadata(env: Environment, name: str, wave: str, component: Component | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": env.namespace,
        "labels": naming.k8s_labels(env, component),
        "annotations": {SYNC_WAVE: wave},
    }


# --- run objects and the templates that create them ---------------------------------------
def run_object(compiled: Compiled, workload: Component) -> dict[str, Any]:
    """The workload's run object as a workflow creates it: generateName instead of name."""
    from compiler.targets.kubernetes.workloads import build_run_object

    obj = copy.deepcopy(build_run_object(compiled, workload))
    group = obj["apiVersion"].rpartition("/")[0]
    if (group, obj["kind"]) not in RUN_RESOURCES:
        raise AssertionError(f"{workload.name}: no Argo run conditions for {obj['apiVersion']} {obj['kind']}")
    meta = dict(obj["metadata"])
    meta.pop("name", None)
    annotations = {k: v for k, v in (meta.pop("annotations", None) or {}).items() if not k.startswith("argocd.argoproj.io/")}
    obj["metadata"] = {"generateName": naming.run_generate_name(workload), **meta}
    if annotations:
        obj["metadata"]["annotations"] = annotations
    return obj


def run_conditions(obj: dict[str, Any]) -> tuple[str, str]:
    """(successCondition, failureCondition) of a run object, from its kind and spec.

    Known gaps of what a label selector can see (the template's activeDeadlineSeconds is the
    backstop, so a step never hangs longer than its run time plus STEP_DEADLINE_MARGIN):
    a PyTorchJob failed by its operator (backoffLimit with in-place OnFailure restarts, or
    its own deadline) only shows in `status.conditions`, and a Job killed by its own
    activeDeadlineSeconds may count fewer failed pods than its backoffLimit.
    """
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind == "SparkApplication":
        # spark-operator's terminal states; FAILING / SUCCEEDING are transient
        return "status.applicationState.state == COMPLETED", "status.applicationState.state in (FAILED,SUBMISSION_FAILED)"
    if kind == "PyTorchJob":
        replicas = spec.get("pytorchReplicaSpecs") or {}
        if "Master" in replicas:
            success = "status.replicaStatuses.Master.succeeded > 0"  # the job succeeds with its master
        else:
            workers = int((replicas.get("Worker") or {}).get("replicas", 1))
            success = f"status.replicaStatuses.Worker.succeeded > {workers - 1}"
        failure = ",".join(f"status.replicaStatuses.{rtype}.failed > 0" for rtype in sorted(replicas))
        return success, failure
    if kind == "Job":
        completions = int(spec.get("completions", 1) or 1)
        backoff_limit = int(spec.get("backoffLimit", 6))  # Kubernetes' default
        return f"status.succeeded > {completions - 1}", f"status.failed > {backoff_limit}"
    raise AssertionError(f"no run conditions for kind {kind}")


def step_deadline(workload: Component) -> int:
    """Seconds one attempt of a workload may run before Argo fails the task."""
    hours = workload.get("max_runtime_hours") or DEFAULT_RUN_HOURS[workload.type]
    return int(round(float(hours) * 3600)) + STEP_DEADLINE_MARGIN


def _backoff_total(retries: int) -> int:
    return sum(min(BACKOFF_SECONDS * BACKOFF_FACTOR**i, BACKOFF_CAP_SECONDS) for i in range(retries))


def retry_strategy(retries: int, deadline: int) -> dict[str, Any]:
    """Retry every failure or error `retries` times with exponential backoff.

    maxDuration is counted from the first attempt, so it must cover all attempts.
    """
    return {
        "limit": retries,
        "retryPolicy": "Always",
        "backoff": {
            "duration": f"{BACKOFF_SECONDS // 60}m",
            "factor": BACKOFF_FACTOR,
            "cap": f"{BACKOFF_CAP_SECONDS // 60}m",
            "maxDuration": f"{deadline * (retries + 1) + _backoff_total(retries)}s",
        },
    }


def run_template(compiled: Compiled, workload: Component, retries: int = 0) -> tuple[dict[str, Any], tuple[str, str]]:
    """(resource template creating the workload's run object, its (group, kind))."""
    obj = run_object(compiled, workload)
    manifest = dump_yaml(obj)
    if TEMPLATE_OPEN in manifest:  # argo_template_violations covers the spec; this is an emitter bug
        raise AssertionError(f"{workload.name}: run manifest contains {TEMPLATE_OPEN!r}")
    success, failure = run_conditions(obj)
    deadline = step_deadline(workload)
    template: dict[str, Any] = {
        "name": naming.run_template_name(workload),
        "activeDeadlineSeconds": deadline,
        "resource": {
            "action": "create",
            "setOwnerReference": True,
            "successCondition": success,
            "failureCondition": failure,
            "manifest": manifest,
        },
    }
    if retries:
        template["retryStrategy"] = retry_strategy(retries, deadline)
    return template, (obj["apiVersion"].rpartition("/")[0], obj["kind"])


def _workflow_spec(
    env: Environment, component: Component, entrypoint: str, templates: list[dict[str, Any]], deadline: int
) -> dict[str, Any]:
    """Spec fields every workflow of mlc shares (hardening, garbage collection, identity)."""
    return {
        "entrypoint": entrypoint,
        "serviceAccountName": naming.workflow_service_account(env),
        "activeDeadlineSeconds": deadline,
        "archiveLogs": False,
        "podGC": {"strategy": "OnPodSuccess"},
        "ttlStrategy": {"secondsAfterSuccess": TTL_AFTER_SUCCESS, "secondsAfterFailure": TTL_AFTER_FAILURE},
        "securityContext": {"runAsNonRoot": True, "runAsUser": EXECUTOR_UID, "seccompProfile": {"type": "RuntimeDefault"}},
        "podMetadata": {"labels": naming.workflow_pod_labels(env)},
        "workflowMetadata": {"labels": naming.k8s_labels(env, component)},
        "templates": templates,
    }


# --- pipelines --------------------------------------------------------------------------
def dag_tasks(compiled: Compiled, pipeline: Component) -> list[dict[str, Any]]:
    """One DAG task per step, depending on exactly the steps `pipeline_order` puts before it."""
    steps = list(pipeline.get("steps") or [])
    before: dict[str, list[str]] = {step: [] for step in steps}
    for first, then in compiled.graph.pipeline_order(pipeline.name):
        before[then].append(first)
    tasks = []
    for step in sorted(steps):
        task: dict[str, Any] = {"name": step, "template": naming.run_template_name(compiled.env.components[step])}
        if before[step]:
            task["dependencies"] = sorted(before[step])
        tasks.append(task)
    return tasks


def workflow_template(compiled: Compiled, pipeline: Component) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """(WorkflowTemplate of a pipeline, (group, kind) of the run objects it creates)."""
    env = compiled.env
    retries = int(pipeline.get("retries", 0) or 0)
    templates: list[dict[str, Any]] = [{"name": ENTRYPOINT, "dag": {"tasks": dag_tasks(compiled, pipeline)}}]
    kinds: set[tuple[str, str]] = set()
    deadline = 0
    step_templates: dict[str, dict[str, Any]] = {}
    for step in sorted(pipeline.get("steps") or []):
        workload = env.components[step]
        template, kind = run_template(compiled, workload, retries)
        step_templates[template["name"]] = template
        kinds.add(kind)
        deadline += step_deadline(workload) * (retries + 1) + _backoff_total(retries)  # sequential upper bound
    handler_name = pipeline.get("on_failure")
    if handler_name:
        handler = env.components[handler_name]
        template, kind = run_template(compiled, handler)
        step_templates.setdefault(template["name"], template)  # a step that is also the handler keeps one template
        kinds.add(kind)
        templates.append(
            {
                "name": EXIT_HANDLER,
                "steps": [[{"name": handler.name, "template": template["name"], "when": "{{workflow.status}} != Succeeded"}]],
            }
        )
    templates += [step_templates[name] for name in sorted(step_templates)]
    spec = _workflow_spec(env, pipeline, ENTRYPOINT, templates, deadline)
    if handler_name:
        spec = {**spec, "onExit": EXIT_HANDLER}
    obj = {
        "apiVersion": API_VERSION,
        "kind": "WorkflowTemplate",
        "metadata": _metadata(env, naming.workflow_template_name(pipeline), WAVE_TEMPLATE, pipeline),
        "spec": spec,
    }
    return obj, kinds


def _cron_workflow(env: Environment, component: Component, workflow_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "CronWorkflow",
        "metadata": _metadata(env, naming.cron_workflow_name(component), WAVE_CRON, component),
        "spec": {
            "schedules": [component.get("schedule")],
            "timezone": "UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": CRON_STARTING_DEADLINE,
            "successfulJobsHistoryLimit": CRON_HISTORY,
            "failedJobsHistoryLimit": CRON_HISTORY,
            "workflowMetadata": {"labels": naming.k8s_labels(env, component)},
            "workflowSpec": workflow_spec,
        },
    }


def pipeline_cron_workflow(compiled: Compiled, pipeline: Component) -> dict[str, Any]:
    """CronWorkflow running a scheduled pipeline's WorkflowTemplate (v4: `schedules`, a list)."""
    return _cron_workflow(compiled.env, pipeline, {"workflowTemplateRef": {"name": naming.workflow_template_name(pipeline)}})


def workload_cron_workflow(compiled: Compiled, workload: Component) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """CronWorkflow creating a scheduled batch_inference's Job or distributed training's PyTorchJob."""
    if not (workload.type == "batch_inference" or is_distributed_training(workload)):
        raise AssertionError(f"{workload.name}: a {workload.type} is not scheduled through Argo")
    template, kind = run_template(compiled, workload)
    spec = _workflow_spec(compiled.env, workload, template["name"], [template], step_deadline(workload))
    return _cron_workflow(compiled.env, workload, spec), {kind}


# --- RBAC of the workflow pods ----------------------------------------------------------
def workflow_rbac(env: Environment, run_kinds: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding: exactly what the executor and templates need."""
    account, role = naming.workflow_service_account(env), naming.workflow_role(env)
    by_group: dict[str, list[str]] = {}
    for group, kind in sorted(run_kinds):
        by_group.setdefault(group, []).append(RUN_RESOURCES[(group, kind)])
    rules = [
        # the executor reports each step's outputs and progress (Argo Workflows >= 3.4)
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}
    ]
    rules += [
        {"apiGroups": [group], "resources": sorted(resources), "verbs": list(RUN_VERBS)} for group, resources in sorted(by_group.items())
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(env, account, WAVE_RBAC)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _metadata(env, role, WAVE_RBAC), "rules": rules},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _metadata(env, role, WAVE_RBAC),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": env.namespace}],
        },
    ]
