"""Objects of the lifecycle kinds: Katib Experiments, KubeRay RayJobs, MLflow tracking servers.

tuning_job       -> Experiment (kubeflow.org/v1beta1). Its trial template is the run object of
                    the named training job (Job, or PyTorchJob when nodes > 1), built by the same
                    code as the job's own run object: image, command, resources, GPUs, node pool,
                    ServiceAccount (so identity and grants) are the training job's. Each search
                    parameter reaches the trial as `--<name>=${trialParameters.<name>}` appended to
                    the container's arguments. Metrics are pushed by the trial (metricsCollector
                    kind Push: `kubeflow.katib.report_metrics({...})` in the training code): no
                    sidecar is injected, so the trial pods stay Pod Security `restricted`. The
                    trial's NetworkPolicy allows the push to katib-db-manager (kubeflow:6789);
                    one more NetworkPolicy admits the Katib controller to the Experiment's
                    suggestion service (6789) in the namespace.
training_job, framework ray
                 -> RayJob (ray.io/v1): a head and nodes - 1 workers sized from resources and
                    gpus, the workload's ServiceAccount, securityContext, scheduling and env
                    (CHECKPOINT_URI, MLFLOW_TRACKING_URI); `command` is the entrypoint (each
                    word shell-quoted: KubeRay runs it through a shell on the head). HTTPMode:
                    the operator submits to the head's dashboard (8265), no submitter pod. The
                    head avoids spot capacity unless its pool is spot, like the Spark driver.
tracking_server  -> Deployment (MLflow `mlflow server`, artifacts written by clients directly:
                    --no-serve-artifacts with --default-artifact-root at the artifact store),
                    Service (5000), PodDisruptionBudget, ExternalSecret building the backend
                    store URI from the secret manager entry naming.tracking_db_secret (username,
                    password, host): no credential in out/; the URI is mounted as a file and
                    passed by the container's shell, never an environment variable.
"""

from __future__ import annotations

import copy
import shlex
from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c

KATIB_NAMESPACE = "kubeflow"
KATIB_PORT = 6789  # katib-db-manager (metrics push) and the suggestion services (gRPC)
KUBERAY_NAMESPACE = "kuberay"
RAY_DASHBOARD_PORT = 8265
RAY_TTL_SECONDS = 3600
EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
PARAMETER_TYPES = {"double": "double", "int": "int"}
DISTRIBUTIONS = {"linear": "uniform", "log": "logUniform"}
PRIMARY_CONTAINER = {"Job": "main", "PyTorchJob": "pytorch"}
DB_SCHEMES = {"postgres": ("postgresql", 5432), "mysql": ("mysql+pymysql", 3306)}
SECRET_REFRESH = "1h"
BACKEND_DIR, BACKEND_KEY = "/etc/mlflow/backend", "uri"


# --- graph helpers ------------------------------------------------------------------------
def tuning_jobs_of(compiled: Compiled, name: str) -> tuple[str, ...]:
    """Tuning jobs whose trials run workload `name`."""
    return tuple(sorted(e.target for e in compiled.graph.edges_of("trial") if e.source == name))


def tracking_server_of(compiled: Compiled, name: str) -> Component | None:
    servers = [e.source for e in compiled.graph.edges_of("tracking") if e.target == name]
    return compiled.env.components[servers[0]] if servers else None


def backend_of(compiled: Compiled, server: Component, database: bool) -> Component:
    from compiler.model.kinds import Trait

    env = compiled.env
    for edge in compiled.graph.edges_of("backend"):
        if edge.source == server.name and env.components[edge.target].has(Trait.DATABASE) == database:
            return env.components[edge.target]
    raise AssertionError(f"{server.name}: no backend {'database' if database else 'store'}")  # the schema requires both


