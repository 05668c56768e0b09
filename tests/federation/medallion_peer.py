"""A live, foreign TAXII 2.1 peer for the federation suites: the OASIS reference server
medallion 3.0.0 (memory backend) in a subprocess on a free loopback port.

`start_medallion(tmp_path)` writes a config and a data file under `tmp_path`, starts

    python -m medallion.scripts.run --host 127.0.0.1 --port PORT --log-level WARN CONFIG

(the module behind medallion's `medallion` console script), waits until discovery answers 200
and returns a `Medallion`. Its data:

- discovery (`/taxii2/`): `default` is api1's URL, `api_roots` are the full URLs of api1 and
  api2 (with a trailing slash);
- api1: `feed` ("Indicator feed", read-only) holding 3 STIX 2.1 indicators marked TLP:GREEN
  (TLP 2.0) and that marking definition; `drop` ("Drop box", write-only), empty;
- api2: `both` ("Shared", readable and writable), empty.

One user, `accord-peer`, with a random secret. medallion keeps everything in memory: what is
posted is gone when the process ends (it never writes the data file back).
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from taxii2client.v21 import Collection, as_pages

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
USER = "accord-peer"

#: TLP:GREEN of TLP 2.0 (the OASIS TLP 2.0 property extension).
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_GREEN_DEFINITION: dict[str, Any] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": TLP_GREEN,
    "created": "2022-10-01T00:00:00.000Z",
    "name": "TLP:GREEN",
    "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "green"}},
}

FEED = "5d1f9a6e-3c1e-4f0a-9a59-2f6c1b7e0a01"
DROP = "5d1f9a6e-3c1e-4f0a-9a59-2f6c1b7e0a02"
BOTH = "5d1f9a6e-3c1e-4f0a-9a59-2f6c1b7e0a03"

#: The ids of the feed's indicators, in the order they were added.
FEED_INDICATORS = (
    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd01",
    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd02",
    "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd03",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def feed_indicator(n: int) -> dict[str, Any]:
    """The feed's `n`th indicator (0-based): STIX 2.1, one version, marked TLP:GREEN."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": FEED_INDICATORS[n],
        "created": f"2024-01-0{n + 1}T00:00:00.000Z",
        "modified": f"2024-01-0{n + 1}T00:00:00.000Z",
        "name": f"medallion feed indicator {n + 1}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '198.51.100.{n + 1}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        "object_marking_refs": [TLP_GREEN],
    }


def _manifest(
    objects: list[dict[str, Any]], added: list[str] | None = None
) -> list[dict[str, Any]]:
    """medallion's memory backend serves only objects that have a manifest entry whose
    `version` matches their `modified` (else `created`); `date_added` orders the pages."""
    return [
        {
            "id": obj["id"],
            "date_added": added[i] if added else f"2024-02-01T00:00:0{i}.000000Z",
            "version": obj.get("modified", obj["created"]),
            "media_type": STIX,
        }
        for i, obj in enumerate(objects)
    ]


def _collection(
    cid: str,
    title: str,
    read: bool,
    write: bool,
    objects: list[dict[str, Any]],
    added: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "id": cid,
        "title": title,
        "description": f"{title} of the medallion test peer",
        "can_read": read,
        "can_write": write,
        "media_types": [STIX],
        "objects": objects,
        "manifest": _manifest(objects, added),
    }


def _api_root(title: str, collections: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        # medallion 413s a POST whose Content-Length exceeds max_content_length.
        "information": {
            "title": title,
            "description": f"{title} of the medallion test peer",
            "versions": [TAXII],
            "max_content_length": 10 * 1024 * 1024,
        },
        "status": [],  # medallion appends the status of each POST here: it must exist
        "collections": collections,
    }


