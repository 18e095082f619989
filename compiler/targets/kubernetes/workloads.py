"""Run objects of the runnable workloads: spark_job, training_job, batch_inference.

`build_run_object(compiled, component)` is the one manifest of a run (SparkApplication,
PyTorchJob or batch/v1 Job) without schedule wrapper and without Argo CD annotations: the
Argo emitter puts it into resource templates of pipelines, `emit_run_objects` wraps it into
ScheduledSparkApplication / CronJob when the component has a `schedule` and adds sync waves.

Mapping:
  spark_job                         -> SparkApplication (ScheduledSparkApplication with schedule)
  training_job, nodes > 1           -> PyTorchJob (Master 1 + Worker nodes-1)
  training_job, nodes = 1           -> Job (CronJob with schedule)
  batch_inference without schedule  -> Job (with schedule it is an Argo CronWorkflow: argo/)

Spark: `type` follows the main file (.py Python, .R R, .jar Scala: the jar's manifest must name
the main class, the spec has no field for it); Spark memory notation is derived from the
Kubernetes quantities (4Gi -> 4g); `resources` does not apply (driver/executors do). The
driver talks to the Kubernetes API to run executors: it is the only pod that mounts a
service-account token (see k8s_base.spark_rbac). Executors tolerate spot nodes when
`spot: true`; the driver does not, unless the chosen pool is itself a spot pool.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Compiled, checkpoint_prefix
from compiler.providers import naming
from compiler.providers.registry import provider_of
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.kinds import METRICS_PORT, handler

SPARK_VERSION = "3.5.5"  # informational for the operator; the image decides the real version
JOB_BACKOFF_LIMIT = 3
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
# A Job's pod template is immutable: an apply (or a plain `kubectl replace`) of a changed Job is
# refused by the API server. Force=true,Replace=true makes Argo CD delete and re-create it
# (`kubectl replace --force`); with the Applications' ApplyOutOfSyncOnly=true that happens only
# when the Job's manifest changed, so an unchanged Job is not re-run at every sync. Argo CD's
# own e2e test TestSyncWithForceReplace (test/e2e/sync_options_test.go) covers this path.
JOB_SYNC_OPTIONS = "Force=true,Replace=true"
TIME_ZONE = "Etc/UTC"
#: How Spark's object-store connectors find the workload identity, per provider.
#: AWS: Hadoop 3.3's S3A default chain (environment, instance profile) has no web-identity
#: provider, so IRSA's token (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, injected by the EKS
#: pod identity webhook) would be ignored and S3A would fall back to the node's instance
#: profile, which the network policy blocks. Name the SDK's web-identity provider explicitly.
#: GCP: the GCS connector 3.x takes `fs.gs.auth.type`; APPLICATION_DEFAULT resolves the GKE
#: metadata server, where Workload Identity serves the pod's service account.


def monitored(compiled: Compiled, name: str) -> bool:
    return any(e.source == name for e in compiled.graph.edges_of("monitors"))


def extra_env(compiled: Compiled, component: Component) -> dict[str, str]:
    """Where the workload finds its model / puts its checkpoints (bucket URIs), and the
    tracking server it logs to (MLFLOW_TRACKING_URI)."""
    from compiler.targets.kubernetes.lifecycle import tracking_server_of

    env = compiled.env
    out: dict[str, str] = {}
    model = component.get("model")
    if isinstance(model, dict) and model.get("from") in env.components:
        out["MODEL_URI"] = naming.store_uri(env, env.components[model["from"]], model.get("path", ""))
    target = component.get("checkpoint_to")
    if target in env.components:
        out["CHECKPOINT_URI"] = naming.store_uri(env, env.components[target], checkpoint_prefix(component.name))
    server = tracking_server_of(compiled, component.name)
    if server is not None:
        out["MLFLOW_TRACKING_URI"] = naming.tracking_uri(env, server)
    return out


def container(compiled: Compiled, component: Component, name: str, *, ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    image = component.get("image")
    body: dict[str, Any] = {"name": name, "image": image, "imagePullPolicy": c.image_pull_policy(image)}
    if component.get("command"):
        body["command"] = list(component.get("command"))
    if ports:
        body["ports"] = ports
    env = c.env_vars(compiled.env, component, extra_env(compiled, component))
    if env:
        body["env"] = env
    body["resources"] = c.resources(component, c.gpu_count(component))
    body["securityContext"] = c.container_security_context()
    body["volumeMounts"] = c.scratch_mounts(component)
    return body


def pod_spec(compiled: Compiled, component: Component, containers: list[dict[str, Any]], restart_policy: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": naming.service_account(component),
        "automountServiceAccountToken": False,
        "restartPolicy": restart_policy,
        "enableServiceLinks": False,
        "securityContext": c.pod_security_context(),
    }
    spec.update(c.scheduling(compiled, component))
    spec["containers"] = containers
    spec["volumes"] = c.scratch_volumes(component)
    return spec


def pod_template(compiled: Compiled, component: Component, containers: list[dict[str, Any]], restart_policy: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": naming.pod_labels(compiled.env, component)},
        "spec": pod_spec(compiled, component, containers, restart_policy),
    }


def _metrics_ports(compiled: Compiled, component: Component) -> list[dict[str, Any]] | None:
    if monitored(compiled, component.name):
        return [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]
    return None


def _run_metadata(compiled: Compiled, component: Component) -> dict[str, Any]:
    return {
        "name": component.name,
        "namespace": compiled.env.namespace,
        "labels": naming.k8s_labels(compiled.env, component),
    }


# --- batch/v1 Job ------------------------------------------------------------------------
def job_spec(compiled: Compiled, component: Component) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    hours = component.get("max_runtime_hours")
    if hours:
        spec["activeDeadlineSeconds"] = round(float(hours) * 3600)
    spec["backoffLimit"] = JOB_BACKOFF_LIMIT
    # A pod evicted or preempted (spot reclaim, node drain) is retried without counting as a failure.
    spec["podFailurePolicy"] = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}
    main = container(compiled, component, "main", ports=_metrics_ports(compiled, component))
    spec["template"] = pod_template(compiled, component, [main], "Never")
    return spec


def build_job(compiled: Compiled, component: Component) -> dict[str, Any]:
    return c.k8s_object("batch/v1", "Job", _run_metadata(compiled, component), spec=job_spec(compiled, component))


# --- PyTorchJob --------------------------------------------------------------------------
def build_pytorchjob(compiled: Compiled, component: Component) -> dict[str, Any]:
    nodes = int(component.spec["nodes"])
    main = container(compiled, component, "pytorch", ports=_metrics_ports(compiled, component))
    replicas: dict[str, Any] = {}
    for role, count in (("Master", 1), ("Worker", nodes - 1)):
        replicas[role] = {
            "replicas": count,
            "restartPolicy": "OnFailure",
            "template": pod_template(compiled, component, [c.copy_of(main)], "OnFailure"),
        }
    run_policy: dict[str, Any] = {"cleanPodPolicy": "Running", "backoffLimit": JOB_BACKOFF_LIMIT}
    hours = component.get("max_runtime_hours")
    if hours:
        run_policy["activeDeadlineSeconds"] = round(float(hours) * 3600)
    spec = {"pytorchReplicaSpecs": replicas, "runPolicy": dict(sorted(run_policy.items()))}
    return c.k8s_object("kubeflow.org/v1", "PyTorchJob", _run_metadata(compiled, component), spec=spec)


# --- SparkApplication ---------------------------------------------------------------------
def spark_type(main: str) -> str:
    lowered = main.lower()
    if lowered.endswith(".py"):
        return "Python"
    if lowered.endswith(".r"):
        return "R"
    if lowered.endswith(".jar"):
        return "Scala"
    return "Python"


def _spark_pod(compiled: Compiled, component: Component, role: str) -> dict[str, Any]:
    size = component.spec[role if role == "driver" else "executors"]
    cores = int(size["cores"])
    memory = str(size["memory"])
    pod: dict[str, Any] = {}
    if role == "executor":
        pod["instances"] = int(size["instances"])
    pod["cores"] = cores
    pod["coreLimit"] = str(cores)
    pod["memory"] = c.spark_memory(memory)
    pod["serviceAccount"] = naming.service_account(component)
    pod["labels"] = naming.pod_labels(compiled.env, component)
    env = c.env_vars(compiled.env, component)
    if env:
        pod["env"] = env
    pod["podSecurityContext"] = c.pod_security_context()
    pod["securityContext"] = c.container_security_context()
    # executors may use spot capacity when `spot: true`; losing the driver loses the whole run
    pod.update(c.scheduling(compiled, component, allow_spot=None if role == "executor" else False))
    pod["volumeMounts"] = [c.tmp_mount()]
    # Only the driver needs an API token (it creates and watches its executors).
    pod["template"] = {"spec": {"automountServiceAccountToken": role == "driver", "enableServiceLinks": False}}
    if role == "executor":
        pod["deleteOnTermination"] = True
    return pod


def spark_spec(compiled: Compiled, component: Component) -> dict[str, Any]:
    image = component.get("image")
    conf: dict[str, str] = provider_of(compiled.env).spark_store_conf()  # local dirs: Spark's own emptyDirs
    if monitored(compiled, component.name):
        conf.update(
            {
                "spark.metrics.conf.*.sink.prometheusServlet.class": "org.apache.spark.metrics.sink.PrometheusServlet",
                "spark.metrics.conf.*.sink.prometheusServlet.path": "/metrics/prometheus",
                "spark.ui.prometheus.enabled": "true",
            }
        )
    spec: dict[str, Any] = {
        "type": spark_type(component.get("main")),
        "mode": "cluster",
        "sparkVersion": SPARK_VERSION,
        "image": image,
        "imagePullPolicy": c.image_pull_policy(image),
        "mainApplicationFile": component.get("main"),
    }
    if component.get("args"):
        spec["arguments"] = list(component.get("args"))
    spec["sparkConf"] = dict(sorted(conf.items()))
    spec["restartPolicy"] = {"type": "Never"}
    dynamic = component.get("dynamic_allocation")
    if dynamic:
        spec["dynamicAllocation"] = {
            "enabled": True,
            "initialExecutors": int(dynamic["min"]),
            "minExecutors": int(dynamic["min"]),
            "maxExecutors": int(dynamic["max"]),
        }
    spec["driver"] = _spark_pod(compiled, component, "driver")
    spec["executor"] = _spark_pod(compiled, component, "executor")
    spec["volumes"] = [c.tmp_volume()]
    return spec


def build_spark_application(compiled: Compiled, component: Component) -> dict[str, Any]:
    return c.k8s_object(
        "sparkoperator.k8s.io/v1beta2", "SparkApplication", _run_metadata(compiled, component), spec=spark_spec(compiled, component)
    )


# --- entry points ---------------------------------------------------------------------------
def build_run_object(compiled: Compiled, component: Component) -> dict[str, Any]:
    """The run manifest of a spark_job / training_job / batch_inference, unscheduled, no waves."""
    build = handler(component).run_object
    if build is None:
        raise ValueError(f"{component.name}: a {component.type} has no run object")
    return build(compiled, component)


def runs_standalone(compiled: Compiled, component: Component) -> bool:
    """Whether kubernetes/ holds the component's run object (not run by a pipeline or Argo,
    and not only the trial template of a tuning job)."""
    from compiler.targets.kubernetes.lifecycle import tuning_jobs_of

    if compiled.graph.pipelines_running(component.name):
        return False
    if tuning_jobs_of(compiled, component.name) and not component.get("schedule"):
        return False  # its runs are the tuning job's trials
    if component.get("schedule") and component.kind.scheduled_by_argo(component):
        return False  # an Argo CronWorkflow (argo/): PyTorchJob has no cron form, batch scoring is Argo's
    return True


def emit_run_objects(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    """The component's run object for kubernetes/, schedule-wrapped, with sync wave."""
    if not runs_standalone(compiled, component):
        return []
    run = build_run_object(compiled, component)
    schedule = component.get("schedule")
    if schedule and run["kind"] == "SparkApplication":
        kind = "ScheduledSparkApplication"
        spec: dict[str, Any] = {
            "schedule": schedule,
            "timeZone": TIME_ZONE,
            "concurrencyPolicy": "Forbid",
            "successfulRunHistoryLimit": 3,
            "failedRunHistoryLimit": 3,
            "template": run["spec"],
        }
        meta = c.metadata(compiled, kind, component.name, component)
        return [c.k8s_object(run["apiVersion"], kind, meta, spec=spec)]
    if schedule and run["kind"] == "Job":
        spec = {
            "schedule": schedule,
            "timeZone": TIME_ZONE,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"metadata": {"labels": naming.k8s_labels(compiled.env, component)}, "spec": run["spec"]},
        }
        meta = c.metadata(compiled, "CronJob", component.name, component)
        return [c.k8s_object("batch/v1", "CronJob", meta, spec=spec)]
    notes = {}
    if run["kind"] == "Job":
        notes[SYNC_OPTIONS] = JOB_SYNC_OPTIONS
    meta = c.metadata(compiled, run["kind"], component.name, component, annotations=notes)
    return [c.k8s_object(run["apiVersion"], run["kind"], meta, spec=run["spec"])]


run_metadata = _run_metadata  # shared with kubernetes/lifecycle.py (RayJob)
