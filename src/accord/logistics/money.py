"""Money as exact integers in minor units (PRODUCT.md §2 "Logistics order").

An amount is an `int` of minor units of one currency: 1250 USD is $12.50; 1250 KRW is ₩1,250.
Text is parsed with `Decimal`, never with floats, and an amount more precise than its currency's
ISO 4217 exponent is refused rather than rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from accord.errors import InputError

# ISO 4217 minor-unit exponents for the currencies allied forces settle in (and a few more).
EXPONENTS: dict[str, int] = {
    "AUD": 2,
    "BHD": 3,
    "CAD": 2,
    "CHF": 2,
    "CLP": 0,
    "CNY": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "IDR": 2,
    "INR": 2,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "MNT": 2,
    "MYR": 2,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PHP": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TND": 3,
    "TRY": 2,
    "TWD": 2,
    "UGX": 0,
    "USD": 2,
    "VND": 0,
    "ZAR": 2,
}

# Quantities (litres, pallets, hours) are exact decimals with at most this many places.
QUANTITY_PLACES = 3


def currency(code: str) -> str:
    """Returns the currency code upper-cased; InputError when accord does not know its exponent."""
    cur = code.strip().upper()
    if cur not in EXPONENTS:
        raise InputError(f"{code!r} is not a currency accord knows (ISO 4217, e.g. USD, KRW, JPY)")
    return cur


def exponent(code: str) -> int:
    """Returns the number of minor-unit digits of the currency (USD 2, KRW 0, KWD 3)."""
    return EXPONENTS[currency(code)]


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise InputError(f"{what}: {text!r} is not a number") from None
    if not value.is_finite():
        raise InputError(f"{what}: {text!r} is not a finite number")
    return value


def parse_amount(text: str, code: str, what: str = "amount") -> int:
    """Returns `text` ("12.50") as minor units of `code` (1250 for USD); InputError when it is not
    a number or has more decimals than the currency allows (no silent rounding)."""
    exp = exponent(code)
    value = _decimal(text, what)
    minor = value.scaleb(exp)
    if minor != minor.to_integral_value():
        raise InputError(f"{what}: {text!r} has more than {exp} decimal(s) for {currency(code)}")
    return int(minor)


def parse_quantity(text: str, what: str = "quantity") -> Decimal:
    """Returns a non-negative exact quantity, normalised (e.g. "10.50" → Decimal("10.5"))."""
    value = _decimal(text, what)
    if value < 0:
        raise InputError(f"{what}: {text!r} is negative")
    if value != value.quantize(Decimal(1).scaleb(-QUANTITY_PLACES), rounding=ROUND_HALF_UP):
        raise InputError(f"{what}: {text!r} has more than {QUANTITY_PLACES} decimals")
    return quantity_norm(value)


def quantity_norm(value: Decimal) -> Decimal:
    """Returns the quantity without trailing zeros and never in exponent form."""
    n = value.normalize()
    return n.quantize(Decimal(1)) if n == n.to_integral_value() else n


def quantity_text(value: Decimal) -> str:
    """Returns the canonical text of a quantity ("10", "10.5")."""
    return format(quantity_norm(value), "f")


def line_amount(quantity: Decimal, unit_price_minor: int) -> int:
    """Returns quantity × unit price in minor units, rounded half-up to the minor unit (only a
    fractional quantity can produce a fraction of a minor unit)."""
    return int((quantity * unit_price_minor).to_integral_value(rounding=ROUND_HALF_UP))


def format_amount(minor: int, code: str) -> str:
    """Returns minor units as decimal text in the currency's exponent: 1250 USD → "12.50"."""
    exp = exponent(code)
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(exp + 1, "0")
    if exp == 0:
        return sign + digits
    return f"{sign}{digits[:-exp]}.{digits[-exp:]}"


def money_text(minor: int, code: str) -> str:
    """Returns "12.50 USD"."""
    return f"{format_amount(minor, code)} {currency(code)}"


def parse_money(text: str, what: str = "--amount") -> tuple[int, str]:
    """Parses "AMOUNT:CURRENCY" ("12.50:USD") into (minor units, currency)."""
    amount, sep, cur = text.rpartition(":")
    if not sep or not amount:
        raise InputError(f"{what}: {text!r} is not AMOUNT:CURRENCY (e.g. 12.50:USD)")
    code = currency(cur)
    return parse_amount(amount, code, what), code
