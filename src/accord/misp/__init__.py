"""MISP in and out: MISP events published as this node's items, and what a partner may receive
today written and served as a MISP feed (docs/misp.md).

The conversion between MISP's data model and STIX 2.1 is misp-stix's (with pymisp's MISP event);
accord adds only what MISP does not know: the release marking, carried as MISP tags (`tags`), the
grouping of items into events (`feed`), and the release record of every feed a partner receives.
"""
