"""data_lake: a bucket plus a catalog database (Glue / BigQuery dataset)."""

from __future__ import annotations

from compiler.model.kinds.base import Category, Trait
from compiler.model.kinds.object_store import ObjectStore


class DataLake(ObjectStore):
    name = "data_lake"
    category = Category.STORE
    traits = frozenset({Trait.BUCKET, Trait.TABLE_FORMAT})
    emits_to = frozenset({"terraform"})


KIND = DataLake()
