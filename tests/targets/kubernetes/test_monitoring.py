"""Monitoring that measures: drift detectors, data-quality checks, promtool-proven alerts.

Real oracles: promtool (check rules, test rules) on every emitted rule file; the shipped
data-quality script run as a process on a parquet dataset written with pandas (the library
the check uses) against a local Pushgateway stand-in; the shipped drift detector served over
HTTP and fed KServe logger CloudEvents. promtool comes from Debian's `prometheus` package
(`make test` installs it); tests that need it skip with that reason when it is absent.
"""

from __future__ import annotations

import http.server
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.core.diagnostics import InputError
from tests.support.helpers import REPO, aws_env, compiled_env
from tests.support.validators import validate_k8s_object, validate_terraform_json

SCRIPTS = REPO / "compiler" / "data" / "monitoring"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package `prometheus`; make test installs it)")
IMG = "registry.example.com/m:1@sha256:" + "a" * 64
DRIFT = "alerts: {drift_threshold: 0.3}"
OUT = REPO / "out"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


# --- the example environment: detector, logger wiring, identity, monitors ------------------------
def test_prod_drift_detector_logger_identity_and_monitors_are_emitted_and_valid() -> None:
    kube = OUT / "prod" / "kubernetes"
    name = "ranker-monitoring-ranker-drift"
    objects = {p.name: _yaml(p) for p in kube.glob("*.yaml") if p.name != "kustomization.yaml"}
    for file in (f"deployment-{name}.yaml", f"service-{name}.yaml", f"servicemonitor-{name}.yaml", f"serviceaccount-{name}.yaml",
                 f"networkpolicy-{name}.yaml", "configmap-mlc-monitoring-scripts.yaml", "serviceaccount-ranker-monitoring-dq-features.yaml",
                 "networkpolicy-ranker-monitoring-dq-features.yaml"):  # fmt: skip
        assert validate_k8s_object(objects[file]) == [], file
        assert file in _yaml(kube / "kustomization.yaml")["resources"]
    url = f"http://{name}.ml-prod.svc.cluster.local:8080"
    assert objects["inferenceservice-ranker.yaml"]["spec"]["predictor"]["logger"] == {"mode": "request", "url": url}
    server = objects["deployment-ranker-fallback.yaml"]["spec"]["template"]["spec"]["containers"][0]
    assert {
        "name": "MLC_INFERENCE_LOGGER_URL",
        "value": "http://ranker-monitoring-ranker-fallback-drift.ml-prod.svc.cluster.local:8080",
    } in server["env"]
    deployment = objects[f"deployment-{name}.yaml"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == name and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["command"] == ["python3", "/opt/mlc/drift_detector.py"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["REFERENCE_URI"].startswith("s3://123456789012-prod-features-") and env["REFERENCE_URI"].endswith(
        "/ranker/training-snapshot"
    )
    assert (env["WINDOW"], env["REFERENCE_FORMAT"], env["FEATURES"]) == ("2000", "parquet", "[]")
    account = objects[f"serviceaccount-{name}.yaml"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == f"arn:aws:iam::123456789012:role/mlc-prod-{name}"
    monitor = objects[f"servicemonitor-{name}.yaml"]["spec"]
    assert monitor["selector"] == {"matchLabels": {"app.kubernetes.io/name": name}}
    assert monitor["endpoints"][0]["port"] == "metrics"
    policy = objects[f"networkpolicy-{name}.yaml"]["spec"]
    assert policy["ingress"][0] == {
        "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ranker"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}],
    }
    ranker_egress = objects["networkpolicy-ranker.yaml"]["spec"]["egress"]
    assert {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}],
        "ports": [{"protocol": "TCP", "port": 8080}],
    } in ranker_egress
    dq_egress = objects["networkpolicy-ranker-monitoring-dq-features.yaml"]["spec"]["egress"]
    assert dq_egress[1] == {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        "ports": [{"protocol": "TCP", "port": 9091}],
    }
    scripts = objects["configmap-mlc-monitoring-scripts.yaml"]["data"]
    assert scripts["drift_detector.py"] == (SCRIPTS / "drift_detector.py").read_text(encoding="utf-8")


