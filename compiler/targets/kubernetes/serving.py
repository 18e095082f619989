"""Serving: KServe InferenceService (`runtime`) or Deployment + Service + HPA + PDB (`image`).

InferenceService (serving.kserve.io/v1beta1, Knative mode; see k8s_network for why):
  predictor.model.modelFormat.name = runtime, storageUri = s3://<bucket>/<path> or gs://...
  (naming.store_uri); min/maxReplicas; scaleMetric/scaleTarget from `autoscaling`;
  pods labelled via predictor.labels (network policy, monitoring); private services are
  labelled `networking.kserve.io/visibility: cluster-local`.
  Canary (docs/platform.md, "Canaries by weight"): two InferenceServices, `<name>-stable`
  (model.path) and `<name>-canary` (canary.path), and a Knative Route `<name>` whose traffic
  names both predictor Configurations (`<isvc>-predictor`, tags `stable` / `canary`) with
  100 - p and p percent. KServe's own `canaryTrafficPercent` is not used: it splits between
  the last rolled-out revision (a status field) and the new one, so on a fresh cluster the
  canary takes 100 % and the stable model is named nowhere. Clients keep calling `<name>`.
  Runtimes that take the model name from the InferenceService name (`--model_name={{.Name}}`
  in KServe's ServingRuntimes) get `--model_name=<name>` appended (KServe appends predictor
  args after the runtime's; the last flag wins), so both serve the model as `<name>`.
  Drift detection (monitoring with drift_threshold): predictor.logger {mode: request, url:
  the detector's Service}; KServe's agent posts each request as a CloudEvent.
  Probes: TCP on the model server port (8080); KServe runtimes speak different health
  protocols (v1 / v2 / Triton), a TCP probe is the one they all answer.

Deployment (custom `image`): the image contract is: serve HTTP on `port` (default 8080),
  Prometheus metrics on port 9090 (/metrics), read the model from MODEL_URI, and, when
  MLC_INFERENCE_LOGGER_URL is set (drift detection), post each request there as KServe's
  logger does (CloudEvent, ce-type org.kubeflow.serving.inference.request). Service (ClusterIP,
  port 80 -> http, 9090 -> metrics); HorizontalPodAutoscaler autoscaling/v2 on
  `autoscaling` (cpu/memory: resource utilisation %; concurrency/rps: per-pod metrics
  `http_requests_in_flight` / `http_requests_per_second`, which need a custom-metrics adapter
  such as prometheus-adapter); without `autoscaling`, CPU 80 %. HPA minReplicas is at
  least 1 (Kubernetes rejects 0 without the HPAScaleToZero feature). PodDisruptionBudget
  maxUnavailable 1. No canary: a Service balances per pod, so a second Deployment behind it
  would split by replica ratio; `canary` with `image` is refused (MLC-E065, semantics.py).
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.monitor_workloads import detector_of, detector_url
from compiler.targets.kubernetes.workloads import METRICS_PORT

MODEL_SERVER_PORT = 8080
TRACK_LABEL = "mlc.dev/track"
DEFAULT_CPU_TARGET = 80
#: Where KServe's runtimes write besides HOME (c.SCRATCH_ENV): TorchServe (pytorch) writes its
#: logs and metrics under `logs/` in the working directory unless LOG_LOCATION /
#: METRICS_LOCATION say otherwise (TorchServe docs, "Logging in TorchServe"); the Hugging Face
#: runtime caches downloads under HF_HOME (default ~/.cache/huggingface).
RUNTIME_SCRATCH_ENV = {
    "pytorch": {"LOG_LOCATION": "/tmp/logs", "METRICS_LOCATION": "/tmp/logs"},
    "huggingface": {"HF_HOME": "/tmp/huggingface"},
}
LOGGER_ENV = "MLC_INFERENCE_LOGGER_URL"
HPA_POD_METRICS = {"concurrency": "http_requests_in_flight", "rps": "http_requests_per_second"}


def _model_uri(compiled: Compiled, component: Component, path: str | None) -> str:
    env = compiled.env
    store = env.components[component.get("model")["from"]]
    return naming.store_uri(env, store, path or "")


def _tcp_probes(port: int | str) -> dict[str, Any]:
    return {
        "livenessProbe": {"tcpSocket": {"port": port}, "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 5, "failureThreshold": 3},
    }


def _replicas(component: Component) -> tuple[int, int]:
    low, high = int(component.spec["replicas"]["min"]), int(component.spec["replicas"]["max"])
    return low, max(low, high)


# --- KServe -----------------------------------------------------------------------------------
#: runtimes whose KServe ServingRuntime passes `--model_name={{.Name}}` (the InferenceService
#: name): kserve config/runtimes/kserve-{sklearnserver,xgbserver,tensorflow-serving,
#: huggingfaceserver}.yaml at v0.20.0. TorchServe (pytorch) and Triton (onnx, triton) name
#: models from the model artefact.
NAMED_BY_ISVC = frozenset({"sklearn", "xgboost", "tensorflow", "huggingface"})
KNATIVE_VISIBILITY = "networking.knative.dev/visibility"
STABLE, CANARY = "stable", "canary"


def track_name(component: Component, track: str) -> str:
    """The InferenceService of one track of a canary (its predictor's Knative Configuration is `<this>-predictor`)."""
    return naming.bounded(f"{component.name}-{track}", 63 - len("-predictor"))


def inference_service(compiled: Compiled, component: Component, track: str | None = None) -> dict[str, Any]:
    """The InferenceService of a serving component, or of one track of its canary."""
    env = compiled.env
    low, high = _replicas(component)
    canary = component.get("canary")
    path = canary["path"] if track == CANARY else (component.get("model") or {}).get("path")
    model: dict[str, Any] = {"modelFormat": {"name": component.get("runtime")}, "storageUri": _model_uri(compiled, component, path)}
    if track is not None and component.get("runtime") in NAMED_BY_ISVC:
        model["args"] = [f"--model_name={component.name}"]  # the model keeps its name in both tracks
    env_list = c.env_vars(env, component, RUNTIME_SCRATCH_ENV.get(str(component.get("runtime")), {}))
    if env_list:
        model["env"] = env_list
    model["resources"] = c.resources(component, c.gpu_count(component))
    model["securityContext"] = c.container_security_context()
    model["volumeMounts"] = c.scratch_mounts(component)
    model.update(_tcp_probes(MODEL_SERVER_PORT))
    predictor: dict[str, Any] = {"minReplicas": low, "maxReplicas": high}
    autoscaling = component.get("autoscaling")
    if autoscaling:
        predictor["scaleMetric"] = autoscaling["metric"]
        predictor["scaleTarget"] = int(autoscaling["target"])
    predictor["serviceAccountName"] = naming.service_account(component)
    predictor["automountServiceAccountToken"] = False
    labels = naming.pod_labels(env, component)
    predictor["labels"] = labels if track is None else dict(sorted({**labels, TRACK_LABEL: track}.items()))
    predictor["securityContext"] = c.pod_security_context()
    predictor.update(c.scheduling(compiled, component))
    predictor["model"] = model
    detector = detector_of(compiled, component.name)
    if detector is not None:  # KServe's agent posts every request as a CloudEvent to the detector
        predictor["logger"] = {"mode": "request", "url": detector_url(compiled, detector)}
    predictor["volumes"] = c.scratch_volumes(component)
    # a track is reached only through the Route (below), so it is always cluster-local
    labels = {} if component.get("public") and track is None else {"networking.kserve.io/visibility": "cluster-local"}
    if track is not None:
        labels[TRACK_LABEL] = track
    name = component.name if track is None else track_name(component, track)
    meta = c.metadata(compiled, "InferenceService", name, component, labels=labels)
    return c.k8s_object("serving.kserve.io/v1beta1", "InferenceService", meta, spec={"predictor": predictor})


def canary_route(compiled: Compiled, component: Component) -> dict[str, Any]:
    """Knative Route `<name>`: 100 - p % to the stable track's latest ready revision, p % to the
    canary's (by Configuration, so a new model.path or canary.path rolls into its own share)."""
    percent = int(component.get("canary")["traffic_percent"])
    traffic = [
        {"tag": track, "configurationName": f"{track_name(component, track)}-predictor", "percent": share}
        for track, share in ((STABLE, 100 - percent), (CANARY, percent))
    ]
    labels = {} if component.get("public") else {KNATIVE_VISIBILITY: "cluster-local"}
    meta = c.metadata(compiled, "Route", component.name, component, labels=labels)
    return c.k8s_object("serving.knative.dev/v1", "Route", meta, spec={"traffic": traffic})


def emit_kserve(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    if not component.get("canary"):
        return [inference_service(compiled, component)]
    return [
        inference_service(compiled, component, STABLE),
        inference_service(compiled, component, CANARY),
        canary_route(compiled, component),
    ]


# --- Deployment path --------------------------------------------------------------------------
def _deployment(compiled: Compiled, component: Component, track: str, name: str, path: str | None, replicas: int | None) -> dict[str, Any]:
    env = compiled.env
    image = component.get("image")
    port = int(component.spec["port"])
    pod_labels = {**naming.pod_labels(env, component), TRACK_LABEL: track}
    extra = {"MODEL_URI": _model_uri(compiled, component, path)}
    detector = detector_of(compiled, component.name)
    if detector is not None:  # the image posts its requests there, as KServe's logger would
        extra[LOGGER_ENV] = detector_url(compiled, detector)
    server: dict[str, Any] = {"name": "server", "image": image, "imagePullPolicy": c.image_pull_policy(image)}
    server["ports"] = [
        {"name": "http", "containerPort": port, "protocol": "TCP"},
        {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
    ]
    server["env"] = c.env_vars(env, component, extra)
    server["resources"] = c.resources(component, c.gpu_count(component))
    server["securityContext"] = c.container_security_context()
    server["volumeMounts"] = c.scratch_mounts(component)
    server.update(_tcp_probes("http"))
    server["startupProbe"] = {"tcpSocket": {"port": "http"}, "periodSeconds": 10, "failureThreshold": 30}
    pod: dict[str, Any] = {
        "serviceAccountName": naming.service_account(component),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": c.pod_security_context(),
    }
    pod.update(c.scheduling(compiled, component))
    pod["containers"] = [server]
    pod["volumes"] = c.scratch_volumes(component)
    spec: dict[str, Any] = {}
    if replicas is not None:
        spec["replicas"] = replicas  # the stable track's replica count belongs to its HPA
    spec["revisionHistoryLimit"] = 5
    spec["selector"] = {"matchLabels": {**naming.selector_labels(component), TRACK_LABEL: track}}
    spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    spec["template"] = {"metadata": {"labels": dict(sorted(pod_labels.items()))}, "spec": pod}
    meta = c.metadata(compiled, "Deployment", name, component, labels={TRACK_LABEL: track})
    return c.k8s_object("apps/v1", "Deployment", meta, spec=spec)


def service(compiled: Compiled, component: Component) -> dict[str, Any]:
    spec = {
        "type": "ClusterIP",
        "selector": naming.selector_labels(component),
        "ports": [
            {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
            {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"},
        ],
    }
    return c.k8s_object("v1", "Service", c.metadata(compiled, "Service", component.name, component), spec=spec)


def hpa(compiled: Compiled, component: Component) -> dict[str, Any]:
    low, high = _replicas(component)
    autoscaling = component.get("autoscaling") or {"metric": "cpu", "target": DEFAULT_CPU_TARGET}
    metric, target = autoscaling["metric"], int(autoscaling["target"])
    if metric in ("cpu", "memory"):
        spec_metric: dict[str, Any] = {
            "type": "Resource",
            "resource": {"name": metric, "target": {"type": "Utilization", "averageUtilization": target}},
        }
    else:
        spec_metric = {
            "type": "Pods",
            "pods": {"metric": {"name": HPA_POD_METRICS[metric]}, "target": {"type": "AverageValue", "averageValue": str(target)}},
        }
    spec = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": component.name},
        "minReplicas": max(1, low),
        "maxReplicas": max(1, high),
        "metrics": [spec_metric],
    }
    return c.k8s_object(
        "autoscaling/v2", "HorizontalPodAutoscaler", c.metadata(compiled, "HorizontalPodAutoscaler", component.name, component), spec=spec
    )


def pdb(compiled: Compiled, component: Component) -> dict[str, Any]:
    spec = {"maxUnavailable": 1, "selector": {"matchLabels": naming.selector_labels(component)}}
    return c.k8s_object(
        "policy/v1", "PodDisruptionBudget", c.metadata(compiled, "PodDisruptionBudget", component.name, component), spec=spec
    )


def emit_serving(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    if not component.get("image"):
        return emit_kserve(compiled, component)
    path = (component.get("model") or {}).get("path")  # `canary` with `image` never gets here (MLC-E065)
    objects = [_deployment(compiled, component, STABLE, component.name, path, None)]
    objects += [service(compiled, component), hpa(compiled, component), pdb(compiled, component)]
    return objects
