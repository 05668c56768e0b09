"""The trust resources under the API root, as every kind of principal: receipts
(`GET …/x-accord/receipts/`) are served to the partner they were made for and to no one else,
and a key rotation (`POST …/x-accord/keys/`) is accepted only from a partner node, for its own
nation, signed by the key pinned for it."""

from __future__ import annotations

import time

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from taxii_live import LiveNode

from accord.store.trust_schema import receipt_objects
from accord.trust import keys
from accord.trust import receipts as rc

NATIONAL = ["analyst", "clerk", "chief", "gbr-user"]


@pytest.fixture
def receipt(live: LiveNode) -> str:
    """A receipt this node made for what Japan delivered."""
    at = time.time_ns() // 1000
    body = rc.build(
        "KOR", "JPN", keys.node_key(live.store), [("indicator--x", "v", "0" * 64, "JPN U")], at
    )
    with live.store.begin() as conn:
        conn.execute(
            receipt_objects.insert().values(
                id=body["id"], sender="JPN", added=at, body=orjson.dumps(body).decode()
            )
        )
    return str(body["id"])


def test_receipts_go_to_the_partner_they_were_made_for_only(live: LiveNode, receipt: str) -> None:
    path = f"/{live.api_root}/x-accord/receipts/"
    got = live.json(path, "jpn-node")
    assert receipt in {o["id"] for o in got["objects"]}
    for partner in ("usa-node", "chn-node"):  # another nation: none of Japan's
        assert receipt not in {o["id"] for o in live.json(path, partner)["objects"]}
    for who in NATIONAL:
        assert live.get(path, who).status_code == 403, who
    assert live.get(path, None).status_code == 401
    assert live.get(path + "?added_after=soon", "jpn-node").status_code == 400


@pytest.mark.parametrize("who", [*NATIONAL, None])
def test_only_a_partner_node_announces_a_key(live: LiveNode, who: str | None) -> None:
    r = live.post(f"/{live.api_root}/x-accord/keys/", {"type": keys.ROTATION_TYPE}, who)
    assert r.status_code == (401 if who is None else 403), (who, r.status_code)


def test_a_partner_rotates_only_its_own_nations_pinned_key(live: LiveNode) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with live.store.begin() as conn:
        keys.pin(conn, "JPN", keys.public_hex(old), "test")
    at = time.time_ns() // 1000
    old_hex, new_hex = keys.public_hex(old), keys.public_hex(new)
    signed = old.sign(f"accord-key-rotation:JPN:{old_hex}:{new_hex}:{at}".encode()).hex()
    body = {"type": keys.ROTATION_TYPE, "x_party": "JPN", "x_old_key": old_hex,
            "x_new_key": new_hex, "x_at": at, "x_signature": signed}  # fmt: skip
    path = f"/{live.api_root}/x-accord/keys/"
    # The US node may not announce Japan's key, and a wrong signature is refused.
    assert live.post(path, body, "usa-node").status_code == 422
    assert live.post(path, {**body, "x_signature": "00" * 64}, "jpn-node").status_code == 422
    assert new_hex not in {k.public_key for k in keys.keys_of(live.store, "JPN")}
    assert live.post(path, body, "jpn-node").status_code == 200
    current = {k.public_key: k.retired_at for k in keys.keys_of(live.store, "JPN")}
    assert current[new_hex] is None and current[old_hex] is not None
