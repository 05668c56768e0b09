"""The one parser for `Accept` and `Content-Type` (TAXII 2.1 §1.6.8, §3.1).

Served: `application/taxii+json;version=2.1`, plain `application/taxii+json` (the latest version
this server supports), the deprecated `application/vnd.oasis.taxii+json`, and `*/*` or
`application/*` (an undefined type MAY be served). Refused with 406: any other explicit version
(`version=2.0`) and types we cannot produce. Parameters such as `charset=utf-8` and `q` are
tolerated (medallion refuses them: taxii-stix.md §2.2).
"""

from __future__ import annotations

from accord.errors import NotAcceptable, UnsupportedMedia
from accord.exchange.stix import MEDIA_TAXII

TAXII = MEDIA_TAXII
_TAXII_TYPES = ("application/taxii+json", "application/vnd.oasis.taxii+json")


def _parse(value: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in value.split(","):
        bits = [b.strip() for b in part.split(";")]
        mtype = bits[0].lower()
        if not mtype:
            continue
        params = {}
        for b in bits[1:]:
            if "=" in b:
                k, v = b.split("=", 1)
                params[k.strip().lower()] = v.strip().strip('"')
        out.append((mtype, params))
    return out


def _taxii_ok(mtype: str, params: dict[str, str]) -> bool:
    return mtype in _TAXII_TYPES and params.get("version", "2.1") == "2.1"


def _refused(params: dict[str, str]) -> bool:
    """True for a media range whose weight is zero (`q=0`, `q=0.0`, `q=0.000`: "not acceptable",
    RFC 9110 §12.4.2)."""
    try:
        return float(params.get("q", "1")) == 0
    except ValueError:
        return False


def check_accept(value: str | None, extra: tuple[str, ...] = ()) -> None:
    """Raises NotAcceptable unless `value` accepts TAXII 2.1 JSON (or a type in `extra`, such as
    `application/stix+json` on the manifest endpoint)."""
    if value is None or not value.strip():
        raise NotAcceptable("the Accept header is required (application/taxii+json;version=2.1)")
    for mtype, params in _parse(value):
        if _refused(params):
            continue
        if _taxii_ok(mtype, params) or mtype in ("*/*", "application/*") or mtype in extra:
            return
    raise NotAcceptable(f"cannot answer {value[:200]!r}: this endpoint serves {TAXII}")


def check_content_type(value: str | None) -> None:
    """Raises UnsupportedMedia unless the body is TAXII 2.1 JSON (charset parameters allowed)."""
    if value is None:
        raise UnsupportedMedia(f"the Content-Type header is required ({TAXII})")
    parsed = _parse(value)
    if len(parsed) == 1 and _taxii_ok(*parsed[0]):
        charset = parsed[0][1].get("charset", "utf-8").lower()
        if charset in ("utf-8", "utf8"):
            return
    raise UnsupportedMedia(f"cannot read a {value[:200]!r} body: send {TAXII}")
