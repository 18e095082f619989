"""stream: an event stream (Kinesis data stream on AWS, Pub/Sub topic + a subscription per reader on GCP).

A data node like a store: workloads that list it in `reads` consume it, those that list it in
`writes` produce into it, and classification flows through it. Unlike a bucket it is read
while it is written, so the graph does not order its readers after its writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model.kinds.base import Category, Kind, Priced, Trait

if TYPE_CHECKING:
    from compiler.model.environment import Component
    from compiler.plan.cost import Estimator


class Stream(Kind):
    name = "stream"
    category = Category.STORE
    traits = frozenset({Trait.STREAM})
    emits_to = frozenset({"terraform"})

    def cost(self, est: Estimator, component: Component) -> Priced | None:
        from compiler.plan.cost_streaming import stream_cost

        return stream_cost(est, component)


KIND = Stream()
