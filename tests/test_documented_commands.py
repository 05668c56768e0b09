"""Every documented command works as written: each console line of README.md and docs/*.md runs in
bash, in the doc's order, and exits as the doc says.

A console line is a `$ …` line of a ```console block or of a plain ``` transcript, or any line of a
```sh / ```bash block that is not a comment; a line ending in a backslash continues on the next.
A command exits 0 unless a trailing comment starting `# exit N` says otherwise (README's exit
codes: 1 a refusal, 2 bad input). A line that cannot run here is on NOT_RUN, with the reason;
nothing else is left out, so a new console line in a doc is run by this test or fails it.

Each doc runs in one bash session (what a line exports or activates holds for the next ones), in a
fresh directory laid out like a checkout (`.venv` linked to this virtual environment, a copy of
`examples/`), with a fresh store (`ACCORD_DATABASE_URL`), the venv's bin on PATH and `SECRET` set.
Docs that talk to a node get one, started before their first line:

- curl against http://127.0.0.1:8000/…: `accord serve` over the doc's store, on a free port that
  replaces the docs' 8000, with `SECRET` the demonstration analyst's secret it prints on its first
  run (README: "prints two demonstration credentials");
- docs/federation.md's peers, https://jpn.example:8000 and https://usa.example:8000: Japan's and
  the United States' nodes, live on loopback (tests/taxii/taxii_live.py) with a credential
  `kor-node` whose secret is `SECRET`, their addresses substituted in the commands like the port.
  (That doc gets `accord serve` too: its notices name the node's sample items.)
- docs/interop.md's TAXII server that is not an accord node, https://taxii.example:9000: the OASIS
  reference server medallion 3.0.0 on loopback (tests/federation/medallion_peer.py), with
  `TAXII_SECRET` the password of its account `accord-peer`; that doc gets `accord serve` too.

These substitutions are the only changes made to a command.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from accord.errors import NotFound
from accord.principals import add_principal, revoke_principal
from backends import sqlite_store

if TYPE_CHECKING:
    from medallion_peer import Medallion
    from taxii_live import LiveNode

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md")))]
VENV = Path(sys.prefix)  # the virtual environment running the suite (.venv)

SHELL_FENCES = {"sh", "bash"}  # every line but a comment is a command
CONSOLE_FENCES = {"console", ""}  # `$ ` lines are commands, the others their output
OTHER_FENCES = {"yaml", "json", "python", "ini"}  # never commands

# Console lines deliberately not run here, by doc and command (exactly as written), with why.
NOT_RUN: dict[tuple[str, str], str] = {
    ("README.md", "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/accord serve"):
        "creates a venv and installs accord from the network, then serves until stopped; the test "
        "runs in that venv, and runs README's curl against `accord serve` on a first run",
    ("README.md", "scripts/test"):
        "runs this whole suite (12 minutes, on a PostgreSQL it starts)",
    ("docs/deployment.md", "sudo -u postgres createuser accord"):
        "needs root and a PostgreSQL server",
    ("docs/deployment.md", "sudo -u postgres createdb -O accord accord"):
        "needs root and a PostgreSQL server",
    ("docs/deployment.md", "export ACCORD_DATABASE_URL=postgresql://accord@db.internal/accord   # or in accord.toml"):
        "names the production database host (db.internal); the next line runs on this test's store",
    ("docs/deployment.md", "accord serve --host 0.0.0.0 --port 8443 --workers 4 --certfile /etc/accord/tls.crt --keyfile /etc/accord/tls.key"):
        "binds every interface with the host's TLS files under /etc, and serves until stopped",
    ("docs/deployment.md", "accord serve --host 0.0.0.0 --port 8443 --certfile /etc/accord/tls.crt --keyfile /etc/accord/tls.key --client-ca /etc/accord/partner-ca.pem"):
        "binds every interface with the host's TLS files under /etc, and serves until stopped "
        "(tests/cli/test_cli_mtls.py runs `accord serve --certfile --keyfile --client-ca` with test CAs)",
    ("docs/federation.md", "accord peer add jpn --party JPN --url https://jpn.example:8443 --client-cert /etc/accord/kor-node.crt --client-key /etc/accord/kor-node.key --ca /etc/accord/jpn-ca.pem"):
        "needs Japan's node over mutual TLS and the host's certificate files under /etc; "
        "tests/cli/test_cli_mtls.py runs this form against a node asking for client certificates",
}  # fmt: skip

# Before the doc's first line: a pipeline fails when any part fails, and curl fails on an HTTP
# error status (as written, curl exits 0 on a 401 or a 404), quietly but saying why.
PREAMBLE = """set -o pipefail
curl() { command curl --silent --show-error --fail-with-body "$@"; }
"""

DOCS_PORT = "127.0.0.1:8000"  # the address the docs give the node
PARTNERS = {"https://jpn.example:8000": "JPN", "https://usa.example:8000": "USA"}
PEER_CREDENTIAL = "kor-node"  # the credential docs/federation.md's node presents to its peers
FOREIGN_TAXII = "https://taxii.example:9000"  # docs/interop.md's TAXII server that is not accord
TEST_SECRET = "documented-secret-0417"  # SECRET when no node prints one


@dataclass(frozen=True)
class Line:
    doc: str
    lineno: int
    command: str  # as written, without the prompt; continuation lines joined by newlines

    @property
    def expected_exit(self) -> int:
        m = re.search(r"(?:^|\s)#\s*exit (\d+)\b", self.command.splitlines()[-1])
        return int(m.group(1)) if m else 0

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.lineno}"


def console_lines(doc: str, text: str) -> tuple[list[Line], list[str]]:
    """The console lines of the markdown `text` in order, and the fences of unknown languages."""
    lines: list[Line] = []
    unknown: list[str] = []
    fence: str | None = None
    pending: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("```"):
            if fence is None:
                fence = raw[3:].strip()
                if fence not in SHELL_FENCES | CONSOLE_FENCES | OTHER_FENCES:
                    unknown.append(f"{doc}:{n}: {raw}")
            else:
                if pending:
                    unknown.append(f"{doc}:{start}: a command ends in a backslash")
                fence, pending = None, []
            continue
        if fence not in SHELL_FENCES | CONSOLE_FENCES:
            continue  # prose, another language, or one the test above fails on
        if pending:
            pending.append(raw)
        elif fence in SHELL_FENCES and raw.strip() and not raw.lstrip().startswith("#"):
            pending, start = [raw], n
        elif fence in CONSOLE_FENCES and raw.startswith("$ "):
            pending, start = [raw[2:]], n
        if pending and not raw.endswith("\\"):
            lines.append(Line(doc, start, "\n".join(pending)))
            pending = []
    return lines, unknown


PARSED = {doc: console_lines(doc, (ROOT / doc).read_text("utf-8")) for doc in DOCS}
LINES = {doc: lines for doc, (lines, _) in PARSED.items()}


def test_every_fence_is_known_and_not_run_is_current() -> None:
    """A block in another language (```shell, ```text, …) must be classified here first; NOT_RUN
    names only lines the docs hold, each with its reason."""
    unknown = [u for _, found in PARSED.values() for u in found]
    assert not unknown, unknown
    assert sum(len(v) for v in LINES.values()) > 40
    written = {(line.doc, line.command) for lines in LINES.values() for line in lines}
    stale = [key for key in NOT_RUN if key not in written]
    assert not stale, f"NOT_RUN lists lines no doc holds any more: {stale}"
    assert all(len(reason) > 20 for reason in NOT_RUN.values())


def test_console_lines_are_read_as_a_reader_reads_them() -> None:
    text = "\n".join(
        [
            "```console",
            "$ accord demo          # today's network",
            "output, not a command",
            "$ curl -u x \\",
            "    http://127.0.0.1:8000/x",
            "$ accord import bad.yaml   # exit 2: names the line",
            "```",
            "```sh",
            "# a comment",
            "accord init --party KOR",
            "```",
            "```yaml",
            "$ not: a command",
            "```",
            "```",
            "$ accord check --at 2017-01-01",
            "╭─ DENIED",
            "```",
            "```shell",
            "$ never run",
            "```",
        ]
    )
    lines, unknown = console_lines("a doc", text)
    assert [(x.lineno, x.command, x.expected_exit) for x in lines] == [
        (2, "accord demo          # today's network", 0),
        (4, "curl -u x \\\n    http://127.0.0.1:8000/x", 0),
        (6, "accord import bad.yaml   # exit 2: names the line", 2),
        (10, "accord init --party KOR", 0),
        (16, "accord check --at 2017-01-01", 0),
    ]
    assert unknown == ["a doc:19: ```shell"]


# ---- running a doc -------------------------------------------------------------------------------


@dataclass
class Served:
    """`accord serve` over a doc's store, as the doc's reader has it running."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _serve(workdir: Path, env: dict[str, str]) -> Served:
    from taxii_live import free_port

    port = free_port()
    log = workdir.parent / "serve.log"
    # No scheduled sync round during the doc (a round holds each peer while it runs): the doc's
    # `accord sync` is the one that syncs.
    env = {**env, "ACCORD_SYNC_INTERVAL": "0"}
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(VENV / "bin" / "accord"), "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    served = Served(proc, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"accord serve exited {proc.returncode}: {served.output()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    served.stop()
    raise AssertionError(f"accord serve did not become ready: {served.output()}")


def _partner(tmp: Path, party: str, secret: str) -> LiveNode:
    """A partner's node on loopback that knows this node's credential `kor-node` by `secret`."""
    from taxii_live import start_node  # the web stack loads only where a node runs

    folder = tmp / party.lower()
    folder.mkdir()
    live = start_node(sqlite_store(folder / "accord.db"), party=party)
    with contextlib.suppress(NotFound):  # Japan's first run made one, with a secret of its own
        revoke_principal(live.store, PEER_CREDENTIAL)
    add_principal(live.store, PEER_CREDENTIAL, "partner", "KOR", secret)
    return live


def _checkout(tmp: Path) -> Path:
    """A fresh directory laid out like a checkout: `.venv`, `examples/`."""
    work = tmp / "work"
    work.mkdir(parents=True)
    (work / ".venv").symlink_to(VENV, target_is_directory=True)
    assert (work / ".venv" / "bin" / "activate").is_file(), f"{VENV} is not a virtual environment"
    shutil.copytree(ROOT / "examples", work / "examples")
    return work


def _env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        PATH=f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        ACCORD_DATABASE_URL=f"sqlite:///{workdir / 'accord.db'}",
        SECRET=TEST_SECRET,
        COLUMNS="120",
    )
    return env


