"""database: a managed, encrypted, private relational database with backups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import Category, Kind, Priced, Trait

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Database(Kind):
    name = "database"
    category = Category.STORE
    traits = frozenset({Trait.DATABASE})
    emits_to = frozenset({"terraform"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        return est.database(component)


KIND = Database()
