"""References shared by kinds (what a workload may read, write, or load a model from)."""

from __future__ import annotations

from compiler.model.kinds.base import Category, Reference, Trait

STORES = frozenset({Category.STORE})
BUCKETS = frozenset({Trait.BUCKET})
READS = Reference("reads", "reads", True, "a storage component ({kinds})", categories=STORES)
WRITES = Reference("writes", "writes", True, "a storage component ({kinds})", categories=STORES, outgoing=True)
MODEL = Reference("model", "model", False, "{either} holding the model", traits=BUCKETS, path=("model", "from"))
CHECKPOINT = Reference("checkpoint_to", "checkpoint", False, "{either}", traits=BUCKETS, outgoing=True)
TARGETS = Reference("targets", "monitors", True, "a workload ({kinds})", categories=frozenset({Category.WORKLOAD}))
STEPS = Reference("steps", "step", True, "a runnable workload ({kinds})", traits=frozenset({Trait.RUNNABLE}))
ON_FAILURE = Reference("on_failure", "on_failure", False, "a runnable workload ({kinds})", traits=frozenset({Trait.RUNNABLE}))
TRACKING = Reference("tracking", "tracking", False, "a tracking server ({kinds})", traits=frozenset({Trait.TRACKS_EXPERIMENTS}))
TRIAL = Reference("trial", "trial", False, "a training job ({kinds})", traits=frozenset({Trait.TRAINS_MODELS}))
BACKEND_DATABASE = Reference("database", "backend", False, "a database ({kinds})", traits=frozenset({Trait.DATABASE}), outgoing=True)
BACKEND_ARTIFACTS = Reference("artifacts", "backend", False, "{either}", traits=BUCKETS, outgoing=True)
OFFLINE = Reference("offline", "offline", False, "a data lake ({kinds})", traits=frozenset({Trait.TABLE_FORMAT}))
