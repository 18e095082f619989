"""out/_platform/<cluster>/: the platform under the output (SPEC v1.1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from compiler.cli import main
from tests.support.helpers import REPO, make_project
from tests.support.validators import validate_k8s_object
from tests.targets.kubernetes.test_runtime import env_with

OUT = REPO / "out"
PINNED = re.compile(r"^v?\d+\.\d+\.\d+$")
SECRET_ENV = """
models: {type: object_store}
api:
  type: serving
  model: {from: models, path: m}
  runtime: sklearn
  env: {TOKEN: {secret: "team/api#token"}}
"""


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_platform_object_validates_and_every_source_is_pinned():
    files = sorted((OUT / "_platform").rglob("*.yaml"))
    assert len(files) > 40
    for path in files:
        obj = _load(path)
        if obj["kind"] == "KnativeServing":  # operator.knative.dev CRD not vendored: shape checked below
            assert set(obj["spec"]) == {"version", "config", "ingress"} and PINNED.match(obj["spec"]["version"])
            continue
        assert validate_k8s_object(obj) == [], path
        if obj["kind"] == "Application":
            for source in obj["spec"].get("sources") or [obj["spec"]["source"]]:
                if "chart" in source or source["repoURL"].startswith("https://github.com/kubeflow"):
                    assert PINNED.match(source["targetRevision"]), (path, source["targetRevision"])


def test_root_orders_platform_before_environments():
    for cluster_dir in sorted(p for p in (OUT / "_platform").iterdir() if p.is_dir()):
        root = _load(cluster_dir / "root.yaml")
        paths = [s["path"] for s in root["spec"]["sources"]]
        assert paths[0] == f"out/_platform/{cluster_dir.name}/apps"
        envs = [p.split("/")[1] for p in paths[1:]]
        assert envs
        platform_waves = [
            int(_load(p)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for p in (cluster_dir / "apps").glob("*.yaml")
        ]
        env_waves = [
            int(_load(p)["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
            for e in envs
            for p in (OUT / e / "argocd").glob("*.yaml")
        ]
        assert max(platform_waves) < min(env_waves)


def test_prometheus_selects_mlc_monitors_in_the_namespace_the_network_policies_admit():
    app = _load(OUT / "_platform" / "ml-prod" / "apps" / "application-ml-prod-kube-prometheus-stack.yaml")
    spec = app["spec"]["source"]["helm"]["valuesObject"]["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule"):
        assert spec[f"{kind}SelectorNilUsesHelmValues"] is False and spec[f"{kind}NamespaceSelector"] == {}
    assert app["spec"]["destination"]["namespace"] == "monitoring"
    scrape = _load(OUT / "prod" / "kubernetes" / "networkpolicy-ranker-monitoring-scrape-ranker.yaml")
    assert scrape["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}


def test_cluster_secret_store_matches_what_external_secrets_read():
    store = _load(OUT / "_platform" / "ml-prod" / "manifests" / "clustersecretstore-mlc-aws.yaml")
    assert store["spec"]["provider"] == {"aws": {"service": "SecretsManager", "region": "eu-central-1"}}
    external = _load(OUT / "prod" / "kubernetes" / "externalsecret-feature-etl-env.yaml")
    assert external["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": store["metadata"]["name"]}
    gcp = _load(OUT / "_platform" / "research-gke" / "manifests" / "clustersecretstore-mlc-gcp.yaml")
    assert gcp["spec"]["provider"] == {"gcpsm": {"projectID": "ml-research-4711"}}


def test_only_the_controllers_in_use_are_installed(tmp_path, capsys):
    make_project(tmp_path, {"e1": env_with("e1", "models: {type: object_store}\n")})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0, capsys.readouterr().err
    apps = sorted(p.name for p in (tmp_path / "out" / "_platform" / "c1" / "apps").iterdir())
    assert apps == ["appproject-c1-platform.yaml"]


def test_two_environments_on_one_cluster_must_agree(tmp_path, capsys):
    files = {"a": env_with("a", SECRET_ENV), "b": env_with("b", SECRET_ENV, region="eu-central-1")}
    make_project(tmp_path, files)
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert (
        'environments/b.yaml:4:32: error MLC-E035: environments "a" and "b" share the cluster "c1" but disagree on region '
        "('eu-west-1' vs 'eu-central-1'); one cluster has one platform"
    ) in err
    out = tmp_path / "out"
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]  # nothing written


def test_environments_on_one_cluster_share_one_platform(tmp_path, capsys):
    make_project(tmp_path, {"a": env_with("a", SECRET_ENV), "b": env_with("b", SECRET_ENV)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0, capsys.readouterr().err
    root = _load(tmp_path / "out" / "_platform" / "c1" / "root.yaml")
    assert [s["path"] for s in root["spec"]["sources"]] == ["out/_platform/c1/apps", "out/a/argocd", "out/b/argocd"]
    # compiling one environment keeps the other's needs (read back from out/b/platform.json)
    assert main(["compile", "--project", str(tmp_path), "a", "--no-cache"]) == 0
    assert _load(tmp_path / "out" / "_platform" / "c1" / "root.yaml") == root
    assert main(["compile", "--project", str(tmp_path), "--check"]) == 0
    # a drifted platform file is found by --check, and repaired by compile
    (tmp_path / "out" / "_platform" / "c1" / "root.yaml").write_text("{}\n")
    assert main(["compile", "--project", str(tmp_path), "--check"]) == 1
    assert main(["compile", "--project", str(tmp_path)]) == 0
    assert _load(tmp_path / "out" / "_platform" / "c1" / "root.yaml") == root


def test_unmanaged_platform_lists_its_requirements(tmp_path, capsys):
    unmanaged = env_with("e1", SECRET_ENV).replace("  name: c1\n", "  name: c1\n  platform: {manage: false}\n")
    make_project(tmp_path, {"e1": unmanaged})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0, capsys.readouterr().err
    cluster = tmp_path / "out" / "_platform" / "c1"
    assert sorted(p.name for p in cluster.iterdir()) == ["REQUIREMENTS.md"]
    text = (cluster / "REQUIREMENTS.md").read_text()
    for needed in ("kserve-resources", "external-secrets", "kubernetes.podspec-securitycontext: enabled", "SecretsManager", "argocd-cm"):
        assert needed in text


def test_platform_dir_is_not_pruned_as_a_stale_environment(tmp_path, capsys):
    make_project(tmp_path, {"e1": env_with("e1", SECRET_ENV)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    assert (tmp_path / "out" / "_platform" / "c1" / "root.yaml").is_file()
    (tmp_path / "environments" / "e1.yaml").unlink()
    (tmp_path / "environments" / "e2.yaml").write_text(env_with("e2", "models: {type: object_store}\n").replace("name: c1", "name: c2"))
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out" / "_platform").iterdir() if not p.name.startswith(".")) == ["c2"]


def test_diff_shows_platform_changes(tmp_path, capsys):
    from tests.output.test_gitops import git

    make_project(tmp_path, {"e1": env_with("e1", "models: {type: object_store}\n")})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "environments" / "e1.yaml").write_text(env_with("e1", SECRET_ENV))
    capsys.readouterr()
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("== e1: ")
    at = lines.index("== _platform: 12 added, 1 changed, 0 removed; cost — → —")  # last: it follows from the environments
    assert lines[at + 1] == "  c1:"  # platform files are grouped by cluster
    assert "    added c1/apps/application-c1-kserve-resources.yaml" in lines
    assert "    added c1/manifests/knativeserving-knative-serving.yaml" in lines
    assert "    changed c1/apps/appproject-c1-platform.yaml" in lines
    assert "+++ b/out/_platform/c1/manifests/clustersecretstore-mlc-aws.yaml" in lines
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD", "--format", "markdown"]) == 0
    assert "| `_platform` | changed | +12 ~1 -0 | — → — | 0 / 0 | 0 |" in capsys.readouterr().out.splitlines()
    # environments that disagree about their cluster: the platform side says so, the diff still runs
    (tmp_path / "environments" / "e2.yaml").write_text(env_with("e2", SECRET_ENV, region="eu-central-1"))
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 2  # as `mlc compile` would fail (MLC-E035)
    assert "   note: head: invalid input (1 problem(s))" in capsys.readouterr().out.split("== _platform")[1]


def test_diff_platform_counts_the_unchanged_environments_on_the_cluster(tmp_path, capsys):
    """Only the changed environment is compiled, but out/_platform is the union over its cluster:
    `a` starts serving with KServe, which the unchanged `b` on its cluster already needs, so the
    platform does not change (counting `a` alone, KServe's Applications would show as added).
    `b`'s needs come from its platform.json in out/, or from compiling it when out/ has none."""
    from tests.output.test_gitops import git

    make_project(tmp_path, {"a": env_with("a", "models: {type: object_store}\n"), "b": env_with("b", SECRET_ENV)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "environments" / "a.yaml").write_text(env_with("a", SECRET_ENV))
    for recorded in (True, False):
        if not recorded:
            (tmp_path / "out" / "b" / "platform.json").unlink()
        capsys.readouterr()
        assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0
        text = capsys.readouterr().out
        assert text.startswith("== a: ") and "\n== b" not in text
        assert "== _platform" not in text, recorded
    # without b, the same change adds KServe to the platform
    (tmp_path / "environments" / "b.yaml").unlink()
    git(tmp_path, "rm", "-q", "--cached", "environments/b.yaml")
    git(tmp_path, "commit", "-qm", "no b")
    capsys.readouterr()
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0
    assert "    added c1/apps/application-c1-kserve-resources.yaml" in capsys.readouterr().out.splitlines()


def test_conflict_is_found_against_out_whichever_environments_compile(tmp_path, capsys):
    make_project(tmp_path, {"a": env_with("a", SECRET_ENV), "b": env_with("b", SECRET_ENV)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    (tmp_path / "environments" / "a.yaml").write_text(env_with("a", SECRET_ENV, region="eu-central-1"))
    expected = (
        'environments/a.yaml:4:32: error MLC-E035: environments "b" and "a" share the cluster "c1" but disagree on region '
        "('eu-west-1' vs 'eu-central-1'); one cluster has one platform"
    )
    capsys.readouterr()
    # a alone (b from out/), both compiled (out/ recorded b's value), with the cache, and --check: always at a
    for argv in (["a"], ["--no-cache"], [], ["a", "--check"], ["--check"]):
        assert main(["compile", "--project", str(tmp_path), *argv]) == 2, argv
        err = [line for line in capsys.readouterr().err.splitlines() if "MLC-E035" in line]
        assert err == [expected], argv
    assert '"region": "eu-west-1"' in (tmp_path / "out" / "a" / "platform.json").read_text()  # nothing written
    # a new environment on the cluster, compiled alone, is compared with both in out/
    (tmp_path / "environments" / "a.yaml").write_text(env_with("a", SECRET_ENV))
    other = env_with("c", SECRET_ENV).replace('account: "123456789012"', 'account: "210987654321"')
    (tmp_path / "environments" / "c.yaml").write_text(other)
    assert main(["compile", "--project", str(tmp_path), "c"]) == 2
    err = capsys.readouterr().err
    assert (
        'environments/c.yaml:4:52: error MLC-E035: environments "a" and "c" share the cluster "c1" but disagree on account '
        "('123456789012' vs '210987654321'); one cluster has one platform"
    ) in err


def test_a_malformed_platform_json_in_out_is_not_trusted(tmp_path, capsys):
    make_project(tmp_path, {"a": env_with("a", SECRET_ENV), "b": env_with("b", SECRET_ENV)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    needs = tmp_path / "out" / "b" / "platform.json"
    for text in ('{"cluster": "c1", "settings": 5}', '{"cluster": ["c1"], "settings": {}}', "[]", "{"):
        needs.write_text(text)
        assert main(["compile", "--project", str(tmp_path), "a", "--no-cache"]) == 0, text  # no traceback
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0  # b compiled again: its needs are back
    root = _load(tmp_path / "out" / "_platform" / "c1" / "root.yaml")
    assert [s["path"] for s in root["spec"]["sources"]] == ["out/_platform/c1/apps", "out/a/argocd", "out/b/argocd"]


def _azure_env(name: str) -> str:
    return (
        "apiVersion: mlc/v1\nkind: Environment\n"
        f"metadata: {{name: {name}}}\n"
        'cloud: {provider: azure, region: swedencentral, subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590", resource_group: rg-a}\n'
        "cluster:\n  name: aks-shared\n  node_pools:\n    cpu: {instance_type: Standard_D4s_v5, min: 1, max: 3}\n"
        'gitops: {repo: "https://git.example.com/ml/platform.git"}\n'
        "budget: {monthly_usd: 1000}\n"
        "components:\n  raw: {type: object_store, classification: internal}\n"
    )


def test_azure_environments_sharing_a_cluster_conflict_on_the_key_vault_at_the_cluster_name(tmp_path, capsys):
    """The ClusterSecretStore reads one Key Vault and each Azure environment has its own, so two
    Azure environments on one cluster are an input error at the second's cluster name (was an
    internal error: the provider's own setting had no spec location)."""
    make_project(tmp_path, {"a": _azure_env("a"), "b": _azure_env("b")})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"environments/b\.yaml:6:9: error MLC-E035: environments \"a\" and \"b\" share the cluster \"aks-shared\" but disagree "
        r"on key_vault \('kv-[a-z0-9-]+' vs 'kv-[a-z0-9-]+'\); one cluster has one platform\n1 problem found; nothing was written\n",
        err,
    ), err
    # one Azure environment alone compiles, and its platform.json (with key_vault) is read back as well formed
    make_project(tmp_path, {"a": _azure_env("a")})
    (tmp_path / "environments" / "b.yaml").unlink()
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0, capsys.readouterr().err
    from compiler.targets.platform.needs import well_formed

    assert well_formed(json.loads((tmp_path / "out" / "a" / "platform.json").read_text()))


def test_diff_reads_an_unchanged_environments_platform_json_from_out_but_never_through_a_symlink(tmp_path, capsys):
    """Guards _recorded_needs' `not path.is_file() or path.is_symlink()`: the needs of an
    unchanged environment come from its platform.json in out/ (it is not compiled again), and a
    platform.json that is a symlink is not read (its target may be outside out/): the
    environment is compiled instead. out/b records KServe (b served a model when out/ was
    compiled) while b's committed spec no longer does; `a` starts serving with KServe."""
    from tests.output.test_gitops import git

    make_project(tmp_path, {"a": env_with("a", "models: {type: object_store}\n"), "b": env_with("b", SECRET_ENV)})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    (tmp_path / "environments" / "b.yaml").write_text(env_with("b", "models: {type: object_store}\n"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "environments" / "a.yaml").write_text(env_with("a", SECRET_ENV))
    kserve = "    added c1/apps/application-c1-kserve-resources.yaml"
    capsys.readouterr()
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("== a: ") and "== _platform" not in text  # b's recorded needs already hold KServe
    needs = tmp_path / "out" / "b" / "platform.json"
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes(needs.read_bytes())
    needs.unlink()
    needs.symlink_to(outside)
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0
    assert kserve in capsys.readouterr().out.splitlines()  # b compiled from its spec: no KServe before a's change
    needs.unlink()
    for malformed in ("{", '{"cluster": "c1", "settings": 5}'):  # not JSON, not shaped as mlc writes it: compiled instead
        needs.write_text(malformed)
        assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0, malformed
        assert kserve in capsys.readouterr().out.splitlines(), malformed


def test_diff_keeps_the_base_platform_of_an_environment_the_head_side_blocks(tmp_path, capsys):
    """Guards diff_against_base: an environment whose head side is blocked writes nothing, so
    its platform needs stay the base's (KServe, which its head spec would add, is not shown as
    added to out/_platform); a new environment that is blocked adds no needs at all."""
    from tests.output.test_gitops import git

    make_project(tmp_path, {"e1": env_with("e1", "models: {type: object_store}\n")})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    blocked = SECRET_ENV + "data: {type: object_store, classification: pii, public: true}\n"
    kserve = "    added c1/apps/application-c1-kserve-resources.yaml"
    capsys.readouterr()
    for env in ("e1", "e2"):  # changed, then new
        (tmp_path / "environments" / f"{env}.yaml").write_text(env_with(env, blocked))
        assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 1, env
        text = capsys.readouterr().out
        assert f"== {env}: BLOCKED; " in text and "== _platform" not in text, env
        (tmp_path / "environments" / f"{env}.yaml").write_text(env_with(env, SECRET_ENV))
        assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0, env
        assert kserve in capsys.readouterr().out.splitlines(), env  # not blocked: the same change adds KServe
        (tmp_path / "environments" / "e1.yaml").write_text(env_with("e1", "models: {type: object_store}\n"))  # back to base
        (tmp_path / "environments" / "e2.yaml").unlink(missing_ok=True)


def test_diff_has_no_platform_section_when_the_changed_environments_needs_are_equal(tmp_path, capsys):
    """Guards platform_diff's early return: the _platform section follows only from needs that
    differ between the sides. Here out/b/platform.json records another region than a's (a
    conflict `mlc compile` would report), but a's change leaves its needs as they were, so the
    diff shows a's change alone and succeeds."""
    from tests.output.test_gitops import git

    make_project(tmp_path, {"a": env_with("a", "models: {type: object_store}\n"), "b": env_with("b", "models: {type: object_store}\n")})
    assert main(["compile", "--project", str(tmp_path), "--no-cache"]) == 0
    recorded = tmp_path / "out" / "b" / "platform.json"
    assert '"region": "eu-west-1"' in recorded.read_text()
    recorded.write_text(recorded.read_text().replace('"region": "eu-west-1"', '"region": "eu-central-1"'))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "environments" / "a.yaml").write_text(env_with("a", "models: {type: object_store}\nmore: {type: object_store}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(tmp_path), "--base", "HEAD"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("== a: ") and "== _platform" not in text
