"""Tests for compiler.output.serialize: round-trip through independent readers, exact style, determinism."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from collections import OrderedDict
from enum import IntEnum
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.output import serialize
from compiler.output.serialize import dump_json, dump_yaml, escape_separators

ROOT = Path(__file__).resolve().parent.parent.parent

# ----------------------------------------------------------------------------- helpers


def same(a, b) -> bool:
    """Strict structural equality: types must match (1 != True != 1.0), dict key order too,
    floats compared by repr (so -0.0 != 0.0)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float:
        return repr(a) == repr(b)
    return a == b


def load_py(text: str):
    return yaml.load(text, Loader=yaml.SafeLoader)


def load_c(text: str):
    return yaml.load(text, Loader=yaml.CSafeLoader)


_ruamel = YAML(typ="safe", pure=True)


def load_ruamel(text: str):
    return _ruamel.load(text)


def assert_roundtrip(x) -> str:
    text = dump_yaml(x)
    assert text.endswith("\n")
    assert "\r" not in text and "\t" not in text
    text.encode("utf-8")  # must be encodable
    for loader in (load_py, load_c, load_ruamel):
        got = loader(text)
        assert same(got, x), f"{loader.__name__} read {got!r} from {text!r}, expected {x!r}"
    return text


# ----------------------------------------------------------------------------- strategies

YAML11_WORDS = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
    "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF",
    "null", "Null", "NULL", "~", "yEs", "tRUE", "nULL", "oN",
]  # fmt: skip

NASTY = YAML11_WORDS + [
    "0o17", "0x1F", "0b101", "017", "1_000", "1:20", "190:20:30", "1:20.5", "2024-01-01", "2024-1-1",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43.1Z",
    "1", "-1", "+1", "0", "-0", "1.0", "1.", ".5", "-.5", "+.5", "1e3", "1E3", "1e+3", "1.0e+3", "-1e-3",
    ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "inf", "nan", "NaN", "Infinity",
    "- a", "-", "--", "--flag", "--port=8080", "-x", "---", "--- a", "...", "... a", "a: b", "a:", "a:b", "::",
    "#x", "x #y", "x#y", "", " ", "  ", " a", "a ", "\t", "a\tb", "@x", "`x", "%x", "!x", "!!str", "&x", "*x",
    "?", "? x", "?x", ":x", ": x", ",x", "[x]", "{x}", "]", "}", "a,b", "a[0]", "x{y}", "|", ">", "|-", ">+",
    "'", '"', "''", "'a'", '"a"', "a'b", 'a"b', "\\", "a\\nb", "\\x41",
    "{{ workflow.name }}", "{{workflow.parameters.x}}", "${var.x}", "$(VAR)", "%{ if }", "<<", "=", "<", ">=1.2",
    "\n", "\r", "\r\n", "a\nb", "a\n", "\na", "\x00", "\x07", "\x1b[0m", "\x7f", "\x85", "\xa0", "\xa0x\xa0",
    "\u2028", "\u2029", "\ufeff", "\ufeffa", "\u200b", "\u202e", "\ufffe", "\uffff", "\ue000", "\U000e0041",
    "é", "ü", "日本語", "😀", "👩‍👩‍👧", "a😀b", "x\u0301",
    "http://example.com/a?b=c#d", "nginx:1.25", "100m", "512Mi", "1Gi", "v1", "apps/v1", "app.kubernetes.io/name",
    "a  b", "a - b", "a -b", "a ? b", "a & b", "a * b", "a | b", "a > b", "a % b", "a @ b", "a ! b",
]  # fmt: skip

YAML_ALPHABET = " -?:,[]{}#&*!|>'\"%@`~.0123456789eExXoO_+abnlyNYtTZ=<\\\t\n\r\x85\u2028\ufeff\xa0é😀"

texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(alphabet=YAML_ALPHABET, max_size=8),
    st.text(max_size=12),  # arbitrary unicode except surrogates
    st.from_regex(r"\A[-+]?[0-9._:xob eE+-]{1,10}\Z"),
)
ints = st.one_of(st.integers(), st.integers(min_value=-(10**200), max_value=10**200))
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, texts)
plain_data = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(texts, children, max_size=5)),
    max_leaves=30,
)

# ----------------------------------------------------------------------------- YAML round trip


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_data)
def test_yaml_roundtrip_property(x):
    assert_roundtrip(x)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(texts, plain_data, min_size=1, max_size=4))
