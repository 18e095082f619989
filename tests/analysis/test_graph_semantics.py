"""Data flow vs run order (issue 15): feedback loops compile, run-order cycles are located errors.

Data flow (reads, writes, model, checkpoint) may loop; lineage propagates over it to a fixed
point. Run order (`after`, placement, data flow between the steps of one pipeline run) must be
acyclic; a cycle is MLC-E042 at the entry that closes it, with every edge's file:line.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from compiler.analysis.graph import build_graph
from compiler.analysis.lineage import compute_lineage
from compiler.cli import main
from compiler.core.diagnostics import InputError
from compiler.model.environment import CLASSIFICATION_RANK
from tests.support.helpers import aws_env, compiled_env, load_env, make_project

IMG = "reg.example.com/x/y:1@sha256:" + "a" * 64
F = "environments/e1.yaml"

# aws_env: 10 header lines and `components:`, so the first component is on line 12
FEEDBACK = f"""\
events: {{type: object_store, classification: pii, size_gb: 10, lifecycle: {{expire_after_days: 365}}}}
features: {{type: object_store, size_gb: 10, lifecycle: {{expire_after_days: 365}}}}
models: {{type: object_store, size_gb: 10, lifecycle: {{expire_after_days: 365}}}}
train:
  type: training_job
  image: {IMG}
  command: [python, -m, train]
  reads: [features]
  writes: [models]
SCHEDULE_TRAIN
score:
  type: batch_inference
  image: {IMG}
  command: [python, -m, score]
  model: {{from: models, path: ranker/latest}}
  reads: [events]
  writes: [features]
SCHEDULE_SCORE
"""
# lines: events 12, features 13, models 14, train 15 (reads 19, writes 20, 21 SCHEDULE_TRAIN),
# score 22 (model 26, reads 27, writes 28, 29 SCHEDULE_SCORE)


def feedback(train_line: str, score_line: str, extra: str = "") -> str:
    return FEEDBACK.replace("SCHEDULE_TRAIN", train_line).replace("SCHEDULE_SCORE", score_line) + extra


def test_a_scoring_job_feeding_its_models_training_compiles_on_its_own_schedule(tmp_path: Path) -> None:
    from compiler.policy.engine import python_findings

    spec = feedback('  schedule: "0 2 * * 0"', '  schedule: "0 * * * *"')
    root = make_project(tmp_path, {"e1": aws_env("e1", spec)})
    out = tmp_path / "out"
    assert main(["compile", "--project", str(root), "--out", str(out), "--no-cache"]) == 0
    compiled = compiled_env(tmp_path / "again", {"e1": aws_env("e1", spec)}, "e1")
    graph = compiled.graph
    assert graph.loops == (("features", "models", "score", "train"),)
    # no order between the two workloads: both right after the stores they touch
    assert graph.generations == (("events", "features", "models"), ("score", "train"))
    assert graph.pipeline_order_edges == {}
    # lineage over the loop: pii from events reaches every member, with the shortest explanation
    assert {name: (lin.effective, lin.path) for name, lin in graph.lineage.items()} == {
        "events": ("pii", ("events",)),
        "score": ("pii", ("events", "score")),
        "features": ("pii", ("events", "score", "features")),
        "train": ("pii", ("events", "score", "features", "train")),
        "models": ("pii", ("events", "score", "features", "train", "models")),
    }
    lineage_findings = sorted((f.location.line, f.component, f.message) for f in python_findings(compiled) if f.rule == "MLC-GOV-004")
    assert lineage_findings == [
        (13, "features", "classified internal but receives pii data: events (pii) -> score -> features"),
        (14, "models", "classified internal but receives pii data: events (pii) -> score -> features -> train -> models"),
    ]
    assert compiled.grants["score"].reads == ("events", "models") and compiled.grants["score"].writes == ("features",)
    waves = {
        path.name: json.dumps(path.read_text().split("argocd.argoproj.io/sync-wave: ")[1].split("\n")[0])
        for path in (out / "e1" / "kubernetes").glob("cronjob-*.yaml")
    }
    assert waves == {"cronjob-train.yaml": json.dumps("'1'")}


def test_the_same_loop_inside_one_pipeline_is_an_error_at_the_closing_entry(tmp_path: Path) -> None:
    spec = feedback("  labels: {a: b}", "  labels: {a: b}", "loop:\n  type: pipeline\n  steps: [train, score]\n")
    with pytest.raises(InputError) as info:
        build_graph(load_env(tmp_path, {"e1": aws_env("e1", spec)}, "e1"))
    (diagnostic,) = info.value.diagnostics
    assert str(diagnostic) == (
        f'{F}:28:14: error MLC-E042: dependency cycle within one run of pipeline "loop": '
        f"train -> score (train writes models at {F}:20:14, read by score at {F}:26:19) "
        f"-> train (score writes features at {F}:28:14, read by train at {F}:19:13); "
        'this writes entry closes it: remove it or another of these entries, or split "loop" into pipelines on their own schedules '
        "(data shared between separately scheduled workloads does not order them)"
    )


def test_the_cli_prints_the_closing_entry_and_exits_2(tmp_path: Path, capsys) -> None:
    spec = feedback("  labels: {a: b}", "  labels: {a: b}", "loop:\n  type: pipeline\n  steps: [train, score]\n")
    root = make_project(tmp_path, {"e1": aws_env("e1", spec)})
    assert main(["validate", "--project", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f'{F}:28:14: error MLC-E042: dependency cycle within one run of pipeline "loop": train -> score')


def test_pipelines_whose_orders_together_form_a_loop_are_fine(tmp_path: Path) -> None:
    """Each pipeline's run order holds within its own runs: a -> b, b -> c, c -> a in three pipelines is no cycle."""
    job = "{{type: spark_job, image: '" + IMG + "', main: 'local:///a.py', reads: [{}], writes: [{}]}}"
    comps = "x: {type: object_store}\ny: {type: object_store}\nz: {type: object_store}\n"
    comps += f"a: {job.format('z', 'x')}\nb: {job.format('x', 'y')}\nc: {job.format('y', 'z')}\n"
    comps += "p1: {type: pipeline, steps: [a, b]}\np2: {type: pipeline, steps: [b, c]}\np3: {type: pipeline, steps: [c, a]}\n"
    graph = build_graph(load_env(tmp_path, {"e1": aws_env("e1", comps)}, "e1"))
    assert [graph.pipeline_order(p) for p in ("p1", "p2", "p3")] == [[("a", "b")], [("b", "c")], [("c", "a")]]
    assert graph.generations == (("x", "y", "z"), ("a", "b", "c"), ("p1", "p2", "p3"))
    assert graph.loops == (("a", "b", "c", "x", "y", "z"),)


