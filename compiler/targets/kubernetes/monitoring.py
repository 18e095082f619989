"""Monitoring: scrape configs, alert rules and a Grafana dashboard per monitoring component.

Per target of a monitoring component M:
  serving with `image`   ServiceMonitor `M-<target>` on the Service's `metrics` port
  serving with runtime   PodMonitor on the Knative queue-proxy's `http-usermetric` port (9091):
                         request latency and counts for every KServe runtime alike
  spark_job              PodMonitor on the driver's `spark-ui` port, /metrics/prometheus/
  training / batch       PodMonitor on the pods' `metrics` port (9090)
Every monitor copies the pod label app.kubernetes.io/name into the series
(`app_kubernetes_io_name`), which the rules select on.

PrometheusRule `M`, one group per target:
  from the target's `slo` (severity critical)
    latency_p99_ms  -> SLOLatencyP99Breached: p99 over 5m above the objective for 10m
    availability    -> SLOErrorBudgetBurn: error ratio above 14.4 x the budget over both 1h
                       and 5m (the fast-burn page of the multi-window method)
  from M's `alerts` (severity warning)
    latency_p99_ms  -> LatencyP99High (serving targets)
    error_rate      -> ErrorRateHigh (serving targets)
    drift_threshold -> ModelDriftHigh (serving and batch_inference targets)
Metric contract: KServe targets use queue-proxy's revision_app_request_latencies (ms) and
revision_app_request_count; custom images export http_request_duration_seconds (histogram)
and http_requests_total{code}; model drift is the gauge mlc_model_drift_score (0..1) exported by
the target. Spark and training targets get scraping (and drift if they export it) but no
latency/error alerts: they have no request path.

Grafana dashboard (when `dashboards: true`): ConfigMap `M-dashboard`, label
grafana_dashboard: "1" (the Grafana sidecar's default), the JSON built as data and serialised
with json.dumps(sort_keys=True). Prometheus retention (`retention_days`) is a property of the
Prometheus server, not of these objects.
"""

from __future__ import annotations

import json
from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.kinds import handler, is_kserve

MONITORING_GROUP = "monitoring.coreos.com/v1"
NAME_LABEL = "app.kubernetes.io/name"
SERIES_NAME_LABEL = "app_kubernetes_io_name"
SCRAPE_INTERVAL = "30s"
FAST_BURN = 14.4


def _num(value: float) -> str:
    return format(float(value), ".6g")


def monitor_name(monitoring: Component, target: Component) -> str:
    return naming.bounded(f"{monitoring.name}-{target.name}", 63)


def monitor(compiled: Compiled, monitoring: Component, target: Component) -> dict[str, Any]:
    ns = compiled.env.namespace
    name = monitor_name(monitoring, target)
    selector: dict[str, Any] = {"matchLabels": naming.selector_labels(target)}
    scrape = handler(target).scrape(target)
    if scrape.service:
        spec = {
            "selector": selector,
            "namespaceSelector": {"matchNames": [ns]},
            "podTargetLabels": [NAME_LABEL],
            "endpoints": [{"port": scrape.port_name, "path": scrape.path, "interval": SCRAPE_INTERVAL}],
        }
        return c.k8s_object(MONITORING_GROUP, "ServiceMonitor", c.metadata(compiled, "ServiceMonitor", name, monitoring), spec=spec)
    if scrape.selector:
        selector = {"matchLabels": {**naming.selector_labels(target), **scrape.selector}}
    endpoint = {"port": scrape.port_name, "path": scrape.path}
    spec = {
        "selector": selector,
        "namespaceSelector": {"matchNames": [ns]},
        "podTargetLabels": [NAME_LABEL],
        "podMetricsEndpoints": [{**endpoint, "interval": SCRAPE_INTERVAL}],
    }
    return c.k8s_object(MONITORING_GROUP, "PodMonitor", c.metadata(compiled, "PodMonitor", name, monitoring), spec=spec)


# --- PromQL -----------------------------------------------------------------------------------
def _selector(compiled: Compiled, target: Component, extra: str = "") -> str:
    parts = [f'namespace="{compiled.env.namespace}"', f'{SERIES_NAME_LABEL}="{target.name}"']
    if extra:
        parts.append(extra)
    return "{" + ", ".join(parts) + "}"


def latency_p99_ms(compiled: Compiled, target: Component, window: str = "5m") -> str:
    if is_kserve(target):
        return f"histogram_quantile(0.99, sum by (le) (rate(revision_app_request_latencies_bucket{_selector(compiled, target)}[{window}])))"
    return (
        f"1000 * histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{_selector(compiled, target)}[{window}])))"
    )


def error_ratio(compiled: Compiled, target: Component, window: str = "5m") -> str:
    if is_kserve(target):
        metric, failed = "revision_app_request_count", 'response_code_class="5xx"'
    else:
        metric, failed = "http_requests_total", 'code=~"5.."'
    errors = f"sum(rate({metric}{_selector(compiled, target, failed)}[{window}]))"
    total = f"sum(rate({metric}{_selector(compiled, target)}[{window}]))"
    return f"{errors} / {total}"


def drift(compiled: Compiled, target: Component) -> str:
    return f"max(mlc_model_drift_score{_selector(compiled, target)})"


def _alert(compiled: Compiled, name: str, target: Component, expr: str, duration: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"component": target.name, "environment": compiled.env.name, "severity": severity},
        "annotations": {"summary": summary},
    }