def run_doc(doc: str, tmp: Path) -> list[str]:
    """Runs the console lines of `doc` (but NOT_RUN's) in order, in one bash session; returns
    what went wrong."""
    to_run = [line for line in LINES[doc] if (doc, line.command) not in NOT_RUN]
    workdir = _checkout(tmp)
    results = tmp / "results"  # each line's stdout, stderr and exit code, outside the checkout
    results.mkdir()
    env = _env(workdir)
    text = "\n".join(line.command for line in to_run)
    served = None
    partners: list[LiveNode] = []
    foreign: Medallion | None = None
    substitutions: dict[str, str] = {}
    try:
        if FOREIGN_TAXII in text:
            from medallion_peer import start_medallion

            foreign = start_medallion(tmp / "medallion")
            substitutions[FOREIGN_TAXII] = foreign.base
            env["TAXII_SECRET"] = foreign.secret
        if DOCS_PORT in text or FOREIGN_TAXII in text or any(url in text for url in PARTNERS):
            served = _serve(workdir, env)
            substitutions[DOCS_PORT] = f"127.0.0.1:{served.port}"
            m = re.search(r"credential analyst \([^)]*\): (\S+)", served.output())
            assert m, f"{doc}: accord serve printed no analyst credential: {served.output()}"
            env["SECRET"] = m.group(1)
        for url, party in PARTNERS.items():
            if url in text:
                partners.append(_partner(tmp, party, env["SECRET"]))
                substitutions[url] = partners[-1].url
        script = [PREAMBLE]
        for n, line in enumerate(to_run):
            command = line.command
            # The docs' node (127.0.0.1:8000) and partners (https://jpn.example:8000, …) are
            # the ones started above, on free ports: their addresses replace the docs'.
            for old, new in substitutions.items():
                command = command.replace(old, new)
            # The command on lines of its own: its trailing comment ends there.
            out = shlex.quote(str(results / str(n)))
            script += ["{", command, f"}} >{out}.out 2>{out}.err </dev/null", f"echo $? >{out}.rc"]
        session = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        if served is not None:
            served.stop()
        for live in partners:
            live.stop()
        if foreign is not None:
            foreign.stop()
    failures = []
    for n, line in enumerate(to_run):
        out = results / str(n)
        if not Path(f"{out}.rc").exists():
            failures.append(
                f"{line.where}: never ran: the session ended\n  {session.stderr[-1500:]}"
            )
            break
        code = int(Path(f"{out}.rc").read_text())
        if code != line.expected_exit:
            stdout = Path(f"{out}.out").read_text(errors="replace")[-1500:]
            stderr = Path(f"{out}.err").read_text(errors="replace")[-1500:]
            failures.append(
                f"{line.where}: exit {code}, the doc says {line.expected_exit}\n"
                f"  $ {line.command}\n  stdout: {stdout}\n  stderr: {stderr}"
            )
    return failures


@pytest.mark.slow
def test_documented_commands_run_as_written(tmp_path: Path) -> None:
    """Each doc in a directory and store of its own, the docs side by side (as many as CPUs, up
    to 4: each `accord` command takes about a second of CPU, mostly imports)."""
    docs = [doc for doc in DOCS if any((doc, x.command) not in NOT_RUN for x in LINES[doc])]
    docs.sort(key=lambda doc: -len(LINES[doc]))  # the longest first
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        found = pool.map(lambda doc: run_doc(doc, tmp_path / doc.replace("/", "-")), docs)
        failures = [f for doc_failures in found for f in doc_failures]
    assert not failures, "\n".join(failures)