def medallion_data(
    base: str, shared: list[tuple[dict[str, Any], str]] | None = None
) -> dict[str, Any]:
    """The memory backend's data file for a server at `base` ("http://127.0.0.1:PORT"); `shared`
    seeds api2's collection with objects and the date_added of each."""
    feed = [TLP_GREEN_DEFINITION, *(feed_indicator(n) for n in range(3))]
    return {
        "/discovery": {
            "title": "medallion test peer",
            "description": "The OASIS reference TAXII 2.1 server, as a foreign peer of accord",
            "contact": "accord tests",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/", f"{base}/api2/"],
        },
        "api1": _api_root(
            "api1",
            [
                _collection(FEED, "Indicator feed", True, False, feed),
                _collection(DROP, "Drop box", False, True, []),
            ],
        ),
        "api2": _api_root(
            "api2",
            [
                _collection(
                    BOTH,
                    "Shared",
                    True,
                    True,
                    [o for o, _ in shared or []],
                    [a for _, a in shared or []] or None,
                )
            ],
        ),
    }


@dataclass
class Medallion:
    base: str
    discovery: str
    user: str
    secret: str
    process: subprocess.Popen[bytes]
    log: Path
    api_root: str = "api1"
    other_root: str = "api2"
    feed: str = FEED
    drop: str = DROP
    both: str = BOTH
    max_page_size: int = 100
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    def collection_url(self, collection_id: str, api_root: str = "api1") -> str:
        return f"{self.base}/{api_root}/collections/{collection_id}/"

    def objects(self, collection_id: str, api_root: str = "api1") -> list[dict[str, Any]]:
        """Reads every object of a collection with taxii2-client, as `user`, page by page
        (`max_page_size` a page)."""
        url = self.collection_url(collection_id, api_root)
        out: list[dict[str, Any]] = []
        with Collection(url, user=self.user, password=self.secret) as collection:
            for envelope in as_pages(collection.get_objects, per_request=self.max_page_size):
                out.extend(envelope.get("objects", []))
        return out

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Ends medallion (SIGTERM, then SIGKILL after 5 s); idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def start_medallion(
    tmp_path: Path,
    max_page_size: int = 100,
    timeout: float = 20.0,
    shared: list[tuple[dict[str, Any], str]] | None = None,
) -> Medallion:
    """Starts medallion 3.0.0 on a free loopback port with the data above under `tmp_path`
    (`shared`: api2's seed, `medallion_data`); returns once discovery answers 200 (raises, with
    medallion's log, after `timeout` s)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    secret = secrets.token_urlsafe(16)
    data = tmp_path / "medallion-data.json"
    data.write_text(json.dumps(medallion_data(base, shared), indent=1))
    config = tmp_path / "medallion-config.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data),
                },
                "users": {USER: secret},
                "taxii": {"max_page_size": max_page_size},
            },
            indent=1,
        )
    )
    log = tmp_path / "medallion.log"
    # Werkzeug logs every request to stderr: to a file, so that no pipe fills up.
    log_file = log.open("wb")
    command = [
        sys.executable,
        "-m",
        "medallion.scripts.run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "WARN",
        str(config),
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
    )
    peer = Medallion(
        base=base,
        discovery=f"{base}/taxii2/",
        user=USER,
        secret=secret,
        process=process,
        log=log,
        max_page_size=max_page_size,
        _log_file=log_file,
    )
    deadline = time.monotonic() + timeout
    last = "no answer"
    try:
        with httpx.Client(auth=(USER, secret), headers={"Accept": TAXII}, timeout=2) as http:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"medallion exited with {process.returncode}:\n{peer.log_tail()}"
                    )
                try:
                    r = http.get(peer.discovery)
                    if r.status_code == 200:
                        return peer
                    last = f"{r.status_code} {r.text[:200]}"
                except httpx.TransportError as e:
                    last = repr(e)
                time.sleep(0.05)
        raise RuntimeError(
            f"medallion did not answer discovery in {timeout} s ({last}):\n{peer.log_tail()}"
        )
    except BaseException:
        peer.stop()
        raise
