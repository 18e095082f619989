"""Cost model: hand-computed estimates (to the cent), unknown prices, rendering, pricing provenance.

Prices used below (compiler/data/pricing.yaml): AWS per-vCPU-hour = m6i.xlarge 0.192 / 4 = 0.048
(4 GiB per vCPU); GCP per-vCPU-hour = n2-standard-4 0.194236 / 4 = 0.048559; AWS spot discount 0.6
on every listed family; a month is 730 h.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from compiler.plan import cost
from compiler.plan.advice import check_budget as _check_budget
from compiler.plan.advice import suggestions as _suggestions
from compiler.plan.cost import (
    CostErrors,
    CostEstimate,
    CostItem,
    UnknownPriceError,
    lifecycle_shares,
    money,
)
from compiler.plan.cost_render import delta_dict, render_delta_markdown, render_markdown, render_table
from compiler.plan.pricing import load_pricing
from tests.support.helpers import model_of

PRICING = load_pricing()


# Fixtures are raw specs; the cost stage receives the resolved model (defaults filled in).
def estimate(spec: dict, pricing) -> CostEstimate:
    return cost.estimate(model_of(spec), pricing)


def suggestions(spec: dict, est: CostEstimate, pricing) -> tuple:
    return _suggestions(model_of(spec), est, pricing)


def check_budget(spec: dict, est: CostEstimate):
    return _check_budget(model_of(spec), est)


PRICED_REGION = {"aws": "us-east-1", "gcp": "us-central1"}


def env(components: dict | None = None, node_pools: dict | None = None, provider: str = "aws", region: str = "", **extra) -> dict:
    cloud = {"provider": provider, "region": region or PRICED_REGION.get(provider, "r1")}
    spec = {"cloud": cloud, "cluster": {"name": "c", "node_pools": node_pools or {}}, "components": components or {}}
    spec.update(extra)
    return spec


def one(spec: dict, name: str) -> Decimal:
    """The rounded monthly cost of one item."""
    items = [i for i in estimate(spec, PRICING).items if i.component == name]
    assert len(items) == 1, items
    return items[0].rounded


# ---------------------------------------------------------------------------- money


def test_money_rounds_half_up_not_half_even():
    assert money(0.125) == Decimal("0.13")  # banker's rounding would give 0.12
    assert money(1.005) == Decimal("1.01")  # float 1.005 is 1.00499999...; presented as written
    assert money(2.675) == Decimal("2.68")
    assert money(35.044999999999995) == Decimal("35.05")  # float noise of an exact half
    assert money(0.0) == Decimal("0.00")


# ---------------------------------------------------------------------------- training


def test_training_cheapest_gpu_instance_aws():
    # nvidia-a100 x 8 -> cheapest with >= 8 A100 (40 or 80 GB): p4d.24xlarge 21.957642 < p4de 27.44705
    # 2 nodes x 100 h x 21.957642 = 4,391.5284 -> $4,391.53
    spec = env({"train": {"type": "training_job", "gpus": {"type": "nvidia-a100", "count": 8}, "nodes": 2, "hours_per_month": 100}})
    assert one(spec, "train") == Decimal("4391.53")
    assert "p4d.24xlarge" in estimate(spec, PRICING).items[0].detail


def test_training_spot():
    # on the only A100 pool, a spot pool: as above x (1 - 0.6) = 1,756.61136 -> $1,756.61
    spec = env(
        {"train": {"type": "training_job", "gpus": {"type": "nvidia-a100", "count": 8}, "nodes": 2, "hours_per_month": 100, "spot": True}},
        {"a100": {"instance_type": "p4d.24xlarge", "min": 0, "max": 2, "spot": True}},
    )
    assert one(spec, "train") == Decimal("1756.61")


def test_training_gcp_picks_smallest_sufficient_machine():
    # nvidia-a100 x 2 on gcp: a2-highgpu-2g 7.34677 (< a2-ultragpu-2g 10.1376 < a2-highgpu-4g ...)
    # 1 node x 10 h x 7.34677 = 73.4677 -> $73.47
    spec = env({"t": {"type": "training_job", "gpus": {"type": "nvidia-a100", "count": 2}, "hours_per_month": 10}}, provider="gcp")
    assert one(spec, "t") == Decimal("73.47")


def test_training_on_node_pool_uses_pool_instance_and_pool_spot():
    # node pool h100: p5.48xlarge 55.04, spot (pool) -> 1 node x 50 h x 55.04 x 0.4 = 1,100.80
    # the pool itself: min 0 -> $0.00
    spec = env(
        {"t": {"type": "training_job", "gpus": {"type": "nvidia-h100", "count": 8}, "node_pool": "h100", "hours_per_month": 50}},
        {"h100": {"instance_type": "p5.48xlarge", "min": 0, "max": 4, "spot": True}},
    )
    assert one(spec, "t") == Decimal("1100.80")
    assert one(spec, "h100") == Decimal("0.00")


def test_training_without_gpus_is_priced_by_resources():
    # resources 4 CPU / 8 GiB -> max(4, 8 / 4) = 4 billable vCPU; 2 nodes x 100 h x 4 x 0.048 = 38.40
    spec = env({"t": {"type": "training_job", "nodes": 2, "hours_per_month": 100, "resources": {"cpu": 4, "memory": "8Gi"}}})
    assert one(spec, "t") == Decimal("38.40")


# ---------------------------------------------------------------------------- spark


def test_spark_dynamic_allocation_max_and_spot():
    # driver 1 core + dynamic_allocation.max 10 executors x 2 cores = 21 vCPU; the only CPU pool is
    # a spot pool: executors at spot (m6i family, 0.6), the driver (never on spot) on-demand:
    # 1 x 50 h x 0.048 + 20 x 50 h x 0.048 x 0.4 = 2.40 + 19.20 = 21.60
    spec = env(
        {
            "etl": {
                "type": "spark_job",
                "executors": {"instances": 4, "cores": 2},
                "dynamic_allocation": {"min": 1, "max": 10},
                "hours_per_month": 50,
                "spot": True,
            }
        },
        {"spotcpu": {"instance_type": "m6i.2xlarge", "min": 0, "max": 3, "spot": True}},
    )
    assert one(spec, "etl") == Decimal("21.60")


def test_spark_defaults():
    # schema defaults: driver 1 core, 2 executors x 1 core -> 3 vCPU x 100 h x 0.048 = 14.40
    spec = env({"etl": {"type": "spark_job", "hours_per_month": 100}})
    assert one(spec, "etl") == Decimal("14.40")


# ---------------------------------------------------------------------------- serving / batch


def test_serving_replicas_resources_and_gpu_share():
    # per replica: max(0.5 CPU, 4 GiB / 4) = 1 vCPU x 0.048 = 0.048/h
    #   + 1 x nvidia-a10g at the cheapest per-GPU share: g5.xlarge 1.006 / 1 = 1.006/h
    # 3 replicas (min) x 730 h x 1.054 = 2,308.26
    spec = env(
        {
            "api": {
                "type": "serving",
                "replicas": {"min": 3, "max": 6},
                "resources": {"cpu": "500m", "memory": "4Gi"},
                "gpus": {"type": "nvidia-a10g", "count": 1},
            }
        }
    )
    assert one(spec, "api") == Decimal("2308.26")


def test_serving_defaults_aws_and_gcp():
    # 1 replica x 1 vCPU / 2 GiB (default) x 730 h: aws 0.048 x 730 = 35.04; gcp 0.048559 x 730 = 35.44807 -> 35.45
    assert one(env({"api": {"type": "serving"}}), "api") == Decimal("35.04")
    assert one(env({"api": {"type": "serving"}}, provider="gcp"), "api") == Decimal("35.45")


def test_batch_inference_resources_plus_gpu():
    # max(2 CPU, 16 GiB / 4) = 4 vCPU x 0.048 = 0.192/h; nvidia-t4 cheapest share g4dn.xlarge 0.526/h
    # 20 h x (0.192 + 0.526) = 14.36
    spec = env(
        {
            "score": {
                "type": "batch_inference",
                "hours_per_month": 20,
                "resources": {"cpu": 2, "memory": "16Gi"},
                "gpus": {"type": "nvidia-t4", "count": 1},
            }
        }
    )
    assert one(spec, "score") == Decimal("14.36")


# ---------------------------------------------------------------------------- storage


def test_object_store_without_lifecycle():
    # 2,000 GB x S3 standard 0.023 = 46.00
    assert one(env({"b": {"type": "object_store", "size_gb": 2000}}), "b") == Decimal("46.00")


def test_lifecycle_weighting_with_expiry():
    # uniform age over 365 days (expire): standard 30/365, standard_ia 60/365, glacier_flexible 275/365
    # 1,000 x (30 x 0.023 + 60 x 0.0125 + 275 x 0.0036) / 365 = 1,000 x 2.43 / 365 = 6.657534 -> 6.66
    spec = env(
        {
            "b": {
                "type": "object_store",
                "size_gb": 1000,
                "lifecycle": {"infrequent_after_days": 30, "archive_after_days": 90, "expire_after_days": 365},
            }
        }
    )
    assert one(spec, "b") == Decimal("6.66")


def test_lifecycle_weighting_without_expiry_uses_one_year():
    # no expiry -> horizon 365: standard 30/365, standard_ia 335/365
    # 1,000 x (30 x 0.023 + 335 x 0.0125) / 365 = 4,877.5 / 365 = 13.363014 -> 13.36
    spec = env({"b": {"type": "object_store", "size_gb": 1000, "lifecycle": {"infrequent_after_days": 30}}})
    assert one(spec, "b") == Decimal("13.36")


def test_lifecycle_weighting_gcp_data_lake():
    # horizon 730: standard 30/730, nearline 150/730, archive 550/730
    # 500 x (30 x 0.02 + 150 x 0.01 + 550 x 0.0012) / 730 = 500 x 2.76 / 730 = 1.890411 -> 1.89
    spec = env(
        {
            "lake": {
                "type": "data_lake",
                "size_gb": 500,
                "lifecycle": {"infrequent_after_days": 30, "archive_after_days": 180, "expire_after_days": 730},
            }
        },
        provider="gcp",
    )
    assert one(spec, "lake") == Decimal("1.89")


def test_lifecycle_shares_edge_cases():
    assert lifecycle_shares(None) == {"hot": 1.0, "infrequent": 0.0, "archive": 0.0}
    # archive before infrequent: the infrequent stage never happens
    assert lifecycle_shares({"infrequent_after_days": 60, "archive_after_days": 30, "expire_after_days": 120}) == {
        "hot": 0.25,
        "infrequent": 0.0,
        "archive": 0.75,
    }
    # expiry before any transition: all hot
    assert lifecycle_shares({"infrequent_after_days": 90, "expire_after_days": 30}) == {"hot": 1.0, "infrequent": 0.0, "archive": 0.0}


# ---------------------------------------------------------------------------- databases


def test_database_single_az_postgres_default_storage():
    # db.t3.large postgres 0.145 x 730 = 105.85 + default 100 GB x 0.115 = 11.50 -> 117.35
    assert one(env({"db": {"type": "database", "instance_class": "db.t3.large"}}), "db") == Decimal("117.35")


def test_database_multi_az_doubles_instance_and_storage():
    # 2 x (db.t3.large mysql 0.136 x 730 + 30 GB x 0.115) = 2 x (99.28 + 3.45) = 205.46
    # (Infracost golden mysql-multi-az: $198.56 + $6.90 = $205.46)
    spec = env({"db": {"type": "database", "engine": "mysql", "instance_class": "db.t3.large", "storage_gb": 30, "multi_az": True}})
    assert one(spec, "db") == Decimal("205.46")


def test_database_gcp_cloud_sql():
    # db-custom-2-7680: 2 x 0.0413 + 7.5 x 0.007 = 0.1351/h x 730 = 98.623 + 10 GB x 0.17 = 1.70 -> 100.323 -> 100.32
    spec = env({"db": {"type": "database", "instance_class": "db-custom-2-7680", "storage_gb": 10}}, provider="gcp")
    assert one(spec, "db") == Decimal("100.32")


# ---------------------------------------------------------------------------- node pools, totals


def test_node_pools_min_nodes_and_spot():
    # cpu: 2 x m6i.2xlarge 0.384 x 730 = 560.64
    # gpu: 1 x p4d.24xlarge 21.957642 x 730 x 0.4 (spot) = 6,411.631464 -> 6,411.63
    spec = env(
        node_pools={
            "cpu": {"instance_type": "m6i.2xlarge", "min": 2, "max": 20},
            "gpu": {"instance_type": "p4d.24xlarge", "min": 1, "max": 4, "spot": True},
        }
    )
    assert one(spec, "cpu") == Decimal("560.64")
    assert one(spec, "gpu") == Decimal("6411.63")
    # 560.64 + 6,411.631464 = 6,972.271464 -> 6,972.27
    assert money(estimate(spec, PRICING).total_usd) == Decimal("6972.27")


def test_monitoring_and_pipeline_are_zero_and_items_are_ordered():
    spec = env(
        {"z-mon": {"type": "monitoring", "targets": ["a"]}, "a-pipe": {"type": "pipeline", "steps": ["x"]}, "m": {"type": "object_store"}},
        {"pool": {"instance_type": "m5.large"}},
    )
    est = estimate(spec, PRICING)
    assert [(i.kind, i.component) for i in est.items] == [
        ("component", "a-pipe"),
        ("component", "m"),
        ("component", "z-mon"),
        ("node_pool", "pool"),
    ]
    assert est.total_usd == 0.0
    assert est.to_dict() == estimate(spec, PRICING).to_dict()


def test_to_dict_and_top():
    spec = env(
        {"b": {"type": "object_store", "size_gb": 2000}, "api": {"type": "serving"}}, {"cpu": {"instance_type": "m6i.2xlarge", "min": 2}}
    )
    est = estimate(spec, PRICING)
    d = est.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["total_usd"] == 641.68  # 35.04 + 46.00 + 560.64
    assert [(i["component"], i["monthly_usd"]) for i in d["items"]] == [("api", 35.04), ("b", 46.0), ("cpu", 560.64)]
    assert [i.component for i in est.top(2)] == ["cpu", "b"]


# ---------------------------------------------------------------------------- unknown prices


def test_unknown_instance_type_names_the_pointer():
    spec = env(node_pools={"gpu-a100": {"instance_type": "p9.mega", "min": 1}})
    with pytest.raises(CostErrors) as err:
        estimate(spec, PRICING)
    (e,) = err.value.errors
    assert e.pointer == "/cluster/node_pools/gpu-a100/instance_type"
    assert '"p9.mega"' in e.message


def test_unknown_gpu_model_and_all_errors_collected():
    spec = env(
        {
            "train": {"type": "training_job", "gpus": {"type": "nvidia-b999", "count": 1}, "hours_per_month": 1},
            "db": {"type": "database", "instance_class": "db.x99.huge"},
            "api": {"type": "serving", "gpus": {"type": "nvidia-a10g", "count": 1}},
            "t2": {"type": "training_job", "gpus": {"type": "nvidia-t4", "count": 16}},
            "t3": {"type": "training_job", "gpus": {"type": "nvidia-h100", "count": 1}, "node_pool": "nope"},
        },
        {"bad": {"instance_type": "m99.large"}},
        provider="aws",
    )
    with pytest.raises(CostErrors) as err:
        estimate(spec, PRICING)
    assert [e.pointer for e in err.value.errors] == [
        "/cluster/node_pools/bad/instance_type",
        "/components/db/instance_class",
        "/components/t2/gpus/count",
        "/components/t3/node_pool",
        "/components/train/gpus/type",
    ]
    assert all(isinstance(e, UnknownPriceError) for e in err.value.errors)
    assert "nvidia-b999" in err.value.errors[-1].message


def test_gpu_model_known_but_not_offered_by_provider():
    spec = env({"api": {"type": "serving", "gpus": {"type": "nvidia-a10g", "count": 1}}}, provider="gcp")
    with pytest.raises(CostErrors) as err:
        estimate(spec, PRICING)
    assert [e.pointer for e in err.value.errors] == ["/components/api/gpus/type"]


def test_a_provider_without_pricing_data_is_an_unknown_price_at_cloud_provider():
    from compiler import providers

    class Unpriced(providers.Provider):
        name = "unpriced"

    providers.register(Unpriced())
    try:
        with pytest.raises(CostErrors) as err:
            estimate(env(provider="unpriced"), PRICING)
    finally:
        providers.unregister("unpriced")
    assert [(e.pointer, e.message) for e in err.value.errors] == [("/cloud/provider", 'no pricing data for cloud provider "unpriced"')]


def test_an_unregistered_provider_is_not_supported():
    from compiler.providers import NotSupportedError

    with pytest.raises(NotSupportedError, match='cloud provider "oracle" is not supported'):
        estimate(env(provider="oracle"), PRICING)


# ---------------------------------------------------------------------------- suggestions, budget


def test_suggestions():
    spec = env(
        {
            "train": {
                "type": "training_job",
                "gpus": {"type": "nvidia-a100", "count": 8},
                "nodes": 2,
                "hours_per_month": 100,
                "checkpoint_to": "ckpt",
            },
            "lake": {"type": "data_lake", "size_gb": 5000},
            "api": {"type": "serving", "replicas": {"min": 3, "max": 3}},
            "small": {"type": "object_store", "size_gb": 10},
        }
    )
    found = suggestions(spec, estimate(spec, PRICING), PRICING)
    # train: 4,391.5284 x 0.6 = 2,634.917 -> 2,634.92
    # lake: 115.00 - 5,000 x (30 x 0.023 + 60 x 0.0125 + 275 x 0.0036) / 365 = 115.00 - 33.287671 = 81.71
    # api: 3 x 0.048 x 730 = 105.12, x (3 - 2) / 3 = 35.04
    assert [(s.component, s.pointer, money(s.monthly_saving_usd)) for s in found] == [
        ("train", "/components/train/spot", Decimal("2634.92")),
        ("lake", "/components/lake/lifecycle", Decimal("81.71")),
        ("api", "/components/api/replicas/min", Decimal("35.04")),
    ]


def test_budget_gate():
    spec = env(node_pools={"cpu": {"instance_type": "m6i.2xlarge", "min": 2}})  # 560.64
    est = estimate(spec, PRICING)
    assert check_budget(spec, est).status == "none"
    assert check_budget({**spec, "budget": {"monthly_usd": 1000}}, est).status == "ok"
    assert check_budget({**spec, "budget": {"monthly_usd": 700}}, est).status == "warn"  # > 0.8 x 700 = 560
    assert check_budget({**spec, "budget": {"monthly_usd": 600, "warn_ratio": 0.95}}, est).status == "ok"
    assert check_budget({**spec, "budget": {"monthly_usd": 500}}, est).status == "over"
    assert check_budget({**spec, "budget": {"monthly_usd": 1000}}, est).message == (
        "estimated $560.64 per month is 56.06% of the $1,000.00 budget"
    )


# ---------------------------------------------------------------------------- rendering


def _est(*items: tuple[str, str, float], kind: str = "component") -> CostEstimate:
    return CostEstimate(sum(i[2] for i in items), tuple(CostItem(n, kind, t, a, "d") for n, t, a in items), "aws")


def test_render_delta_markdown_exact():
    base = {
        "prod": _est(("api", "serving", 100.0), ("train", "training_job", 1000.0)),
        "old": _est(("db", "database", 50.0)),
        "same": _est(("x", "object_store", 10.0)),
    }
    head = {
        "prod": _est(("api", "serving", 100.0), ("cache", "database", 49.995), ("train", "training_job", 1200.5)),
        "new": _est(("b", "object_store", 20.0)),
        "same": _est(("x", "object_store", 10.001)),
    }
    # base total 1,160.00; head 1,350.50 (prod: 100 + 50.00 + 1,200.50) + 20.00 + 10.00 = 1,380.50
    expected = """### mlc cost estimate

