"""`accord` starts without loading what its commands do not need (BENCHMARKS.md, "CLI start-up").

Start-up time is measured (bench/bench_startup.py), not asserted; what these tests hold is the
cause of most of it: loading the CLI and printing its help import neither the store (SQLAlchemy),
nor the registry model (pydantic), nor the policy engine, HTTP, certificates or MISP. Each runs
in a fresh interpreter, since this test process has imported all of them.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

import pytest

from accord.cli.app import DEFAULT_PURPOSE
from accord.federation.transport import verify_for
from accord.policy.marking import DEFAULT_PURPOSE as POLICY_DEFAULT_PURPOSE

#: Modules a command loads when it runs, never merely by `import accord.cli.main` or `--help`.
HEAVY = (
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "alembic",
    "pydantic",
    "yaml",
    "httpx",
    "cryptography.x509",
    "misp_stix_converter",
    "pymisp",
    "uvicorn",
    "starlette",
    "jinja2",
    "accord.store",
    "accord.registry.model",
    "accord.policy",
    "accord.federation.sync",
    "accord.misp",
    "accord.server",
)


def _modules_after(code: str) -> set[str]:
    """The modules loaded by `code` in a fresh interpreter (this one's path, its environment)."""
    script = f"import sys\n{code}\nsys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=True,
    )
    return set(out.stderr.split())


def test_loading_the_cli_imports_nothing_heavy() -> None:
    loaded = _modules_after("import accord.cli.main")
    assert "accord.cli.main" in loaded
    assert not loaded & {*HEAVY, "markdown_it", "rich.markdown"}, sorted(loaded & {*HEAVY})


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"], ["key", "show", "--help"]])
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    """Building every command and printing a help page: the CLI and Typer, nothing of the node.
    (Typer itself loads rich.markdown for help, and pydantic to read a command's options.)"""
    loaded = _modules_after(
        "import contextlib, io\n"
        "from accord.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({args!r}) == 0\n"
    )
    assert not loaded & (set(HEAVY) - {"pydantic"}), sorted(loaded & set(HEAVY))


def test_purpose_default_is_the_policy_default() -> None:
    """`--purpose`'s default is written out in the CLI so that building it does not load the
    policy engine: it stays the policy's own default."""
    assert DEFAULT_PURPOSE == POLICY_DEFAULT_PURPOSE


def test_plain_http_peer_reads_no_ca_bundle_and_trusts_no_ca() -> None:
    """A plain-HTTP peer gets a context that trusts no CA (made without reading a bundle), so a
    request that turned to HTTPS would fail verification, never go unverified."""
    context = verify_for("http://127.0.0.1:8080", True)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
    assert verify_for("https://jpn.example", True) is True
    given = ssl.create_default_context()
    assert verify_for("http://127.0.0.1:8080", given) is given
    assert verify_for("http://127.0.0.1:8080", False) is False
