"""BENCHMARKS.md's commands stay runnable as written: every benchmark script it names exists and
accepts every flag its command lines give (the benchmarks themselves run by hand: they measure,
the suite does not)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# In the full suite, not the fast loop (-m "not slow"): runs every benchmark.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "BENCHMARKS.md").read_text("utf-8")


def _commands() -> dict[str, list[str]]:
    """Each `.venv/bin/python bench/X.py …` command of BENCHMARKS.md, in a code block or inline
    (continued lines joined, a trailing comment dropped): the script and the flags it is given."""
    joined = re.sub(r"\\\n\s*", " ", TEXT)
    found: dict[str, set[str]] = {}
    for m in re.finditer(r"\.venv/bin/python bench/(\w+\.py)([^`\n#]*)", joined):
        found.setdefault(m.group(1), set()).update(re.findall(r"(--[a-z][a-z0-9-]*)", m.group(2)))
    return {script: sorted(flags) for script, flags in found.items()}


COMMANDS = _commands()


def test_benchmarks_md_has_commands() -> None:
    assert len(COMMANDS) >= 5, COMMANDS


@pytest.mark.parametrize("script", sorted(COMMANDS))
def test_benchmark_command_is_runnable(script: str) -> None:
    flags = COMMANDS[script]
    path = ROOT / "bench" / script
    assert path.is_file(), f"BENCHMARKS.md names bench/{script}, which does not exist"
    out = subprocess.run(
        [sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    unknown = [f for f in flags if f not in out.stdout]
    assert not unknown, f"bench/{script} has no {unknown} (its --help: {out.stdout[:500]})"
