"""promtool unit tests of every PrometheusRule mlc emits, generated from the same AlertSpecs.

out/<env>/prometheus/<M>.rules.yaml   the rule groups of PrometheusRule M (promtool's format)
out/<env>/prometheus/<M>.test.yaml    `promtool test rules` input with three cases over all groups:
  healthy    every signal well inside its thresholds: no alert, no absent() companion fires
  breaching  every signal beyond its largest threshold: each alert fires exactly when the
             synthetic value exceeds its own threshold (a burn-rate budget >= 1 can never fire);
             companions stay quiet
  missing    no series at all: only the absent() companions fire, with the labels absent()
             derives from their equality matchers
Synthetic series per signal (`SERIES`): latency histograms put every request in a bucket far
below (healthy) or far above (breaching) the thresholds; request counters are all 2xx or all
5xx; the drift score sits at half the threshold or half-way to 1; data-quality results hold
or fail their first expectation.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Compiled
from compiler.targets.artifact import Artifact
from compiler.targets.kubernetes.monitoring import (
    DQ_FAILED,
    DRIFT_SCORE,
    ERROR_RATIO,
    LATENCY_MS,
    AlertSpec,
    _num,
    absent_rule,
    alert_groups,
    rule_groups,
)

DIR = "prometheus"
INTERVAL = "1m"
SAMPLES = 120
EVAL = "100m"  # after every `for` and the 1h burn-rate window
PER_MINUTE = 600
HEALTHY, BREACHING, MISSING = "healthy", "breaching", "missing"


def _series(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _ramp(per_minute: float) -> str:
    return f"0+{_num(per_minute)}x{SAMPLES}"


def _constant(value: float) -> str:
    return f"{_num(value)}+0x{SAMPLES}"


def _latency_series(spec: AlertSpec, thresholds_ms: list[float], scenario: str) -> list[dict[str, str]]:
    scale = 1.0 if spec.metric.startswith("revision_") else 0.001  # queue-proxy: ms; images: seconds
    low, high = min(thresholds_ms) * scale, max(thresholds_ms) * scale
    out = []
    for le, healthy, breaching in ((low / 2, True, False), (high * 2, True, False), (high * 4, True, True), (None, True, True)):
        counts = healthy if scenario == HEALTHY else breaching
        labels = {**dict(spec.matchers), "le": "+Inf" if le is None else _num(le)}
        out.append({"series": _series(spec.metric, labels), "values": _ramp(PER_MINUTE if counts else 0)})
    return out


def _count_series(spec: AlertSpec, scenario: str) -> list[dict[str, str]]:
    kserve = spec.metric.startswith("revision_")
    ok, failed = ({"response_code_class": "2xx"}, {"response_code_class": "5xx"}) if kserve else ({"code": "200"}, {"code": "500"})
    errors = scenario == BREACHING
    return [
        {"series": _series(spec.metric, {**dict(spec.matchers), **ok}), "values": _ramp(0 if errors else PER_MINUTE)},
        {"series": _series(spec.metric, {**dict(spec.matchers), **failed}), "values": _ramp(PER_MINUTE if errors else 0)},
    ]


def drift_value(threshold: float, scenario: str) -> float:
    return threshold / 2 if scenario == HEALTHY else (1 + threshold) / 2


def expectation_names(monitoring: Component, store: str) -> list[str]:
    spec = (monitoring.get("data_quality") or {}).get(store) or {}
    names = [f"row_count_{k}" for k in ("min", "max") if k in (spec.get("row_count") or {})]
    names += [f"null_ratio:{column}" for column in sorted(spec.get("null_ratio") or {})]
    return names + (["freshness_hours"] if "freshness_hours" in spec else []) or ["readable"]


def _dq_series(spec: AlertSpec, names: list[str], scenario: str) -> list[dict[str, str]]:
    base = dict(spec.matchers)
    out = [{"series": _series("mlc_data_quality_last_run_timestamp_seconds", base), "values": _constant(1.7e9)}]
    for index, name in enumerate(names):
        held = scenario == HEALTHY or index > 0
        out.append({"series": _series("mlc_data_quality_check_success", {**base, "expectation": name}), "values": _constant(int(held))})
    return out


def _signal_value(spec: AlertSpec, scenario: str) -> float:
    """The value the alert's expression computes on the breaching series."""
    if spec.signal == LATENCY_MS:
        return float("inf")  # p99 lands at ~4x the largest threshold
    if spec.signal == ERROR_RATIO:
        return 1.0
    if spec.signal == DRIFT_SCORE:
        return drift_value(spec.threshold, scenario)
    return 1.0  # DQ_FAILED: one expectation failed


