"""Argo Workflows emitter: pipelines and scheduled workloads -> out/<env>/argo/.

  pipeline                      -> WorkflowTemplate: a DAG whose task dependencies are exactly
                                   `graph.pipeline_order(name)`; each task creates the step's
                                   run object (SparkApplication / PyTorchJob / Job, built by the
                                   Kubernetes emitter) through a resource template and waits
                                   for its success or failure condition
                                   plus, after each step writing a store with monitoring
                                   `data_quality` expectations, a check task creating the
                                   check Job (monitor_workloads.check_job); later steps wait
                                   for it, so a failed expectation fails the pipeline
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compiler.analysis.template_syntax import TEMPLATE_OPEN, argo_template_violations
from compiler.core.diagnostics import InputError
from compiler.model.environment import Component, Environment
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.output.serialize import dump_yaml
from compiler.plan.compiled import Compiled
from compiler.plan.monitors import MonitorWorkload
from compiler.providers import naming
from compiler.targets.artifact import Artifact

API_VERSION = "argoproj.io/v1alpha1"
ENTRYPOINT = "main"
EXIT_HANDLER = "on-exit"
NOT_SUCCEEDED = "{{workflow.status}} != Succeeded"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# RBAC first, then templates, then what references them (CronWorkflow -> WorkflowTemplate).
WAVE_RBAC, WAVE_TEMPLATE, WAVE_CRON = "0", "1", "2"

EXECUTOR_UID = 8737  # the argoexec image's non-root user
STEP_DEADLINE_MARGIN = 600  # the run object's own deadline fires first; Argo's is a backstop
BACKOFF_SECONDS, BACKOFF_FACTOR, BACKOFF_CAP_SECONDS = 60, 2, 1800
TTL_AFTER_SUCCESS, TTL_AFTER_FAILURE = 86400, 7 * 86400
CRON_STARTING_DEADLINE = 600
CRON_HISTORY = 3

# (group, kind) of a run object -> resource name for RBAC
RUN_RESOURCES = {
    ("sparkoperator.k8s.io", "SparkApplication"): "sparkapplications",
    ("kubeflow.org", "PyTorchJob"): "pytorchjobs",
    ("batch", "Job"): "jobs",
    ("ray.io", "RayJob"): "rayjobs",
}
# create: the executor's `kubectl create`; get: polling the conditions; list/watch: the
# informer-based resource agent of Argo Workflows v4; delete: the cleanup before each attempt
# and at the exit of a workflow that did not succeed (see run_templates).
RUN_VERBS = ["create", "delete", "get", "list", "watch"]
WORKFLOW_LABEL = "mlc.dev/workflow"  # value: {{workflow.name}}, set by Argo at run time
STEP_LABEL = "mlc.dev/step"  # value: the workload's component name
CLEANUP = "cleanup"  # the exit template deleting what a failed or stopped workflow left running


def emit_argo(compiled: Compiled) -> list[Artifact]:
    """WorkflowTemplates, CronWorkflows and the workflow RBAC of one environment."""
    env = compiled.env
    violations = argo_template_violations(env)
    if violations:  # normally reported by the validation stage already
        raise InputError(violations)
    artifacts: list[Artifact] = []
    run_kinds: set[tuple[str, str]] = set()
    for component in env.components.values():
        handler = HANDLERS.handler(component.type)
        if handler is not None and handler.emit is not None:
            objects, kinds = handler.emit(compiled, component)
            run_kinds |= kinds
            artifacts += [_artifact(obj, component) for obj in objects]
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
    _argo_owns_retries(obj)
    return obj


def _argo_owns_retries(obj: dict[str, Any]) -> None:
    """A run object started by a workflow fails on its first failed pod, visibly, and Argo
    retries it (retryStrategy, after deleting the failed attempt). In-place restarts would hide
    the failure from the step: a PyTorchJob with restartPolicy OnFailure restarts containers
    inside Running pods, so no replica ever counts as failed and the operator's Failed verdict
    lives only in status.conditions, which a resource condition cannot address."""
    spec = obj.get("spec") or {}
    if obj["kind"] == "PyTorchJob":
        for replica in (spec.get("pytorchReplicaSpecs") or {}).values():
            replica["restartPolicy"] = "Never"
            replica["template"]["spec"]["restartPolicy"] = "Never"
        spec.setdefault("runPolicy", {})["backoffLimit"] = 0
    elif obj["kind"] == "Job":
        spec["backoffLimit"] = 0  # pods lost to disruption are still retried (podFailurePolicy Ignore)
    elif obj["kind"] == "RayJob":
        spec["backoffLimit"] = 0  # a failed Ray job is final: status.jobStatus FAILED, Argo retries


def run_conditions(obj: dict[str, Any]) -> tuple[str, str]:
    """(successCondition, failureCondition) of a run object, from its kind and spec.

    With _argo_owns_retries every failed pod is a failed run, visible as a replica or pod
    failure count within one poll. What a label selector still cannot see: a run object
    stopped by its own activeDeadlineSeconds (PyTorchJob: pods deleted, verdict only in
    status.conditions); the template's activeDeadlineSeconds, STEP_DEADLINE_MARGIN later,
    is the backstop, and the cleanup deletes what it left running.
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
    if kind == "RayJob":
        # KubeRay's terminal states: jobStatus (the Ray job) and jobDeploymentStatus (the RayJob,
        # Failed when the cluster could not start or activeDeadlineSeconds passed)
        return "status.jobStatus == SUCCEEDED", "status.jobStatus in (FAILED,STOPPED),status.jobDeploymentStatus == Failed"
    raise AssertionError(f"no run conditions for kind {kind}")


