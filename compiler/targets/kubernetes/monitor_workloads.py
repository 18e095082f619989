"""Kubernetes objects of the monitor workloads (compiler.plan.monitors): drift detectors and
data-quality checks. Each is a workload like any other: ServiceAccount with its cloud
identity (Terraform creates the role with read access to its one store), NetworkPolicy,
hardened pod (common.pod_security_context, read-only root, /tmp emptyDir).

ConfigMap `mlc-monitoring-scripts`   the scripts (compiler/data/monitoring/), mounted read-only at
                                     /opt/mlc and run by `monitoring.image` with python3
drift detector D of serving target T:
  Deployment D (1 replica: the window is per pod) + Service D (8080 events, 9090 metrics)
  ServiceMonitor D on the metrics port; the PrometheusRule reads mlc_model_drift_score from it
  logger wiring (serving.py): KServe `predictor.logger` {mode: request, url: http://D...:8080};
    a custom-image Deployment gets MLC_INFERENCE_LOGGER_URL and must post the same CloudEvents
  NetworkPolicy D: ingress 8080 from T's pods, 9090 from the Prometheus namespace; egress 443
    (object storage); T's own policy gets egress to D on 8080 (network.py)
data-quality check C of store S:
  batch/v1 Job (created by the pipeline's Argo step after each step writing S, backoffLimit 0:
    a failed expectation fails the step); NetworkPolicy C: egress 443 and to the Pushgateway
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from typing import Any

from compiler.model.environment import Component
from compiler.model.resources import MONITOR_RESOURCES
from compiler.plan.compiled import Compiled
from compiler.plan.monitors import DATA_QUALITY, DRIFT, MonitorWorkload
from compiler.providers import naming
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.base import service_account

SCRIPTS_CONFIGMAP = "mlc-monitoring-scripts"
SCRIPT_FILES = ("data_quality_check.py", "drift_detector.py", "mlc_dataset.py")
SCRIPTS_DIR = "/opt/mlc"
SCRIPTS_VOLUME = "scripts"
EVENT_PORT, DETECTOR_METRICS_PORT = 8080, 9090
DEFAULT_WINDOW = 1000
DEFAULT_FORMAT = "parquet"
DEFAULT_PUSHGATEWAY = "http://pushgateway.monitoring.svc:9091"
MONITORING_LABEL = "mlc.dev/monitoring"
CHECK_DEADLINE_SECONDS = 3600
RESOURCES = MONITOR_RESOURCES
_PUSHGATEWAY = re.compile(r"^http://(?P<service>[a-z0-9-]+)\.(?P<namespace>[a-z0-9-]+)\.svc(\.cluster\.local)?:(?P<port>[0-9]+)$")


@functools.cache
def scripts() -> dict[str, str]:
    folder = importlib.resources.files("compiler") / "data" / "monitoring"
    return {name: (folder / name).read_text(encoding="utf-8") for name in SCRIPT_FILES}


def monitors_of(compiled: Compiled, role: str) -> list[MonitorWorkload]:
    return [m for m in compiled.monitors if m.role == role]


def detector_of(compiled: Compiled, target: str) -> MonitorWorkload | None:
    """The drift detector a serving target logs its requests to (plan.monitors allows one)."""
    return next((m for m in monitors_of(compiled, DRIFT) if m.subject == target), None)


def detector_url(compiled: Compiled, detector: MonitorWorkload) -> str:
    return f"http://{detector.name}.{compiled.env.namespace}.svc.cluster.local:{EVENT_PORT}"


def pushgateway(monitoring: Component) -> tuple[str, str, int]:
    """(URL, namespace, port) of a monitoring component's Pushgateway (the schema pins the URL form)."""
    url = str(monitoring.get("pushgateway") or DEFAULT_PUSHGATEWAY)
    match = _PUSHGATEWAY.match(url)
    if match is None:  # the schema rejects this; be total
        raise AssertionError(f"pushgateway URL {url!r} escaped the schema")
    return url, match["namespace"], int(match["port"])


def labels(compiled: Compiled, monitor: MonitorWorkload) -> dict[str, str]:
    return {**naming.k8s_labels(compiled.env, monitor.component(compiled.env)), MONITORING_LABEL: monitor.monitoring}


def metadata(compiled: Compiled, kind: str, monitor: MonitorWorkload, **extra: Any) -> dict[str, Any]:
    """Metadata of a monitor object: labels of the monitor, sync wave of its monitoring component."""
    monitoring = compiled.env.components[monitor.monitoring]
    return c.metadata(compiled, kind, monitor.name, monitoring, labels=labels(compiled, monitor), **extra)


