"""The single writer for every YAML / JSON file the compiler emits.

Both writers accept *plain data* only: ``dict`` (``str`` keys, insertion order kept),
``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``; exact types, so tuples,
sets, enums and other subclasses raise ``TypeError``. Output is a pure function of the
input (no hashing, no sets, no locale, no timestamps), hence byte-for-byte deterministic.

YAML style (``dump_yaml``)
--------------------------
* block style, 2-space indentation, ``\\n`` line endings, trailing newline, UTF-8 text;
* sequences inside mappings are indented (``key:\\n  - a``, as kubectl prints them);
  a mapping or sequence that is an item of a sequence starts on the ``- `` line
  (``- name: x\\n  image: y``, ``- - a``);
* empty containers are ``{}`` / ``[]``; ``None`` -> ``null``; bools -> ``true``/``false``;
* ints in decimal; floats as ``repr`` with ``.0`` inserted before a bare exponent
  (``1e+20`` -> ``1.0e+20``) so that YAML 1.1 readers (PyYAML) see a float, not a string;
  NaN and infinities raise ``ValueError``.

String quoting rule (one rule, for keys and values alike):

1. a string containing a character from ``_ESCAPE`` (C0/C1 controls incl. tab and
   newline, DEL, the Unicode line/paragraph separators, BOM, non-characters, and invisible
   format characters such as zero-width spaces and bidi overrides) is written
   **double-quoted**; those characters appear as ``\\t \\n \\r \\b \\f`` or
   ``\\xHH`` / ``\\uHHHH`` / ``\\UHHHHHHHH`` escapes, ``"`` and ``\\`` are backslash-escaped,
   every other character is written as-is. Lone surrogates raise ``ValueError``.
2. otherwise the string is written **plain** when ``_plain_ok`` says a plain scalar
   reads back as the same string under both YAML 1.1 and YAML 1.2 resolution (tested
   against PyYAML, libyaml and ruamel.yaml; deliberately conservative for other readers
   such as go-yaml): no leading indicator, no ``": "``, ``" #"``, trailing ``:``,
   leading/trailing space, not ``---``/``...``-prefixed, not a bool/null word in any
   letter case, and not number- or date-like (anything starting with a digit, or a
   sign/dot and a digit or ``_``, made only of digits, hex letters and ``xob_.:+-`` is quoted,
   e.g. ``8080``, ``1e3``, ``0o17``, ``1:20``, ``2024-01-01``, ``1.25``; ``100m`` or
   ``512Mi`` stay plain);
3. otherwise it is **single-quoted** (``'`` doubled).

Exception, for readable diffs: a multi-line string that is a mapping VALUE and passes
``_block_ok`` is written as a literal block (``|`` or ``|-``), e.g. the Kubernetes
manifest inside an Argo resource template.

Shared sub-objects are written out in full at every place they occur (never as
``&anchor`` / ``*alias``, unlike PyYAML); cyclic data raises ``ValueError``.

Mapping keys whose rendered form exceeds ``_MAX_SIMPLE_KEY`` characters use the explicit
``? key`` / ``: value`` form (YAML readers reject implicit keys longer than 1024 chars).

JSON (``dump_json``)
--------------------
Same text as ``escape_separators(json.dumps(obj, indent=2, ensure_ascii=False)) + "\\n"``
(checked by the tests): U+2028, U+2029 and U+0085 are written as ``\\uXXXX`` escapes, since
JavaScript before ES2019 and tools that split lines on them (Python's str.splitlines) would
break a string there. It is produced by a hand-written walker: with ``indent`` set the stdlib falls back
to its pure-Python encoder, which is slower than this one. Type checks are the same as
for YAML (non-``str`` keys raise ``TypeError`` instead of being silently stringified),
NaN/inf raise ``ValueError``, as do lone surrogates (they cannot be encoded as UTF-8).
"""

from __future__ import annotations

import re
from json.encoder import encode_basestring as _json_str  # C implementation when available
from typing import Any

__all__ = ["dump_yaml", "dump_json", "escape_separators"]

