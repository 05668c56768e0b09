"""The region each party of the registry belongs to, for grouping a release panel's 45 rows.

A reading aid only, never an input to a decision: the rules (R1–R9) look at agreements, not at
geography. A party the table does not name (a registry that grew) is put under "Other".
"""

from __future__ import annotations

from accord.i18n import N_, _

#: Region keys in display order, with their words.
REGION_WORDS = {
    "asia-pacific": N_("Asia and the Pacific"),
    "americas": N_("The Americas"),
    "europe": N_("Europe"),
    "middle-east-africa": N_("Middle East and Africa"),
    "organisations": N_("International organisations"),
    "other": N_("Other"),
}

_MEMBERS = {
    "asia-pacific": "AUS CHN IDN IND JPN KHM KOR MNG MYS NZL PAK PHL SGP THA UZB VNM",
    "americas": "CAN COL PER USA",
    "europe": "BEL BGR CZE DEU DNK ESP FRA GBR GRC HUN ITA NLD NOR POL ROU RUS SWE TUR UKR",
    "middle-east-africa": "ARE ISR JOR SAU ZAF",
    "organisations": "NATO UNC",
}
REGION_OF = {code: key for key, codes in _MEMBERS.items() for code in codes.split()}
ORDER = {key: n for n, key in enumerate(REGION_WORDS)}


def region(code: str) -> str:
    """Returns the region key of party `code` ("other" when the table does not name it)."""
    return REGION_OF.get(code, "other")


def region_word(key: str) -> str:
    """Returns a region's name in the reader's language."""
    return _(REGION_WORDS.get(key, REGION_WORDS["other"]))