def test_prod_monitor_identities_read_exactly_their_store() -> None:
    plan = json.loads((OUT / "prod" / "plan.json").read_text(encoding="utf-8"))
    for name in ("ranker-monitoring-ranker-drift", "ranker-monitoring-ranker-fallback-drift", "ranker-monitoring-dq-features"):
        read = {"store": "features", "edge": "reads", "prefix": "ranker/training-snapshot", "read": True}
        assert plan["iam"][name] == {
            "reads": ["features"],
            "writes": [],
            "access": [{**read, "write": False, "delete": False, "catalog": ""}],
        }
        document = json.loads((OUT / "prod" / "terraform" / f"identity-{name}.tf.json").read_text(encoding="utf-8"))
        assert validate_terraform_json(document, "aws") == []
        policy = document["data"]["aws_iam_policy_document"][name.replace("-", "_")]["statement"]
        assert sorted(a for s in policy for a in s["actions"]) == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
        assert {r for s in policy for r in s["resources"]} == {
            "${aws_s3_bucket.features.arn}",  # listing, conditioned on the prefix
            "${aws_s3_bucket.features.arn}/ranker/training-snapshot",
            "${aws_s3_bucket.features.arn}/ranker/training-snapshot/*",
            "${aws_kms_key.features.arn}",
        }
        (listing,) = [s for s in policy if s["actions"] == ["s3:ListBucket"]]
        assert listing["condition"][0]["values"] == ["ranker/training-snapshot", "ranker/training-snapshot/*"]


def test_prod_pipeline_runs_the_check_after_the_step_writing_the_store_and_waits_for_it() -> None:
    template = _yaml(OUT / "prod" / "argo" / "workflowtemplate-nightly.yaml")
    tasks = {t["name"]: t.get("dependencies", []) for t in template["spec"]["templates"][0]["dag"]["tasks"]}
    assert tasks == {
        "feature-etl": [],
        "check-features-after-feature-etl": ["feature-etl"],
        "train-ranker": ["check-features-after-feature-etl", "feature-etl"],
        "batch-score": ["check-features-after-feature-etl", "feature-etl", "train-ranker"],
    }
    check = next(t for t in template["spec"]["templates"] if t["name"] == "check-ranker-monitoring-dq-features")
    job = yaml.safe_load(check["resource"]["manifest"])
    assert validate_k8s_object({**job, "metadata": {**job["metadata"], "name": "x"}}) == []
    assert job["spec"]["backoffLimit"] == 0 and check["resource"]["failureCondition"] == "status.failed > 0"
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert json.loads(env["EXPECTATIONS"]) == {
        "freshness_hours": 26,
        "null_ratio": {"dwell_seconds": 0.05, "item_id": 0, "user_id": 0},
        "row_count": {"min": 100000},
    }
    assert env["PUSHGATEWAY"] == "http://pushgateway.monitoring.svc:9091"
    rbac = _yaml(OUT / "prod" / "argo" / "role-mlc.argo-workflow.yaml")
    assert {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "delete", "get", "list", "watch"]} in rbac["rules"]


# --- input errors ---------------------------------------------------------------------------------
BASE = """\
feats: {type: object_store}
other: {type: object_store}
models: {type: object_store}
db: {type: database, engine: postgres, version: "16", instance_class: db.t3.small, storage_gb: 20}
train: {type: training_job, image: "IMG", reads: [feats], writes: [models]}
api: {type: serving, runtime: sklearn, model: {from: models}}
""".replace("IMG", IMG)