def _fires(spec: AlertSpec, scenario: str) -> bool:
    return scenario == BREACHING and _signal_value(spec, scenario) > spec.threshold


def _minutes(duration: str) -> int:
    return int(duration[:-1]) * {"m": 1, "h": 60}[duration[-1]]


def rule_file(compiled: Compiled, monitoring: Component) -> dict[str, Any]:
    return {"groups": rule_groups(compiled, monitoring)}


def rule_tests(compiled: Compiled, monitoring: Component, rules_path: str) -> dict[str, Any]:
    """The promtool test file of monitoring component M's rules (at `rules_path`, relative to it)."""
    groups = alert_groups(compiled, monitoring)
    cases = []
    for scenario in (HEALTHY, BREACHING, MISSING):
        series: list[dict[str, str]] = []
        expected: dict[str, list[dict[str, Any]]] = {}
        companions: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        for _, component, specs in groups:
            done: set[str] = set()
            for spec in specs:
                rule = next(
                    r
                    for g in rule_groups(compiled, monitoring)
                    for r in g["rules"]
                    if r["alert"] == spec.name and r["labels"]["component"] == component
                )
                expected.setdefault(spec.name, [])
                if _fires(spec, scenario):
                    labels = dict(rule["labels"])
                    if spec.signal == DQ_FAILED:
                        labels["expectation"] = expectation_names(monitoring, component)[0]
                    expected[spec.name].append({"exp_labels": labels, "exp_annotations": dict(rule["annotations"])})
                companions[(spec.metric, spec.matchers)] = component
                key = f"{spec.signal}:{spec.metric}"
                if scenario == MISSING or key in done:
                    continue
                done.add(key)
                if spec.signal == LATENCY_MS:
                    series += _latency_series(spec, [s.threshold for s in specs if s.signal == LATENCY_MS], scenario)
                elif spec.signal == ERROR_RATIO:
                    series += _count_series(spec, scenario)
                elif spec.signal == DRIFT_SCORE:
                    series.append(
                        {"series": _series(spec.metric, dict(spec.matchers)), "values": _constant(drift_value(spec.threshold, scenario))}
                    )
                else:
                    series += _dq_series(spec, expectation_names(monitoring, component), scenario)
        longest = 0
        for (metric, matchers), component in companions.items():
            companion = absent_rule(compiled, component, metric, matchers)
            longest = max(longest, _minutes(companion["for"]))
            found = expected.setdefault(companion["alert"], [])
            if scenario == MISSING:
                labels = {**dict(matchers), **companion["labels"]}
                found.append({"exp_labels": labels, "exp_annotations": dict(companion["annotations"])})
        eval_time = f"{longest + 5}m" if scenario == MISSING else EVAL
        tests = [{"eval_time": eval_time, "alertname": name, "exp_alerts": alerts} for name, alerts in sorted(expected.items())]
        case: dict[str, Any] = {"name": f"{monitoring.name}: {scenario}", "interval": INTERVAL}
        case["input_series"] = series
        case["alert_rule_test"] = tests
        cases.append(case)
    return {"rule_files": [rules_path], "evaluation_interval": INTERVAL, "tests": cases}


def emit_rule_tests(compiled: Compiled) -> list[Artifact]:
    """prometheus/<M>.rules.yaml and prometheus/<M>.test.yaml per monitoring component with rules."""
    artifacts = []
    for monitoring in compiled.env.of_type("monitoring"):
        if not alert_groups(compiled, monitoring):
            continue
        rules = f"{monitoring.name}.rules.yaml"
        artifacts.append(Artifact(f"{DIR}/{rules}", rule_file(compiled, monitoring), "yaml", monitoring.name))
        artifacts.append(Artifact(f"{DIR}/{monitoring.name}.test.yaml", rule_tests(compiled, monitoring, rules), "yaml", monitoring.name))
    return artifacts