# --------------------------------------------------------------------------- strings

# Characters that force double quotes and are written as escapes. A fixed list (not
# str.isprintable) so that output does not depend on the Python Unicode database version.
_ESCAPE_CHARS = (
    "\x00-\x1f\x7f-\x9f"  # C0 (incl. tab, LF, CR), DEL, C1 (incl. NEL \x85)
    "\u00ad\u061c\u180e"  # soft hyphen, Arabic letter mark, Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u2028-\u202e"  # line/paragraph separators, bidi embeddings/overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\ud800-\udfff"  # surrogates (rejected)
    "\ufeff\ufff9-\ufffb\ufffe\uffff"  # BOM, interlinear annotation, non-characters
    "\U000e0000-\U000e007f"  # tag characters
)
_ESCAPE = re.compile(f"[{_ESCAPE_CHARS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f", '"': '\\"', "\\": "\\\\"}
_DQ_SPECIAL = re.compile(f'[{_ESCAPE_CHARS}"\\\\]')

# Leading characters that are YAML indicators ('-' is handled separately: "--flag" is fine).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")

# Words that some YAML reader (1.1 or 1.2, any letter case) may take for bool/null/special.
_SPECIAL_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "<<", "=", ".inf", "+.inf", "-.inf", ".nan"})

# Number-like: a digit (optionally after a sign and/or a dot) followed only by digits,
# hex letters, and the characters YAML number/date/sexagesimal syntaxes use. Also "._",
# "-_", "+._" ...: ruamel.yaml's resolver takes those for numbers (and then fails).
_NUMBERISH = re.compile(r"(?:[-+]?\.?[0-9]|[-+]\.?_|\._)[0-9a-fA-FxXoO_.:+-]*\Z")
# PyYAML's (YAML 1.1) implicit resolvers that can match what _NUMBERISH does not (they
# are anchored here with \Z instead of PyYAML's `$`, which also matches before a final
# newline; strings with newlines never reach this point).
_YAML11 = re.compile(
    r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
     (?:[Tt]|[ \t]+)[0-9][0-9]?
     :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\Z""",
    re.X,
)


def _plain_ok(s: str) -> bool:
    """True if `s` (non-empty, no _ESCAPE characters) can be written as a plain scalar."""
    c = s[0]
    if c in _INDICATORS:
        # "-x" / "--flag" are plain; "-", "- x" and "---..." are not.
        if c != "-" or len(s) == 1 or s[1] == " " or s.startswith("---"):
            return False
    if c == " " or s[-1] == " " or s[-1] == ":" or ": " in s or " #" in s:
        return False
    if s.startswith("..."):  # document end marker when at column 0
        return False
    if s.lower() in _SPECIAL_WORDS:
        return False
    if _NUMBERISH.match(s) or _YAML11.match(s):
        return False
    return True


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    named = _NAMED_ESCAPES.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"lone surrogate U+{code:04X} cannot be serialised")
    if code < 0x100:
        return f"\\x{code:02X}"
    if code < 0x10000:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"


# Fast path for the common identifier-like strings (names, label keys, images, paths):
# a letter or "/" first, then only [A-Za-z0-9_./:-], not ending in ":". Such a string can
# only be special as one of the bool/null words; everything else goes through _plain_ok.
_SIMPLE = re.compile(r"[A-Za-z/](?:[A-Za-z0-9_./:-]*[A-Za-z0-9_./-])?\Z")


def _render_str(s: str) -> str:
    """The YAML text of string `s` (see the module docstring for the rule)."""
    if _SIMPLE.match(s) is not None and (len(s) > 5 or s.lower() not in _SPECIAL_WORDS):
        return s
    if not s:
        return "''"
    if _ESCAPE.search(s) is not None:
        return '"' + _DQ_SPECIAL.sub(_escape_char, s) + '"'
    if _plain_ok(s):
        return s
    return "'" + s.replace("'", "''") + "'"


# Memo of string -> rendered text. Pure function of the key, so it cannot affect output;
# cleared (not evicted piecemeal) when it grows past the bound.
_CACHE_MAX = 200_000
_str_cache: dict[str, str] = {}


def _ystr(s: str) -> str:
    r = _str_cache.get(s)
    if r is None:
        r = _render_str(s)
        if len(_str_cache) >= _CACHE_MAX:
            _str_cache.clear()
        _str_cache[s] = r
    return r


_MAX_SIMPLE_KEY = 1000  # PyYAML and libyaml reject implicit keys longer than 1024 chars

# --------------------------------------------------------------------------- numbers

_INF = float("inf")


def _yfloat(v: float) -> str:
    if v != v or v == _INF or v == -_INF:
        raise ValueError(f"cannot serialise non-finite float {v!r}")
    r = repr(v)
    if "." not in r:  # "1e+20" -> "1.0e+20" (YAML 1.1 floats need a dot)
        mant, _, exp = r.partition("e")
        r = f"{mant}.0e{exp}"
    return r


# --------------------------------------------------------------------------- YAML


def _scalar(v: Any, t: type) -> str:
    """Rendered text of a non-str scalar (str is handled inline by the callers)."""
    if t is int:
        return int.__repr__(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is float:
        return _yfloat(v)
    raise TypeError(f"cannot serialise object of type {t.__name__}: {v!r:.80}")


def _block_ok(s: str) -> bool:
    """True if multi-line `s` reads back identically as a literal block scalar (`|` / `|-`):
    no character that needs an escape other than newline, no leading space or newline
    (that would need an indentation indicator), no trailing whitespace on any line, and at
    most one final newline (`|+` is never used)."""
    return (
        "\n" in s
        and _ESCAPE.search(s.replace("\n", "")) is None
        and s[0] not in " \n"
        and not s.endswith("\n\n")
        and " \n" not in s
        and not s.endswith(" ")
    )


def _yblock(s: str, head: str, indent: str, out: list[str]) -> None:
    """Append `head |` (or `|-`) and the lines of `s`, indented under the key."""
    body = s[:-1] if s.endswith("\n") else s
    out.append(head + (" |" if s.endswith("\n") else " |-"))
    out.extend(indent + line if line else "" for line in body.split("\n"))


def _ymap(d: dict, indent: str, first: str, out: list[str]) -> None:
    """Append the lines of non-empty mapping `d`; the first line starts with `first`."""
    prefix = first
    child = indent + "  "
    for k, v in d.items():
        if type(k) is not str:
            raise TypeError(f"mapping keys must be str, got {type(k).__name__}: {k!r:.80}")
        ks = _str_cache.get(k)
        if ks is None:
            ks = _ystr(k)
        if len(ks) > _MAX_SIMPLE_KEY:
            out.append(f"{prefix}? {ks}")
            head = indent + ":"
        else:
            head = prefix + ks + ":"
        prefix = indent
        t = type(v)
        if t is str:
            if "\n" in v and _block_ok(v):
                _yblock(v, head, child, out)
                continue
            s = _str_cache.get(v)
            if s is None:
                s = _ystr(v)
            out.append(f"{head} {s}")
        elif t is dict:
            if v:
                out.append(head)
                _ymap(v, child, child, out)
            else:
                out.append(head + " {}")
        elif t is list:
            if v:
                out.append(head)
                _yseq(v, child, child, out)
            else:
                out.append(head + " []")
        else:
            out.append(f"{head} {_scalar(v, t)}")


def _yseq(lst: list, indent: str, first: str, out: list[str]) -> None:
    """Append the lines of non-empty sequence `lst`; the first line starts with `first`."""
    prefix = first
    child = indent + "  "
    for v in lst:
        t = type(v)
        if t is str:
            s = _str_cache.get(v)
            if s is None:
                s = _ystr(v)
            out.append(f"{prefix}- {s}")
        elif t is dict:
            if v:
                _ymap(v, child, prefix + "- ", out)
            else:
                out.append(prefix + "- {}")
        elif t is list:
            if v:
                _yseq(v, child, prefix + "- ", out)
            else:
                out.append(prefix + "- []")
        else:
            out.append(f"{prefix}- {_scalar(v, t)}")
        prefix = indent


def dump_yaml(obj: Any) -> str:
    """Serialise plain data as one block-style YAML document (see module docstring)."""
    t = type(obj)
    out: list[str] = []
    try:
        if t is dict:
            if not obj:
                return "{}\n"
            _ymap(obj, "", "", out)
        elif t is list:
            if not obj:
                return "[]\n"
            _yseq(obj, "", "", out)
        elif t is str:
            return _ystr(obj) + "\n"
        else:
            return _scalar(obj, t) + "\n"
    except RecursionError:
        raise ValueError("data nested too deeply, or cyclic (a container that contains itself)") from None
    out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- JSON

_json_cache: dict[str, str] = {}
_SEPARATORS = re.compile("[\u2028\u2029\x85]")


def escape_separators(json_text: str) -> str:
    """JSON text with U+2028, U+2029 and U+0085 as \\u escapes (valid JSON either way; they
    can only occur inside strings, so a plain replacement is exact)."""
    if _SEPARATORS.search(json_text) is None:
        return json_text
    return json_text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")


def _jstr(s: str) -> str:
    r = _json_cache.get(s)
    if r is None:
        if _SURROGATE.search(s) is not None:
            raise ValueError(f"string contains a lone surrogate: {s!r:.80}")
        r = _json_str(s)
        if _SEPARATORS.search(r) is not None:
            r = escape_separators(r)
        if len(_json_cache) >= _CACHE_MAX:
            _json_cache.clear()
        _json_cache[s] = r
    return r


def _jscalar(v: Any, t: type) -> str:
    if t is int:
        return int.__repr__(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is float:
        if v != v or v == _INF or v == -_INF:
            raise ValueError(f"cannot serialise non-finite float {v!r}")
        return float.__repr__(v)
    raise TypeError(f"cannot serialise object of type {t.__name__}: {v!r:.80}")


def _jvalue(v: Any, indent: str, out: list[str]) -> None:
    """Append the JSON text of `v` (whose first line is already started) to `out`."""
    t = type(v)
    if t is str:
        s = _json_cache.get(v)
        out.append(s if s is not None else _jstr(v))
    elif t is dict:
        if not v:
            out.append("{}")
            return
        inner = indent + "  "
        sep = "{\n" + inner
        nsep = ",\n" + inner
        for k, x in v.items():
            if type(k) is not str:
                raise TypeError(f"mapping keys must be str, got {type(k).__name__}: {k!r:.80}")
            ks = _json_cache.get(k)
            if ks is None:
                ks = _jstr(k)
            out.append(sep)
            out.append(ks)
            out.append(": ")
            tx = type(x)
            if tx is str:
                s = _json_cache.get(x)
                out.append(s if s is not None else _jstr(x))
            elif tx is dict or tx is list:
                _jvalue(x, inner, out)
            else:
                out.append(_jscalar(x, tx))
            sep = nsep
        out.append("\n" + indent + "}")
    elif t is list:
        if not v:
            out.append("[]")
            return
        inner = indent + "  "
        sep = "[\n" + inner
        nsep = ",\n" + inner
        for x in v:
            out.append(sep)
            tx = type(x)
            if tx is str:
                s = _json_cache.get(x)
                out.append(s if s is not None else _jstr(x))
            elif tx is dict or tx is list:
                _jvalue(x, inner, out)
            else:
                out.append(_jscalar(x, tx))
            sep = nsep
        out.append("\n" + indent + "]")
    else:
        out.append(_jscalar(v, t))


def dump_json(obj: Any) -> str:
    """Serialise plain data as JSON: 2-space indent, insertion order, UTF-8, trailing newline."""
    out: list[str] = []
    try:
        _jvalue(obj, "", out)
    except RecursionError:
        raise ValueError("data nested too deeply, or cyclic (a container that contains itself)") from None
    out.append("\n")
    return "".join(out)
