"""What a component kind is: its category, traits, references, cost and targets, in one place.

A kind is declared once, as a subclass of `Kind` in its own module of this package, and
registered (`registry.register`). Every stage asks the registry instead of comparing a
component's `type` with a string: the graph reads `references`, the cost stage calls
`cost`, emitters look the kind up in their own `{kind: handler}` table
(`compiler.model.kinds.dispatch.DispatchTable`), which raises on a kind it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.model.resources import PodGroup
    from compiler.plan.cost import Estimator

Priced = tuple[float, str]  # (monthly USD, unrounded; how it was computed)


class Category(Enum):
    """What a component is, broadly: the graph and the emitters group by it."""

    STORE = "store"  # holds data (buckets, databases)
    WORKLOAD = "workload"  # runs code with its own identity (jobs, endpoints)
    MONITORING = "monitoring"  # observes other components
    ORCHESTRATION = "orchestration"  # runs other components in order


class Trait(Enum):
    """Finer behaviour shared by some kinds of a category."""

    BUCKET = "bucket-backed"  # an object-storage bucket: URIs, bucket IAM, lifecycle, models
    DATABASE = "database"  # a managed relational database: engine, port, IAM database user
    RUNNABLE = "runnable"  # runs to completion as one run object: can be a pipeline step
    LONG_RUNNING = "long-running"  # a service that stays up (replicas, ingress, SLOs)
    SCORES_MODELS = "scores-models"  # applies a model to data (drift can be monitored)
    WRITES_WITH_DELETES = "writes-with-deletes"  # its writer library deletes (Spark committers, overwrite mode)
    TABLE_FORMAT = "table-format"  # Delta/Iceberg tables: writers expire files, catalogue tables
    TRAINS_MODELS = "trains-models"  # trains a model: DataLoader workers and NCCL share memory (/dev/shm)
    STREAM = "stream"  # an event stream: readers consume, writers produce, both run at once
    FEATURE_STORE = "feature-store"  # features served online and offline over a data lake (Feast)
    TRACKS_EXPERIMENTS = "tracks-experiments"  # an experiment-tracking server workloads log runs to (`tracking:`)
    # its pods are not pods of its own in the environment's namespace (tuning trials run as the
    # trial job; edge servers run on other clusters): no ServiceAccount or NetworkPolicy of its own
    FOREIGN_PODS = "foreign-pods"


@dataclass(frozen=True)
class Reference:
    """A spec field naming other components.

    `path` is the field's location in the component (("model", "from") for model.from);
    `field` is how messages name it. An edge of kind `edge` joins the two components:
    target -> component (data or order flows into the component), or component -> target
    when `outgoing` (the component writes into the target). The target must be of one of
    `categories` or have one of `traits`; neither given means any component.
    """

    field: str
    edge: str
    many: bool
    allowed: str  # what the message says is allowed; "{kinds}" / "{either}" list the kinds
    categories: frozenset[Category] = frozenset()
    traits: frozenset[Trait] = frozenset()
    outgoing: bool = False
    path: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[str, ...]:
        return self.path or (self.field,)

    def accepts(self, kind: Kind) -> bool:
        if not self.categories and not self.traits:
            return True
        return kind.category in self.categories or bool(kind.traits & self.traits)

    def targets(self, component: Component) -> list[tuple[str, str]]:
        """(target name, JSON pointer) of each component this field of `component` names."""
        value: Any = component.spec
        for part in self.parts:
            if not isinstance(value, dict) or part not in value:
                return []
            value = value[part]
        pointer = component.pointer + "".join(f"/{p}" for p in self.parts)
        if self.many:
            return [(name, f"{pointer}/{index}") for index, name in enumerate(value or [])]
        return [(value, pointer)] if value else []


AFTER = Reference("after", "after", True, "any other component")


class Kind:
    """A component kind. Subclasses set the class attributes and implement `cost`."""

    name: ClassVar[str]
    category: ClassVar[Category]
    traits: ClassVar[frozenset[Trait]] = frozenset()
    references: ClassVar[tuple[Reference, ...]] = (AFTER,)
    # targets that emit something of their own for this kind ("kubernetes", "terraform",
    # "argo"); each target's dispatch table must agree (a test checks it)
    emits_to: ClassVar[frozenset[str]] = frozenset()
    # JSON Schema of the kind's fields ($defs/<name>) for a kind defined outside the
    # published schema (tests, plug-ins); built-in kinds live in schemas/environment.schema.json
    schema: ClassVar[dict[str, Any] | None] = None

    def has(self, trait: Trait) -> bool:
        return trait in self.traits

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        """Monthly cost of one component, or None after reporting an unknown price to `est`."""
        raise NotImplementedError(f"kind {self.name} has no cost function")

    def pods(self, component: Component) -> tuple[PodGroup, ...]:
        """The pods one run (or, for long-running kinds, the always-on minimum) of the component
        requests: what the capacity model places on node pools. None for kinds without pods."""
        return ()

    def distributed(self, component: Component) -> bool:
        """Whether the component runs as several cooperating pods (they talk to each other)."""
        return False

    def runs_as(self, component: Component) -> str | None:
        """The component whose pods, identity and grants this one's runs use (a tuning job's
        trial), or None when it runs as itself."""
        return None

    def scheduled_by_argo(self, component: Component) -> bool:
        """Whether a schedule on the component is run by an Argo CronWorkflow (argo/) rather
        than by its own cron object in kubernetes/."""
        return False

    def __repr__(self) -> str:
        return f"<kind {self.name}>"
