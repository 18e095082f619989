"""Helpers for the Terraform emitter tests: compile without the cost stage, index the
emitted documents, read policies."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from compiler.analysis.graph import build_graph
from compiler.plan.compiled import Compiled, plan
from tests.support.helpers import aws_env, example_environments, load_env  # noqa: F401  (re-exported)


def compile_env(env) -> Compiled:
    """The plan of a resolved environment (graph, grants, cost, facts), without the other
    validation checks."""
    return plan(env, build_graph(env))


def emit(compiled: Compiled):
    from compiler.targets.terraform.emitter import emit_terraform

    return emit_terraform(compiled)


TF_PROVIDERS = {"aws": "aws", "gcp": "google", "azure": "azurerm"}  # cloud.provider -> Terraform provider


def tf_provider(compiled: Compiled) -> str:
    return TF_PROVIDERS[compiled.env.provider]


def files_of(artifacts) -> dict[str, dict[str, Any]]:
    """{file name: document} of the terraform/ artifacts."""
    return {a.path.split("/", 1)[1]: a.content for a in artifacts if a.path.startswith("terraform/")}


def resources(files: dict[str, dict[str, Any]], rtype: str | None = None) -> dict[str, dict[str, Any]]:
    """{"<type>.<name>": body} over all files (optionally of one type)."""
    out = {}
    for doc in files.values():
        for t, named in (doc.get("resource") or {}).items():
            if rtype is None or t == rtype:
                for name, body in named.items():
                    out[f"{t}.{name}"] = body
    return out


def with_spec(env, mutate):
    """A copy of a resolved Environment whose spec `mutate(spec)` changed (bypasses the schema)."""
    spec = copy.deepcopy(env.spec)
    mutate(spec)
    return dataclasses.replace(env, spec=spec)


def write_tree(artifacts, root: Path) -> Path:
    for a in artifacts:
        path = root / a.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(a.content, indent=2) + "\n", encoding="utf-8")
    return root / "terraform"


SYNTHETIC_AWS_COMPONENTS = """
lake:
  type: data_lake
  classification: pii
  catalog: false
  versioning: false
  lifecycle: {archive_after_days: 120}
open-data:
  type: object_store
  classification: public
  public: true
scratch:
  type: object_store
results:
  type: object_store
  versioning: false
  lifecycle: {infrequent_after_days: 30, expire_after_days: 60}
orders-db:
  type: database
  engine: mysql
  version: "8.0"
  instance_class: db.t3.small
  multi_az: true
  backup_retention_days: 3
reader:
  type: batch_inference
  image: registry.example.com/x/r:1.0
  model: {from: open-data}
  reads: [lake, orders-db]
  writes: [results]
writer:
  type: spark_job
  image: registry.example.com/x/w:1.0
  main: local:///app/w.py
  reads: [scratch]
  writes: [lake, scratch, orders-db]
idle:
  type: serving
  image: registry.example.com/x/s:1.0
  model: {from: open-data}
loner:
  type: training_job
  image: registry.example.com/x/t:1.0
"""

SYNTHETIC_AWS_HEADER = """apiVersion: mlc/v1
kind: Environment
metadata:
  name: synth
  labels: {team: ml, cost-center: cc-9}
cloud: {provider: aws, region: us-east-1, account: "210987654321"}
cluster:
  name: c1
  namespace: team-ns
  node_pools:
    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
    gpu: {instance_type: p5.48xlarge, min: 0, max: 2, spot: true}
    cheap: {instance_type: c6i.large, max: 5, spot: true}
    neuron: {instance_type: inf2.xlarge, max: 1}
gitops: {repo: "https://git.example.com/ml/platform.git"}
budget: {monthly_usd: 1234.5, warn_ratio: 0.85}
"""


def synthetic_aws_text() -> str:
    import textwrap

    body = textwrap.dedent(SYNTHETIC_AWS_COMPONENTS).strip("\n")
    return SYNTHETIC_AWS_HEADER + "components:\n" + "\n".join("  " + line for line in body.splitlines()) + "\n"


SYNTHETIC_GCP = """apiVersion: mlc/v1
kind: Environment
metadata:
  name: lab
  labels: {team: Research, cost-center: cc-1}
cloud: {provider: gcp, region: europe-west4, account: lab-project-1}
cluster:
  name: lab-gke
  node_pools:
    cpu: {instance_type: n2-standard-8, min: 1, max: 3}
    l4: {instance_type: g2-standard-8, max: 2, spot: true}
    h100: {instance_type: a3-highgpu-8g, max: 1}
gitops: {repo: "https://git.example.com/ml/platform.git"}
budget: {monthly_usd: 1234.56, warn_ratio: 0.9}
components:
  secrets:
    type: object_store
    classification: pii
  lake:
    type: data_lake
    lifecycle: {infrequent_after_days: 30, archive_after_days: 365, expire_after_days: 900}
  pg:
    type: database
    instance_class: db-custom-2-7680
    multi_az: true
  my:
    type: database
    engine: mysql
    version: "8.0"
    instance_class: db-custom-1-3840
    backup_retention_days: 0
  etl:
    type: spark_job
    image: registry.example.com/x/e:1.0
    main: local:///app/e.py
    reads: [secrets, pg]
    writes: [lake, my]
  serve:
    type: serving
    image: registry.example.com/x/s:1.0
    model: {from: lake}
  lonely:
    type: training_job
    image: registry.example.com/x/t:1.0
"""
