"""mlc data-quality check: a store's expectations checked with pandera, results pushed to a
Prometheus Pushgateway, a failed expectation fails the process (and so the Argo step).

Environment (set by mlc on the Job it emits; every value comes from the spec):
  STORE             the store checked (a grouping label of the pushed metrics)
  DATA_URI          file, s3:// or gs:// URI of the data (a file or a folder of files)
  DATA_FORMAT       parquet | csv
  EXPECTATIONS      JSON: {"row_count": {"min", "max"}, "null_ratio": {column: max}, "freshness_hours": h}
  PUSHGATEWAY       http://host:port of the Pushgateway ("" = do not push)
  NAMESPACE         Kubernetes namespace (a grouping label)

Pushed (PUT /metrics/job/mlc_data_quality/namespace/<ns>/store/<store>, replacing the last run):
  mlc_data_quality_check_success{expectation}      1 held, 0 failed
  mlc_data_quality_observed_value{expectation}     rows, null fraction, hours since the newest file
  mlc_data_quality_last_run_timestamp_seconds      when this check ran
Expectation names: row_count_min, row_count_max, null_ratio:<column>, freshness_hours, and
readable (0 when the data could not be read at all).

Exit codes: 0 every expectation held; 1 one failed; 3 the results could not be pushed.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import urllib.request
from typing import Any

from mlc_dataset import escape_label, load_frame, newest_write

JOB = "mlc_data_quality"
SUCCESS, OBSERVED, LAST_RUN = (
    "mlc_data_quality_check_success",
    "mlc_data_quality_observed_value",
    "mlc_data_quality_last_run_timestamp_seconds",
)
METRICS = (SUCCESS, OBSERVED, LAST_RUN)
PUSH_TIMEOUT_SECONDS = 30


def evaluate(frame: Any, expectations: dict[str, Any], newest: float | None, now: float) -> list[tuple[str, float, bool]]:
    """(expectation, observed value, held) for every expectation, in a stable order.

    Row count and null ratios are pandera checks on the frame (lazy validation, so every
    failure is reported); freshness is the age of the newest data file.
    """
    import pandera.pandas as pa

    bounds = expectations.get("row_count") or {}
    frame_checks = []
    if "min" in bounds:
        frame_checks.append(pa.Check(lambda df, m=int(bounds["min"]): len(df) >= m, name="row_count_min"))
    if "max" in bounds:
        frame_checks.append(pa.Check(lambda df, m=int(bounds["max"]): len(df) <= m, name="row_count_max"))
    ratios = dict(sorted((expectations.get("null_ratio") or {}).items()))
    columns = {
        column: pa.Column(
            nullable=True,
            required=True,
            checks=pa.Check(lambda s, r=float(limit): s.isna().mean() <= r, ignore_na=False, name=f"null_ratio:{column}"),
        )
        for column, limit in ratios.items()
    }
    schema = pa.DataFrameSchema(columns, checks=frame_checks, strict=False, coerce=False)
    failed: set[str] = set()
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        failed = {str(name) for name in errors.failure_cases["check"]}
    results: list[tuple[str, float, bool]] = []
    for check in frame_checks:
        results.append((str(check.name), float(len(frame)), check.name not in failed))
    for column in ratios:
        name = f"null_ratio:{column}"
        present = column in frame.columns
        observed = float(frame[column].isna().mean()) if present and len(frame) else (1.0 if not present else 0.0)
        results.append((name, observed, present and name not in failed))
    if "freshness_hours" in expectations:
        age = (now - newest) / 3600 if newest is not None else math.inf
        results.append(("freshness_hours", age, age <= float(expectations["freshness_hours"])))
    return results


def exposition(results: list[tuple[str, float, bool]], now: float) -> str:
    """Prometheus text format of one run."""
    lines = [f"# TYPE {SUCCESS} gauge"]
    lines += [f'{SUCCESS}{{expectation="{escape_label(name)}"}} {int(held)}' for name, _, held in results]
    lines.append(f"# TYPE {OBSERVED} gauge")
    lines += [f'{OBSERVED}{{expectation="{escape_label(name)}"}} {_number(value)}' for name, value, _ in results]
    lines += [f"# TYPE {LAST_RUN} gauge", f"{LAST_RUN} {_number(now)}"]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return "+Inf" if value == math.inf else repr(float(value))


def push(gateway: str, namespace: str, store: str, body: str) -> None:
    url = f"{gateway.rstrip('/')}/metrics/job/{JOB}/namespace/{namespace}/store/{store}"
    request = urllib.request.Request(url, data=body.encode(), method="PUT", headers={"Content-Type": "text/plain; version=0.0.4"})
    with urllib.request.urlopen(request, timeout=PUSH_TIMEOUT_SECONDS) as response:
        response.read()


def main(environ: dict[str, str]) -> int:
    store, uri, fmt = environ["STORE"], environ["DATA_URI"], environ.get("DATA_FORMAT", "parquet")
    expectations = json.loads(environ.get("EXPECTATIONS", "{}"))
    now = time.time()
    try:
        frame = load_frame(uri, fmt)
        newest = newest_write(uri, fmt) if "freshness_hours" in expectations else None
        results = evaluate(frame, expectations, newest, now)
    except (OSError, ValueError) as error:  # unreadable or missing data is itself a failed check
        print(f"data-quality {store}: cannot read {uri}: {error}", file=sys.stderr)
        results = [("readable", 0.0, False)]
    for name, value, held in results:
        print(f"data-quality {store}: {name} = {_number(value)}: {'ok' if held else 'FAILED'}")
    gateway = environ.get("PUSHGATEWAY", "")
    if gateway:
        try:
            push(gateway, environ.get("NAMESPACE", "default"), store, exposition(results, now))
        except OSError as error:
            print(f"data-quality {store}: cannot push results to {gateway}: {error}", file=sys.stderr)
            return 3
    return 0 if all(held for _, _, held in results) else 1


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
