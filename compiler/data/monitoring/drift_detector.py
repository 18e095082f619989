"""mlc drift detector: KServe request-logger events in, a drift score for Prometheus out.

Environment (set by mlc on the Deployment it emits; every value comes from the spec):
  REFERENCE_URI     file, s3:// or gs:// URI of the reference dataset (a file or a folder of files)
  REFERENCE_FORMAT  parquet | csv
  FEATURES          JSON list of reference columns in model-input order ([] = numeric columns in file order)
  WINDOW            logged rows per score
  EVENT_PORT        port receiving the logger's CloudEvents (POST, binary or structured mode)
  METRICS_PORT      port serving GET /metrics (Prometheus text format)

Requests are KServe v1 (`{"instances": [[...], ...]}` or a list of objects keyed by feature)
or Open Inference Protocol v2 (`{"inputs": [{"shape": [n, k], "data": [...]}]}`, first input).
Only request events are used (the logger's ce-type ...inference.request); others are ignored.

Score: every WINDOW new rows, for each feature the two-sample Kolmogorov-Smirnov statistic
between the reference and the last WINDOW rows (the `distance` alibi-detect's KSDrift
reports per feature); the score is the largest of them, 0 (same distribution) .. 1 (disjoint).

Exported:
  mlc_model_drift_score                  gauge, after the first full window
  mlc_drift_feature_distance{feature}    gauge, per feature
  mlc_drift_logged_rows_total            counter, rows received
  mlc_drift_rejected_events_total        counter, events that could not be parsed
  mlc_drift_reference_rows               gauge, rows of the reference sample
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from mlc_dataset import escape_label, load_frame
from pandas.api.types import is_numeric_dtype

SCORE, DISTANCE, LOGGED, REJECTED, REFERENCE_ROWS = (
    "mlc_model_drift_score",
    "mlc_drift_feature_distance",
    "mlc_drift_logged_rows_total",
    "mlc_drift_rejected_events_total",
    "mlc_drift_reference_rows",
)
METRICS = (SCORE, DISTANCE, LOGGED, REJECTED, REFERENCE_ROWS)
MAX_REFERENCE_ROWS = 100_000
MAX_EVENT_BYTES = 16 * 1024 * 1024
REQUEST_EVENT_SUFFIX = "inference.request"


def ks_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(reference[~np.isnan(reference)]), np.sort(current[~np.isnan(current)])
    if not len(a) or not len(b):
        return 0.0
    points = np.concatenate([a, b])
    gap = np.searchsorted(a, points, side="right") / len(a) - np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(gap)))


def rows_of(payload: Any, features: list[str]) -> list[list[float]]:
    """Feature rows of one inference request (v1 or v2), in `features` order."""
    if isinstance(payload, dict) and "instances" in payload:
        rows = []
        for instance in payload["instances"]:
            if isinstance(instance, dict):
                rows.append([float(instance[name]) for name in features])
            else:
                rows.append([float(v) for v in instance])
        return rows
    if isinstance(payload, dict) and payload.get("inputs"):
        first = payload["inputs"][0]
        data = np.asarray(first["data"], dtype=float).reshape([int(d) for d in first["shape"]])
        return data.reshape(len(data), -1).tolist()
    raise ValueError("neither a v1 (instances) nor a v2 (inputs) inference request")


class Detector:
    def __init__(self, reference: Any, features: list[str], window: int):
        names = features or [str(c) for c in reference.columns if is_numeric_dtype(reference[c])]
        missing = [n for n in names if n not in reference.columns]
        if missing or not names:
            raise ValueError(f"reference has no column(s) {', '.join(missing) or '(numeric)'}")
        self.features = names
        self.reference = reference[names].to_numpy(dtype=float)
        self.window = window
        self.rows: deque[list[float]] = deque(maxlen=window)
        self.pending = 0
        self.logged = 0
        self.rejected = 0
        self.distances: list[float] | None = None
        self.lock = threading.Lock()

    def observe(self, payload: Any) -> None:
        try:
            rows = rows_of(payload, self.features)
            if any(len(r) != len(self.features) for r in rows):
                raise ValueError(f"rows must have {len(self.features)} features")
        except (KeyError, TypeError, ValueError, IndexError):
            with self.lock:
                self.rejected += 1
            return
        with self.lock:
            self.rows.extend(rows)
            self.logged += len(rows)
            self.pending += len(rows)
            if self.pending >= self.window and len(self.rows) == self.window:
                current = np.asarray(self.rows, dtype=float)
                self.distances = [ks_distance(self.reference[:, j], current[:, j]) for j in range(len(self.features))]
                self.pending = 0

    def exposition(self) -> str:
        with self.lock:
            lines = [f"# TYPE {LOGGED} counter", f"{LOGGED} {self.logged}", f"# TYPE {REJECTED} counter", f"{REJECTED} {self.rejected}"]
            lines += [f"# TYPE {REFERENCE_ROWS} gauge", f"{REFERENCE_ROWS} {len(self.reference)}"]
            if self.distances is not None:
                lines += [f"# TYPE {SCORE} gauge", f"{SCORE} {max(self.distances)!r}", f"# TYPE {DISTANCE} gauge"]
                lines += [f'{DISTANCE}{{feature="{escape_label(n)}"}} {d!r}' for n, d in zip(self.features, self.distances, strict=True)]
        return "\n".join(lines) + "\n"


def handler(detector: Detector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_EVENT_BYTES:
                self.send_error(413)
                return
            body = self.rfile.read(length)
            event_type = self.headers.get("Ce-Type", "")
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                payload = None
            if not event_type and isinstance(payload, dict) and "specversion" in payload:  # structured mode
                event_type, payload = str(payload.get("type", "")), payload.get("data")
            if event_type.endswith(REQUEST_EVENT_SUFFIX):
                detector.observe(payload)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/metrics":
                self.send_error(404)
                return
            body = detector.exposition().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # one line per request would flood the logs
            return

    return Handler


def serve(detector: Detector, event_port: int, metrics_port: int) -> tuple[ThreadingHTTPServer, ThreadingHTTPServer]:
    """Start the event and metrics servers in daemon threads; returns them (tests stop them)."""
    servers = (ThreadingHTTPServer(("", event_port), handler(detector)), ThreadingHTTPServer(("", metrics_port), handler(detector)))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return servers


def main(environ: dict[str, str]) -> int:
    reference = load_frame(environ["REFERENCE_URI"], environ.get("REFERENCE_FORMAT", "parquet"), MAX_REFERENCE_ROWS)
    detector = Detector(reference, json.loads(environ.get("FEATURES") or "[]"), int(environ.get("WINDOW", "1000")))
    servers = serve(detector, int(environ.get("EVENT_PORT", "8080")), int(environ.get("METRICS_PORT", "9090")))
    print(f"drift detector: {len(detector.reference)} reference rows, features {', '.join(detector.features)}", flush=True)
    threading.Event().wait()
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
