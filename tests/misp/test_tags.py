"""Release markings as MISP tags (`accord.misp.tags`): the accord taxonomy round-trips every
marking without groups, the TLP rule, and malformed tags refused with the reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.errors import InputError
from accord.misp import tags
from accord.policy.marking import Marking

codes = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=4)
words = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
levels = st.sampled_from(["U", "II", "III", "I", "TS", "S", "C", "R", "極秘", "秘"])

markings = st.builds(
    Marking.of,
    originator=codes,
    level=levels,
    topics=st.frozensets(words, max_size=4),
    purpose=words,
    rel_to=st.none() | st.frozensets(codes, max_size=4),
    noforn=st.booleans(),
    orcon=st.booleans(),
)


@given(markings)
def test_marking_tags_round_trip(m: Marking) -> None:
    assert tags.parse_marking(tags.marking_tags(m)) == m


@given(markings, st.lists(st.sampled_from(["tlp:amber", 'misp:tool="x"', "Threat-Report"])))
def test_other_tags_are_ignored(m: Marking, others: list[str]) -> None:
    assert tags.parse_marking([*others, *tags.marking_tags(m)]) == m


def test_tags_as_written() -> None:
    m = Marking.of("KOR", "II", ["dprk-missile"], rel_to=["USA", "JPN"], orcon=True)
    assert tags.marking_tags(m) == [
        'accord:originator="KOR"',
        'accord:level="II"',
        'accord:topic="dprk-missile"',
        'accord:purpose="defence"',
        'accord:rel-to="JPN"',
        'accord:rel-to="USA"',
        "accord:orcon",
    ]
    nobody = Marking.of("KOR", "II", ["dprk-missile"], rel_to=[])
    assert 'accord:rel-to=""' in tags.marking_tags(nobody)
    assert tags.parse_marking(tags.marking_tags(nobody)) == nobody


def test_groups_never_become_tags() -> None:
    m = Marking.of("KOR", "II", ["dprk-missile"], groups=["dprk"])
    assert not any('dprk"' in t and "group" in t for t in tags.marking_tags(m))
    assert tags.parse_marking(tags.marking_tags(m)) == m.without_groups()


def test_no_accord_tag_is_no_marking() -> None:
    assert tags.parse_marking(["tlp:amber", 'misp-galaxy:threat-actor="x"']) is None


@pytest.mark.parametrize(
    ("given_tags", "why"),
    [
        (['accord:level="II"'], "need accord:originator and accord:level"),
        (
            ['accord:originator="KOR"', 'accord:originator="USA"', 'accord:level="II"'],
            "more than one",
        ),
        (
            ['accord:originator="KOR"', 'accord:level="II"', 'accord:colour="red"'],
            "unknown accord tag",
        ),
        (
            ['accord:originator="KOR"', 'accord:level="II"', 'accord:noforn="yes"'],
            "unknown accord tag",
        ),
        (["accord:originator=KOR", 'accord:level="II"'], "is not an accord tag"),
        (
            [
                'accord:originator="KOR"',
                'accord:level="II"',
                'accord:rel-to=""',
                'accord:rel-to="USA"',
            ],
            "stands alone",
        ),
    ],
)
def test_malformed_accord_tags_are_refused(given_tags: list[str], why: str) -> None:
    with pytest.raises(InputError, match=why) as err:
        tags.parse_marking(given_tags, "event.json")
    assert str(err.value).startswith("event.json: ")


@pytest.mark.parametrize(
    ("m", "tlp"),
    [
        (Marking.of("KOR", "U", ["dprk-missile"]), "tlp:green"),
        (Marking.of("KOR", "U", ["dprk-missile"], rel_to=["USA"]), "tlp:amber"),
        (Marking.of("KOR", "U", ["dprk-missile"], noforn=True), "tlp:amber"),
        (Marking.of("KOR", "U", ["dprk-missile"], orcon=True), "tlp:amber"),
        (Marking.of("KOR", "III", ["dprk-missile"]), "tlp:red"),
        (Marking.of("USA", "TS", ["cyber"]), "tlp:red"),
    ],
)
def test_tlp_of_a_marking(m: Marking, tlp: str) -> None:
    assert tags.tlp_for(m) == tlp


def test_strictest_tlp_reads_white_as_clear() -> None:
    assert tags.strictest(["tlp:white"]) == "tlp:clear"
    assert tags.strictest(["tlp:amber", "tlp:green", "x"]) == "tlp:amber"
    assert tags.strictest(["TLP:RED", "tlp:amber+strict"]) == "tlp:red"
    assert tags.strictest(["Threat-Report"]) is None