def step_deadline(workload: Component) -> int:
    """Seconds one attempt of a workload may run before Argo fails the task."""
    hours = workload.get("max_runtime_hours") or HANDLERS[workload.type].run_hours
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


def _plural(group: str, kind: str) -> str:
    resource = RUN_RESOURCES[(group, kind)]
    return f"{resource}.{group}" if group else resource


def cleanup_template(name: str, resources: list[str], selector: str) -> dict[str, Any]:
    """Delete the run objects matching `selector` and wait until they and their pods are gone
    (foreground cascade), so that nothing keeps running or writing when the next thing starts."""
    return {
        "name": name,
        "resource": {"action": "delete", "flags": [",".join(resources), "--selector", selector, "--cascade=foreground", "--wait=true"]},
    }


def run_templates(compiled: Compiled, workload: Component, retries: int = 0) -> tuple[list[dict[str, Any]], tuple[str, str]]:
    """([steps template, cleanup template, create template] of a workload, its (group, kind)).

    `run-<name>` runs two steps, `clean-<name>` then `create-<name>`, and carries the retry
    strategy, so every attempt first deletes what an earlier attempt of the same step left
    (a timed-out SparkApplication is not killed by Argo): never two concurrent runs of one
    step. Run objects are labelled with the workflow's name and the step to be found."""
    obj = run_object(compiled, workload)
    manifest = dump_yaml(obj)
    if TEMPLATE_OPEN in manifest:  # argo_template_violations covers the spec; this is an emitter bug
        raise AssertionError(f"{workload.name}: run manifest contains {TEMPLATE_OPEN!r}")
    obj["metadata"]["labels"] = {**obj["metadata"]["labels"], WORKFLOW_LABEL: "{{workflow.name}}", STEP_LABEL: workload.name}
    success, failure = run_conditions(obj)
    deadline = step_deadline(workload)
    group_kind = (obj["apiVersion"].rpartition("/")[0], obj["kind"])
    name = naming.run_template_name(workload)
    clean, create = naming.bounded(f"clean-{workload.name}", 63), naming.bounded(f"create-{workload.name}", 63)
    steps: dict[str, Any] = {"name": name, "steps": [[{"name": "clean", "template": clean}], [{"name": "create", "template": create}]]}
    if retries:
        steps["retryStrategy"] = retry_strategy(retries, deadline)
    selector = f"{WORKFLOW_LABEL}={{{{workflow.name}}}},{STEP_LABEL}={workload.name}"
    create_template: dict[str, Any] = {
        "name": create,
        "activeDeadlineSeconds": deadline,
        "resource": {
            "action": "create",
            "setOwnerReference": True,
            "successCondition": success,
            "failureCondition": failure,
            "manifest": dump_yaml(obj),
        },
    }
    return [steps, cleanup_template(clean, [_plural(*group_kind)], selector), create_template], group_kind


def exit_cleanup(kinds: set[tuple[str, str]]) -> dict[str, Any]:
    """At the exit of a workflow that did not succeed: delete every run object it created."""
    return cleanup_template(CLEANUP, sorted(_plural(*k) for k in kinds), f"{WORKFLOW_LABEL}={{{{workflow.name}}}}")


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
def check_task_name(step: str, store: str) -> str:
    return naming.bounded(f"check-{store}-after-{step}", 63)


