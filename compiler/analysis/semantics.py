"""Cross-field checks the JSON Schema cannot express; each a located input error."""

from __future__ import annotations

from compiler.core.diagnostics import Diagnostic
from compiler.model.environment import Environment
from compiler.model.kinds import Trait

IA_TO_ARCHIVE_MIN_DAYS = 30  # S3 keeps objects 30 days in Standard-IA before an archive tier


def lifecycle_problems(env: Environment) -> list[Diagnostic]:
    """Lifecycle tiers must come in order: infrequent, then archive (30+ days later), then expiry."""
    problems = []
    for store in env.with_trait(Trait.BUCKET):
        lifecycle = store.get("lifecycle") or {}
        infrequent, archive, expire = (lifecycle.get(k) for k in ("infrequent_after_days", "archive_after_days", "expire_after_days"))
        base = f"{store.pointer}/lifecycle"
        if infrequent is not None and archive is not None and archive < infrequent + IA_TO_ARCHIVE_MIN_DAYS:
            problems.append(
                Diagnostic(
                    env.locate(f"{base}/archive_after_days"),
                    "MLC-E045",
                    f"archive_after_days ({archive}) must be at least {IA_TO_ARCHIVE_MIN_DAYS} days "
                    f"after infrequent_after_days ({infrequent})",
                )
            )
        later = max((d for d in (infrequent, archive) if d is not None), default=None)
        if expire is not None and later is not None and expire <= later:
            problems.append(
                Diagnostic(
                    env.locate(f"{base}/expire_after_days"),
                    "MLC-E045",
                    f"expire_after_days ({expire}) must be after the last transition (day {later}); data would expire before it is moved",
                )
            )
    return problems