# --- Katib Experiment ---------------------------------------------------------------------
def _feasible(param: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "values" in param:
        return "categorical", {"list": [str(v) for v in param["values"]]}
    kind = PARAMETER_TYPES[param.get("type", "double")]
    fmt = (lambda v: str(int(v))) if kind == "int" else (lambda v: repr(float(v)))
    space = {"min": fmt(param["min"]), "max": fmt(param["max"]), "distribution": DISTRIBUTIONS[param.get("scale", "linear")]}
    return kind, space


def trial_hours(tuning: Component, trial: Component) -> float:
    return float(tuning.get("hours_per_trial") or trial.get("max_runtime_hours"))


def trial_spec(compiled: Compiled, tuning: Component, trial: Component) -> tuple[dict[str, Any], str]:
    """(trialSpec, primary container name): the trial job's run object with the parameters as
    arguments and the trial's deadline."""
    from compiler.targets.kubernetes.workloads import build_run_object

    run = copy.deepcopy(build_run_object(compiled, trial))
    args = [f"--{name}=${{trialParameters.{name}}}" for name in sorted(tuning.spec["parameters"])]
    deadline = round(trial_hours(tuning, trial) * 3600)
    if run["kind"] == "Job":
        pods = [run["spec"]["template"]]
        run["spec"]["activeDeadlineSeconds"] = deadline
    else:  # PyTorchJob
        pods = [replica["template"] for replica in run["spec"]["pytorchReplicaSpecs"].values()]
        run["spec"]["runPolicy"]["activeDeadlineSeconds"] = deadline
    primary = PRIMARY_CONTAINER[run["kind"]]
    for pod in pods:
        for container in pod["spec"]["containers"]:
            if container["name"] == primary:
                container["args"] = list(args)
    spec = {"apiVersion": run["apiVersion"], "kind": run["kind"], "metadata": {"labels": run["metadata"]["labels"]}, "spec": run["spec"]}
    return spec, primary


def experiment(compiled: Compiled, tuning: Component) -> dict[str, Any]:
    env = compiled.env
    spec = tuning.spec
    trial = env.components[spec["trial"]]
    objective: dict[str, Any] = {"type": spec["objective"]["goal"], "objectiveMetricName": spec["objective"]["metric"]}
    if spec["objective"].get("target") is not None:
        objective["goal"] = float(spec["objective"]["target"])
    algorithm: dict[str, Any] = {"algorithmName": spec["algorithm"]}
    if spec["algorithm"] == "hyperband":  # Katib's hyperband budgets trials by an int resource parameter
        ints = sorted(n for n, p in spec["parameters"].items() if p.get("type") == "int")
        if ints:
            high = int(spec["parameters"][ints[0]]["max"])
            algorithm["algorithmSettings"] = [
                {"name": "resource_name", "value": ints[0]},
                {"name": "eta", "value": "3"},
                {"name": "r_l", "value": str(high)},
            ]
    parameters = []
    trial_parameters = []
    for name, param in sorted(spec["parameters"].items()):
        kind, space = _feasible(param)
        parameters.append({"name": name, "parameterType": kind, "feasibleSpace": space})
        trial_parameters.append({"name": name, "description": f"search parameter {name}", "reference": name})
    trial_body, primary = trial_spec(compiled, tuning, trial)
    body = {
        "objective": objective,
        "algorithm": algorithm,
        "parallelTrialCount": int(spec["parallel_trials"]),
        "maxTrialCount": int(spec["max_trials"]),
        "maxFailedTrialCount": int(spec["max_failed_trials"]),
        "metricsCollectorSpec": {"collector": {"kind": "Push"}},
        "parameters": parameters,
        "resumePolicy": "Never",
        "trialTemplate": {
            "primaryContainerName": primary,
            "retain": False,
            "trialParameters": trial_parameters,
            "trialSpec": trial_body,
        },
    }
    meta = c.metadata(compiled, "Experiment", tuning.name, tuning)
    return c.k8s_object("kubeflow.org/v1beta1", "Experiment", meta, spec=body)


def suggestion_policy(compiled: Compiled, tuning: Component) -> dict[str, Any]:
    """Katib's controller (kubeflow) calls the Experiment's suggestion service over gRPC."""
    from compiler.targets.kubernetes.network import namespace_peer, policy, ports

    rule = {"from": [namespace_peer(KATIB_NAMESPACE)], "ports": ports(KATIB_PORT)}
    name = naming.bounded(f"{tuning.name}-suggestion", 63)
    return policy(compiled, name, tuning, {"matchLabels": {EXPERIMENT_LABEL: tuning.name}}, [rule], None)


def emit_tuning(compiled: Compiled, tuning: Component) -> list[dict[str, Any]]:
    return [experiment(compiled, tuning), suggestion_policy(compiled, tuning)]


# --- RayJob -------------------------------------------------------------------------------
def _ray_pod(compiled: Compiled, component: Component, role: str) -> dict[str, Any]:
    from compiler.targets.kubernetes.workloads import container, pod_spec

    main = container(compiled, component, f"ray-{role}")
    main.pop("command", None)  # KubeRay starts `ray start`; the command is the job's entrypoint
    spec = pod_spec(compiled, component, [main], "Never" if role == "head" else "Never")
    spec.pop("restartPolicy")
    for key in ("nodeSelector", "affinity", "tolerations"):
        spec.pop(key, None)
    scheduling = c.scheduling(compiled, component, allow_spot=False if role == "head" else None)
    ordered: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "containers":
            ordered.update(scheduling)
        ordered[key] = value
    return {"metadata": {"labels": naming.k8s_labels(compiled.env, component)}, "spec": ordered}


def build_rayjob(compiled: Compiled, component: Component) -> dict[str, Any]:
    from compiler.targets.kubernetes.workloads import JOB_BACKOFF_LIMIT, run_metadata

    nodes = int(component.spec["nodes"])
    cluster: dict[str, Any] = {"headGroupSpec": {"rayStartParams": {}, "template": _ray_pod(compiled, component, "head")}}
    if nodes > 1:
        cluster["workerGroupSpecs"] = [
            {
                "groupName": "workers",
                "replicas": nodes - 1,
                "minReplicas": nodes - 1,
                "maxReplicas": nodes - 1,
                "rayStartParams": {},
                "template": _ray_pod(compiled, component, "worker"),
            }
        ]
    spec: dict[str, Any] = {"entrypoint": shlex.join(component.get("command") or [])}
    hours = component.get("max_runtime_hours")
    if hours:
        spec["activeDeadlineSeconds"] = round(float(hours) * 3600)
    spec["backoffLimit"] = JOB_BACKOFF_LIMIT
    spec["submissionMode"] = "HTTPMode"
    spec["shutdownAfterJobFinishes"] = True
    spec["ttlSecondsAfterFinished"] = RAY_TTL_SECONDS
    spec["rayClusterSpec"] = cluster
    return c.k8s_object("ray.io/v1", "RayJob", run_metadata(compiled, component), spec=spec)


# --- MLflow tracking server ---------------------------------------------------------------
def backend_secret(compiled: Compiled, server: Component) -> dict[str, Any]:
    """ExternalSecret that assembles MLFLOW_BACKEND_STORE_URI from the secret manager entry
    (keys username, password, host); the password is URL-quoted by the template."""
    env = compiled.env
    database = backend_of(compiled, server, database=True)
    scheme, port = DB_SCHEMES[str(database.spec["engine"])]
    path = naming.tracking_db_secret(env, server)
    name = naming.tracking_db_k8s_secret(server)
    uri = f"{scheme}://{{{{ .username | urlquery }}}}:{{{{ .password | urlquery }}}}@{{{{ .host }}}}:{port}/mlflow"
    spec = {
        "refreshInterval": SECRET_REFRESH,
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": naming.secret_store(env)},
        "target": {
            "name": name,
            "creationPolicy": "Owner",
            "template": {"engineVersion": "v2", "data": {BACKEND_KEY: uri}},
        },
        "data": [{"secretKey": key, "remoteRef": {"key": path, "property": key}} for key in ("host", "password", "username")],
    }
    return c.k8s_object("external-secrets.io/v1", "ExternalSecret", c.metadata(compiled, "ExternalSecret", name, server), spec=spec)


def tracking_deployment(compiled: Compiled, server: Component) -> dict[str, Any]:
    env = compiled.env
    image = server.get("image")
    artifacts = backend_of(compiled, server, database=False)
    args = [
        "server",
        "--host=0.0.0.0",
        f"--port={naming.TRACKING_PORT}",
        "--no-serve-artifacts",
        f"--default-artifact-root={naming.store_uri(env, artifacts, 'mlflow')}",
    ]
    main: dict[str, Any] = {"name": "mlflow", "image": image, "imagePullPolicy": c.image_pull_policy(image)}
    # the backend URI carries the password: read from the mounted Secret, never an env variable
    main["command"] = ["/bin/sh", "-c", f'exec mlflow "$@" --backend-store-uri "$(cat {BACKEND_DIR}/{BACKEND_KEY})"', "mlflow"]
    main["args"] = args
    main["ports"] = [{"name": "http", "containerPort": naming.TRACKING_PORT, "protocol": "TCP"}]
    env_list = c.env_vars(env, server)
    if env_list:
        main["env"] = env_list
    main["resources"] = c.resources(server)
    main["securityContext"] = c.container_security_context()
    main["volumeMounts"] = [*c.scratch_mounts(server), {"name": "backend", "mountPath": BACKEND_DIR, "readOnly": True}]
    main["livenessProbe"] = {"httpGet": {"path": "/health", "port": "http"}, "initialDelaySeconds": 15, "periodSeconds": 10}
    main["readinessProbe"] = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5}
    pod: dict[str, Any] = {
        "serviceAccountName": naming.service_account(server),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": c.pod_security_context(),
    }
    pod.update(c.scheduling(compiled, server))
    pod["containers"] = [main]
    secret = {"secretName": naming.tracking_db_k8s_secret(server), "defaultMode": 0o440}
    pod["volumes"] = [*c.scratch_volumes(server), {"name": "backend", "secret": secret}]
    spec = {
        "replicas": int(server.spec["replicas"]),
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": naming.selector_labels(server)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": naming.k8s_labels(env, server)}, "spec": pod},
    }
    return c.k8s_object("apps/v1", "Deployment", c.metadata(compiled, "Deployment", server.name, server), spec=spec)


def tracking_service(compiled: Compiled, server: Component) -> dict[str, Any]:
    spec = {
        "type": "ClusterIP",
        "selector": naming.selector_labels(server),
        "ports": [{"name": "http", "port": naming.TRACKING_PORT, "targetPort": "http", "protocol": "TCP"}],
    }
    return c.k8s_object("v1", "Service", c.metadata(compiled, "Service", server.name, server), spec=spec)


def tracking_pdb(compiled: Compiled, server: Component) -> dict[str, Any]:
    spec = {"maxUnavailable": 1, "selector": {"matchLabels": naming.selector_labels(server)}}
    return c.k8s_object("policy/v1", "PodDisruptionBudget", c.metadata(compiled, "PodDisruptionBudget", server.name, server), spec=spec)


def emit_tracking_server(compiled: Compiled, server: Component) -> list[dict[str, Any]]:
    return [
        backend_secret(compiled, server),
        tracking_deployment(compiled, server),
        tracking_service(compiled, server),
        tracking_pdb(compiled, server),
    ]
