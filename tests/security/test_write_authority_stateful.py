"""A stateful property test of the authority model (PRODUCT.md §7; docs/security.md) against a live
node: random principals publish, post versions, shadow ids, send destruction notices and delete,
and after every step every principal's view of every id equals what the owners wrote, filtered by
the engine's decision, plus what that principal itself wrote as its own instance.

The model states the rule, not the code: a write goes to the owner's instance when the writer may
read the current version and acts with the owner's authority (a national publishing user for
Korea's items, the originating partner for its own), is refused when it may read but has no
authority, and is the writer's own instance otherwise. On eff1280 it finds the attacks of
tests/security/test_write_authority.py within the first examples (a clerk's version of a hidden id
becomes the chief's latest; a partner's notice about a shadowed id destroys Korea's item).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from taxii_live import LiveNode, indicator

from accord.exchange import markings as mk
from accord.exchange import notices
from accord.exchange.marking_rows import marking_index
from accord.policy.marking import Marking
from accord.principals import Principal, list_principals

USERS = ("chief", "analyst", "clerk")  # KOR I all groups; II dprk+military; III no groups
PARTNERS = {"jpn-node": "JPN", "usa-node": "USA"}
EVERYONE = (*USERS, *PARTNERS)
KOR = {
    "I": Marking.of("KOR", "I", ["dprk-missile"], groups=["dprk"]),
    "II": Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"]),
    "U": Marking.of("KOR", "U", ["general-military"]),
}
MAY_PUBLISH = {"chief": ("I", "II", "U"), "analyst": ("II", "U"), "clerk": ("U",)}
OWN = {p: Marking.of(party, "U", ["general-military"]) for p, party in PARTNERS.items()}
_stamps = itertools.count(1)


def _stamp() -> str:
    """A version later than every earlier one: a write never collides with another's version."""
    at = datetime(2017, 3, 1, tzinfo=UTC) + timedelta(seconds=next(_stamps))
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Version:
    name: str  # unique: what a reader's view is compared by
    marking: Marking
    deleted: bool = False


@dataclass
class Item:
    owner: str  # the party
    alias: str  # the owner's collection
    versions: list[Version] = field(default_factory=list)
    own: dict[str, list[Version]] = field(default_factory=dict)  # writer → its own instance

    def current(self) -> Version:
        live = [v for v in self.versions if not v.deleted]
        return (live or self.versions)[-1]


