"""Pod resource requests as the compiler means them: one definition for every stage.

The Kubernetes emitter writes these requests (= limits) into the pods, the capacity model
checks that they fit the nodes of a pool, and the cost model prices them; all three read
the defaults and the quantity arithmetic here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: requests = limits of a workload container without `resources`.
DEFAULT_RESOURCES: dict[str, str] = {"cpu": "1", "memory": "2Gi"}
#: requests = limits of the pods mlc adds for monitoring (drift detectors, data-quality checks).
MONITOR_RESOURCES: dict[str, str] = {"cpu": "1", "memory": "2Gi"}

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def cpu_cores(value: Any) -> float:
    """Kubernetes CPU quantity (2, 0.5, "2", "500m") -> cores."""
    s = str(value)
    return float(s[:-1]) / 1000 if s.endswith("m") else float(s)


def memory_bytes(quantity: Any) -> int:
    """Bytes of a Kubernetes memory quantity (512Mi, 4Gi, 1G, 1000)."""
    s = str(quantity)
    for suffix, factor in {**_BINARY, **_DECIMAL}.items():
        if s.endswith(suffix):
            return int(float(s[: -len(suffix)]) * factor)
    return int(float(s))


def memory_gib(value: Any) -> float:
    """Kubernetes memory quantity ("512Mi", "8Gi") -> GiB."""
    return memory_bytes(value) / 2**30


def requests(spec: dict[str, Any]) -> tuple[float, float]:
    """(cores, GiB) a workload's container requests: its `resources`, else the defaults."""
    res = {**DEFAULT_RESOURCES, **(spec.get("resources") or {})}
    return cpu_cores(res["cpu"]), memory_gib(res["memory"])


@dataclass(frozen=True)
class PodGroup:
    """Identical pods a workload runs: the capacity model places them, the cost model prices them.

    `cpu_at` / `memory_at` / `gpus_at` are JSON pointers (under the component) of the fields
    that set each request, where an error about it is reported.
    """

    role: str  # "pod", "driver", "executor", "replica", "canary"
    count: int
    cpu: float
    memory_gib: float
    gpus: int = 0
    gpu_type: str | None = None
    always_on: bool = False  # runs all month (serving replicas, canaries), not per run
    spot: bool = False  # tolerates spot nodes
    cpu_at: str = "/resources/cpu"
    memory_at: str = "/resources/memory"
    gpus_at: str = "/gpus"


def container_pods(spec: dict[str, Any], role: str, count: int, *, always_on: bool = False, spot: bool = False) -> PodGroup:
    """`count` pods of one container with the workload's `resources` and `gpus`."""
    cpu, memory = requests(spec)
    gpus = spec.get("gpus") or {}
    return PodGroup(
        role, count, cpu, memory, int(gpus.get("count", 0)), str(gpus["type"]) if gpus else None, always_on=always_on, spot=spot
    )
