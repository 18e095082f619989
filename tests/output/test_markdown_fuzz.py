"""Fuzz target for the Markdown renderers (the pull-request comment of `mlc diff`, the cost
delta of `mlc cost --base`, the cost table): for random strings in every place a spec or a
policy can put one, the rendered Markdown is parsed with markdown-it-py (CommonMark + GFM
tables, strikethrough and linkify) and must have exactly the structure of the template:
the template's headings, no link or image, no inline HTML, exactly one fenced block per
environment diff whose content is the diff lines verbatim, and table rows with the
template's number of cells.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is a test dependency (pyproject [test])")

from compiler.core.diagnostics import Location, printable  # noqa: E402
from compiler.output.diffing import EnvDiff, render_markdown  # noqa: E402
from compiler.plan.cost import CostEstimate, CostItem  # noqa: E402
from compiler.plan.cost_render import render_delta_markdown  # noqa: E402
from compiler.plan.cost_render import render_markdown as cost_table  # noqa: E402
from compiler.policy.findings import Finding  # noqa: E402

# what attackers type: Markdown syntax, HTML, URLs, fences, separators, controls
HOSTILE = [
    "```",
    "````",
    "~~~",
    "# h",
    "\n# h\n",
    "[x](https://evil.example)",
    "![i](https://evil.example/i.png)",
    "<https://evil.example>",
    "https://evil.example",
    "www.evil.example",
    "a@evil.example",
    "<b>",
    "<details>",
    "</details>",
    "<!--",
    "|",
    "\\",
    "`",
    "*",
    "_x_",
    "\u2028",
    "\u2029",
    "\x85",
    "\r",
    "\n",
    "&lt;script&gt;",
    "[ref]: https://evil.example",
    "---",
    "> q",
    "- l",
    "1. n",
    "$x$",
    "@user",
    "#1",
]
strings = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), max_size=6).map("".join)


def parser() -> Any:
    md = markdown_it.MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
    return md


def tokens(text: str) -> list[Any]:
    found = []
    stack = parser().parse(text)
    while stack:
        token = stack.pop(0)
        found.append(token)
        stack[:0] = token.children or []
    return found


def structure(text: str) -> dict[str, Any]:
    all_tokens = tokens(text)
    return {
        "headings": [t.tag for t in all_tokens if t.type == "heading_open"],
        "links": [t for t in all_tokens if t.type in ("link_open", "image")],
        "html_inline": [t.content for t in all_tokens if t.type == "html_inline"],
        "html_block": [t.content.strip() for t in all_tokens if t.type == "html_block"],
        "fences": [t.content for t in all_tokens if t.type == "fence"],
        "code_blocks": [t for t in all_tokens if t.type == "code_block"],
        "cells": [len([c for c in row.children or []]) for row in all_tokens if row.type == "tr_open"],
    }


def rows(text: str) -> list[int]:
    """Cells per table row (th/td count between tr_open and tr_close)."""
    counts, current = [], 0
    for t in tokens(text):
        if t.type == "tr_open":
            current = 0
        elif t.type in ("th_open", "td_open"):
            current += 1
        elif t.type == "tr_close":
            counts.append(current)
    return counts


@st.composite
def env_diffs(draw: Any) -> list[EnvDiff]:
    diffs = []
    for index in range(draw(st.integers(1, 3))):
        d = EnvDiff(f"{draw(strings)}{index}")
        paths = [f"p{k}" for k in range(draw(st.integers(0, 3)))]
        d.changed = paths
        d.owners = {p: draw(st.one_of(st.none(), strings)) for p in paths}
        d.patches = {p: [draw(strings) for _ in range(draw(st.integers(0, 4)))] for p in paths}
        d.cost_before, d.cost_after = 1.0, 2.0
        where = Location(draw(strings) or "f", 1, 1)
        d.new_findings = [
            Finding(where, draw(strings), "error", draw(strings), d.env, draw(st.one_of(st.none(), strings)))
            for _ in range(draw(st.integers(0, 2)))
        ]
        d.resolved_findings = [
            Finding(where, draw(strings), "warning", draw(strings), d.env, draw(strings)) for _ in range(draw(st.integers(0, 1)))
        ]
        d.note = draw(strings)
        diffs.append(d)
    return diffs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env_diffs(), strings)
def test_the_pull_request_comment_has_only_the_templates_structure(diffs: list[EnvDiff], ref: str) -> None:
    text = render_markdown(diffs, ref)
    found = structure(text)
    shown = [d for d in diffs if not d.empty]
    files = [(d, p) for d in shown for p in d.changed]
    assert found["headings"] == ["h3"] + ["h4"] * len(shown), text
    assert found["links"] == [] and found["html_inline"] == [] and found["code_blocks"] == [], text
    # one folded block per changed file: the summary names the file (HTML-escaped), nothing else
    summary = re.compile(r"<details><summary><code>[^<>]*</code> \((added|changed|removed)\)</summary>\Z")
    blocks = found["html_block"]
    assert len(blocks) == 2 * len(files), text
    assert all(summary.match(a) and b == "</details>" for a, b in zip(blocks[::2], blocks[1::2], strict=True)), text
    expected = sorted("".join(printable(line) + "\n" for line in d.patches.get(p, [])) for d, p in files)
    assert sorted(found["fences"]) == expected, text
    assert rows(text) == [6] * (1 + len(shown)), text


def estimate(items: list[tuple[str, str, str]]) -> CostEstimate:
    return CostEstimate(10.0, tuple(CostItem(name, "component", typ, 10.0, detail) for name, typ, detail in items))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(strings, strings, strings), min_size=1, max_size=4, unique_by=lambda t: t[0]), strings)
def test_cost_markdown_has_only_the_templates_structure(items: list[tuple[str, str, str]], env: str) -> None:
    table = cost_table(estimate(items))
    found = structure(table)
    assert found["headings"] == [] and found["links"] == [] and found["html_inline"] == [] and found["fences"] == [], table
    assert rows(table) == [5] * (len(items) + 2), table  # header, items, total
    head = estimate(items)
    delta = render_delta_markdown({env: None}, {env: head})
    found = structure(delta)
    assert found["headings"] == ["h3", "h4"], delta
    assert found["links"] == [] and found["html_inline"] == [] and found["fences"] == [], delta
    assert rows(delta) == [4, 4] + [6] * (len(items) + 1), delta


def test_a_fence_in_the_diff_cannot_close_the_block_and_a_separator_cannot_split_a_line() -> None:
    """Issue 18 item 4: a context line holding U+2028 and a backtick fence."""
    from compiler.build import EnvOutcome
    from compiler.output.diffing import diff_outcomes

    value = "x\u2028````\n# injected [link](https://evil.example)"
    old = EnvOutcome("e1", content={"a.yaml": f"k: {value}\nn: 1\n".encode()})
    new = EnvOutcome("e1", content={"a.yaml": f"k: {value}\nn: 2\n".encode()})
    (d,) = diff_outcomes({"e1": old}, {"e1": new})
    assert d.patches["a.yaml"][3:] == [" k: x\u2028````", " # injected [link](https://evil.example)", "-n: 1", "+n: 2"]
    text = render_markdown([d], "HEAD")
    found = structure(text)
    assert found["headings"] == ["h3", "h4"] and found["links"] == []
    assert found["fences"] == ["\n".join(printable(line) for line in d.patches["a.yaml"]) + "\n"]
