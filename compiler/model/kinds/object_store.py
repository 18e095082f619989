"""object_store: a bucket (KMS-encrypted, versioned, lifecycle tiers, access-logged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import Category, Kind, Priced, Trait

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class ObjectStore(Kind):
    name = "object_store"
    category = Category.STORE
    traits = frozenset({Trait.BUCKET})
    emits_to = frozenset({"terraform"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.bucket(component)


KIND = ObjectStore()