def test_yaml_roundtrip_dict_root(x):
    assert_roundtrip(x)


@pytest.mark.parametrize("s", NASTY)
def test_nasty_strings_everywhere(s):
    assert_roundtrip(s)
    assert_roundtrip([s])
    assert_roundtrip({s: s})
    assert_roundtrip({"k": [s, {s: [s]}], s: {s: s}})
    assert_roundtrip([[s], {s: None}])


@pytest.mark.parametrize("word", YAML11_WORDS + ["<<", "=", "1e3", "0o17", "-.5", "1.0", "8080"])
def test_special_words_are_quoted(word):
    assert dump_yaml(word) == f"'{word}'\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("100m", "100m"),
        ("512Mi", "512Mi"),
        ("nginx:1.25", "nginx:1.25"),
        ("--port=8080", "--port=8080"),
        ("a b", "a b"),
        ("é😀", "é😀"),
        ("{{ workflow.name }}", "'{{ workflow.name }}'"),
        ("it's", "it's"),
        ("'x'", "'''x'''"),
        ("x #y", "'x #y'"),
        ("a\nb", '"a\\nb"'),
        ('say "hi"\n', '"say \\"hi\\"\\n"'),
        ("tab\there", '"tab\\there"'),
        ("\x00\x1b\x7f\x85", '"\\x00\\x1B\\x7F\\x85"'),
        ("\u2028\ufeff\u200b", '"\\u2028\\uFEFF\\u200B"'),
        ("back\\slash", "back\\slash"),
        ("back\\slash\n", '"back\\\\slash\\n"'),
    ],
)
def test_string_styles(value, text):
    assert dump_yaml(value) == text + "\n"
    assert dump_yaml(["x", value]) == f"- x\n- {text}\n"
    if "\n" not in value:  # multi-line mapping values may become literal blocks (tested below)
        assert dump_yaml({"k": value}) == f"k: {text}\n"


@settings(max_examples=3000, deadline=None)
@given(texts)
def test_plain_only_when_every_resolver_says_str(s):
    """Whenever a string is emitted plain, PyYAML (YAML 1.1) and ruamel (YAML 1.2) resolve it as str."""
    rendered = serialize._render_str(s)
    if rendered != s:
        return
    node = yaml.ScalarNode
    assert yaml.resolver.Resolver().resolve(node, s, (True, False)) == "tag:yaml.org,2002:str"
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    for version in ((1, 1), (1, 2)):
        tag = VersionedResolver(version=version).resolve(ScalarNode, s, (True, False))
        assert str(getattr(tag, "value", tag)) == "tag:yaml.org,2002:str", (version, s)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(texts, st.from_regex(r"\A[A-Za-z/][A-Za-z0-9_./:-]{0,6}\Z")))
def test_fast_path_agrees_with_full_rule(s):
    """The identifier fast path in _render_str never changes the result of the full rule."""
    if serialize._SIMPLE.match(s) and s.lower() not in serialize._SPECIAL_WORDS:
        assert serialize._ESCAPE.search(s) is None and serialize._plain_ok(s)


@pytest.mark.parametrize("word", ["yes", "No", "ON", "off", "y", "N", "true", "False", "null", "NULL"])
def test_fast_path_words_quoted(word):
    assert serialize._render_str(word) == f"'{word}'"


def test_shared_and_cyclic():
    shared = {"a": [1]}
    assert dump_yaml({"x": shared, "z": shared}) == "x:\n  a:\n    - 1\nz:\n  a:\n    - 1\n"
    cyclic: dict = {}
    cyclic["self"] = cyclic
    with pytest.raises(ValueError):
        dump_yaml(cyclic)
    with pytest.raises(ValueError):
        dump_json([cyclic])


def test_long_keys_use_explicit_form():
    for key in ("k" * 999, "k" * 1001, "😀" * 1100, "a\n" * 600):
        for doc in ({key: 1}, {key: {"a": [1]}}, [{key: [1, 2]}], {"x": {key: {}}}):
            assert_roundtrip(doc)
    assert dump_yaml({"k" * 1001: 1}) == "? " + "k" * 1001 + "\n: 1\n"
    assert dump_yaml({"k" * 1000: 1}) == "k" * 1000 + ": 1\n"