def check_template_name(check: MonitorWorkload) -> str:
    return naming.bounded(f"check-{check.name}", 63)


def dag_tasks(compiled: Compiled, pipeline: Component) -> list[dict[str, Any]]:
    """One DAG task per step, depending on exactly the steps `pipeline_order` puts before it,
    plus one data-quality check task after each step per checked store it writes; the steps
    after it wait for its checks too, so a failed expectation stops the data flowing on."""
    from compiler.targets.kubernetes.monitor_workloads import checks_after

    steps = list(pipeline.get("steps") or [])
    before: dict[str, list[str]] = {step: [] for step in steps}
    for first, then in compiled.graph.pipeline_order(pipeline.name):
        before[then].append(first)
    checks = {step: checks_after(compiled, step) for step in steps}
    tasks = []
    for step in sorted(steps):
        task: dict[str, Any] = {"name": step, "template": naming.run_template_name(compiled.env.components[step])}
        needs = set(before[step]) | {check_task_name(first, c.store) for first in before[step] for c in checks[first]}
        if needs:
            task["dependencies"] = sorted(needs)
        tasks.append(task)
        for check in checks[step]:
            tasks.append({"name": check_task_name(step, check.store), "template": check_template_name(check), "dependencies": [step]})
    return sorted(tasks, key=lambda t: t["name"])


def template_deadline(template: dict[str, Any]) -> int:
    return int(template["activeDeadlineSeconds"])


def check_template(compiled: Compiled, check: MonitorWorkload) -> dict[str, Any]:
    """Resource template creating a data-quality check Job (no retries: the data would not change)."""
    from compiler.targets.kubernetes.monitor_workloads import CHECK_DEADLINE_SECONDS, check_job

    obj = copy.deepcopy(check_job(compiled, check))
    meta = dict(obj["metadata"])
    meta.pop("name")
    obj["metadata"] = {"generateName": naming.bounded(check.name, 40) + "-", **meta}
    success, failure = run_conditions(obj)
    return {
        "name": check_template_name(check),
        "activeDeadlineSeconds": CHECK_DEADLINE_SECONDS + STEP_DEADLINE_MARGIN,
        "resource": {
            "action": "create",
            "setOwnerReference": True,
            "successCondition": success,
            "failureCondition": failure,
            "manifest": dump_yaml(obj),
        },
    }


def workflow_template(compiled: Compiled, pipeline: Component) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """(WorkflowTemplate of a pipeline, (group, kind) of the run objects it creates)."""
    from compiler.targets.kubernetes.monitor_workloads import checks_after

    env = compiled.env
    retries = int(pipeline.spec["retries"])
    templates: list[dict[str, Any]] = [{"name": ENTRYPOINT, "dag": {"tasks": dag_tasks(compiled, pipeline)}}]
    kinds: set[tuple[str, str]] = set()
    deadline = 0
    step_templates: dict[str, dict[str, Any]] = {}
    for step in sorted(pipeline.get("steps") or []):
        workload = env.components[step]
        made, kind = run_templates(compiled, workload, retries)
        step_templates.update({t["name"]: t for t in made})
        kinds.add(kind)
        deadline += step_deadline(workload) * (retries + 1) + _backoff_total(retries)  # sequential upper bound
        for check in checks_after(compiled, step):
            step_templates[check_template_name(check)] = check_template(compiled, check)
            kinds.add(("batch", "Job"))
            deadline += template_deadline(step_templates[check_template_name(check)])
    exit_steps = [[{"name": CLEANUP, "template": CLEANUP, "when": NOT_SUCCEEDED}]]
    handler_name = pipeline.get("on_failure")
    if handler_name:
        handler = env.components[handler_name]
        made, kind = run_templates(compiled, handler)
        for template in made:
            step_templates.setdefault(template["name"], template)  # a step that is also the handler keeps one template
        kinds.add(kind)
        exit_steps.append([{"name": handler.name, "template": made[0]["name"], "when": NOT_SUCCEEDED}])
    templates.append({"name": EXIT_HANDLER, "steps": exit_steps})
    step_templates[CLEANUP] = exit_cleanup(kinds)
    templates += [step_templates[name] for name in sorted(step_templates)]
    spec = {**_workflow_spec(env, pipeline, ENTRYPOINT, templates, deadline), "onExit": EXIT_HANDLER}
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
    if not workload.kind.scheduled_by_argo(workload):
        raise AssertionError(f"{workload.name}: a {workload.type} is not scheduled through Argo")
    made, kind = run_templates(compiled, workload)
    exit_steps = {"name": EXIT_HANDLER, "steps": [[{"name": CLEANUP, "template": CLEANUP, "when": NOT_SUCCEEDED}]]}
    templates = [*made, exit_steps, exit_cleanup({kind})]
    spec = {**_workflow_spec(compiled.env, workload, made[0]["name"], templates, step_deadline(workload)), "onExit": EXIT_HANDLER}
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


