"""The dependency graph: typed edges, reference errors, order, lineage, renderers (issue 3)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.analysis.graph import Edge, build_graph
from compiler.cli import main
from compiler.core.diagnostics import InputError
from tests.support.helpers import aws_env, example_environments, load_env

IMG = "reg.example.com/x/y:1@sha256:" + "a" * 64

STORES = """
raw: {type: object_store}
lake: {type: data_lake}
db: {type: database, instance_class: db.t3.small}
"""


def graph_of(tmp_path: Path, components: str):
    return build_graph(load_env(tmp_path, {"e1": aws_env("e1", STORES + components)}, "e1"))


@pytest.mark.parametrize(
    "component,expected",
    [
        (
            f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], writes: [lake]}}",
            {Edge("raw", "etl", "reads", "/components/etl/reads/0"), Edge("etl", "lake", "writes", "/components/etl/writes/0")},
        ),
        (f"t: {{type: training_job, image: '{IMG}', checkpoint_to: raw}}", {Edge("t", "raw", "checkpoint", "/components/t/checkpoint_to")}),
        ("s: {type: serving, runtime: onnx, model: {from: lake}}", {Edge("lake", "s", "model", "/components/s/model/from")}),
        ("later: {type: object_store, after: [raw]}", {Edge("raw", "later", "after", "/components/later/after/0")}),
        (
            f"b: {{type: batch_inference, image: '{IMG}', model: {{from: raw}}, reads: [db]}}\nm: {{type: monitoring, targets: [b]}}",
            {
                Edge("raw", "b", "model", "/components/b/model/from"),
                Edge("db", "b", "reads", "/components/b/reads/0"),
                Edge("b", "m", "monitors", "/components/m/targets/0"),
            },
        ),
        (
            f"b: {{type: batch_inference, image: '{IMG}', model: {{from: raw}}}}\np: {{type: pipeline, steps: [b], on_failure: b}}",
            {
                Edge("raw", "b", "model", "/components/b/model/from"),
                Edge("b", "p", "step", "/components/p/steps/0"),
                Edge("b", "p", "on_failure", "/components/p/on_failure"),
            },
        ),
    ],
    ids=["reads-writes", "checkpoint", "model", "after", "monitors", "steps-on-failure"],
)
def test_each_edge_type(tmp_path: Path, component: str, expected: set[Edge]) -> None:
    assert set(graph_of(tmp_path, component).edges) == expected


@pytest.mark.parametrize(
    "component,code,pointer_line,fragment",
    [
        (
            f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [rwa]}}",
            "MLC-E040",
            15,
            'unknown component "rwa" (did you mean "raw"?)',
        ),
        (
            (
                f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py'}}\n"
                f"x: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [etl]}}"
            ),
            "MLC-E041",
            16,
            'reads names "etl", a spark_job; expected a storage component',
        ),
        ("s: {type: serving, runtime: onnx, model: {from: db}}", "MLC-E041", 15, "expected an object_store or data_lake"),
        ("m: {type: monitoring, targets: [raw]}", "MLC-E041", 15, "expected a workload"),
        ("p: {type: pipeline, steps: [lake]}", "MLC-E041", 15, "expected a runnable workload"),
        (f"t: {{type: training_job, image: '{IMG}', node_pool: gpu}}", "MLC-E043", 15, 'unknown node pool "gpu"'),
    ],
    ids=["unknown", "wrong-type-reads", "wrong-type-model", "wrong-type-targets", "wrong-type-steps", "node-pool"],
)
def test_reference_errors_are_located(tmp_path: Path, component: str, code: str, pointer_line: int, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        graph_of(tmp_path, component)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == code and diagnostic.location.file == "environments/e1.yaml"
    assert diagnostic.location.line == pointer_line and fragment in diagnostic.message


def test_reading_and_writing_the_same_store_is_fine(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], writes: [raw]}}")
    assert graph.order.index("raw") < graph.order.index("etl")


def test_a_data_flow_loop_between_standalone_workloads_is_no_cycle(tmp_path: Path) -> None:
    """Run-order cycles (errors) are in tests/analysis/test_graph_semantics.py; data flow alone orders nothing."""
    comps = (
        f"a: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], writes: [lake]}}\n"
        f"b: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [lake], writes: [raw]}}"
    )
    graph = graph_of(tmp_path, comps)
    assert graph.loops == (("a", "b", "lake", "raw"),)
    assert graph.generations == (("db", "lake", "raw"), ("a", "b"))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=2, max_value=12).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))
    )
)
def test_order_is_a_valid_topological_order_and_stable(tmp_path_factory, case) -> None:
    n, pairs = case
    edges = {(min(a, b), max(a, b)) for a, b in pairs if a != b}  # a DAG: edges go up
    names = [f"s{i:02d}" for i in range(n)]
    after = {j: sorted(names[i] for i, k in edges if k == j) for j in range(n)}
    comps = "\n".join(f"{names[j]}: {{type: object_store, after: [{', '.join(after[j])}]}}" for j in range(n))
    tmp = tmp_path_factory.mktemp("dag")
    env = load_env(tmp, {"e1": aws_env("e1", comps)}, "e1")
    first, second = build_graph(env), build_graph(env)
    assert first.order == second.order
    position = {name: i for i, name in enumerate(first.order)}
    for i, j in edges:
        assert position[names[i]] < position[names[j]]
    assert [list(g) for g in first.generations] == [sorted(g) for g in nx.topological_generations(first.ordering)]


EXPECTED_LINEAGE = {
    # component: (effective classification, explaining path)
    "raw-events": ("pii", ("raw-events",)),
    "feature-etl": ("pii", ("raw-events", "feature-etl")),
    "features": ("pii", ("features",)),
    "train-ranker": ("pii", ("features", "train-ranker")),
    "models": ("pii", ("models",)),
    "ranker": ("pii", ("models", "ranker")),
    "batch-score": ("pii", ("features", "batch-score")),
    "predictions": ("pii", ("predictions",)),
    "metadata-db": ("internal", ("metadata-db",)),
    "ranker-monitoring": ("internal", ("ranker-monitoring",)),
    "nightly": ("internal", ("nightly",)),
    "ranker-fallback": ("pii", ("models", "ranker-fallback")),
    # lab.yaml: the lifecycle kinds
    "clinical-notes": ("confidential", ("clinical-notes",)),
    "embed-notes": ("confidential", ("clinical-notes", "embed-notes")),
    "note-embeddings": ("confidential", ("note-embeddings",)),
    "note-models": ("confidential", ("note-models",)),
    "train-notes": ("confidential", ("note-embeddings", "train-notes")),
    "mlflow": ("internal", ("mlflow",)),  # its backend edges point from it to its stores
    "mlflow-artifacts": ("pii", ("mlflow-artifacts",)),
    "tracking-db": ("internal", ("tracking-db",)),
    "notes-weekly": ("internal", ("notes-weekly",)),
    "notify-failure": ("internal", ("notify-failure",)),
    "ranker-edge": ("pii", ("models", "ranker-edge")),
    "tune-ranker": ("internal", ("tune-ranker",)),  # its trials run as train-ranker
    # prod-azure only
    "audit-db": ("pii", ("audit-db",)),
    "model-audit": ("pii", ("audit-db", "model-audit")),
}
EXPECTED_GCP_LINEAGE = {
    name: ("internal", (name,))
    for name in ("corpus", "checkpoints", "experiments-db", "tokenize", "pretrain", "demo", "demo-monitoring", "weekly-pretrain")
}


EXPECTED_FRAUD_LINEAGE = {  # classification flows through the stream into the Flink job
    "transactions": ("pii", ("transactions",)),
    "txn-features": ("pii", ("transactions", "txn-features")),
    "features-lake": ("pii", ("features-lake",)),
    "flink-state": ("pii", ("flink-state",)),
    "models": ("pii", ("models",)),
    # the lake flows into the feature store (its offline store), and on to its readers
    "fraud-features": ("pii", ("fraud-features",)),
    "fraud-train": ("pii", ("fraud-features", "fraud-train")),
    "fraud-scorer": ("pii", ("fraud-features", "fraud-scorer")),
    "risk-monitoring": ("internal", ("risk-monitoring",)),
}


def test_lineage_of_the_example_environments() -> None:
    for env in example_environments():
        lineage = build_graph(env).lineage
        expected = EXPECTED_GCP_LINEAGE if env.provider == "gcp" else {k: v for k, v in EXPECTED_LINEAGE.items() if k in env.components}
        if env.name == "fraud":
            expected = EXPECTED_FRAUD_LINEAGE
        assert set(expected) == set(env.components)
        assert {k: (v.effective, v.path) for k, v in lineage.items()} == expected, env.name


def test_pipeline_order_restricted_to_steps() -> None:
    prod = next(e for e in example_environments() if e.name == "prod")
    graph = build_graph(prod)
    assert graph.pipeline_order("nightly") == [
        ("feature-etl", "batch-score"),
        ("feature-etl", "train-ranker"),
        ("train-ranker", "batch-score"),
    ]


def test_graph_command_formats(capsys) -> None:
    root = str(Path(__file__).parent.parent.parent)
    assert main(["graph", "--project", root, "research-gcp", "--format", "mermaid"]) == 0
    mermaid = capsys.readouterr().out
    assert mermaid.startswith("flowchart LR\n")
    assert '  n_corpus[("corpus<br/><i>data_lake</i>")]' in mermaid
    assert '  n_demo(["demo<br/><i>serving</i>"])' in mermaid
    assert "  n_corpus -->|reads| n_pretrain" in mermaid and "  n_tokenize ==>|after| n_pretrain" in mermaid
    assert "  n_tokenize -.->|writes| n_corpus" in mermaid  # tokenize rewrites corpus in place: a loop
    assert main(["graph", "--project", root, "research-gcp", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert '  "pretrain" -> "checkpoints" [label="checkpoint"];' in dot
    assert '  "tokenize" -> "pretrain" [label="after", style=bold];' in dot
    assert main(["graph", "--project", root, "research-gcp", "--format", "json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    # run order: demo waits for the store it loads from, not for the pipeline that fills it
    assert data["order"] == [
        "checkpoints",
        "corpus",
        "demo",
        "demo-monitoring",
        "experiments-db",
        "tokenize",
        "pretrain",
        "weekly-pretrain",
    ]
    assert {"from": "tokenize", "to": "corpus", "kind": "writes", "loop": True} in data["edges"]
    assert data["loops"] == [["corpus", "tokenize"]] and data["pipelines"] == {"weekly-pretrain": [["tokenize", "pretrain"]]}


def test_a_pipeline_step_may_not_have_its_own_schedule(tmp_path: Path) -> None:
    comps = (
        f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], schedule: '@daily'}}\n"
        "p: {type: pipeline, steps: [etl]}"
    )
    with pytest.raises(InputError) as info:
        graph_of(tmp_path, comps)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "MLC-E044" and diagnostic.location.line == 15
    assert 'runs as a step of pipeline "p"' in diagnostic.message


def test_lineage_propagates_along_data_flow_with_its_explanation(tmp_path: Path) -> None:
    comps = (
        "pii-in: {type: object_store, classification: pii}\n"
        "conf: {type: object_store, classification: confidential}\n"
        f"train: {{type: training_job, image: '{IMG}', reads: [pii-in, conf], writes: [raw]}}\n"
        "serve: {type: serving, runtime: onnx, model: {from: raw}}\n"
        f"other: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [conf], writes: [lake]}}"
    )
    lineage = graph_of(tmp_path, comps).lineage
    assert (lineage["serve"].effective, lineage["serve"].path) == ("pii", ("pii-in", "train", "raw", "serve"))
    assert (lineage["raw"].own, lineage["raw"].effective) == ("internal", "pii")
    assert (lineage["lake"].effective, lineage["lake"].path) == ("confidential", ("conf", "other", "lake"))
    assert (lineage["db"].effective, lineage["db"].path) == ("internal", ("db",))


def test_a_component_after_itself_is_a_cycle(tmp_path: Path) -> None:
    """Guards the self-loop of `after` (run_order keeps an `after` edge whose source is its
    target; the cycle search reports a one-member component with an edge to itself): removing
    either accepted `after: [y]` on y."""
    with pytest.raises(InputError) as info:
        graph_of(tmp_path, "x: {type: object_store}\ny: {type: object_store, after: [x, y]}")
    (diagnostic,) = info.value.diagnostics
    # reported at the entry that closes the cycle (main's run_order): `y` in y's after list
    assert (diagnostic.code, diagnostic.location.line, diagnostic.location.col) == ("MLC-E042", 16, 38)
    assert diagnostic.message == "dependency cycle: y -> y (y after y at environments/e1.yaml:16:38); this after entry closes it: remove it"


@pytest.mark.parametrize(
    "component,message",
    [
        (
            f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py'}}\n"
            f"x: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', writes: [etl]}}",
            'writes names "etl", a spark_job; expected a storage component (object_store, data_lake, database, stream, feature_store)',
        ),
        (
            f"t: {{type: training_job, image: '{IMG}', checkpoint_to: db}}",
            'checkpoint_to names "db", a database; expected an object_store or data_lake',
        ),
        (
            f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py'}}\np: {{type: pipeline, steps: [etl], on_failure: raw}}",
            'on_failure names "raw", a object_store; expected a runnable workload (spark_job, training_job, batch_inference, job)',
        ),
    ],
    ids=["writes", "checkpoint", "on-failure"],
)
def test_wrong_type_messages_name_what_is_allowed(tmp_path: Path, component: str, message: str) -> None:
    """Guards the wording of each reference field in _REFERENCES (a mutant of any survived)."""
    with pytest.raises(InputError) as info:
        graph_of(tmp_path, component)
    assert [d.message for d in info.value.diagnostics] == [message]


def test_the_networkx_graph_mirrors_the_typed_edges(tmp_path: Path) -> None:
    """Guards DependencyGraph.graph (ARCHITECTURE: a MultiDiGraph of typed edges): every
    component is a node and every typed edge is an edge keyed by its kind."""
    graph = graph_of(tmp_path, f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], writes: [lake]}}")
    assert sorted(graph.graph.nodes) == ["db", "etl", "lake", "raw"]  # db has no edge: a node all the same
    assert sorted(graph.graph.edges(keys=True)) == [("etl", "lake", "writes"), ("raw", "etl", "reads")]


def test_readers_and_writers_of_a_store(tmp_path: Path) -> None:
    """Guards readers()/writers() (the graph API of ARCHITECTURE.md): readers by reads and
    model edges plus the job reading its checkpoints back; writers by writes and checkpoints."""
    graph = graph_of(
        tmp_path,
        f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [raw], writes: [lake]}}\n"
        f"t: {{type: training_job, image: '{IMG}', reads: [raw], writes: [db], checkpoint_to: lake}}\n"
        "s: {type: serving, runtime: onnx, model: {from: lake}}",
    )
    assert graph.readers("lake") == ("s", "t") and graph.writers("lake") == ("etl", "t")
    assert graph.readers("raw") == ("etl", "t") and graph.writers("raw") == ()
    assert graph.readers("db") == () and graph.writers("db") == ("t",)
    assert graph.reads("t") == ("lake", "raw") and graph.writes("t") == ("db", "lake")


def test_pipelines_running_a_workload(tmp_path: Path) -> None:
    """Guards pipelines_running (kubernetes/ emits no standalone run object for these): a
    step and an on_failure handler are run by their pipeline; another workload by none."""
    job = "{type: spark_job, image: '" + IMG + "', main: 'local:///a.py'}"
    graph = graph_of(tmp_path, f"a: {job}\nb: {job}\nc: {job}\np: {{type: pipeline, steps: [a], on_failure: b}}")
    assert (graph.pipelines_running("a"), graph.pipelines_running("b"), graph.pipelines_running("c")) == (("p",), ("p",), ())


def test_to_dict_lists_nodes_with_ids(tmp_path: Path) -> None:
    """Guards the "nodes" of to_dict (mlc graph --format json): id, name and type."""
    graph = graph_of(tmp_path, "")
    assert sorted(graph.to_dict()["nodes"], key=str) == [
        {"id": "data_lake.e1.lake", "name": "lake", "type": "data_lake"},
        {"id": "database.e1.db", "name": "db", "type": "database"},
        {"id": "object_store.e1.raw", "name": "raw", "type": "object_store"},
    ]


def test_a_wrong_type_hint_names_a_component_of_the_right_type_and_nothing_else(tmp_path: Path) -> None:
    """Guards `c.type in allowed` of the did-you-mean hint, and the `continue` after an
    MLC-E041: a wrong-type reference makes no edge, so no second error comes from it (here
    a scheduled pipeline listed as a step would also have been MLC-E044)."""
    comps = (
        "lakes: {type: database, instance_class: db.t3.small}\n"
        "s: {type: serving, runtime: onnx, model: {from: lakes}}\n"
        f"etl: {{type: spark_job, image: '{IMG}', main: 'local:///a.py'}}\n"
        "p1: {type: pipeline, steps: [etl], schedule: '@daily'}\n"
        "p2: {type: pipeline, steps: [p1]}"
    )
    with pytest.raises(InputError) as info:
        graph_of(tmp_path, comps)
    assert [d.message for d in info.value.diagnostics] == [
        'model names "lakes", a database; expected an object_store or data_lake holding the model (did you mean "lake"?)',
        'steps names "p1", a pipeline; expected a runnable workload (spark_job, training_job, batch_inference, job)',
    ]


def test_an_on_failure_handler_with_its_own_schedule(tmp_path: Path) -> None:
    """Guards the on_failure half of _scheduled_steps (MLC-E044) and its wording."""
    job = f"{{type: spark_job, image: '{IMG}', main: 'local:///a.py'"
    comps = f"a: {job}}}\nh: {job}, schedule: '@daily'}}\np: {{type: pipeline, steps: [a], on_failure: h}}"
    with pytest.raises(InputError) as info:
        graph_of(tmp_path, comps)
    assert [(d.code, d.message) for d in info.value.diagnostics] == [
        (
            "MLC-E044",
            '"h" has its own schedule but runs as a on failure of pipeline "p"; remove the schedule here and schedule the pipeline',
        )
    ]