def _data_uri(compiled: Compiled, monitor: MonitorWorkload) -> str:
    return naming.store_uri(compiled.env, compiled.env.components[monitor.store], monitor.path)


def _container(compiled: Compiled, monitor: MonitorWorkload, name: str, script: str, env: dict[str, str]) -> dict[str, Any]:
    image = str(compiled.env.components[monitor.monitoring].get("image"))
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": c.image_pull_policy(image),
        "command": ["python3", f"{SCRIPTS_DIR}/{script}"],
        "env": [{"name": k, "value": v} for k, v in sorted({**env, "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}.items())],
        "resources": {"limits": dict(RESOURCES), "requests": dict(RESOURCES)},
        "securityContext": c.container_security_context(),
        "volumeMounts": [c.tmp_mount(), {"name": SCRIPTS_VOLUME, "mountPath": SCRIPTS_DIR, "readOnly": True}],
    }


def _pod(compiled: Compiled, monitor: MonitorWorkload, container: dict[str, Any], restart_policy: str | None) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "serviceAccountName": naming.service_account(monitor.component(compiled.env)),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if restart_policy:
        pod["restartPolicy"] = restart_policy
    pod["securityContext"] = c.pod_security_context()
    pod["containers"] = [container]
    pod["volumes"] = [c.tmp_volume(), {"name": SCRIPTS_VOLUME, "configMap": {"name": SCRIPTS_CONFIGMAP, "defaultMode": 0o444}}]
    return pod


# --- drift detector ----------------------------------------------------------------------------
def detector_deployment(compiled: Compiled, monitor: MonitorWorkload) -> dict[str, Any]:
    monitoring = compiled.env.components[monitor.monitoring]
    drift = monitoring.get("drift") or {}
    reference = drift.get("reference") or {}
    env = {
        "REFERENCE_URI": _data_uri(compiled, monitor),
        "REFERENCE_FORMAT": str(reference.get("format", DEFAULT_FORMAT)),
        "FEATURES": json.dumps(list(drift.get("features") or []), separators=(",", ":")),
        "WINDOW": str(int(drift.get("window", DEFAULT_WINDOW))),
        "EVENT_PORT": str(EVENT_PORT),
        "METRICS_PORT": str(DETECTOR_METRICS_PORT),
    }
    container = _container(compiled, monitor, "detector", "drift_detector.py", env)
    container["ports"] = [
        {"name": "http", "containerPort": EVENT_PORT, "protocol": "TCP"},
        {"name": "metrics", "containerPort": DETECTOR_METRICS_PORT, "protocol": "TCP"},
    ]
    container["livenessProbe"] = {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 30, "periodSeconds": 10, "failureThreshold": 3}
    container["readinessProbe"] = {"httpGet": {"path": "/metrics", "port": "metrics"}, "periodSeconds": 10, "failureThreshold": 3}
    container["startupProbe"] = {"httpGet": {"path": "/metrics", "port": "metrics"}, "periodSeconds": 10, "failureThreshold": 60}
    pod_labels = labels(compiled, monitor)
    spec = {
        "replicas": 1,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": naming.selector_labels(monitor.component(compiled.env))},
        "strategy": {"type": "Recreate"},
        "template": {"metadata": {"labels": dict(sorted(pod_labels.items()))}, "spec": _pod(compiled, monitor, container, None)},
    }
    return c.k8s_object("apps/v1", "Deployment", metadata(compiled, "Deployment", monitor), spec=spec)


def detector_service(compiled: Compiled, monitor: MonitorWorkload) -> dict[str, Any]:
    spec = {
        "type": "ClusterIP",
        "selector": naming.selector_labels(monitor.component(compiled.env)),
        "ports": [
            {"name": "http", "port": EVENT_PORT, "targetPort": "http", "protocol": "TCP"},
            {"name": "metrics", "port": DETECTOR_METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"},
        ],
    }
    return c.k8s_object("v1", "Service", metadata(compiled, "Service", monitor), spec=spec)


def detector_service_monitor(compiled: Compiled, monitor: MonitorWorkload, interval: str) -> dict[str, Any]:
    spec = {
        "selector": {"matchLabels": naming.selector_labels(monitor.component(compiled.env))},
        "namespaceSelector": {"matchNames": [compiled.env.namespace]},
        "podTargetLabels": ["app.kubernetes.io/name"],
        "endpoints": [{"port": "metrics", "path": "/metrics", "interval": interval}],
    }
    return c.k8s_object("monitoring.coreos.com/v1", "ServiceMonitor", metadata(compiled, "ServiceMonitor", monitor), spec=spec)


# --- data-quality check -------------------------------------------------------------------------
def expectations(compiled: Compiled, monitor: MonitorWorkload) -> dict[str, Any]:
    spec = (compiled.env.components[monitor.monitoring].get("data_quality") or {})[monitor.subject]
    return {k: spec[k] for k in ("freshness_hours", "null_ratio", "row_count") if k in spec}


def check_job(compiled: Compiled, monitor: MonitorWorkload) -> dict[str, Any]:
    """The batch/v1 Job of one data-quality check (the Argo step creates it with generateName)."""
    monitoring = compiled.env.components[monitor.monitoring]
    spec = (monitoring.get("data_quality") or {})[monitor.subject]
    env = {
        "STORE": monitor.store,
        "DATA_URI": _data_uri(compiled, monitor),
        "DATA_FORMAT": str(spec.get("format", DEFAULT_FORMAT)),
        "EXPECTATIONS": json.dumps(expectations(compiled, monitor), sort_keys=True, separators=(",", ":")),
        "PUSHGATEWAY": pushgateway(monitoring)[0],
        "NAMESPACE": compiled.env.namespace,
    }
    container = _container(compiled, monitor, "check", "data_quality_check.py", env)
    pod_labels = labels(compiled, monitor)
    job_spec = {
        "backoffLimit": 0,  # an expectation that failed fails again: no retry
        "activeDeadlineSeconds": CHECK_DEADLINE_SECONDS,
        "template": {"metadata": {"labels": dict(sorted(pod_labels.items()))}, "spec": _pod(compiled, monitor, container, "Never")},
    }
    meta = {"name": monitor.name, "namespace": compiled.env.namespace, "labels": dict(sorted(pod_labels.items()))}
    return c.k8s_object("batch/v1", "Job", meta, spec=job_spec)


def checks_after(compiled: Compiled, step: str) -> list[MonitorWorkload]:
    """Data-quality checks to run after pipeline step `step`: those of the stores it writes."""
    written = set(compiled.graph.writes(step))
    return [m for m in monitors_of(compiled, DATA_QUALITY) if m.store in written]


# --- network ----------------------------------------------------------------------------------
def _ports(*numbers: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": n} for n in sorted(set(numbers))]


def _namespace(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def network_policy(compiled: Compiled, monitor: MonitorWorkload, prometheus_namespace: str) -> dict[str, Any]:
    env = compiled.env
    selector = {"matchLabels": naming.selector_labels(monitor.component(env))}
    egress: list[dict[str, Any]] = [{"ports": _ports(443)}]
    ingress: list[dict[str, Any]] = []
    if monitor.role == DRIFT:
        target = env.components[monitor.subject]
        ingress.append({"from": [{"podSelector": {"matchLabels": naming.selector_labels(target)}}], "ports": _ports(EVENT_PORT)})
        ingress.append({"from": [_namespace(prometheus_namespace)], "ports": _ports(DETECTOR_METRICS_PORT)})
    else:
        _, namespace, port = pushgateway(env.components[monitor.monitoring])
        egress.append({"to": [_namespace(namespace)], "ports": _ports(port)})
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": ["Ingress", "Egress"]}
    if ingress:
        spec["ingress"] = ingress
    spec["egress"] = egress
    return c.k8s_object("networking.k8s.io/v1", "NetworkPolicy", metadata(compiled, "NetworkPolicy", monitor), spec=spec)


def logger_egress(compiled: Compiled, target: Component) -> list[dict[str, Any]]:
    """Egress rule of a serving target's pods to its drift detector (none without one)."""
    detector = detector_of(compiled, target.name)
    if detector is None:
        return []
    peer = {"podSelector": {"matchLabels": naming.selector_labels(detector.component(compiled.env))}}
    return [{"to": [peer], "ports": _ports(EVENT_PORT)}]


def scripts_configmap(compiled: Compiled) -> dict[str, Any]:
    meta = c.metadata(compiled, "ConfigMap", SCRIPTS_CONFIGMAP)
    return c.k8s_object("v1", "ConfigMap", meta, data=dict(scripts()))


def emit_monitor_workloads(compiled: Compiled, *, prometheus_namespace: str, scrape_interval: str) -> list[dict[str, Any]]:
    """Every object of kubernetes/ for the monitor workloads (nothing without any)."""
    if not compiled.monitors:
        return []
    objects = [scripts_configmap(compiled)]
    for monitor in compiled.monitors:
        objects.append(service_account(compiled, monitor.component(compiled.env), api=False))
        objects.append(network_policy(compiled, monitor, prometheus_namespace))
        if monitor.role == DRIFT:
            objects += [
                detector_deployment(compiled, monitor),
                detector_service(compiled, monitor),
                detector_service_monitor(compiled, monitor, scrape_interval),
            ]
    return objects
