"""Findings baseline: `mlc check --write-baseline FILE` records today's findings, and
`mlc check --baseline FILE` fails only on findings that are not in it (adopting mlc on an
existing estate without waiving everything at once).

A finding's fingerprint hashes its rule, environment, component, file and message, with
line and column numbers removed (from the location and from the message), so moving a block
of YAML does not make an old finding new. Identical findings are counted: a second copy of a
baselined finding is new. Messages are stored scrubbed (never a credential-looking value).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from compiler.frontend.project import UsageError

VERSION = 1
_POSITION = re.compile(r"(\.ya?ml|\.k|\.json):\d+(:\d+)?")


def fingerprint(finding: Any) -> str:
    from compiler.core.secrets_scan import scrub

    message = _POSITION.sub(r"\1", scrub(finding.message))
    text = "\0".join(["v1", finding.rule, finding.env, finding.component or "", finding.location.file, message])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def render(findings: list[Any]) -> bytes:
    from compiler.core.secrets_scan import scrub

    entries = sorted(
        (
            {
                "fingerprint": fingerprint(f),
                "rule": f.rule,
                "environment": f.env,
                "component": f.component,
                "file": f.location.file,
                "message": scrub(f.message),
            }
            for f in findings
            if not f.waived
        ),
        key=lambda e: (e["environment"], e["rule"], e["component"] or "", e["fingerprint"]),
    )
    data = {"version": VERSION, "generated_by": "mlc check --write-baseline", "findings": entries}
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def load(path: Path) -> Counter[str]:
    """Fingerprint -> count; a missing or malformed file is a usage error (exit 2)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"baseline {path} is not JSON: {exc}") from None
    entries = data.get("findings") if isinstance(data, dict) and data.get("version") == VERSION else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise UsageError(f"baseline {path} is not an mlc baseline (version {VERSION}); write one with --write-baseline")
    return Counter(e["fingerprint"] for e in entries)


def new_findings(findings: list[Any], baseline: Counter[str]) -> list[Any]:
    """The findings not covered by the baseline (waived ones are never new)."""
    left = Counter(baseline)
    out = []
    for f in findings:
        key = fingerprint(f)
        if left[key] > 0 and not f.waived:
            left[key] -= 1
            continue
        out.append(f)
    return out