class Authority(RuleBasedStateMachine):
    live: LiveNode  # set by the test

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, Item] = {}
        self.n = 0

    # ---- the engine's decision, as the node computes it for reads -------------------------

    def principal(self, who: str) -> Principal:
        if who in PARTNERS:
            return Principal(who, "partner", PARTNERS[who])
        return next(p for p in list_principals(self.live.store) if p.name == who and not p.revoked)

    def reads(self, who: str, m: Marking) -> bool:
        index = marking_index(self.live.store)
        row = index.rows.get(mk.marking_id(m))
        return row is not None and row in self.live.node.view(self.principal(who)).rows

    def authority(self, who: str, item: Item) -> bool:
        if who in PARTNERS:
            return PARTNERS[who] == item.owner
        return item.owner == "KOR"

    def write(self, who: str, item: Item, v: Version, alias: str) -> None:
        """The model's rule for a write to an existing id."""
        if who in item.own:
            item.own[who].append(v)
        elif not self.reads(who, item.current().marking):
            item.own[who] = [v]
        elif self.authority(who, item) and alias == item.alias:
            item.versions.append(v)

    # ---- actions ----------------------------------------------------------------------------

    def post(self, who: str, alias: str, oid: str, m: Marking) -> Version:
        self.n += 1
        name = f"w{self.n}"
        obj = indicator(oid, modified=_stamp(), marking=mk.marking_id(m), name=name)
        r = self.live.post(
            self.live.coll(alias) + "objects/", {"objects": [mk.marking_definition(m), obj]}, who
        )
        assert r.status_code == 202, (who, r.status_code, r.text[:300])
        return Version(name, m)

    @initialize(target=ids, who=st.sampled_from(USERS), level=st.sampled_from(("I", "II", "U")))
    def first(self, who: str, level: str) -> str:
        return self.publish(who, level)

    @rule(target=ids, who=st.sampled_from(USERS), level=st.sampled_from(("I", "II", "U")))
    def publish(self, who: str, level: str) -> str:
        level = level if level in MAY_PUBLISH[who] else MAY_PUBLISH[who][-1]
        oid = f"indicator--{uuid.uuid4()}"
        v = self.post(who, "items", oid, KOR[level])
        self.items[oid] = Item("KOR", "items", [v])
        return oid

    @rule(target=ids, who=st.sampled_from(sorted(PARTNERS)))
    def deliver(self, who: str) -> str:
        oid = f"indicator--{uuid.uuid4()}"
        v = self.post(who, "inbox", oid, OWN[who])
        self.items[oid] = Item(PARTNERS[who], "inbox", [v])
        return oid

    @rule(oid=ids, who=st.sampled_from(USERS), level=st.sampled_from(("I", "II", "U")))
    def user_version(self, oid: str, who: str, level: str) -> None:
        level = level if level in MAY_PUBLISH[who] else MAY_PUBLISH[who][-1]
        item = self.items[oid]
        self.write(who, item, self.post(who, "items", oid, KOR[level]), "items")

    @rule(oid=ids, who=st.sampled_from(sorted(PARTNERS)))
    def partner_version(self, oid: str, who: str) -> None:
        item = self.items[oid]
        self.write(who, item, self.post(who, "inbox", oid, OWN[who]), "inbox")

    @rule(oid=ids, who=st.sampled_from(sorted(PARTNERS)))
    def destruction_notice(self, oid: str, who: str) -> None:
        item = self.items[oid]
        sent = notices.make_notice("destruction", oid, PARTNERS[who])
        r = self.live.post(self.live.coll("inbox") + "objects/", {"objects": [sent]}, who)
        assert r.status_code == 202
        if item.owner == PARTNERS[who] and any(not v.deleted for v in item.versions):
            for v in item.versions:
                v.deleted = True
        elif who in item.own:
            for v in item.own[who]:
                v.deleted = True

    @rule(oid=ids, who=st.sampled_from(USERS))
    def delete(self, oid: str, who: str) -> None:
        item = self.items[oid]
        r = self.live.delete(self.live.coll() + f"objects/{oid}/", who)
        assert r.status_code in (200, 403, 404), r.text
        if who in item.own:
            for v in item.own[who]:
                v.deleted = True
        elif item.alias == "items" and self.reads(who, item.current().marking):
            for v in item.versions:
                if not v.deleted and self.reads(who, v.marking):
                    v.deleted = True

    # ---- the invariant --------------------------------------------------------------------------

    @invariant()
    def every_view_is_what_the_owners_wrote(self) -> None:
        for oid, item in self.items.items():
            for who in EVERYONE:
                expected = {
                    v.name for v in item.versions if not v.deleted and self.reads(who, v.marking)
                }
                expected |= {v.name for v in item.own.get(who, []) if not v.deleted}
                seen: set[str] = set()
                for alias in ("items", "inbox"):
                    r = self.live.get(
                        self.live.coll(alias) + f"objects/{oid}/",
                        who,
                        params={"match[version]": "all"},
                    )
                    assert r.status_code in (200, 404), r.text
                    if r.status_code == 200:
                        seen |= {o["name"] for o in r.json().get("objects", [])}
                assert seen == expected, (who, oid, item)


def _run(live: LiveNode, examples: int, steps: int) -> None:
    Authority.live = live
    run_state_machine_as_test(
        Authority,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.slow
def test_no_write_changes_what_another_principal_reads(live: LiveNode) -> None:
    _run(live, examples=12, steps=12)


def test_no_write_changes_what_another_principal_reads_quick(live: LiveNode) -> None:
    """The same machine, a few short runs: in the fast loop (`-m "not slow"`) too."""
    _run(live, examples=2, steps=8)