def test_an_after_cycle_is_reported_at_the_after_item_that_closes_it(tmp_path: Path) -> None:
    comps = "x: {type: object_store, after: [z]}\ny: {type: object_store, after: [x]}\nz:\n  type: object_store\n  after: [w, y]\nw: {}"
    comps = comps.replace("w: {}", "w: {type: object_store}")
    with pytest.raises(InputError) as info:
        build_graph(load_env(tmp_path, {"e1": aws_env("e1", comps)}, "e1"))
    (diagnostic,) = info.value.diagnostics
    assert str(diagnostic) == (
        f"{F}:16:16: error MLC-E042: dependency cycle: z -> x (x after z at {F}:12:35) -> y (y after x at {F}:13:35) "
        f"-> z (z after y at {F}:16:16); this after entry closes it: remove it or another of these entries"
    )


def test_a_self_after_is_a_cycle_at_its_item(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        build_graph(load_env(tmp_path, {"e1": aws_env("e1", "x: {type: object_store, after: [w, x]}\nw: {type: object_store}")}, "e1"))
    (diagnostic,) = info.value.diagnostics
    assert str(diagnostic) == (
        f"{F}:12:38: error MLC-E042: dependency cycle: x -> x (x after x at {F}:12:38); this after entry closes it: remove it"
    )


def test_an_after_closing_a_cycle_through_placement_and_a_child_file(tmp_path: Path) -> None:
    """Placement (j reads s) is implied by a reference, so the `after` closes the cycle, here in the child file."""
    parent = aws_env("base", f"s: {{type: object_store}}\nj: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [s]}}")
    parent = parent.replace("metadata: {name: base}", "metadata: {name: base}\nabstract: true")
    child = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nextends: base\ncomponents:\n  s: {after: [j]}\n"
    with pytest.raises(InputError) as info:
        build_graph(load_env(tmp_path, {"base": parent, "e1": child}, "e1"))
    (diagnostic,) = info.value.diagnostics
    assert str(diagnostic) == (
        f"{F}:6:15: error MLC-E042: dependency cycle: s -> j (j reads s at environments/base.yaml:14:159) "
        f"-> s (s after j at {F}:6:15); this after entry closes it: remove it or another of these entries"
    )


def test_every_cycle_is_reported_once_and_their_entries_break_all_of_them(tmp_path: Path) -> None:
    comps = (
        "a: {type: object_store, after: [b]}\nb: {type: object_store, after: [a]}\n"
        "c: {type: object_store, after: [d]}\nd: {type: object_store, after: [c]}\n"
    )
    with pytest.raises(InputError) as info:
        build_graph(load_env(tmp_path, {"e1": aws_env("e1", comps)}, "e1"))
    assert [(d.location.line, d.location.col) for d in info.value.diagnostics] == [(13, 35), (15, 35)]


def test_shared_checkpoint_store_and_read_write_of_one_store_in_a_pipeline(tmp_path: Path) -> None:
    """No special case: a step reading back its own checkpoints consumes nothing another step wrote."""
    comps = (
        "ckpt: {type: object_store}\nlake: {type: object_store}\n"
        f"a: {{type: training_job, image: '{IMG}', checkpoint_to: ckpt, reads: [lake], writes: [lake]}}\n"
        f"b: {{type: training_job, image: '{IMG}', checkpoint_to: ckpt}}\n"
        "p: {type: pipeline, steps: [a, b]}\n"
    )
    graph = build_graph(load_env(tmp_path, {"e1": aws_env("e1", comps)}, "e1"))
    assert graph.pipeline_order("p") == []
    assert graph.reads("a") == ("ckpt", "lake") and graph.reads("b") == ("ckpt",)  # IAM still reads checkpoints back


def test_a_checkpoint_store_read_by_a_later_step_orders_them(tmp_path: Path) -> None:
    comps = (
        "ckpt: {type: object_store}\n"
        f"t: {{type: training_job, image: '{IMG}', checkpoint_to: ckpt}}\n"
        f"s: {{type: batch_inference, image: '{IMG}', model: {{from: ckpt}}}}\n"
        "p: {type: pipeline, steps: [s, t]}\n"
    )
    assert build_graph(load_env(tmp_path, {"e1": aws_env("e1", comps)}, "e1")).pipeline_order("p") == [("t", "s")]


def test_graph_renders_loops_dashed_and_run_order_thick(tmp_path: Path, capsys) -> None:
    spec = feedback('  schedule: "0 2 * * 0"', '  schedule: "0 * * * *"')
    root = str(make_project(tmp_path, {"e1": aws_env("e1", spec)}))
    assert main(["graph", "--project", root, "e1"]) == 0
    mermaid = capsys.readouterr().out
    assert "  n_events -->|reads| n_score\n" in mermaid
    for line in ("n_features -.->|reads| n_train", "n_models -.->|model| n_score", "n_score -.->|writes| n_features"):
        assert f"  {line}\n" in mermaid
    assert main(["graph", "--project", root, "e1", "--format", "dot"]) == 0
    dot = capsys.readouterr().out
    assert '  "score" -> "features" [label="writes", style=dashed];' in dot and '  "events" -> "score" [label="reads"];' in dot
    assert main(["graph", "--project", root, "e1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["loops"] == [["features", "models", "score", "train"]] and data["pipelines"] == {}
    assert {"from": "events", "to": "score", "kind": "reads", "loop": False} in data["edges"]
    assert {"from": "train", "to": "models", "kind": "writes", "loop": True} in data["edges"]


# --- properties -------------------------------------------------------------------------
CLASSES = sorted(CLASSIFICATION_RANK, key=CLASSIFICATION_RANK.__getitem__)


def reference_lineage(own: dict[str, str], edges: set[tuple[str, str]]) -> dict[str, str]:
    """Effective class = the highest own class among the component and its data-flow ancestors."""
    graph = nx.DiGraph()
    graph.add_nodes_from(own)
    graph.add_edges_from(edges)
    return {n: max([own[n]] + [own[a] for a in nx.ancestors(graph, n)], key=CLASSIFICATION_RANK.__getitem__) for n in own}


def assert_explained(lineage, own: dict[str, str], edges: set[tuple[str, str]]) -> None:
    graph = nx.DiGraph(list(edges))
    graph.add_nodes_from(own)
    for name, lin in lineage.items():
        path = lin.path
        assert path[-1] == name and own[path[0]] == lin.effective
        assert all(graph.has_edge(u, v) for u, v in zip(path[:-1], path[1:], strict=True))
        owners = [m for m in own if own[m] == lin.effective]
        shortest = min(nx.shortest_path_length(graph, m, name) for m in owners if nx.has_path(graph, m, name))
        assert len(path) - 1 == shortest


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 14).flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
        )
    )
)
def test_lineage_is_the_fixed_point_on_any_graph(case) -> None:
    classes, pairs = case
    own = {f"n{i:02d}": c for i, c in enumerate(classes)}
    edges = {(f"n{a:02d}", f"n{b:02d}") for a, b in pairs}
    upstream = {n: [u for u, v in edges if v == n] for n in own}
    lineage = compute_lineage(own, upstream)
    assert {n: lin.effective for n, lin in lineage.items()} == reference_lineage(own, edges)
    assert_explained(lineage, own, edges)
    assert compute_lineage(own, {n: list(reversed(us)) for n, us in upstream.items()}) == lineage  # input order does not matter


