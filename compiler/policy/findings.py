"""The one result type of every policy, Python or KCL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.core.diagnostics import Location

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, order=True)
class Finding:
    location: Location  # the YAML line the author must change
    rule: str  # MLC-<AREA>-<nnn>
    severity: str  # error | warning | info
    message: str
    env: str
    component: str | None = None  # component name, None for environment-level findings
    waived: bool = False
    waiver_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "environment": self.env,
            "component": self.component,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.col,
            "message": self.message,
            "waived": self.waived,
            "waiver_reason": self.waiver_reason,
        }

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and not self.waived
