"""Kubernetes objects of a feature store (Feast operator v0.66, feast.dev/v1):

  FeatureStore            feastProject; offline store = duckdb over the files of the offline
                          data lake (the feature repository's sources name them); online store
                          = Redis, its connection from the Secret below; registry = the file
                          feast/<name>/registry.db in the offline lake
  ExternalSecret          <name>-online-store from the secret manager entry
                          mlc/<env>/<name>/online-store (property connection_string: the Redis
                          host:port,ssl=true,password=<AUTH token>), rendered into the key the
                          operator reads (`redis`: Feast's online_store settings) and into
                          FEAST_REDIS_CONNECTION_STRING for the materialisation
  ConfigMap               <name>-feast: the feature_store.yaml the materialisation runs with
  ServiceAccount          <name>: the materialisation's identity (offline read, registry
                          read/write, online write; terraform/store-<name>.tf.json)
  NetworkPolicy           <name> (the materialisation pods): egress 443 (object store, KMS,
                          STS), the provider's identity endpoints, and Redis on the provider's
                          TLS port (6379; Azure Cache: 6380)

The materialisation itself is a CronWorkflow (argo/) creating `materialize_job`.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import feature_store as fs
from compiler.model.kinds.feature_store import feast_project, offline_lake, registry_prefix
from compiler.output.serialize import dump_yaml
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c

API_VERSION = "feast.dev/v1"
CONFIG_PATH = "/etc/feast"
CONNECTION_ENV = "FEAST_REDIS_CONNECTION_STRING"
SECRET_REFRESH = "1h"


def online_secret(store: Component) -> str:
    return naming.bounded(f"{store.name}-online-store", 253)


def config_map_name(store: Component) -> str:
    return naming.bounded(f"{store.name}-feast", 253)


def remote_secret_key(compiled: Compiled, store: Component) -> str:
    """Secret manager entry holding the online store's connection (written by whoever sets the AUTH
    token), named as the provider's secret store allows (Key Vault: mlc-<env>-<name>-online-store)."""
    from compiler.providers.registry import provider_of

    return provider_of(compiled.env).secret_entry(f"mlc/{compiled.env.name}/{store.name}/online-store")


def registry_uri(compiled: Compiled, store: Component) -> str:
    lake = compiled.env.components[offline_lake(store)]
    return naming.store_uri(compiled.env, lake, f"{registry_prefix(store)}/registry.db")


def feature_store_yaml(compiled: Compiled, store: Component) -> str:
    """feature_store.yaml of the materialisation (Feast expands ${VAR} from the environment)."""
    config = {
        "project": feast_project(store),
        "provider": "local",
        "registry": {"registry_type": "file", "path": registry_uri(compiled, store), "cache_ttl_seconds": 60},
        "offline_store": {"type": "duckdb"},
        "online_store": {"type": "redis", "connection_string": "${" + CONNECTION_ENV + "}"},
        "entity_key_serialization_version": 3,
    }
    return dump_yaml(config)


def feature_store_object(compiled: Compiled, store: Component) -> dict[str, Any]:
    spec = {
        "feastProject": feast_project(store),
        "services": {
            "offlineStore": {"persistence": {"file": {"type": "duckdb"}}},
            "onlineStore": {"persistence": {"store": {"type": "redis", "secretRef": {"name": online_secret(store)}}}},
            "registry": {"local": {"persistence": {"file": {"path": registry_uri(compiled, store)}}}},
        },
    }
    return c.k8s_object(API_VERSION, "FeatureStore", c.metadata(compiled, "FeatureStore", store.name, store), spec=spec)


def external_secret(compiled: Compiled, store: Component) -> dict[str, Any]:
    name = online_secret(store)
    spec = {
        "refreshInterval": SECRET_REFRESH,
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": naming.secret_store(compiled.env)},
        "target": {
            "name": name,
            "creationPolicy": "Owner",
            "template": {
                "data": {
                    "redis": "connection_string: {{ .connection_string }}",  # the operator's online store settings
                    CONNECTION_ENV: "{{ .connection_string }}",
                }
            },
        },
        "data": [
            {
                "secretKey": "connection_string",
                "remoteRef": {"key": remote_secret_key(compiled, store), "property": "connection_string"},
            }
        ],
    }
    return c.k8s_object("external-secrets.io/v1", "ExternalSecret", c.metadata(compiled, "ExternalSecret", name, store), spec=spec)


def config_map(compiled: Compiled, store: Component) -> dict[str, Any]:
    meta = c.metadata(compiled, "ConfigMap", config_map_name(store), store)
    return c.k8s_object("v1", "ConfigMap", meta, data={"feature_store.yaml": feature_store_yaml(compiled, store)})


def materializer_view(store: Component) -> Component:
    """The materialisation as a workload-shaped view of the feature store (image, command,
    resources, deadline) for the shared pod-building code."""
    materialize = fs.materialize(store)
    spec = {
        "labels": store.get("labels") or {},
        "classification": store.spec["classification"],
        "image": materialize["image"],
        "command": ["feast", "-f", f"{CONFIG_PATH}/feature_store.yaml", "materialize-incremental"],
        "resources": materialize.get("resources") or {},
        "max_runtime_hours": materialize["max_runtime_hours"],
        "schedule": materialize["schedule"],
    }
    return Component(store.name, store.type, spec)


def materialize_job(compiled: Compiled, store: Component) -> dict[str, Any]:
    """The batch/v1 Job one materialisation run creates: `feast materialize-incremental <now>`
    with the feature store's identity, its feature_store.yaml and the Redis connection."""
    from compiler.targets.kubernetes.workloads import build_job

    job = build_job(compiled, materializer_view(store))
    pod = job["spec"]["template"]["spec"]
    main = pod["containers"][0]
    # Argo substitutes the run's start time: everything up to it is materialised
    main["args"] = ["{{workflow.creationTimestamp.RFC3339}}"]
    secret = {"secretKeyRef": {"name": online_secret(store), "key": CONNECTION_ENV}}
    main["env"] = sorted([*main.get("env", []), {"name": CONNECTION_ENV, "valueFrom": secret}], key=lambda e: e["name"])
    main["volumeMounts"] = [*main["volumeMounts"], {"name": "feast-config", "mountPath": CONFIG_PATH, "readOnly": True}]
    pod["volumes"] = [*pod["volumes"], {"name": "feast-config", "configMap": {"name": config_map_name(store)}}]
    return job


def emit_feature_store(compiled: Compiled, store: Component) -> list[dict[str, Any]]:
    from compiler.targets.kubernetes.base import service_account
    from compiler.targets.kubernetes.network import feature_store_policy

    return [
        feature_store_object(compiled, store),
        external_secret(compiled, store),
        config_map(compiled, store),
        service_account(compiled, store, api=False),
        feature_store_policy(compiled, store),
    ]