def target_alerts(compiled: Compiled, monitoring: Component, target: Component) -> list[dict[str, Any]]:
    rules = []
    slo = (target.get("slo") or {}) if target.has(Trait.LONG_RUNNING) else {}
    alerts = monitoring.get("alerts") or {}
    if "latency_p99_ms" in slo:
        threshold = _num(slo["latency_p99_ms"])
        rules.append(
            _alert(
                compiled,
                "SLOLatencyP99Breached",
                target,
                f"{latency_p99_ms(compiled, target)} > {threshold}",
                "10m",
                "critical",
                f"{target.name}: p99 latency above its {threshold} ms objective",
            )
        )
    if "availability" in slo:
        budget = _num(FAST_BURN * (1 - float(slo["availability"])))
        expr = f"({error_ratio(compiled, target, '1h')} > {budget}) and ({error_ratio(compiled, target, '5m')} > {budget})"
        rules.append(
            _alert(
                compiled,
                "SLOErrorBudgetBurn",
                target,
                expr,
                "2m",
                "critical",
                f"{target.name}: burning its {_num(slo['availability'])} availability budget 14.4x too fast",
            )
        )
    if target.has(Trait.LONG_RUNNING) and "latency_p99_ms" in alerts:
        threshold = _num(alerts["latency_p99_ms"])
        rules.append(
            _alert(
                compiled,
                "LatencyP99High",
                target,
                f"{latency_p99_ms(compiled, target)} > {threshold}",
                "5m",
                "warning",
                f"{target.name}: p99 latency above {threshold} ms",
            )
        )
    if target.has(Trait.LONG_RUNNING) and "error_rate" in alerts:
        threshold = _num(alerts["error_rate"])
        rules.append(
            _alert(
                compiled,
                "ErrorRateHigh",
                target,
                f"{error_ratio(compiled, target)} > {threshold}",
                "5m",
                "warning",
                f"{target.name}: error ratio above {threshold}",
            )
        )
    if target.has(Trait.SCORES_MODELS) and "drift_threshold" in alerts:
        threshold = _num(alerts["drift_threshold"])
        rules.append(
            _alert(
                compiled,
                "ModelDriftHigh",
                target,
                f"{drift(compiled, target)} > {threshold}",
                "15m",
                "warning",
                f"{target.name}: model drift score above {threshold}",
            )
        )
    return rules


def prometheus_rule(compiled: Compiled, monitoring: Component) -> dict[str, Any] | None:
    env = compiled.env
    groups = []
    for name in sorted(set(monitoring.get("targets") or [])):
        rules = target_alerts(compiled, monitoring, env.components[name])
        if rules:
            groups.append({"name": f"{monitoring.name}.{name}", "rules": rules})
    if not groups:
        return None
    meta = c.metadata(compiled, "PrometheusRule", monitoring.name, monitoring)
    return c.k8s_object(MONITORING_GROUP, "PrometheusRule", meta, spec={"groups": groups})


# --- Grafana ----------------------------------------------------------------------------------
def _panel(panel_id: int, title: str, expr: str, unit: str, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"expr": expr, "refId": "A"}],
    }


def dashboard(compiled: Compiled, monitoring: Component) -> dict[str, Any]:
    env = compiled.env
    panels: list[dict[str, Any]] = []
    y = 0
    for name in sorted(set(monitoring.get("targets") or [])):
        target = env.components[name]
        charts: list[tuple[str, str, str]] = []
        if target.has(Trait.LONG_RUNNING):
            charts += [
                (f"{name}: p99 latency", latency_p99_ms(compiled, target), "ms"),
                (f"{name}: error ratio", error_ratio(compiled, target), "percentunit"),
            ]
        if target.has(Trait.SCORES_MODELS):
            charts.append((f"{name}: model drift", drift(compiled, target), "none"))
        if is_kserve(target):
            charts.append((f"{name}: requests/s", f"sum(rate(revision_app_request_count{_selector(compiled, target)}[5m]))", "reqps"))
        elif target.has(Trait.LONG_RUNNING):
            charts.append((f"{name}: requests/s", f"sum(rate(http_requests_total{_selector(compiled, target)}[5m]))", "reqps"))
        charts.append((f"{name}: scraped pods up", f"sum(up{_selector(compiled, target)})", "none"))
        for index, (title, expr, unit) in enumerate(charts):
            panels.append(_panel(len(panels) + 1, title, expr, unit, 12 * (index % 2), y + 8 * (index // 2)))
        y += 8 * ((len(charts) + 1) // 2)
    return {
        "title": f"mlc / {env.name} / {monitoring.name}",
        "uid": naming.bounded(f"mlc-{env.name}-{monitoring.name}", 40),
        "tags": ["mlc", env.name],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": panels,
    }


def dashboard_configmap(compiled: Compiled, monitoring: Component) -> dict[str, Any]:
    name = naming.bounded(f"{monitoring.name}-dashboard", 63)
    meta = c.metadata(compiled, "ConfigMap", name, monitoring, labels={"grafana_dashboard": "1"})
    data = {f"{monitoring.name}.json": json.dumps(dashboard(compiled, monitoring), sort_keys=True)}
    return c.k8s_object("v1", "ConfigMap", meta, data=data)


def emit_monitoring(compiled: Compiled, monitoring: Component) -> list[dict[str, Any]]:
    env = compiled.env
    objects = [monitor(compiled, monitoring, env.components[name]) for name in sorted(set(monitoring.get("targets") or []))]
    rule = prometheus_rule(compiled, monitoring)
    if rule is not None:
        objects.append(rule)
    if monitoring.spec["dashboards"]:
        objects.append(dashboard_configmap(compiled, monitoring))
    return objects
