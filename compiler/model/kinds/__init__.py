"""Component kinds: one module per kind, registered here in the schema's order.

from compiler.model import kinds
kinds.kind_of(component).category, kinds.names(trait=kinds.Trait.BUCKET)
"""

from __future__ import annotations

from compiler.model.kinds import (
    batch_inference,
    data_lake,
    database,
    edge_deployment,
    feature_store,
    job,
    monitoring,
    object_store,
    pipeline,
    serving,
    spark_job,
    stream,
    stream_job,
    tracking_server,
    training_job,
    tuning_job,
)
from compiler.model.kinds.base import AFTER, Category, Kind, Priced, Reference, Trait
from compiler.model.kinds.registry import UnknownKindError, all_kinds, get, kind_of, names, register, unregister

for _module in (
    object_store,
    data_lake,
    database,
    spark_job,
    training_job,
    serving,
    batch_inference,
    monitoring,
    pipeline,
    job,
    tuning_job,
    tracking_server,
    edge_deployment,
    stream,
    stream_job,
    feature_store,
):
    register(_module.KIND)

__all__ = [
    "AFTER",
    "Category",
    "Kind",
    "Priced",
    "Reference",
    "Trait",
    "UnknownKindError",
    "all_kinds",
    "get",
    "kind_of",
    "names",
    "register",
    "unregister",
]
