"""Located diagnostics: every problem in the input is a `file:line:col: error CODE: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    file: str  # project-relative path, '/'-separated
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    location: Location
    code: str  # MLC-Exxx
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        from compiler.core.secrets_scan import scrub

        # messages quote input (keys, names, values): never a credential, never two lines
        return f"{self.location}: {self.severity} {self.code}: {printable(scrub(self.message))}"


def printable(text: str) -> str:
    """`text` on one line with no terminal tricks: control, format (e.g. U+202E, which
    reorders what a reviewer sees) and line-separator characters become \\x/\\u escapes."""
    import unicodedata

    if text.isprintable():
        return text
    return "".join(
        ch if ch == " " or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") else ascii(ch)[1:-1] for ch in text
    )


class InputError(Exception):
    """Raised by a stage when the input is invalid; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...] | set[str]) -> str:
    """A ' (did you mean "x"?)' suffix naming the closest candidate, or ''."""
    import difflib

    match = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""
