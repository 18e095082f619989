"""No emitted Kubernetes object may be too big for the API server to store (MLC-E050).

etcd refuses a request above `--max-request-bytes`, 1.5 MiB (1572864 bytes) by default, and
the API server stores each object as one etcd value. What mlc emits is only part of what is
stored: server-side apply (every mlc Application syncs with `ServerSideApply=true`) adds
`metadata.managedFields`, one entry per field; client-side apply, if an override switches it
back on, copies the whole object into the `kubectl.kubernetes.io/last-applied-configuration`
annotation (and then the 256 KiB limit on all annotations of an object applies first); and a
Workflow started from a WorkflowTemplate copies the template's spec into
`status.storedWorkflowTemplateSpec` next to its node statuses. So an object may use at most
half of etcd's limit, MAX_OBJECT_BYTES = 786432 bytes (768 KiB), measured as its compact JSON
(the encoding the API server stores custom resources in). A bigger object is an input error
at the line of the component that produced it (for a pipeline's WorkflowTemplate, the
pipeline), with the measured size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from compiler.core.diagnostics import Diagnostic
from compiler.model.environment import Environment
from compiler.targets.artifact import Artifact

ETCD_REQUEST_LIMIT = 1_572_864  # etcd --max-request-bytes default (1.5 MiB)
MAX_OBJECT_BYTES = ETCD_REQUEST_LIMIT // 2
TOO_BIG = "MLC-E050"
OBJECT_DIRS = ("kubernetes/", "argo/", "argocd/")


def object_bytes(obj: object) -> int:
    """Size of the object as the API server receives and stores it (compact JSON, UTF-8)."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def oversized(env: Environment, artifacts: Iterable[Artifact]) -> list[Diagnostic]:
    """One error per Kubernetes object above MAX_OBJECT_BYTES, at its component's line."""
    problems = []
    for artifact in artifacts:
        obj = artifact.content
        if not artifact.path.startswith(OBJECT_DIRS) or not isinstance(obj, dict) or "kind" not in obj:
            continue
        size = object_bytes(obj)
        if size <= MAX_OBJECT_BYTES:
            continue
        owner = artifact.component if artifact.component in env.components else None
        at = env.locate(f"/components/{owner}", True) if owner else env.locate("/components", True)
        name = (obj.get("metadata") or {}).get("name", "?")
        problems.append(
            Diagnostic(
                at,
                TOO_BIG,
                f"the {obj['kind']} {name} ({artifact.path}) would be {size} bytes, above mlc's limit of "
                f"{MAX_OBJECT_BYTES} bytes per object (half of etcd's 1.5 MiB request limit, leaving room for what the "
                "cluster adds to it); split it into smaller parts",
            )
        )
    return problems
