"""The fuzz harness (tests/support/fuzz.py, `make fuzz`): saved crashes stay fixed, and the harness
finds and saves a crash when there is one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import fuzz


@pytest.mark.parametrize("path", sorted(fuzz.CRASH_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_saved_crashes_are_handled(path: Path) -> None:
    """Every input the fuzzer ever crashed the front end with now ends in an InputError."""
    runner = fuzz.Runner(timeout=30, quiet=True)
    assert runner.run(path.read_bytes()) is not None, f"{path.name} crashes again: {sorted(runner.crashes)}"


def test_a_short_fuzz_run_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzz, "CRASH_DIR", tmp_path / "crashes")
    runner = fuzz.Runner(timeout=10, quiet=True)
    fuzz.fuzz_random(runner, seconds=3, seed=1, max_len=64 * 1024, log=lambda _: None)
    assert runner.executions > 20
    assert runner.crashes == {}, sorted(runner.crashes)


def test_the_harness_catches_and_saves_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug planted in the resolver (an exception other than InputError) is found, printed
    and saved with its traceback."""
    import compiler.frontend.resolve

    def broken(base, overlay):  # type: ignore[no-untyped-def]
        raise KeyError("planted")

    monkeypatch.setattr(fuzz, "CRASH_DIR", tmp_path / "crashes")
    monkeypatch.setattr(compiler.frontend.resolve, "merge", broken)
    runner = fuzz.Runner(timeout=10, quiet=True)
    fuzz.fuzz_random(runner, seconds=2, seed=1, max_len=64 * 1024, log=lambda _: None)
    assert runner.crashes, "the planted crash was not found"
    saved = sorted((tmp_path / "crashes").glob("crash-*.yaml"))
    assert saved and "KeyError: 'planted'" in saved[0].with_suffix(".txt").read_text()
