"""Serving: KServe InferenceService (`runtime`) or Deployment + Service + HPA + PDB (`image`).

InferenceService (serving.kserve.io/v1beta1, Knative mode; see k8s_network for why):
  predictor.model.modelFormat.name = runtime, storageUri = s3://<bucket>/<path> or gs://...
  (naming.store_uri); min/maxReplicas; scaleMetric/scaleTarget from `autoscaling`;
  pods labelled via predictor.labels (network policy, monitoring); private services are
  labelled `networking.kserve.io/visibility: cluster-local`.
  Canary: KServe splits traffic between the last rolled-out revision and the revision the
  spec describes, so the spec carries the canary model (`canary.path`) and
  `canaryTrafficPercent`; the stable model is whatever was rolled out before. Removing
  `canary` promotes nothing by itself: set `model.path` to the new path to promote, or
  remove `canary` to roll back to `model.path`.
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
  maxUnavailable 1. Canary: a second Deployment `<name>-canary` with the canary model and a
  fixed replica count sized to the traffic share (the Service balances per pod, so the split
  is approximate); both tracks share the Service, the PDB and the network policy.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds.serving import canary_pods
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
def inference_service(compiled: Compiled, component: Component) -> dict[str, Any]:
    env = compiled.env
    low, high = _replicas(component)
    canary = component.get("canary")
    path = canary["path"] if canary else (component.get("model") or {}).get("path")
    model: dict[str, Any] = {"modelFormat": {"name": component.get("runtime")}, "storageUri": _model_uri(compiled, component, path)}
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
    if canary:
        predictor["canaryTrafficPercent"] = int(canary["traffic_percent"])
    predictor["serviceAccountName"] = naming.service_account(component)
    predictor["automountServiceAccountToken"] = False
    predictor["labels"] = naming.pod_labels(env, component)
    predictor["securityContext"] = c.pod_security_context()
    predictor.update(c.scheduling(compiled, component))
    predictor["model"] = model
    detector = detector_of(compiled, component.name)
    if detector is not None:  # KServe's agent posts every request as a CloudEvent to the detector
        predictor["logger"] = {"mode": "request", "url": detector_url(compiled, detector)}
    predictor["volumes"] = c.scratch_volumes(component)
    labels = {} if component.get("public") else {"networking.kserve.io/visibility": "cluster-local"}
    meta = c.metadata(compiled, "InferenceService", component.name, component, labels=labels)
    return c.k8s_object("serving.kserve.io/v1beta1", "InferenceService", meta, spec={"predictor": predictor})


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


def canary_name(component: Component) -> str:
    return naming.bounded(f"{component.name}-canary", 63)


def canary_replicas(component: Component) -> int:
    """Pods of the canary Deployment (the serving kind decides, so cost and capacity agree)."""
    return canary_pods(component)


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
        return [inference_service(compiled, component)]
    path = (component.get("model") or {}).get("path")
    objects = [_deployment(compiled, component, "stable", component.name, path, None)]
    canary = component.get("canary")
    if canary:
        objects.append(_deployment(compiled, component, "canary", canary_name(component), canary["path"], canary_replicas(component)))
    objects += [service(compiled, component), hpa(compiled, component), pdb(compiled, component)]
    return objects
