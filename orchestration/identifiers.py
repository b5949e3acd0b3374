"""Normalisation of person identifiers, shared by the dbt UDFs, the generator and tests.

These are the *warehouse* normal forms of the output contract (email trimmed and
lower-cased; phone in E.164). Destination-specific forms (Google's gmail dot removal,
Meta's digits-only phone) live with the destinations.
"""

from __future__ import annotations

import functools

import phonenumbers


def normalize_email(value: str | None) -> str | None:
    """Trim and lower-case; None for empty values. Validity is judged in SQL."""
    if value is None:
        return None
    cleaned = value.strip().lower()
    return cleaned or None


@functools.lru_cache(maxsize=1_000_000)
def normalize_phone(
    value: str | None, country: str | None, default_country: str = "US"
) -> str | None:
    """E.164 for a phone written in national, international or `00`-prefixed form.

    The record's country (ISO alpha-2) reads a national number; without one the
    default country does. Returns None when `phonenumbers` says it is not a valid
    number, so junk never becomes an identifier.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.startswith("00"):
        # International call prefix used across most of the world.
        text = "+" + text[2:]
    region = (country or "").strip().upper() or default_country.upper()
    if len(region) != 2 or not region.isalpha():
        region = default_country.upper()
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