def test_deep_nesting():
    x: object = "leaf"
    for i in range(60):
        x = {f"k{i}": x} if i % 2 else [x]
    assert_roundtrip(x)


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (0.1, "0.1"),
        (-0.0, "-0.0"),
        (1e20, "1.0e+20"),
        (1e16, "1.0e+16"),
        (1.5e300, "1.5e+300"),
        (1e-5, "1.0e-05"),
        (5e-324, "5.0e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (123456789.125, "123456789.125"),
        (0, "0"),
        (-7, "-7"),
        (10**30, "1" + "0" * 30),
        (True, "true"),
        (False, "false"),
        (None, "null"),
    ],
)
def test_numbers_and_constants(value, text):
    assert dump_yaml(value) == text + "\n"
    assert_roundtrip({"v": value})


@settings(max_examples=2000, deadline=None)
@given(floats)
def test_floats_exact(v):
    assert_roundtrip([v])
    assert math.copysign(1.0, load_c(dump_yaml(v))) == math.copysign(1.0, v)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_rejected(bad):
    with pytest.raises(ValueError):
        dump_yaml({"x": [bad]})
    with pytest.raises(ValueError):
        dump_json({"x": [bad]})


# ----------------------------------------------------------------------------- errors


class Color(IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "bad",
    [
        (1, 2),
        {1, 2},
        frozenset(),
        b"x",
        bytearray(b"x"),
        object(),
        Color.RED,
        OrderedDict(a=1),
        1j,
        {1: "a"},
        {None: 1},
        {("a",): 1},
        {True: 1},
    ],
)
def test_type_errors(bad):
    for doc in (bad, [bad], {"k": bad}, {"k": [{"j": bad}]}):
        with pytest.raises(TypeError):
            dump_yaml(doc)
        with pytest.raises(TypeError):
            dump_json(doc)


@pytest.mark.parametrize("s", ["\ud800", "a\udfffb", "\udc80"])
def test_lone_surrogates_rejected(s):
    for doc in (s, [s], {s: 1}, {"k": s}):
        with pytest.raises(ValueError):
            dump_yaml(doc)
        with pytest.raises(ValueError):
            dump_json(doc)


# ----------------------------------------------------------------------------- golden output

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "trainer",
        "namespace": "ml-prod",
        "labels": {"app.kubernetes.io/name": "trainer", "app.kubernetes.io/version": "1.25"},
        "annotations": {"argocd.argoproj.io/sync-wave": "2", "description": "runs {{ workflow.name }}\nnightly"},
    },
    "spec": {
        "replicas": 3,
        "paused": False,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "trainer"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "trainer"}},
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "image": "registry.example.com/trainer:1.25",
                        "args": ["--lr=0.001", "--epochs", "10", "- dash", "yes"],
                        "env": [{"name": "MODE", "value": "on"}, {"name": "EMPTY", "value": ""}],
                        "resources": {"limits": {"cpu": "500m", "memory": "512Mi", "nvidia.com/gpu": 1}},
                        "ports": [],
                        "securityContext": {},
                    }
                ],
                "tolerations": None,
            },
        },
    },
    "matrix": [[1, 2.5], [], [{"a": None}], "ünïcode 😀", 1e20],
}