# --- what argo/ does for each component kind ---------------------------------------------
RunKinds = set[tuple[str, str]]


@dataclass(frozen=True)
class ArgoKind:
    """`emit`: the kind's own argo/ objects and the run-object kinds they create;
    `run_hours`: default run time of one attempt as a step (runnable kinds)."""

    emit: Callable[[Compiled, Component], tuple[list[dict[str, Any]], RunKinds]] | None
    run_hours: float = 0


def _pipeline(compiled: Compiled, pipeline: Component) -> tuple[list[dict[str, Any]], RunKinds]:
    template, kinds = workflow_template(compiled, pipeline)
    objects = [template]
    if pipeline.get("schedule"):
        objects.append(pipeline_cron_workflow(compiled, pipeline))
    return objects, kinds


def _scheduled_run(compiled: Compiled, workload: Component) -> tuple[list[dict[str, Any]], RunKinds]:
    """A standalone CronWorkflow when the workload's schedule runs through Argo."""
    if not (workload.get("schedule") and workload.kind.scheduled_by_argo(workload)):
        return [], set()
    cron, kinds = workload_cron_workflow(compiled, workload)
    return [cron], kinds


def _materialization(compiled: Compiled, store: Component) -> tuple[list[dict[str, Any]], RunKinds]:
    """A feature store's materialisation: a CronWorkflow on materialize.schedule whose one
    step creates the materialisation Job (kubernetes/feature_store.py) and waits for it."""
    from compiler.targets.kubernetes.feature_store import materialize_job, materializer_view

    view = materializer_view(store)
    obj = copy.deepcopy(materialize_job(compiled, store))
    meta = dict(obj["metadata"])
    meta.pop("name")
    obj["metadata"] = {"generateName": naming.bounded(store.name, 40) + "-", **meta}
    success, failure = run_conditions(obj)
    step = {
        "name": "materialize",
        "activeDeadlineSeconds": step_deadline(view),
        "resource": {
            "action": "create",
            "setOwnerReference": True,
            "successCondition": success,
            "failureCondition": failure,
            "manifest": dump_yaml(obj),
        },
    }
    spec = _workflow_spec(compiled.env, store, "materialize", [step], step_deadline(view))
    return [_cron_workflow(compiled.env, view, spec)], {("batch", "Job")}


NOT_A_WORKFLOW = NotApplicable("not a workflow")
HANDLERS: DispatchTable[ArgoKind] = DispatchTable(
    "argo",
    {
        "object_store": NOT_A_WORKFLOW,
        "data_lake": NOT_A_WORKFLOW,
        "database": NOT_A_WORKFLOW,
        "spark_job": ArgoKind(None, run_hours=6),  # only as a pipeline step (scheduled: ScheduledSparkApplication)
        "training_job": ArgoKind(_scheduled_run, run_hours=24),  # a step, or scheduled on several nodes
        "batch_inference": ArgoKind(_scheduled_run, run_hours=6),  # a step, or scheduled
        "serving": NOT_A_WORKFLOW,
        "monitoring": NOT_A_WORKFLOW,
        "pipeline": ArgoKind(_pipeline),
        "job": ArgoKind(_scheduled_run, run_hours=2),  # a step, an on_failure handler, or scheduled
        "tuning_job": NotApplicable("a Katib Experiment (kubernetes/); Katib runs the trials"),
        "tracking_server": NOT_A_WORKFLOW,
        "edge_deployment": NotApplicable("delivered by an Argo CD ApplicationSet (argocd/)"),
        "stream": NOT_A_WORKFLOW,
        "feature_store": ArgoKind(_materialization),  # its materialisation CronWorkflow
        # never a step (not runnable: the graph rejects it in `steps`); Argo CD keeps it running
        "stream_job": NotApplicable("runs continuously as a FlinkDeployment that Argo CD keeps synced"),
    },
)