@settings(max_examples=60, deadline=None)
@given(
    stores=st.lists(st.sampled_from(CLASSES), min_size=1, max_size=4),
    jobs=st.lists(st.tuples(st.sets(st.integers(0, 3), max_size=3), st.sets(st.integers(0, 3), max_size=2)), min_size=1, max_size=6),
    pipeline=st.sets(st.integers(0, 5), max_size=5),
)
def test_random_loops_compile_unless_a_pipeline_closes_one(tmp_path_factory, stores, jobs, pipeline) -> None:
    """Standalone jobs with arbitrary read/write loops always compile with the fixed-point lineage;
    a pipeline over some of them is an error exactly when its steps' data flow has a cycle."""
    lines = [f"s{i}: {{type: object_store, classification: {c}}}" for i, c in enumerate(stores)]
    own = {f"s{i}": c for i, c in enumerate(stores)}
    edges: set[tuple[str, str]] = set()
    for j, (reads, writes) in enumerate(jobs):
        reads, writes = sorted(f"s{r}" for r in reads if r < len(stores)), sorted(f"s{w}" for w in writes if w < len(stores))
        lines.append(
            f"j{j}: {{type: spark_job, image: '{IMG}', main: 'local:///a.py', reads: [{', '.join(reads)}], writes: [{', '.join(writes)}]}}"
        )
        own[f"j{j}"] = "internal"
        edges |= {(r, f"j{j}") for r in reads} | {(f"j{j}", w) for w in writes}
    steps = sorted(f"j{j}" for j in pipeline if j < len(jobs))
    if steps:
        lines.append(f"p: {{type: pipeline, steps: [{', '.join(steps)}]}}")
        own["p"] = "internal"
    env = load_env(tmp_path_factory.mktemp("loops"), {"e1": aws_env("e1", "\n".join(lines))}, "e1")
    # reference run order within the pipeline: writer step -> reader step of a common store
    within = nx.DiGraph()
    within.add_nodes_from(steps)
    within.add_edges_from((a, b) for a in steps for b in steps if a != b and any((a, s) in edges and (s, b) in edges for s in own))
    event(
        "pipeline cycle"
        if not nx.is_directed_acyclic_graph(within)
        else "loop"
        if not nx.is_directed_acyclic_graph(nx.DiGraph(list(edges)))
        else "no loop"
    )
    if not nx.is_directed_acyclic_graph(within):
        with pytest.raises(InputError) as info:
            build_graph(env)
        assert info.value.diagnostics and all(d.code == "MLC-E042" and 'pipeline "p"' in d.message for d in info.value.diagnostics)
        return
    graph = build_graph(env)
    assert {n: lin.effective for n, lin in graph.lineage.items()} == reference_lineage(own, edges)
    assert_explained(graph.lineage, own, edges)
    if steps:
        assert set(graph.pipeline_order("p")) == set(within.edges)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 10).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12),
        )
    )
)
def test_cycle_search_reports_closing_edges_that_break_every_cycle(case) -> None:
    from compiler.analysis.run_order import OrderEdge, find_cycles, index

    _, base_pairs, added_pairs = case
    base = [OrderEdge(f"n{min(a, b)}", f"n{max(a, b)}", "", ()) for a, b in base_pairs if a != b]  # acyclic: edges go up
    added = sorted({OrderEdge(f"n{a}", f"n{b}", "p", ()) for a, b in added_pairs})
    found = find_cycles(index(base), added, lambda e: ())
    whole = nx.DiGraph([(e.source, e.target) for e in base + added])
    assert bool(found) == (not nx.is_directed_acyclic_graph(whole))
    closing = {edge for edge, _ in found}
    assert len(closing) == len(found)
    rest = nx.DiGraph([(e.source, e.target) for e in base + added if e not in closing])
    assert nx.is_directed_acyclic_graph(rest)
    for edge, path in found:
        assert path[-1] == edge and all(e in base or e in added for e in path)
        assert all(u.target == v.source for u, v in zip(path, path[1:] + path[:1], strict=True))  # a closed walk