DEPLOYMENT_YAML = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: trainer
      namespace: ml-prod
      labels:
        app.kubernetes.io/name: trainer
        app.kubernetes.io/version: '1.25'
      annotations:
        argocd.argoproj.io/sync-wave: '2'
        description: |-
          runs {{ workflow.name }}
          nightly
    spec:
      replicas: 3
      paused: false
      selector:
        matchLabels:
          app.kubernetes.io/name: trainer
      template:
        metadata:
          labels:
            app.kubernetes.io/name: trainer
        spec:
          containers:
            - name: main
              image: registry.example.com/trainer:1.25
              args:
                - --lr=0.001
                - --epochs
                - '10'
                - '- dash'
                - 'yes'
              env:
                - name: MODE
                  value: 'on'
                - name: EMPTY
                  value: ''
              resources:
                limits:
                  cpu: 500m
                  memory: 512Mi
                  nvidia.com/gpu: 1
              ports: []
              securityContext: {}
          tolerations: null
    matrix:
      - - 1
        - 2.5
      - []
      - - a: null
      - ünïcode 😀
      - 1.0e+20
    """
)


def test_golden_deployment_yaml():
    assert dump_yaml(DEPLOYMENT) == DEPLOYMENT_YAML
    assert_roundtrip(DEPLOYMENT)


def test_golden_small_documents():
    assert dump_yaml({}) == "{}\n"
    assert dump_yaml([]) == "[]\n"
    assert dump_yaml("x") == "x\n"
    assert dump_yaml("") == "''\n"
    assert dump_yaml(None) == "null\n"
    assert dump_yaml([{}, [], {"a": []}, [[]]]) == "- {}\n- []\n- a: []\n- - []\n"
    assert dump_yaml({"a": {"b": {"c": [1, {"d": [2]}]}}}) == "a:\n  b:\n    c:\n      - 1\n      - d:\n          - 2\n"
    assert dump_yaml([[["x"]], {"k": "v", "l": "w"}]) == "- - - x\n- k: v\n  l: w\n"
    assert dump_json({"a": [1, {"b": None}], "c": {}, "d": [], "é": "\n"}) == (
        '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ],\n  "c": {},\n  "d": [],\n  "é": "\\n"\n}\n'
    )


def test_insertion_order_kept():
    d = {"z": 1, "a": 2, "m": {"q": 1, "b": 2}}
    assert dump_yaml(d) == "z: 1\na: 2\nm:\n  q: 1\n  b: 2\n"
    assert list(json.loads(dump_json(d))) == ["z", "a", "m"]


def test_output_loads_with_project_loader():
    """The compiler's own YAML 1.2 loader reads our output back identically."""
    from compiler.frontend.loader import parse

    doc = parse("out.yaml", dump_yaml(DEPLOYMENT))
    assert same(doc.data, DEPLOYMENT)


# ----------------------------------------------------------------------------- JSON


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_data)
def test_json_matches_stdlib_and_roundtrips(x):
    text = dump_json(x)
    assert text == escape_separators(json.dumps(x, indent=2, ensure_ascii=False)) + "\n"
    assert same(json.loads(text), x)
    text.encode("utf-8")


# ----------------------------------------------------------------------------- determinism


@settings(max_examples=300, deadline=None)
@given(plain_data)
def test_deterministic_and_cache_independent(x):
    a, b = dump_yaml(x), dump_yaml(x)
    serialize._str_cache.clear()
    serialize._json_cache.clear()
    c = dump_yaml(x)
    assert a == b == c
    assert dump_json(x) == dump_json(x)


def test_independent_of_hash_seed():
    script = textwrap.dedent(
        """
        import hashlib, sys
        sys.path.insert(0, sys.argv[1])
        from compiler.output.serialize import dump_json, dump_yaml, escape_separators
        from tests.output.test_serialize import DEPLOYMENT, NASTY
        doc = {"d": DEPLOYMENT, "nasty": NASTY, "keys": {s: i for i, s in enumerate(NASTY)}}
        doc = {k: doc[k] for k in doc}  # ensure plain dict
        out = dump_yaml(doc) + dump_json(doc)
        print(hashlib.sha256(out.encode()).hexdigest())
        """
    )
    digests = set()
    for seed in ("0", "1", "12345", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        res = subprocess.run([sys.executable, "-c", script, str(ROOT)], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
        digests.add(res.stdout.strip())
    assert len(digests) == 1


def test_cache_bound(monkeypatch):
    monkeypatch.setattr(serialize, "_CACHE_MAX", 10)
    serialize._str_cache.clear()
    items = [f"s{i}" for i in range(50)] + ["yes", "1.0"]
    assert same(load_c(dump_yaml(items)), items)
    assert len(serialize._str_cache) <= 10
    assert dump_yaml(items) == dump_yaml(items)


# --- literal blocks for multi-line mapping values ------------------------------------
_line_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(_line_text, min_size=1, max_size=6).map("\n".join), st.booleans())
def test_multiline_values_round_trip_whatever_their_style(text, final_newline):
    value = text + ("\n" if final_newline else "")
    for doc in ({"k": value}, {"a": {"manifest": value, "z": 1}}, {"l": [{"m": value}]}):
        dumped = dump_yaml(doc)
        assert yaml.safe_load(dumped) == doc, dumped


def test_a_manifest_string_is_a_literal_block():
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x # not a comment\n\n---\n"
    assert dump_yaml({"resource": {"manifest": manifest}, "note": "a\nb"}) == (
        "resource:\n  manifest: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: x # not a comment\n\n    ---\n"
        "note: |-\n  a\n  b\n"
    )
    assert dump_yaml({"k": " lead\nx"}) == 'k: " lead\\nx"\n'  # leading space: no block
    assert dump_yaml({"k": "trail \nx"}) == 'k: "trail \\nx"\n'
