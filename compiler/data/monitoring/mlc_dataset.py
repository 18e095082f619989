"""Dataset access shared by mlc's monitor scripts (drift detector, data-quality check).

Shipped by mlc in the ConfigMap `mlc-monitoring-scripts` and mounted at /opt/mlc; runs on the
monitoring image (python3 with pandas, pyarrow, fsspec and s3fs / gcsfs; docs/monitoring.md).
A URI is a local path, s3://bucket/path or gs://bucket/path: one file or a folder of files.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import fsspec
import pandas as pd

SUFFIXES = {"parquet": (".parquet", ".parq"), "csv": (".csv", ".csv.gz")}


def data_files(uri: str, fmt: str) -> tuple[Any, list[str]]:
    """(filesystem, sorted data files) under `uri`; a file URI is its own one file."""
    fs, _, paths = fsspec.get_fs_token_paths(uri)
    root = paths[0]
    if fs.isfile(root):
        return fs, [root]
    files = [p for p in fs.find(root) if p.endswith(SUFFIXES[fmt])]
    return fs, sorted(files)


def load_frame(uri: str, fmt: str, max_rows: int | None = None) -> pd.DataFrame:
    fs, files = data_files(uri, fmt)
    if not files:
        raise FileNotFoundError(f"no {fmt} files under {uri}")
    frames = []
    for path in files:
        with fs.open(path, "rb") as handle:
            frames.append(pd.read_parquet(handle) if fmt == "parquet" else pd.read_csv(handle, compression="infer"))
    frame = pd.concat(frames, ignore_index=True)
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.sample(n=max_rows, random_state=0).reset_index(drop=True)
    return frame


def _mtime(info: dict[str, Any]) -> float | None:
    for key in ("mtime", "LastModified", "updated", "last_modified"):
        value = info.get(key)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, dt.datetime):
            return value.timestamp()
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def newest_write(uri: str, fmt: str) -> float | None:
    """Unix time of the newest data file under `uri`, or None when there is none."""
    fs, files = data_files(uri, fmt)
    times = [t for t in (_mtime(fs.info(p)) for p in files) if t is not None]
    return max(times) if times else None


def escape_label(value: str) -> str:
    """A Prometheus text-format label value."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
