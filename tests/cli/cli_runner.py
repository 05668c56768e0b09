"""Runs accord's CLI in this process as an operator would at a terminal: the store from
ACCORD_DATABASE_URL, standard input given or a terminal, exit code and both streams returned."""

from __future__ import annotations

import io
import sys

import pytest

from accord.cli.main import main


class Cli:
    def __init__(
        self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.url, self.capsys, self.monkeypatch = url, capsys, monkeypatch

    def __call__(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Returns (exit code, stdout, stderr); without `stdin`, standard input is a terminal.
        `env` is set for the rest of the test."""
        self.capsys.readouterr()
        self.monkeypatch.setenv("ACCORD_DATABASE_URL", self.url)
        for k, v in (env or {}).items():
            self.monkeypatch.setenv(k, v)

        class FakeStdin(io.StringIO):
            def isatty(self) -> bool:
                return stdin is None

        self.monkeypatch.setattr(sys, "stdin", FakeStdin(stdin or ""))
        code = main(list(args))
        out = self.capsys.readouterr()
        return code, out.out, out.err