@pytest.mark.parametrize(
    ("monitoring", "code", "line", "fragment"),
    [
        ("mon: {type: monitoring, targets: [api], alerts: {drift_threshold: 0.3}}", "MLC-E048", 18, "drift detection needs `image`"),
        (f"mon: {{type: monitoring, targets: [api], image: '{IMG}', data_quality: {{nope: {{freshness_hours: 1}}}}}}", "MLC-E040", 18,
         'data_quality names unknown store "nope"'),
        (f"mon: {{type: monitoring, targets: [api], image: '{IMG}', data_quality: {{db: {{freshness_hours: 1}}}}}}", "MLC-E041", 18,
         'data_quality names "db", a database'),
        (f"mon: {{type: monitoring, targets: [api], image: '{IMG}', {DRIFT}, drift: {{reference: {{store: db}}}}}}",
         "MLC-E041", 18, 'reference store "db" is a database'),
        (f"mon: {{type: monitoring, targets: [api], image: '{IMG}', data_quality: {{feats: {{row_count: {{min: 5, max: 4}}}}}}}}",
         "MLC-E022", 18, "row_count.min (5) is above row_count.max (4)"),
    ],
)  # fmt: skip
def test_monitoring_input_errors_are_located(tmp_path: Path, monitoring: str, code: str, line: int, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        compiled_env(tmp_path, {"e1": aws_env("e1", BASE + monitoring)}, "e1")
    found = [(d.code, d.location.file, d.location.line) for d in info.value.diagnostics if fragment in d.message]
    assert found == [(code, "environments/e1.yaml", line)], [str(d) for d in info.value.diagnostics]


def test_an_ambiguous_reference_dataset_must_be_named(tmp_path: Path) -> None:
    spec = (
        BASE.replace("reads: [feats]", "reads: [feats, other]")
        + f"mon: {{type: monitoring, targets: [api], image: '{IMG}', alerts: {{drift_threshold: 0.3}}}}"
    )
    with pytest.raises(InputError) as info:
        compiled_env(tmp_path, {"e1": aws_env("e1", spec)}, "e1")
    [problem] = info.value.diagnostics
    assert problem.code == "MLC-E049" and problem.location.line == 18
    assert "the jobs writing its model store read feats, other; set drift.reference.store" in problem.message
    fixed = spec.replace("alerts:", "drift: {reference: {store: other, path: ref}}, alerts:")
    compiled = compiled_env(tmp_path / "fixed", {"e1": aws_env("e1", fixed)}, "e1")
    assert [(m.name, m.store, m.path) for m in compiled.monitors] == [("mon-api-drift", "other", "ref")]
    assert compiled.grants["mon-api-drift"].reads == ("other",)


def test_a_monitor_named_like_a_component_is_a_collision(tmp_path: Path) -> None:
    spec = (
        BASE
        + "mon-api-drift: {type: object_store}\n"
        + f"mon: {{type: monitoring, targets: [api], image: '{IMG}', alerts: {{drift_threshold: 0.3}}}}"
    )
    with pytest.raises(InputError) as info:
        compiled_env(tmp_path, {"e1": aws_env("e1", spec)}, "e1")
    assert [(d.code, d.location.line) for d in info.value.diagnostics] == [("MLC-E052", 19)]


# --- alerts proven by promtool -----------------------------------------------------------------
def _rule_files() -> list[Path]:
    return sorted(OUT.glob("*/prometheus/*.rules.yaml"))


def _prometheus_rules() -> list[Path]:
    return sorted(OUT.glob("*/kubernetes/prometheusrule-*.yaml"))


def test_every_prometheus_rule_has_its_promtool_files() -> None:
    rules = {(p.parent.parent.name, p.name.removeprefix("prometheusrule-")) for p in _prometheus_rules()}
    files = {(p.parent.parent.name, p.name.replace(".rules.yaml", ".yaml")) for p in _rule_files()}
    assert rules == files and len(rules) == 7  # one monitoring component per example environment
    for path in _prometheus_rules():
        env, name = path.parent.parent.name, path.name.removeprefix("prometheusrule-").removesuffix(".yaml")
        assert _yaml(OUT / env / "prometheus" / f"{name}.rules.yaml") == {"groups": _yaml(path)["spec"]["groups"]}


@needs_promtool
@pytest.mark.parametrize("path", _rule_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_promtool_checks_and_unit_tests_pass(path: Path, tmp_path: Path) -> None:
    checked = _promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", str(path).replace(".rules.yaml", ".test.yaml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # the tests bite: the same tests against rules whose thresholds no breach reaches must fail
    weakened = path.read_text(encoding="utf-8")
    weakened = re.sub(r"(expr: .*) > [0-9.e+-]+$", r"\1 > 1e+300", weakened, flags=re.M)
    (tmp_path / path.name).write_text(weakened, encoding="utf-8")
    shutil.copy(str(path).replace(".rules.yaml", ".test.yaml"), tmp_path)
    failed = _promtool("test", "rules", str(tmp_path / path.name.replace(".rules.yaml", ".test.yaml")))
    assert failed.returncode == 1 and "FAILED" in failed.stdout + failed.stderr


DRIFT_TEST = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - name: drift
    interval: 1m
    input_series:
      - series: 'mlc_model_drift_score{namespace="ml-prod", app_kubernetes_io_name="ranker-monitoring-ranker-drift", pod="d-1"}'
        values: '0.05x30 0.6x60'
    alert_rule_test:
      - {eval_time: 25m, alertname: ModelDriftHigh, exp_alerts: []}
      - {eval_time: 40m, alertname: ModelDriftHigh, exp_alerts: []}
      - eval_time: 50m
        alertname: ModelDriftHigh
        exp_alerts:
          - exp_labels: {component: ranker, environment: prod, severity: warning}
            exp_annotations: ANNOTATIONS
      - {eval_time: 50m, alertname: ModelDriftScoreAbsent, exp_alerts: []}
"""


@needs_promtool
def test_the_drift_alert_fires_on_a_synthetic_drift_series_and_not_on_a_healthy_one(tmp_path: Path) -> None:
    """Hand-written series (not the generator's): healthy 0.05 for 30 min, then drifted at 0.6;
    ModelDriftHigh (threshold 0.2, for 15m) is quiet while healthy and while pending, then fires."""
    rules = _yaml(OUT / "prod" / "prometheus" / "ranker-monitoring.rules.yaml")
    rule = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "ModelDriftHigh" and r["labels"]["component"] == "ranker")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    (tmp_path / "drift.test.yaml").write_text(DRIFT_TEST.replace("ANNOTATIONS", json.dumps(rule["annotations"])), encoding="utf-8")
    result = _promtool("test", "rules", "drift.test.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_runbook_and_an_absent_companion_for_each_metric_it_reads() -> None:
    for path in _prometheus_rules():
        for group in _yaml(path)["spec"]["groups"]:
            absent = {m for r in group["rules"] if r["expr"].startswith("absent(") for m in metric_names(r["expr"])}
            for rule in group["rules"]:
                assert len(rule["annotations"]["runbook"]) > 40, (path.name, rule["alert"])
                if not rule["expr"].startswith("absent("):
                    assert metric_names(rule["expr"]) <= absent, (path.name, group["name"], rule["alert"])


def test_burn_rate_alerts_stay_multi_window() -> None:
    rules = _yaml(OUT / "prod" / "prometheus" / "ranker-monitoring.rules.yaml")
    burn = [r for g in rules["groups"] for r in g["rules"] if r["alert"] == "SLOErrorBudgetBurn"]
    assert [r["labels"]["component"] for r in burn] == ["ranker", "ranker-fallback"]
    for rule in burn:
        assert re.findall(r"\[(\w+)\]", rule["expr"]) == ["1h", "1h", "5m", "5m"] and " and " in rule["expr"]


# --- every metric name is produced by something mlc emits or pins -------------------------------
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "irate", "increase", "by", "without", "on", "ignoring", "and", "or", "unless",
    "histogram_quantile", "absent", "time", "le", "bool", "group_left", "group_right", "offset",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers outside {...}, [...] and strings, not functions or keywords."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        after = text[match.end() :].lstrip()
        if word in PROMQL_WORDS or after.startswith("(") or re.fullmatch(r"\d+[smhdwy]|e\d+", word):
            continue
        names.add(word)
    return names


def test_metric_name_extraction() -> None:
    assert metric_names('sum(rate(a_total{x="y{z}"}[5m])) / on (k) b:c > 2e3 and absent(up{job="j"})') == {"a_total", "b:c", "up"}


def _queries() -> list[tuple[str, str]]:
    found = []
    for path in _prometheus_rules():
        found += [(path.name, r["expr"]) for g in _yaml(path)["spec"]["groups"] for r in g["rules"]]
    for path in sorted(OUT.glob("*/kubernetes/configmap-*-dashboard.yaml")):
        for text in _yaml(path)["data"].values():
            found += [(path.name, t["expr"]) for p in json.loads(text)["panels"] for t in p["targets"]]
    return found


def test_every_metric_in_rules_and_dashboards_is_produced_by_something_mlc_emits_or_pins() -> None:
    from compiler.targets.kubernetes.monitoring import PRODUCED_METRICS

    queries = _queries()
    assert len(queries) > 50
    used = set()
    for where, expr in queries:
        names = metric_names(expr)
        assert names and names <= set(PRODUCED_METRICS), (where, expr, names - set(PRODUCED_METRICS))
        used |= names
    assert {"mlc_model_drift_score", "mlc_data_quality_check_success", "revision_app_request_count"} <= used


def test_the_metrics_mlc_says_its_scripts_produce_are_the_ones_they_export() -> None:
    from compiler.targets.kubernetes.monitoring import PRODUCED_METRICS

    scripts = _scripts()
    declared = {m for m, producer in PRODUCED_METRICS.items() if producer.startswith("mlc ")}
    assert declared == set(scripts["drift_detector"].METRICS) | set(scripts["data_quality_check"].METRICS)


def test_dashboards_are_labelled_for_the_grafana_sidecar_one_per_monitoring_component() -> None:
    for env in ("dev", "staging", "prod", "research-gcp", "fraud"):
        plan = json.loads((OUT / env / "plan.json").read_text(encoding="utf-8"))
        monitoring = sorted(c["name"] for c in plan["components"] if c["type"] == "monitoring")
        maps = sorted(OUT.glob(f"{env}/kubernetes/configmap-*-dashboard.yaml"))
        assert [p.name for p in maps] == [f"configmap-{m}-dashboard.yaml" for m in monitoring]
        for path in maps:
            assert _yaml(path)["metadata"]["labels"]["grafana_dashboard"] == "1"


# --- the shipped scripts, run for real ---------------------------------------------------------------
def _scripts() -> dict[str, Any]:
    pytest.importorskip("pandas", reason="the monitor scripts need pandas (pip install -e '.[test]')")
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return {name: importlib.import_module(name) for name in ("drift_detector", "data_quality_check")}


class _Pushgateway(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def pushgateway():
    _Pushgateway.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pushgateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Pushgateway.received
    server.shutdown()


def _write_dataset(folder: Path, rows: int, null_every: int) -> None:
    import pandas as pd

    folder.mkdir(parents=True)
    user = [None if null_every and i % null_every == 0 else f"u{i}" for i in range(rows)]
    pd.DataFrame({"user_id": user, "dwell_seconds": [float(i % 60) for i in range(rows)]}).to_parquet(folder / "part-0.parquet")


def _run_check(data: Path, gateway: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "STORE": "features",
        "DATA_URI": str(data),
        "DATA_FORMAT": "parquet",
        "EXPECTATIONS": json.dumps({"row_count": {"min": 100}, "null_ratio": {"user_id": 0.01}, "freshness_hours": 26}),
        "PUSHGATEWAY": gateway,
        "NAMESPACE": "ml-prod",
    }
    return subprocess.run([sys.executable, str(SCRIPTS / "data_quality_check.py")], env=env, capture_output=True, text=True, timeout=120)


def test_the_data_quality_check_passes_on_good_data(tmp_path: Path, pushgateway) -> None:
    _scripts()
    _write_dataset(tmp_path / "good", rows=200, null_every=0)
    result = _run_check(tmp_path / "good", pushgateway[0])
    assert result.returncode == 0, result.stdout + result.stderr
    [(path, body)] = pushgateway[1]
    assert path == "/metrics/job/mlc_data_quality/namespace/ml-prod/store/features"
    assert 'mlc_data_quality_check_success{expectation="null_ratio:user_id"} 1' in body
    assert 'mlc_data_quality_observed_value{expectation="row_count_min"} 200.0' in body


BREACH_TEST = """
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - name: pushed results of a breached expectation
    interval: 1m
    input_series: SERIES
    alert_rule_test:
      - eval_time: 5m
        alertname: DataQualityExpectationFailed
        exp_alerts:
          - exp_labels: {expectation: "null_ratio:user_id", component: features, environment: prod, severity: warning}
            exp_annotations: ANNOTATIONS
      - {eval_time: 5m, alertname: DataQualityResultsAbsent, exp_alerts: []}
"""


def test_a_breached_expectation_fails_the_step_and_produces_the_alert_series(tmp_path: Path, pushgateway) -> None:
    _scripts()
    _write_dataset(tmp_path / "bad", rows=200, null_every=10)  # 10 % nulls in user_id, 1 % allowed
    result = _run_check(tmp_path / "bad", pushgateway[0])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "data-quality features: null_ratio:user_id = 0.1: FAILED" in result.stdout
    assert "data-quality features: row_count_min = 200.0: ok" in result.stdout
    [(path, body)] = pushgateway[1]
    assert 'mlc_data_quality_check_success{expectation="null_ratio:user_id"} 0' in body
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package `prometheus`); the exit code was checked")
    # what Prometheus scrapes from the Pushgateway (honor_labels): the pushed series plus the grouping labels
    grouping = 'job="mlc_data_quality", namespace="ml-prod", store="features"'
    series = []
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        name, _, labels = name_labels.partition("{")
        labels = labels.rstrip("}")
        series.append({"series": f"{name}{{{grouping}{', ' + labels if labels else ''}}}", "values": f"{value}x10"})
    rules = _yaml(OUT / "prod" / "prometheus" / "ranker-monitoring.rules.yaml")
    rule = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "DataQualityExpectationFailed")
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    text = BREACH_TEST.replace("SERIES", json.dumps(series)).replace("ANNOTATIONS", json.dumps(rule["annotations"]))
    (tmp_path / "dq.test.yaml").write_text(text, encoding="utf-8")
    tested = _promtool("test", "rules", "dq.test.yaml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_unreadable_data_is_a_failed_check(tmp_path: Path, pushgateway) -> None:
    _scripts()
    result = _run_check(tmp_path / "missing", pushgateway[0])
    assert result.returncode == 1
    assert 'mlc_data_quality_check_success{expectation="readable"} 0' in pushgateway[1][0][1]


def _post(url: str, event_type: str, payload: Any) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Ce-Type": event_type, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def test_the_drift_detector_scores_logged_requests_against_the_reference(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    scripts = _scripts()
    detector_module = scripts["drift_detector"]
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"a": rng.normal(0, 1, 5000), "b": rng.uniform(0, 1, 5000), "label": ["x"] * 5000})
    reference.to_parquet(tmp_path / "ref.parquet")
    frame = scripts["drift_detector"].load_frame(str(tmp_path / "ref.parquet"), "parquet")
    detector = detector_module.Detector(frame, [], 500)
    assert detector.features == ["a", "b"]
    servers = detector_module.serve(detector, 0, 0)
    events, metrics = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
    try:
        assert "mlc_model_drift_score" not in urllib.request.urlopen(f"{metrics}/metrics", timeout=10).read().decode()
        same = np.column_stack([rng.normal(0, 1, 500), rng.uniform(0, 1, 500)]).tolist()
        _post(events, "org.kubeflow.serving.inference.request", {"instances": same})
        _post(events, "org.kubeflow.serving.inference.response", {"predictions": [1] * 500})  # ignored
        healthy = _score(urllib.request.urlopen(f"{metrics}/metrics", timeout=10).read().decode())
        shifted = np.column_stack([rng.normal(1.5, 1, 500), rng.uniform(0, 1, 500)]).ravel().tolist()
        _post(
            events,
            "org.kubeflow.serving.inference.request",
            {"inputs": [{"name": "x", "shape": [500, 2], "datatype": "FP64", "data": shifted}]},
        )
        text = urllib.request.urlopen(f"{metrics}/metrics", timeout=10).read().decode()
        drifted = _score(text)
        _post(events, "org.kubeflow.serving.inference.request", {"instances": [[1.0]]})  # wrong width: rejected
    finally:
        for server in servers:
            server.shutdown()
    assert healthy < 0.1 < 0.2 < drifted
    assert "mlc_drift_logged_rows_total 1000" in text
    assert re.search(r'mlc_drift_feature_distance\{feature="a"\} 0\.[5-9]', text)
    assert detector.rejected == 1
    assert detector_module.ks_distance(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0


def _score(text: str) -> float:
    return float(re.search(r"^mlc_model_drift_score (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
