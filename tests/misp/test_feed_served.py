"""The served MISP feed, GET /misp/{PARTY}/…, as every kind of principal asks for it: no
credentials, the right partner, another partner, a national user, a revoked credential."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from taxii_live import SECRETS, LiveNode, add_test_principals, basic, start_node

from accord.audit import log as audit
from accord.cli.main import main
from accord.principals import add_principal, revoke_principal
from backends import BACKENDS, drop_pg_database, make_pg_database, sqlite_store

EVENT = Path(__file__).resolve().parent.parent / "data" / "misp" / "event-tlp-amber.json"
EVENT_UUID = "5e5c3d9a-7b1f-4c6e-9a2d-0c8b1f4e2a10"
PATHS = ["/misp/JPN/manifest.json", "/misp/JPN/hashes.csv", f"/misp/JPN/{EVENT_UUID}.json"]


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    """A KOR node as of 2017-06-01 with the test event imported and a revoked JPN credential."""
    if request.param == "sqlite":
        url, name = sqlite_store(tmp_path_factory.mktemp("node") / "accord.db"), None
    else:
        url, name = make_pg_database()
    node = start_node(url, as_of=date(2017, 6, 1))
    for n in ("analyst", "jpn-node"):
        revoke_principal(node.store, n)
    add_test_principals(node.store)
    add_principal(node.store, "old-jpn", "partner", "JPN", "old-jpn-secret")
    revoke_principal(node.store, "old-jpn")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACCORD_DATABASE_URL", url)
        mp.setenv("ACCORD_DATE", "2017-06-01")
        args = ["misp", "import", str(EVENT), "--level", "II", "--topic", "dprk-missile", "--json"]
        assert main(args) == 0
    try:
        yield node
    finally:
        node.stop()
        if name:
            drop_pg_database(name)


def get(live: LiveNode, path: str, auth: str | None):  # type: ignore[no-untyped-def]
    headers = {} if auth is None else {"Authorization": auth}
    return live.http.get(path, headers=headers)


def assert_json_error(response, status: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", PATHS)
def test_no_credentials_401(live: LiveNode, path: str) -> None:
    r = get(live, path, None)
    assert_json_error(r, 401)
    assert r.headers["www-authenticate"].lower().startswith("basic realm=")


@pytest.mark.parametrize("path", PATHS)
def test_revoked_credential_401(live: LiveNode, path: str) -> None:
    assert_json_error(get(live, path, basic("old-jpn", "old-jpn-secret")), 401)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("who", ["usa-node", "chn-node", "analyst", "chief", "gbr-user"])
def test_other_principals_403_alike(live: LiveNode, path: str, who: str) -> None:
    """Another partner or any user is refused in the same words whether or not the feed has
    anything: the answer for JPN's feed equals the answer for CHN's empty one."""
    body = assert_json_error(get(live, path, basic(who, SECRETS[who])), 403)
    if who != "chn-node":
        empty = assert_json_error(
            get(live, path.replace("/JPN/", "/CHN/"), basic(who, SECRETS[who])), 403
        )
        assert body["description"].replace("JPN", "X") == empty["description"].replace("CHN", "X")


def test_the_partner_reads_its_feed_and_each_read_is_a_release(live: LiveNode) -> None:
    auth = basic("jpn-node", SECRETS["jpn-node"])
    before = sum(1 for r in audit.export(live.store) if r["kind"] == "release")
    manifest = get(live, "/misp/JPN/manifest.json", auth)
    assert manifest.status_code == 200 and manifest.headers["content-type"] == "application/json"
    assert EVENT_UUID in manifest.json()
    hashes = get(live, "/misp/jpn/hashes.csv", auth)
    assert hashes.status_code == 200 and hashes.headers["content-type"].startswith("text/csv")
    assert all(line.split(",")[1] in manifest.json() for line in hashes.text.splitlines())
    for event_uuid in manifest.json():
        r = get(live, f"/misp/JPN/{event_uuid}.json", auth)
        assert r.status_code == 200 and r.json()["Event"]["uuid"] == event_uuid
    records = [r for r in audit.export(live.store) if r["kind"] == "release"][before:]
    feed = [r for r in records if r["body"]["channel"] == "misp-feed"]
    assert feed and all(r["actor"] == "jpn-node" and r["subject"] == "JPN" for r in feed)
    assert any(o[0] == f"report--{EVENT_UUID}" for r in feed for o in r["body"]["objects"])


def test_the_served_feed_is_what_the_cli_writes(
    live: LiveNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", live.store.url)
    monkeypatch.setenv("ACCORD_DATE", "2017-06-01")
    assert main(["misp", "feed", "--to", "JPN", "--out", str(tmp_path), "--json"]) == 0
    auth = basic("jpn-node", SECRETS["jpn-node"])
    assert (
        get(live, "/misp/JPN/manifest.json", auth).content
        == (tmp_path / "manifest.json").read_bytes()
    )
    assert get(live, "/misp/JPN/hashes.csv", auth).text == (tmp_path / "hashes.csv").read_text()
    served = get(live, f"/misp/JPN/{EVENT_UUID}.json", auth)
    assert served.content == (tmp_path / f"{EVENT_UUID}.json").read_bytes()


def test_an_event_not_in_the_feed_is_404(live: LiveNode) -> None:
    auth = basic("jpn-node", SECRETS["jpn-node"])
    assert_json_error(get(live, "/misp/JPN/00000000-0000-4000-8000-000000000000.json", auth), 404)


def test_a_partner_that_receives_nothing_has_an_empty_feed(live: LiveNode) -> None:
    auth = basic("chn-node", SECRETS["chn-node"])
    assert get(live, "/misp/CHN/manifest.json", auth).json() == {}
    assert_json_error(get(live, f"/misp/CHN/{EVENT_UUID}.json", auth), 404)
