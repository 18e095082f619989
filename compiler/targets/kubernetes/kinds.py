"""What kubernetes/ does for each component kind: the target's `{kind: handler}` table.

A handler says which objects a component of the kind becomes (`emit`), its run object if the
kind is runnable, whether its pods talk to the Kubernetes API, and how Prometheus scrapes it
when a monitoring component targets it. Kinds whose objects live elsewhere are declared
`NotApplicable` with the reason; a kind missing from the table is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.plan.compiled import Compiled

METRICS_PORT = 9090  # runnable workloads that are monitoring targets serve /metrics here
SPARK_UI_PORT = 4040  # driver UI port Spark names "spark-ui"; its PrometheusServlet serves /metrics/prometheus/
QUEUE_PROXY_METRICS_PORT = 9091
FLINK_METRICS_PORT = 9249  # Flink's Prometheus reporter (flink.METRICS_PORT)

Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class Scrape:
    """How Prometheus scrapes a monitoring target's pods."""

    port: int = METRICS_PORT
    port_name: str = "metrics"
    path: str = "/metrics"
    selector: dict[str, str] = field(default_factory=dict)  # pod labels on top of the component's
    service: bool = False  # scraped through its Service (ServiceMonitor), else its pods (PodMonitor)


@dataclass(frozen=True)
class K8sKind:
    emit: Callable[[Compiled, Component], Objects]
    run_object: Callable[[Compiled, Component], dict[str, Any]] | None = None  # runnable kinds
    needs_api: bool = False  # its pods call the Kubernetes API (a ServiceAccount token is mounted)
    scrape: Callable[[Component], Scrape] = lambda component: Scrape()
    # ingress rules of its pods beyond the graph's (e.g. an operator that calls them)
    ingress: Callable[[Compiled, Component], Objects] = lambda compiled, component: []


def is_kserve(component: Component) -> bool:
    """An endpoint without its own image runs on a KServe model-server runtime."""
    return component.has(Trait.LONG_RUNNING) and not component.get("image")


def _spark_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.rbac import spark_rbac
    from compiler.targets.kubernetes.workloads import emit_run_objects

    return spark_rbac(compiled, component) + emit_run_objects(compiled, component)


def _run_objects(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.workloads import emit_run_objects

    return emit_run_objects(compiled, component)


def _serving_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.serving import emit_serving

    return emit_serving(compiled, component)


def _monitoring_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.monitoring import emit_monitoring

    return emit_monitoring(compiled, component)


def _spark_run(compiled: Compiled, component: Component) -> dict[str, Any]:
    from compiler.targets.kubernetes.workloads import build_spark_application

    return build_spark_application(compiled, component)


def _training_run(compiled: Compiled, component: Component) -> dict[str, Any]:
    from compiler.targets.kubernetes.lifecycle import build_rayjob
    from compiler.targets.kubernetes.workloads import build_job, build_pytorchjob

    if component.spec["framework"] == "ray":
        return build_rayjob(compiled, component)
    return build_pytorchjob(compiled, component) if component.kind.distributed(component) else build_job(compiled, component)


def _training_ingress(compiled: Compiled, component: Component) -> Objects:
    """KubeRay's operator submits a Ray job to the head's dashboard (HTTPMode)."""
    from compiler.targets.kubernetes.lifecycle import KUBERAY_NAMESPACE, RAY_DASHBOARD_PORT
    from compiler.targets.kubernetes.network import namespace_peer, ports

    if component.spec["framework"] != "ray":
        return []
    return [{"from": [namespace_peer(KUBERAY_NAMESPACE)], "ports": ports(RAY_DASHBOARD_PORT)}]


def _tuning_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.lifecycle import emit_tuning

    return emit_tuning(compiled, component)


def _tracking_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.lifecycle import emit_tracking_server

    return emit_tracking_server(compiled, component)


def _job_run(compiled: Compiled, component: Component) -> dict[str, Any]:
    from compiler.targets.kubernetes.workloads import build_job

    return build_job(compiled, component)


def _stream_job_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.flink import emit_stream_job

    return emit_stream_job(compiled, component)


def _feature_store_emit(compiled: Compiled, component: Component) -> Objects:
    from compiler.targets.kubernetes.feature_store import emit_feature_store

    return emit_feature_store(compiled, component)


def _stream_job_ingress(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    from compiler.targets.kubernetes.flink import operator_ingress

    return operator_ingress(compiled, component)


def _serving_scrape(component: Component) -> Scrape:
    if is_kserve(component):
        return Scrape(port=QUEUE_PROXY_METRICS_PORT, port_name="http-usermetric")
    return Scrape(service=True)


CLOUD = NotApplicable("a cloud resource (terraform/)")

HANDLERS: DispatchTable[K8sKind] = DispatchTable(
    "kubernetes",
    {
        "object_store": CLOUD,
        "data_lake": CLOUD,
        "database": CLOUD,
        "spark_job": K8sKind(
            _spark_emit,
            _spark_run,
            needs_api=True,  # the driver creates its executors
            scrape=lambda component: Scrape(SPARK_UI_PORT, "spark-ui", "/metrics/prometheus/", {"spark-role": "driver"}),
        ),
        "training_job": K8sKind(_run_objects, _training_run, ingress=_training_ingress),
        "batch_inference": K8sKind(_run_objects, _job_run),
        "serving": K8sKind(_serving_emit, scrape=_serving_scrape),
        "monitoring": K8sKind(_monitoring_emit),
        "pipeline": NotApplicable("an Argo WorkflowTemplate (argo/); its steps' run objects are created by Argo"),
        "job": K8sKind(_run_objects, _job_run),
        "tuning_job": K8sKind(_tuning_emit),
        "tracking_server": K8sKind(_tracking_emit, scrape=lambda component: Scrape(5000, "http", "/metrics", service=True)),
        "edge_deployment": NotApplicable("runs on the fleet's edge clusters: an ApplicationSet (argocd/) and edge/<name>/"),
        "stream": CLOUD,
        "stream_job": K8sKind(
            _stream_job_emit,
            needs_api=True,  # the JobManager creates its TaskManagers; HA leader data lives in ConfigMaps
            scrape=lambda component: Scrape(FLINK_METRICS_PORT),
            ingress=_stream_job_ingress,
        ),
        "feature_store": K8sKind(_feature_store_emit),
    },
)


def handler(component: Component) -> K8sKind:
    """The kind's handler; UnsupportedKindError when the kind is not applicable or unknown."""
    return HANDLERS[component.type]
