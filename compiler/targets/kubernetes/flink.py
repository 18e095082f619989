"""stream_job -> FlinkDeployment (Flink Kubernetes operator, application mode) + the
JobManager's Role.

What the spec becomes (docs/streaming.md):
  image, main, entry_class, args   job.jarURI (a jar), or Flink's PythonDriver with `-py <main>`
  parallelism                      job.parallelism; one task slot per TaskManager, so the
                                   JobManager runs `parallelism` TaskManagers
  resources                        jobManager.resource and taskManager.resource (each pod)
  checkpoint_to                    checkpoints, savepoints and HA metadata under
                                   <store URI>/<job>/; upgradeMode savepoint (a spec change
                                   stops the job with a savepoint and resumes from it);
                                   Kubernetes HA (a JobManager failover keeps the job);
                                   without it the job is stateless across changes
  checkpoint_interval_seconds      execution.checkpointing.interval (exactly-once, RocksDB,
                                   incremental); MLC-REL-061 keeps it <= 60 s on spot
  spot / node_pool                 tolerations / nodeSelector of every pod (c.scheduling)
  env                              the main container's environment (secrets: ExternalSecret)
Restart strategy: exponential-delay (1 s doubling to 60 s, reset after an hour without
failure). Metrics: Flink's Prometheus reporter on METRICS_PORT (port `metrics`), which a
monitoring component scrapes with a PodMonitor.

The JobManager creates and watches its TaskManager pods and keeps HA leader data in
ConfigMaps (Flink native Kubernetes), and TaskManagers read the leader ConfigMaps: the pods
mount a ServiceAccount token and the Role below grants exactly that. The operator talks to
the JobManager's REST port from its own namespace (network.py, `ingress`).
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.resources import cpu_cores
from compiler.plan.compiled import Compiled, checkpoint_prefix
from compiler.providers import naming
from compiler.targets.kubernetes import common as c

API_VERSION = "flink.apache.org/v1beta1"
MAIN_CONTAINER = "flink-main-container"  # the container name the operator merges pod templates into
METRICS_PORT = 9249  # Flink's PrometheusReporter default port
REST_PORT = 8081  # JobManager REST API: the operator observes jobs and triggers savepoints through it
OPERATOR_NAMESPACE = "flink-operator"  # where out/_platform installs the operator (catalog.py)
PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"
#: the flink-python jar inside the official flink:<version> images, per flinkVersion
PYTHON_JARS = {
    "v1_18": "local:///opt/flink/opt/flink-python-1.18.1.jar",
    "v1_19": "local:///opt/flink/opt/flink-python-1.19.1.jar",
    "v1_20": "local:///opt/flink/opt/flink-python-1.20.1.jar",
}
LOG_VOLUME, LOG_PATH = "flink-logs", "/opt/flink/log"
PERIODIC_SAVEPOINT = "6h"
SAVEPOINT_HISTORY = "5"
#: How Flink's file systems find the workload identity (the image carries the S3 / GCS plugin):
#: flink-s3-fs-hadoop forwards fs.s3a.* to S3A, whose default chain has no web-identity
#: provider; the GCS connector uses application default credentials (Workload Identity).
STORE_CREDENTIALS = {
    "aws": {"fs.s3a.aws.credentials.provider": "com.amazonaws.auth.WebIdentityTokenCredentialsProvider"},
    "gcp": {},
}
#: What the JobManager does through the API (Flink native Kubernetes + Kubernetes HA):
#: TaskManager pods (create, watch, delete), HA and leader ConfigMaps, and its own Deployment
#: (TaskManager pods are owned by it; setting blockOwnerDeletion needs deployments/finalizers).
JOBMANAGER_RULES = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments/finalizers"], "verbs": ["update"]},
]


def state_uri(compiled: Compiled, component: Component, what: str) -> str | None:
    target = component.get("checkpoint_to")
    if not target:
        return None
    return naming.store_uri(compiled.env, compiled.env.components[target], f"{checkpoint_prefix(component.name)}/{what}")


def flink_configuration(compiled: Compiled, component: Component) -> dict[str, str]:
    spec = component.spec
    conf: dict[str, str] = {
        "metrics.reporter.prom.factory.class": "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
        "metrics.reporter.prom.port": str(METRICS_PORT),
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "1 s",
        "restart-strategy.exponential-delay.max-backoff": "60 s",
        "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
        "restart-strategy.exponential-delay.reset-backoff-threshold": "1 h",
        "taskmanager.numberOfTaskSlots": "1",
        **STORE_CREDENTIALS[compiled.env.provider],
    }
    checkpoints = state_uri(compiled, component, "checkpoints")
    if checkpoints:
        conf.update(
            {
                "execution.checkpointing.interval": f"{int(spec['checkpoint_interval_seconds'])} s",
                "execution.checkpointing.mode": "EXACTLY_ONCE",
                "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
                "state.backend.type": "rocksdb",
                "state.backend.incremental": "true",
                "state.checkpoints.dir": checkpoints,
                "state.savepoints.dir": str(state_uri(compiled, component, "savepoints")),
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": str(state_uri(compiled, component, "ha")),
                "kubernetes.operator.periodic.savepoint.interval": PERIODIC_SAVEPOINT,
                "kubernetes.operator.savepoint.history.max.count": SAVEPOINT_HISTORY,
            }
        )
    return dict(sorted(conf.items()))


def _resource(component: Component) -> dict[str, Any]:
    res = {**c.DEFAULT_RESOURCES, **(component.get("resources") or {})}
    cpu = cpu_cores(res["cpu"])
    return {"cpu": int(cpu) if cpu.is_integer() else cpu, "memory": c.spark_memory(str(res["memory"]))}


def pod_template(compiled: Compiled, component: Component) -> dict[str, Any]:
    """Hardening, identity, scheduling, env and the metrics port, shared by JobManager and
    TaskManagers (the operator merges it into the pods it creates)."""
    main: dict[str, Any] = {"name": MAIN_CONTAINER}
    env = c.env_vars(compiled.env, component)
    if env:
        main["env"] = env
    main["ports"] = [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]
    main["securityContext"] = c.container_security_context()
    main["volumeMounts"] = [c.tmp_mount(), {"name": LOG_VOLUME, "mountPath": LOG_PATH}]
    spec: dict[str, Any] = {
        "automountServiceAccountToken": True,  # the JobManager manages TaskManagers; both read HA ConfigMaps
        "enableServiceLinks": False,
        "securityContext": c.pod_security_context(),
    }
    spec.update(c.scheduling(compiled, component))
    spec["containers"] = [main]
    spec["volumes"] = [c.tmp_volume(), {"name": LOG_VOLUME, "emptyDir": {}}]
    return {"metadata": {"labels": naming.k8s_labels(compiled.env, component)}, "spec": spec}


def job_spec(component: Component) -> dict[str, Any]:
    spec = component.spec
    main = str(spec["main"])
    args = [str(a) for a in spec.get("args") or []]
    job: dict[str, Any] = {}
    if main.endswith(".py"):
        job["jarURI"] = PYTHON_JARS[str(spec["flink_version"])]
        job["entryClass"] = PYTHON_DRIVER
        args = ["-py", main.removeprefix("local://"), *args]
    else:
        job["jarURI"] = main
        if spec.get("entry_class"):
            job["entryClass"] = str(spec["entry_class"])
    if args:
        job["args"] = args
    job["parallelism"] = int(spec["parallelism"])
    job["upgradeMode"] = "savepoint" if spec.get("checkpoint_to") else "stateless"
    job["state"] = "running"
    return job


def build_flink_deployment(compiled: Compiled, component: Component) -> dict[str, Any]:
    image = str(component.spec["image"])
    resource = _resource(component)
    spec: dict[str, Any] = {
        "image": image,
        "imagePullPolicy": c.image_pull_policy(image),
        "flinkVersion": str(component.spec["flink_version"]),
        "serviceAccount": naming.service_account(component),
        "mode": "native",
        "flinkConfiguration": flink_configuration(compiled, component),
        "podTemplate": pod_template(compiled, component),
        "jobManager": {"replicas": 1, "resource": dict(resource)},
        "taskManager": {"resource": dict(resource)},
    }
    spec["job"] = job_spec(component)  # (a field of FlinkDeployment, not the component kind "job")
    meta = c.metadata(compiled, "FlinkDeployment", component.name, component)
    return c.k8s_object(API_VERSION, "FlinkDeployment", meta, spec=spec)


def jobmanager_role_name(component: Component) -> str:
    return naming.bounded(f"{component.name}-flink", 63)


def jobmanager_rbac(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    name = jobmanager_role_name(component)
    group = "rbac.authorization.k8s.io"
    role = c.k8s_object(f"{group}/v1", "Role", c.metadata(compiled, "Role", name, component), rules=c.copy_of(JOBMANAGER_RULES))
    subject = {"kind": "ServiceAccount", "name": naming.service_account(component), "namespace": compiled.env.namespace}
    binding = c.k8s_object(
        f"{group}/v1",
        "RoleBinding",
        c.metadata(compiled, "RoleBinding", name, component),
        subjects=[subject],
        roleRef={"apiGroup": group, "kind": "Role", "name": name},
    )
    return [role, binding]


def emit_stream_job(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    return [*jobmanager_rbac(compiled, component), build_flink_deployment(compiled, component)]


def operator_ingress(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    """The Flink operator reaches the JobManager's REST API (status, savepoints, upgrades)."""
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": OPERATOR_NAMESPACE}}}
    return [{"from": [peer], "ports": [{"protocol": "TCP", "port": REST_PORT}]}]