def _env(components: dict[str, dict]):
    from compiler.model.environment import Environment

    spec = {"cluster": {"node_pools": {}}, "components": components}
    return Environment("e1", "environments/e1.yaml", ("e1",), ("environments/e1.yaml",), spec)


@settings(max_examples=300, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(st.sets(st.integers(0, 2), max_size=2), st.sets(st.integers(0, 2), max_size=2), st.sets(st.integers(0, 8), max_size=1)),
        min_size=1,
        max_size=5,
    ),
    pipelines=st.lists(st.sets(st.integers(0, 4), min_size=1, max_size=4), max_size=3),
)
def test_build_graph_rejects_exactly_the_run_order_cycles(jobs, pipelines) -> None:
    """Reference: `after` + placement globally, plus writer step -> reader step per pipeline."""
    stores = ["s0", "s1", "s2"]
    names = stores + [f"j{i}" for i in range(len(jobs))]
    components: dict[str, dict] = {s: {"type": "object_store"} for s in stores}
    reference = nx.DiGraph()
    reference.add_nodes_from(names)
    for i, (reads, writes, after) in enumerate(jobs):
        body = {"type": "spark_job", "reads": [f"s{r}" for r in sorted(reads)], "writes": [f"s{w}" for w in sorted(writes)]}
        body["after"] = [names[a] for a in sorted(after) if a < len(names)]
        components[f"j{i}"] = body
        reference.add_edges_from((s, f"j{i}") for s in body["reads"] + body["writes"])
        reference.add_edges_from((a, f"j{i}") for a in body["after"])
    steps_of = {}
    for k, chosen in enumerate(pipelines):
        steps = sorted(f"j{i}" for i in chosen if i < len(jobs))
        if steps:
            components[f"p{k}"] = {"type": "pipeline", "steps": steps}
            steps_of[f"p{k}"] = steps
            reference.add_edges_from((step, f"p{k}") for step in steps)
    expect_error = not nx.is_directed_acyclic_graph(reference)
    for steps in steps_of.values():
        expect_error = expect_error or not nx.is_directed_acyclic_graph(within_of(reference, components, steps))
    event("run-order cycle" if expect_error else "acyclic")
    env = _env(components)
    if expect_error:
        with pytest.raises(InputError) as info:
            build_graph(env)
        assert info.value.diagnostics and {d.code for d in info.value.diagnostics} == {"MLC-E042"}
    else:
        graph = build_graph(env)
        position = {name: i for i, name in enumerate(graph.order)}
        assert all(position[u] < position[v] for u, v in reference.edges)
        for name, steps in steps_of.items():
            for first, then in graph.pipeline_order(name):
                assert first in steps and then in steps and nx.has_path(within_of(reference, components, steps), first, then)


def within_of(reference: nx.DiGraph, components: dict[str, dict], steps: list[str]) -> nx.DiGraph:
    within = reference.copy()
    within.add_edges_from((a, b) for a in steps for b in steps if a != b and set(components[a]["writes"]) & set(components[b]["reads"]))
    return within
