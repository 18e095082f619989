"""Monitoring: scrape configs, alert rules and a Grafana dashboard per monitoring component.

Per target of a monitoring component M:
  serving with `image`   ServiceMonitor `M-<target>` on the Service's `metrics` port
  serving with runtime   PodMonitor on the Knative queue-proxy's `http-usermetric` port (9091):
                         request latency and counts for every KServe runtime alike
  spark_job              PodMonitor on the driver's `spark-ui` port, /metrics/prometheus/
  training / batch       PodMonitor on the pods' `metrics` port (9090)
Every monitor copies the pod label app.kubernetes.io/name into the series
(`app_kubernetes_io_name`), which the rules select on.

PrometheusRule `M`, one group per target, and one per store in M's `data_quality`:
  from the target's `slo` (severity critical)
    latency_p99_ms  -> SLOLatencyP99Breached: p99 over 5m above the objective for 10m
    availability    -> SLOErrorBudgetBurn: error ratio above 14.4 x the budget over both 1h
                       and 5m (the fast-burn page of the multi-window method)
  from M's `alerts` (severity warning)
    latency_p99_ms  -> LatencyP99High (serving targets)
    error_rate      -> ErrorRateHigh (serving targets)
    drift_threshold -> ModelDriftHigh (serving targets): mlc_model_drift_score of the drift
                       detector mlc deploys for the target (monitor_workloads)
  from M's `data_quality` -> DataQualityExpectationFailed per store (Pushgateway results)
  every metric an alert reads -> an absent() companion (`ABSENT`); every alert carries a
  `runbook` annotation saying how to fix it.
Metric contract (`PRODUCED_METRICS`): KServe targets use queue-proxy's
revision_app_request_latencies (ms) and revision_app_request_count; custom images export
http_request_duration_seconds (histogram) and http_requests_total{code}; drift and data-quality
metrics come from mlc's own scripts. Spark, training and batch targets get scraping but no
alerts: they have no request path, and nothing mlc deploys measures their drift.
AlertSpec keeps each alert's signal and threshold as data, so promtests.py generates the
promtool unit tests of exactly these rules.

Grafana dashboard (when `dashboards: true`): ConfigMap `M-dashboard`, label
grafana_dashboard: "1" (the Grafana sidecar's default), the JSON built as data and serialised
with json.dumps(sort_keys=True). Prometheus retention (`retention_days`) is a property of the
Prometheus server, not of these objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.kinds import handler, is_kserve
from compiler.targets.kubernetes.monitor_workloads import detector_of

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


# --- metrics: who produces each name a rule or dashboard reads ------------------------------
#: metric -> its producer. A test checks that every name in every rule and dashboard is here,
#: and that the mlc scripts really export theirs. Knative queue-proxy names: Knative Serving
#: up to 1.18 (OpenCensus exporter, port 9091); see docs/monitoring.md for sources.
PRODUCED_METRICS: dict[str, str] = {
    "revision_app_request_latencies_bucket": "Knative Serving <= 1.18 queue-proxy (histogram, ms)",
    "revision_app_request_count": "Knative Serving <= 1.18 queue-proxy (counter)",
    "http_request_duration_seconds_bucket": "custom serving image (contract: serving.py)",
    "http_requests_total": "custom serving image (contract: serving.py)",
    "up": "Prometheus (every scrape target)",
    "mlc_model_drift_score": "mlc drift detector",
    "mlc_drift_feature_distance": "mlc drift detector",
    "mlc_drift_logged_rows_total": "mlc drift detector",
    "mlc_drift_rejected_events_total": "mlc drift detector",
    "mlc_drift_reference_rows": "mlc drift detector",
    "mlc_data_quality_check_success": "mlc data-quality check (Pushgateway)",
    "mlc_data_quality_observed_value": "mlc data-quality check (Pushgateway)",
    "mlc_data_quality_last_run_timestamp_seconds": "mlc data-quality check (Pushgateway)",
}
DQ_JOB = "mlc_data_quality"


# --- PromQL -----------------------------------------------------------------------------------
def _matchers(compiled: Compiled, name: str) -> dict[str, str]:
    return {"namespace": compiled.env.namespace, SERIES_NAME_LABEL: name}


def _selector(matchers: dict[str, str], extra: str = "") -> str:
    parts = [f'{k}="{v}"' for k, v in matchers.items()]
    if extra:
        parts.append(extra)
    return "{" + ", ".join(parts) + "}"


def latency_metric(target: Component) -> str:
    return "revision_app_request_latencies_bucket" if is_kserve(target) else "http_request_duration_seconds_bucket"


def count_metric(target: Component) -> str:
    return "revision_app_request_count" if is_kserve(target) else "http_requests_total"


def latency_p99_ms(compiled: Compiled, target: Component, window: str = "5m") -> str:
    selector = _selector(_matchers(compiled, target.name))
    quantile = f"histogram_quantile(0.99, sum by (le) (rate({latency_metric(target)}{selector}[{window}])))"
    return quantile if is_kserve(target) else f"1000 * {quantile}"


def error_ratio(compiled: Compiled, target: Component, window: str = "5m") -> str:
    failed = 'response_code_class="5xx"' if is_kserve(target) else 'code=~"5.."'
    metric, matchers = count_metric(target), _matchers(compiled, target.name)
    return f"sum(rate({metric}{_selector(matchers, failed)}[{window}])) / sum(rate({metric}{_selector(matchers)}[{window}]))"


def drift(compiled: Compiled, detector: str) -> str:
    return f"max(mlc_model_drift_score{_selector(_matchers(compiled, detector))})"


PROMETHEUS_JOB_LABEL = "job"  # Prometheus' own label (the scrape job), not a component kind


def dq_matchers(compiled: Compiled, store: str) -> dict[str, str]:
    return {"namespace": compiled.env.namespace, PROMETHEUS_JOB_LABEL: DQ_JOB, "store": store}


# --- alerts as data: the rule and its promtool tests come from the same AlertSpec ---------------
@dataclass(frozen=True)
class AlertSpec:
    """One alert: `signal` names what the expression measures (LATENCY_MS, ERROR_RATIO, DRIFT,
    DQ_FAILED), compared with `threshold`; `metric` + `matchers` is the series its absent()
    companion watches. promtests.py builds synthetic series per signal."""

    name: str
    signal: str
    expr: str
    threshold: float
    duration: str
    severity: str
    summary: str
    runbook: str
    metric: str
    matchers: tuple[tuple[str, str], ...]
    by: tuple[str, ...] = ()  # labels the expression keeps (the alert has one instance per value)


LATENCY_MS, ERROR_RATIO, DRIFT_SCORE, DQ_FAILED = "latency_ms", "error_ratio", "drift", "dq_failed"
#: absent() companion per metric: (alert name, for, what missing data means and the fix)
ABSENT: dict[str, tuple[str, str, str]] = {
    "revision_app_request_latencies_bucket": (
        "RequestLatencyMetricsAbsent",
        "15m",
        "Latency alerts are blind. Check that the PodMonitor's target is up in Prometheus, that queue-proxy exports on 9091 "
        "(Knative config-observability: request-metrics-backend-destination prometheus) and that the scrape NetworkPolicy "
        "exists. Scaled to zero (replicas.min 0) also stops the series: set replicas.min >= 1 to keep alerting.",
    ),
    "revision_app_request_count": (
        "RequestCountMetricsAbsent",
        "15m",
        "Error-rate and burn-rate alerts are blind. Check the PodMonitor target in Prometheus and queue-proxy's port 9091; "
        "scaled to zero also stops the series (replicas.min >= 1).",
    ),
    "http_request_duration_seconds_bucket": (
        "RequestLatencyMetricsAbsent",
        "15m",
        "Latency alerts are blind. The image must export http_request_duration_seconds on :9090/metrics; check the "
        "ServiceMonitor target in Prometheus and the Service's metrics port.",
    ),
    "http_requests_total": (
        "RequestCountMetricsAbsent",
        "15m",
        "Error-rate alerts are blind. The image must export http_requests_total{code} on :9090/metrics; check the "
        "ServiceMonitor target in Prometheus.",
    ),
    "mlc_model_drift_score": (
        "ModelDriftScoreAbsent",
        "6h",
        "No drift score for 6h: the detector is down or not scraped, or fewer than drift.window requests were logged. Check "
        "the detector Deployment's logs and its ServiceMonitor target; check that the endpoint's logger URL reaches it "
        "(mlc_drift_logged_rows_total rising) and that mlc_drift_rejected_events_total is not rising.",
    ),
    "mlc_data_quality_check_success": (
        "DataQualityResultsAbsent",
        "1h",
        "No data-quality results for this store: its pipeline has not run since the Pushgateway started, or the Pushgateway "
        "is not scraped (it must be scraped with honor_labels: true). Run the pipeline or check the Pushgateway target.",
    ),
}


def _rule(compiled: Compiled, component: str, spec: AlertSpec) -> dict[str, Any]:
    return {
        "alert": spec.name,
        "expr": spec.expr,
        "for": spec.duration,
        "labels": {"component": component, "environment": compiled.env.name, "severity": spec.severity},
        "annotations": {"runbook": spec.runbook, "summary": spec.summary},
    }


def absent_rule(compiled: Compiled, component: str, metric: str, matchers: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    name, duration, runbook = ABSENT[metric]
    return {
        "alert": name,
        "expr": f"absent({metric}{_selector(dict(matchers))})",
        "for": duration,
        "labels": {"component": component, "environment": compiled.env.name, "severity": "warning"},
        "annotations": {"runbook": runbook, "summary": f"{component}: no {metric} series for {duration}"},
    }


def _latency_runbook(threshold: str) -> str:
    return (
        f"p99 latency is above {threshold} ms. If requests/s rose, raise replicas.max or lower the autoscaling target; if "
        "latency rose at constant load, roll back the last model or image change (canary.path / model.path) and check the "
        "pods' CPU/GPU throttling and node pressure."
    )


def _error_runbook() -> str:
    return (
        "5xx responses are above the limit. Check the model server's logs for the failing requests; roll back the last "
        "model or image change (remove canary, or set model.path back); check that the model store is readable "
        "(storage-initializer logs) and that pods are not OOM-killed (raise resources.memory)."
    )


def target_alerts(compiled: Compiled, monitoring: Component, target: Component) -> list[AlertSpec]:
    specs: list[AlertSpec] = []
    slo = (target.get("slo") or {}) if target.has(Trait.LONG_RUNNING) else {}
    alerts = monitoring.get("alerts") or {}
    name = target.name
    own = tuple(_matchers(compiled, name).items())
    if target.has(Trait.LONG_RUNNING):
        latency, count = latency_metric(target), count_metric(target)
        if "latency_p99_ms" in slo:
            t = float(slo["latency_p99_ms"])
            expr = f"{latency_p99_ms(compiled, target)} > {_num(t)}"
            summary = f"{name}: p99 latency above its {_num(t)} ms objective"
            specs.append(
                AlertSpec("SLOLatencyP99Breached", LATENCY_MS, expr, t, "10m", "critical", summary, _latency_runbook(_num(t)), latency, own)
            )
        if "availability" in slo:
            budget = FAST_BURN * (1 - float(slo["availability"]))
            expr = f"({error_ratio(compiled, target, '1h')} > {_num(budget)}) and ({error_ratio(compiled, target, '5m')} > {_num(budget)})"
            summary = f"{name}: burning its {_num(slo['availability'])} availability budget 14.4x too fast"
            runbook = "The 30-day error budget will be gone in about 2 days at this rate. " + _error_runbook()
            specs.append(AlertSpec("SLOErrorBudgetBurn", ERROR_RATIO, expr, budget, "2m", "critical", summary, runbook, count, own))
        if "latency_p99_ms" in alerts:
            t = float(alerts["latency_p99_ms"])
            expr = f"{latency_p99_ms(compiled, target)} > {_num(t)}"
            specs.append(
                AlertSpec(
                    "LatencyP99High",
                    LATENCY_MS,
                    expr,
                    t,
                    "5m",
                    "warning",
                    f"{name}: p99 latency above {_num(t)} ms",
                    _latency_runbook(_num(t)),
                    latency,
                    own,
                )
            )
        if "error_rate" in alerts:
            t = float(alerts["error_rate"])
            expr = f"{error_ratio(compiled, target)} > {_num(t)}"
            specs.append(
                AlertSpec(
                    "ErrorRateHigh",
                    ERROR_RATIO,
                    expr,
                    t,
                    "5m",
                    "warning",
                    f"{name}: error ratio above {_num(t)}",
                    _error_runbook(),
                    count,
                    own,
                )
            )
    detector = detector_of(compiled, name)
    if detector is not None and detector.monitoring == monitoring.name:
        t = float(alerts["drift_threshold"])
        runbook = (
            f"The inputs of {name} no longer look like its reference data ({detector.store}): the largest per-feature KS distance "
            f"is above {_num(t)}. Look at mlc_drift_feature_distance to find the features; check the upstream pipeline and the "
            "data-quality results of its stores; if the shift is real, retrain on recent data and roll out the new model."
        )
        matchers = tuple(_matchers(compiled, detector.name).items())
        specs.append(
            AlertSpec(
                "ModelDriftHigh",
                DRIFT_SCORE,
                f"{drift(compiled, detector.name)} > {_num(t)}",
                t,
                "15m",
                "warning",
                f"{name}: model drift score above {_num(t)}",
                runbook,
                "mlc_model_drift_score",
                matchers,
            )
        )
    return specs


def data_quality_alerts(compiled: Compiled, monitoring: Component, store: str) -> list[AlertSpec]:
    matchers = dq_matchers(compiled, store)
    expr = f"min by (expectation) (mlc_data_quality_check_success{_selector(matchers)}) == 0"
    runbook = (
        f"A data-quality expectation on {store} failed and its pipeline stopped after the step that wrote it. The "
        "`expectation` label names it; the check Job's log and mlc_data_quality_observed_value show the value. Fix the "
        "producing step (or its input) and re-run the pipeline; if the expectation is wrong, change monitoring.data_quality."
    )
    return [
        AlertSpec(
            "DataQualityExpectationFailed",
            DQ_FAILED,
            expr,
            0.0,
            "0m",
            "warning",
            f"{store}: a data-quality expectation failed",
            runbook,
            "mlc_data_quality_check_success",
            tuple(matchers.items()),
            ("expectation",),
        )
    ]


def alert_groups(compiled: Compiled, monitoring: Component) -> list[tuple[str, str, list[AlertSpec]]]:
    """(group name, component the alerts are about, alerts) of a monitoring component, in rule order."""
    env = compiled.env
    groups = []
    for name in sorted(set(monitoring.get("targets") or [])):
        specs = target_alerts(compiled, monitoring, env.components[name])
        if specs:
            groups.append((f"{monitoring.name}.{name}", name, specs))
    for store in sorted(monitoring.get("data_quality") or {}):
        if store in env.components:
            groups.append((f"{monitoring.name}.data-quality.{store}", store, data_quality_alerts(compiled, monitoring, store)))
    return groups


def rule_groups(compiled: Compiled, monitoring: Component) -> list[dict[str, Any]]:
    """Prometheus rule groups: every alert, then one absent() companion per metric the alerts read."""
    out = []
    for group, component, specs in alert_groups(compiled, monitoring):
        rules = [_rule(compiled, component, spec) for spec in specs]
        companions = dict.fromkeys((spec.metric, spec.matchers) for spec in specs)
        rules += [absent_rule(compiled, component, metric, matchers) for metric, matchers in companions]
        out.append({"name": group, "rules": rules})
    return out


def prometheus_rule(compiled: Compiled, monitoring: Component) -> dict[str, Any] | None:
    groups = rule_groups(compiled, monitoring)
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


def _charts(compiled: Compiled, monitoring: Component, target: Component) -> list[tuple[str, str, str]]:
    name = target.name
    own = _selector(_matchers(compiled, name))
    charts: list[tuple[str, str, str]] = []
    if target.has(Trait.LONG_RUNNING):
        charts += [
            (f"{name}: p99 latency", latency_p99_ms(compiled, target), "ms"),
            (f"{name}: error ratio", error_ratio(compiled, target), "percentunit"),
            (f"{name}: requests/s", f"sum(rate({count_metric(target)}{own}[5m]))", "reqps"),
        ]
    charts.append((f"{name}: scraped pods up", f"sum(up{own})", "none"))
    detector = detector_of(compiled, name)
    if detector is not None and detector.monitoring == monitoring.name:
        mine = _selector(_matchers(compiled, detector.name))
        charts += [
            (f"{name}: model drift score", drift(compiled, detector.name), "none"),
            (f"{name}: drift per feature", f"max by (feature) (mlc_drift_feature_distance{mine})", "none"),
            (f"{name}: logged requests/s", f"sum(rate(mlc_drift_logged_rows_total{mine}[5m]))", "reqps"),
        ]
    return charts


def _dq_charts(compiled: Compiled, store: str) -> list[tuple[str, str, str]]:
    selector = _selector(dq_matchers(compiled, store))
    return [
        (f"{store}: expectations held", f"min by (expectation) (mlc_data_quality_check_success{selector})", "none"),
        (f"{store}: observed values", f"max by (expectation) (mlc_data_quality_observed_value{selector})", "none"),
        (f"{store}: hours since last check", f"(time() - max(mlc_data_quality_last_run_timestamp_seconds{selector})) / 3600", "h"),
    ]


def dashboard(compiled: Compiled, monitoring: Component) -> dict[str, Any]:
    env = compiled.env
    panels: list[dict[str, Any]] = []
    y = 0
    sections = [_charts(compiled, monitoring, env.components[name]) for name in sorted(set(monitoring.get("targets") or []))]
    sections += [_dq_charts(compiled, store) for store in sorted(monitoring.get("data_quality") or {})]
    for charts in sections:
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
