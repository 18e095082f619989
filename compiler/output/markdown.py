"""Escaping for the Markdown mlc writes (pull-request comments, SARIF help): every string
that comes from a spec, a policy or a file name goes through one of these, so it can
never add a heading, a link, an image, HTML, a table cell, a mention or a code fence.

- `text(s)`: running text, always placed inline (after a list marker, in a table cell, after
  `#### `), never at the start of a line. Control, format and line-separator characters
  become visible escapes (one line, always); every character that can start an inline
  construct is backslash-escaped (CommonMark lets any ASCII punctuation be escaped):
  emphasis and strikethrough, code, links and images, HTML and autolinks, entities, table
  pipes, math (`$`), `@` mentions and e-mail autolinks, `#` issue references, the `:` of
  `scheme://` autolinks and of `:emoji:`, every `.` before a letter or digit (`www.` and bare
  domain autolinks such as `example.com`); `_` only where it
  could delimit emphasis (not inside a word like `object_store`).
- `code(s)`: an inline code span whose backtick fence is longer than any backtick run in
  `s`; in a table cell its pipes are escaped too (GFM splits cells on them even there).
- `fence(lines)`: the opening and closing fence of a code block, longer than any backtick
  run in the lines, so no line can close it early.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*\[\]()!<>&~|@#:$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|\.(?=[A-Za-z0-9]))")
_BACKTICKS = re.compile(r"`+")


def _one_line(s: str) -> str:
    from compiler.core.diagnostics import printable

    return printable(s)


def text(s: str) -> str:
    """`s` as literal Markdown text (inline, one line); also safe in a table cell."""
    return _SPECIAL.sub(r"\\\1", _one_line(s))


def longest_backtick_run(s: str) -> int:
    return max((len(m.group()) for m in _BACKTICKS.finditer(s)), default=0)


def code(s: str, table: bool = False) -> str:
    """`s` as an inline code span (one line); `table`: inside a table cell."""
    body = _one_line(s)
    if table:
        body = body.replace("|", "\\|")
    ticks = "`" * (longest_backtick_run(body) + 1)
    if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ") and body.strip()):
        body = f" {body} "
    if not body:
        body = " "
    return f"{ticks}{body}{ticks}"


def fence(lines: list[str], info: str = "") -> tuple[str, str]:
    """(opening, closing) fence of a code block holding `lines`."""
    ticks = "`" * max(3, max((longest_backtick_run(line) for line in lines), default=0) + 1)
    return ticks + info, ticks