Monthly cost will increase by **$220.50** ($1,160.00 → $1,380.50).

| Environment | Base | Head | Change |
|---|---:|---:|---:|
| new (added) | – | $20.00 | +$20.00 |
| old (removed) | $50.00 | – | -$50.00 |
| prod | $1,100.00 | $1,350.50 | +$250.50 (+22.8%) |
| same | $10.00 | $10.00 | $0.00 |

#### new

| Item | Kind | Type | Base | Head | Change |
|---|---|---|---:|---:|---:|
| b (added) | component | object_store | – | $20.00 | +$20.00 |

#### old

| Item | Kind | Type | Base | Head | Change |
|---|---|---|---:|---:|---:|
| db (removed) | component | database | $50.00 | – | -$50.00 |

#### prod

| Item | Kind | Type | Base | Head | Change |
|---|---|---|---:|---:|---:|
| cache (added) | component | database | – | $50.00 | +$50.00 |
| train | component | training_job | $1,000.00 | $1,200.50 | +$200.50 (+20.1%) |

_1 unchanged item not shown._
"""
    assert render_delta_markdown(base, head) == expected


def test_delta_dict_and_type_change():
    base = {"prod": _est(("gpu", "g5.xlarge", 734.38), kind="node_pool")}
    head = {"prod": _est(("gpu", "g6.xlarge", 734.38), kind="node_pool")}
    d = delta_dict(base, head)
    assert d["total"] == {"base_usd": 734.38, "head_usd": 734.38, "delta_usd": 0.0}
    (c,) = d["environments"][0]["components"]
    assert (c["status"], c["base_type"], c["type"]) == ("changed", "g5.xlarge", "g6.xlarge")
    assert "| gpu | node_pool | g5\\.xlarge → g6\\.xlarge | $734.38 | $734.38 | $0.00 |" in render_delta_markdown(base, head)
    assert "Monthly cost will not change ($734.38 → $734.38)." in render_delta_markdown(base, head)
    assert json.loads(json.dumps(d)) == d


def test_render_table_and_markdown():
    est = _est(("api", "serving", 1234.5), ("b", "object_store", 0.125))
    assert render_table(est) == (
        "COMPONENT  KIND       TYPE          MONTHLY USD  DETAIL\n"
        "api        component  serving          1,234.50  d\n"
        "b          component  object_store         0.13  d\n"
        "-----------------------------------------------\n"
        "TOTAL                                  1,234.63\n"
    )
    assert render_markdown(est).splitlines()[-1] == "| **Total** | | | **$1,234.63** | |"
    assert "| b | component | object_store | $0.13 | d |" in render_markdown(est)


# ---------------------------------------------------------------------------- the data file


def _sections(doc: dict):
    for provider in ("aws", "gcp", "azure"):
        for name in ("instances", "spot_discounts", "databases", "object_storage"):
            yield f"{provider}.{name}", doc[provider][name], doc[provider][name]["rows"]
        yield f"{provider}.database_storage", doc[provider]["database_storage"], [doc[provider]["database_storage"]]


def test_every_price_has_source_and_as_of():
    doc = PRICING.document
    assert doc["hours_per_month"] == 730 and doc["regions_differentiated"] is False
    count = 0
    for where, section, rows in _sections(doc):
        defaults = section.get("defaults", {})
        for row in rows:
            merged = {**defaults, **row}
            label = f"{where}: {row.get('type') or row.get('class') or row.get('tier') or row.get('family') or 'storage'}"
            assert merged.get("source"), label
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(merged.get("as_of"))), label
            if merged.get("estimated"):
                assert merged.get("how") or merged.get("derived"), f"{label}: estimated without saying how"
            if "vcpu" in row:
                assert merged.get("spec_source") and merged.get("spec_as_of"), label
            count += 1
    assert count > 150


def test_instance_rows_are_consistent():
    for provider, prices in PRICING.providers.items():
        assert prices.cpu_reference in prices.instances
        for inst in prices.instances.values():
            assert inst.hourly > 0 and inst.vcpu > 0 and inst.memory_gib > 0, inst
            assert (inst.gpus > 0) == (inst.gpu_model is not None), inst
        for (cls, engine), hourly in prices.databases.items():
            assert hourly > 0 and engine in ("postgres", "mysql", "any"), (provider, cls)
        assert set(prices.lifecycle_tiers.values()) <= set(prices.object_tiers)
    models = {i.gpu_model for p in PRICING.providers.values() for i in p.instances.values()}
    for name, wanted in PRICING.gpu_models.items():
        assert set(wanted) <= models, name
    assert PRICING.providers["aws"].per_vcpu_hour() == pytest.approx(0.048)
    assert PRICING.providers["gcp"].per_vcpu_hour() == pytest.approx(0.048559)


def test_load_pricing_is_cached():
    assert load_pricing() is PRICING


# ---------------------------------------------------------------------------- placement, canaries, regions


def test_spot_spark_whose_only_spot_pool_is_a_gpu_pool_is_priced_on_demand_with_a_note():
    # GPU nodes are tainted: CPU pods never land there, so the executors run on the on-demand pool:
    # (1 + 2 x 1) vCPU x 100 h x 0.048 = 14.40, no discount
    spec = env(
        {"etl": {"type": "spark_job", "hours_per_month": 100, "spot": True}},
        {"cpu": {"instance_type": "m6i.2xlarge", "min": 1, "max": 3}, "gpu": {"instance_type": "g5.2xlarge", "max": 2, "spot": True}},
    )
    est = estimate(spec, PRICING)
    assert one(spec, "etl") == Decimal("14.40")
    assert est.notes == ("etl: spot requested, but may run on on-demand pool(s) cpu: priced on-demand",)
    spec["cluster"]["node_pools"].pop("cpu")  # no pool at all for CPU pods but the GPU one
    assert estimate(spec, PRICING).notes == ("etl: spot requested, but no spot pool can run it: priced on-demand",)


def test_gpu_job_with_spot_on_an_on_demand_pool_is_priced_on_demand():
    # spot: true only tolerates spot nodes; the pool is on-demand: 1 x 10 h x 1.212 = 12.12
    spec = env(
        {
            "t": {
                "type": "training_job",
                "gpus": {"type": "nvidia-a10g", "count": 1},
                "node_pool": "gpu",
                "hours_per_month": 10,
                "spot": True,
            }
        },
        {"gpu": {"instance_type": "g5.2xlarge", "max": 2}},
    )
    assert one(spec, "t") == Decimal("12.12")


def test_canary_pods_are_priced_all_month():
    # KServe runs <name>-stable and <name>-canary, each at replicas.min: 2 + 2 pods x 730 x 0.048 = 140.16
    # (image-based canaries are refused, MLC-E065)
    kserve = {"type": "serving", "model": {"from": "m", "path": "a"}, "runtime": "sklearn", "replicas": {"min": 2, "max": 4}}
    spec = env({"m": {"type": "object_store"}, "api": {**kserve, "canary": {"path": "b", "traffic_percent": 10}}})
    assert one(spec, "api") == Decimal("140.16")
    assert "2 replica(s) + 2 canary pod(s) x 730 h" in next(i.detail for i in estimate(spec, PRICING).items if i.component == "api")


def test_a_region_without_its_own_prices_is_priced_as_the_priced_region_and_says_so():
    spec = env({"etl": {"type": "spark_job", "hours_per_month": 100}}, region="eu-central-1")
    est = estimate(spec, PRICING)
    assert (est.region, est.priced_region) == ("eu-central-1", "us-east-1")
    assert est.notes == ("priced as us-east-1: the pricing data has no eu-central-1 prices",)
    doc = est.to_dict()
    assert (doc["region"], doc["priced_region"], doc["notes"]) == ("eu-central-1", "us-east-1", list(est.notes))
    assert render_table(est).endswith("note: priced as us-east-1: the pricing data has no eu-central-1 prices\n")
    assert render_markdown(est).endswith("_Note: priced as us-east-1\\: the pricing data has no eu-central-1 prices_\n")
    assert estimate(env({}, region="us-east-1"), PRICING).notes == ()


def test_region_prices_from_the_data_are_used(tmp_path):
    import yaml

    doc = dict(PRICING.document)
    doc["aws"] = {**doc["aws"], "region_prices": {"rows": [{"region": "eu-central-1", "type": "m6i.xlarge", "hourly": 0.23}]}}
    path = tmp_path / "pricing.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    pricing = load_pricing(path)
    # per vCPU-hour from the regional cpu reference: 0.23 / 4 = 0.0575; 3 vCPU x 100 h = 17.25
    est = estimate(env({"etl": {"type": "spark_job", "hours_per_month": 100}}, region="eu-central-1"), pricing)
    assert (est.priced_region, est.notes, float(est.items[0].rounded)) == ("eu-central-1", (), 17.25)


def test_no_python_none_in_any_rendering():
    spec = env(
        {"t": {"type": "training_job", "node_pool": "cpu", "hours_per_month": 10}},
        {"cpu": {"instance_type": "m6i.2xlarge", "min": 1, "max": 2}},
    )
    est = estimate(spec, PRICING)
    for text in (render_table(est), render_markdown(est), json.dumps(est.to_dict())):
        assert "None" not in text


def test_cost_and_diff_agree_to_the_cent():
    """`mlc diff` rounds like `mlc cost` (half up, via money()) and takes the change of the rounded
    amounts: 100.005 is $100.01 in both, never Python's binary-float "$100.00"."""
    from compiler.output.diffing import EnvDiff, _delta

    base, head = _est(("a", "object_store", 100.005)), _est(("a", "object_store", 200.0149))
    diff = EnvDiff("e", cost_before=money(base.total_usd), cost_after=money(head.total_usd))  # as diffing._total rounds
    assert _delta(diff) == "$100.01 → $200.01 (+$100.00)"
    delta = delta_dict({"e": base}, {"e": head})["environments"][0]
    assert (delta["base_usd"], delta["head_usd"], delta["delta_usd"]) == (100.01, 200.01, 100.0)
    assert "| e | $100.01 | $200.01 | +$100.00 (+100.0%) |" in render_delta_markdown({"e": base}, {"e": head})
    # a change below half a cent is no cost change for either command
    assert EnvDiff("e", cost_before=money(10.001), cost_after=money(10.004)).empty
