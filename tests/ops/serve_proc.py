"""`accord serve` as a subprocess, for the suites that need real processes: graceful shutdown,
two servers on one database, concurrent first starts."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from taxii_live import add_test_principals, free_port

from accord.node import Node, NodeConfig
from accord.principals import revoke_principal
from accord.server import prepare
from accord.settings import load_settings
from accord.store import Store, open_store

ACCORD = str(Path(sys.executable).with_name("accord"))


def prepare_store(url: str) -> Store:
    """Returns the store at `url` set up as `accord serve` would on first run (the demonstration
    scenario, sample items, the node's keys), with the TAXII suites' credentials."""
    store = open_store(url)
    prepare(store, load_settings(environ={"ACCORD_PARTY": "KOR"}))
    Node(store, "KOR", NodeConfig(api_root="kor", title="t"))  # creates the cursor key once
    for n in ("analyst", "jpn-node"):
        revoke_principal(store, n)
    add_test_principals(store)
    return store


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


def serve(
    url: str,
    workdir: Path,
    workers: int = 1,
    date: str | None = "2017-06-01",
    args: tuple[str, ...] = (),
    verify: ssl.SSLContext | None = None,
) -> Served:
    """Starts `accord serve` on a free port over the store at `url`, with `args` more (with
    `verify`, TLS options: the server is then reached over HTTPS, trusting `verify`); returns
    once /readyz is 200."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_DATABASE_URL=url, ACCORD_PARTY="KOR", ACCORD_CONFIG=str(workdir / "none.toml")
    )
    if date:
        env["ACCORD_DATE"] = date
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [ACCORD, "serve", "--port", str(port), "--workers", str(workers), *args],
            cwd=workdir,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    served = Served(proc, f"{'https' if verify else 'http'}://127.0.0.1:{port}", log)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"accord serve exited {proc.returncode}: {served.logs()[-2000:]}")
        try:
            ready = httpx.get(served.url + "/readyz", timeout=2, verify=verify or True)
            if ready.status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    served.stop(signal.SIGKILL)
    raise AssertionError(f"accord serve did not become ready: {served.logs()[-2000:]}")
