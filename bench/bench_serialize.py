"""Benchmark compiler.output.serialize against PyYAML's C dumper and the stdlib json module.

Run: .venv/bin/python bench/bench_serialize.py [--quick]

Every contender is timed in the same process, interleaved, best of several repeats, on:
  * one Deployment-like object (~60 YAML lines), dumped many times (warm string cache);
  * the same object with the string cache cleared before every dump (cold cache);
  * a list of N distinct Deployments dumped one per call (what the compiler does when it
    writes one file per object; names, images, env values differ per object);
  * that list dumped as a single document.
Ratios are relative to yaml.dump(..., Dumper=yaml.CSafeDumper).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compiler.output import serialize  # noqa: E402
from compiler.output.serialize import dump_json, dump_yaml  # noqa: E402


def deployment(i: int) -> dict:
    name = f"trainer-{i}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "ml-platform", "team": f"team-{i % 7}"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "ml-prod",
            "labels": dict(labels, **{"app.kubernetes.io/version": f"1.{i % 30}"}),
            "annotations": {"argocd.argoproj.io/sync-wave": str(i % 5), "mlc.dev/source": f"environments/prod.yaml#/services/{i}"},
        },
        "spec": {
            "replicas": 1 + i % 4,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": dict(labels)},  # copies: PyYAML would emit &anchors for shared dicts
            "template": {
                "metadata": {"labels": dict(labels), "annotations": {"prometheus.io/scrape": "true"}},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [
                        {
                            "name": "main",
                            "image": f"registry.example.com/ml/{name}:sha-{i * 7919:012x}",
                            "args": ["--port=8080", f"--model=s3://models/{name}/v{i % 9}", "--batch-size", str(32 * (1 + i % 4))],
                            "env": [
                                {"name": "MODEL_NAME", "value": name},
                                {"name": "LOG_LEVEL", "value": "info"},
                                {"name": "WORKERS", "value": str(1 + i % 8)},
                                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            ],
                            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": f"{250 + 50 * (i % 4)}m", "memory": "512Mi"},
                                "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": i % 2},
                            },
                            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10.0},
                            "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
                        }
                    ],
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                },
            },
        },
    }


def cyaml(obj):
    return yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def json_indent(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def json_compact(obj):
    return json.dumps(obj, ensure_ascii=False)


def dump_yaml_cold(obj):
    serialize._str_cache.clear()
    return dump_yaml(obj)


def timeit(fn, arg, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn(arg)
    return (time.perf_counter() - t0) / number


def timeit_each(fn, items) -> float:
    t0 = time.perf_counter()
    for it in items:
        fn(it)
    return (time.perf_counter() - t0) / len(items)


def run_case(title: str, contenders, measure, repeats: int) -> None:
    best = {name: float("inf") for name, _ in contenders}
    for _ in range(repeats):  # interleaved so that drift affects everyone alike
        for name, fn in contenders:
            best[name] = min(best[name], measure(fn))
    base = best["yaml CSafeDumper"]
    print(f"\n{title}")
    print(f"  {'contender':<28}{'per object':>14}{'vs CSafeDumper':>17}")
    for name, _ in contenders:
        t = best[name]
        print(f"  {name:<28}{t * 1e6:>11.1f} µs{t / base:>16.3f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-n", type=int, default=1000, help="number of distinct objects in the large list")
    args = ap.parse_args()
    repeats = 3 if args.quick else 7
    number = 100 if args.quick else 500

    one = deployment(1)
    many = [deployment(i) for i in range(args.n)]
    lines = dump_yaml(one).count("\n")
    assert yaml.safe_load(dump_yaml(one)) == one
    assert yaml.safe_load(cyaml(one)) == one
    assert dump_json(one) == json_indent(one)

    print(f"python {sys.version.split()[0]}, PyYAML {yaml.__version__} (libyaml: {yaml.__with_libyaml__})")
    import json.encoder as je

    print(
        f"json C accelerators: c_make_encoder={je.c_make_encoder is not None}, "
        f"encode_basestring is C: {type(je.encode_basestring).__name__ == 'builtin_function_or_method'}"
    )
    print("  (json.dumps uses the C encoder only when indent is None; indent=2 runs the pure-Python iterencode)")
    print(f"Deployment-like object: {lines} YAML lines, {len(dump_yaml(one))} bytes; list: {args.n} distinct objects")

    contenders = [
        ("yaml CSafeDumper", cyaml),
        ("dump_yaml", dump_yaml),
        ("dump_yaml (cold cache)", dump_yaml_cold),
        ("dump_json", dump_json),
        ("json.dumps indent=2", json_indent),
        ("json.dumps compact (C)", json_compact),
    ]
    run_case("single object, dumped repeatedly", contenders, lambda fn: timeit(fn, one, number), repeats)

    def each(fn):
        if fn is dump_yaml or fn is dump_json:
            serialize._str_cache.clear()
            serialize._json_cache.clear()
        return timeit_each(fn, many)

    contenders_many = [c for c in contenders if c[1] is not dump_yaml_cold]
    run_case(f"{args.n} distinct objects, one dump per object (string cache cleared before each pass)", contenders_many, each, repeats)

    def whole(fn):
        if fn is dump_yaml or fn is dump_json:
            serialize._str_cache.clear()
            serialize._json_cache.clear()
        return timeit(fn, many, 1) / len(many)

    run_case(f"one document holding the list of {args.n} objects (per object)", contenders_many, whole, repeats)


if __name__ == "__main__":
    main()
