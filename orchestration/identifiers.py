"""Normalisation of person identifiers, shared by the dbt UDFs, the generator and tests.

These are the *warehouse* normal forms of the output contract (email cleaned of
invisible characters and Unicode whitespace, full-width forms folded, lower-cased; phone
in E.164). The character sets and the placeholder rules are dbt vars in
dbt_project/dbt_project.yml, read here and by the SQL macros (cdp.clean_unicode,
cdp.normalize_email, cdp.normalize_phone), so both sides give one normal form: the shared
vectors in tests/vectors/identifiers.yml prove it (pytest here, a generated dbt unit test
on each engine). Destination-specific forms (Google's gmail dot removal, Meta's
digits-only phone) live with the destinations.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import phonenumbers
import yaml

from orchestration.settings import DBT_PROJECT_DIR


@functools.cache
def normalisation_vars() -> dict[str, Any]:
    """The dbt vars that define the normal forms (dbt_project.yml, read once)."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project["vars"])


def _characters(name: str) -> str:
    return "".join(chr(int(code, 16)) for code in normalisation_vars()[name])


@functools.cache
def _cleaning() -> tuple[dict[int, int | None], str]:
    folding = normalisation_vars()["cdp_width_folding"]
    table: dict[int, int | None] = {
        ord(wide): ord(narrow) for wide, narrow in zip(folding["from"], folding["to"], strict=True)
    }
    table.update({ord(character): None for character in _characters("cdp_invisible_characters")})
    return table, _characters("cdp_trim_characters")


def clean_unicode(value: str) -> str:
    """Full-width forms folded, invisible characters removed, Unicode whitespace trimmed
    from both ends (cdp.clean_unicode)."""
    table, trim = _cleaning()
    return value.translate(table).strip(trim)


@functools.cache
def _email_rules() -> tuple[frozenset[str], re.Pattern[str], tuple[re.Pattern[str], ...]]:
    values = normalisation_vars()
    placeholders = frozenset(str(value).lower() for value in values["cdp_placeholder_values"])
    space = "".join(re.escape(c) for c in _characters("cdp_trim_characters"))
    shape = re.compile(f"^[^@{space}]+@[^@{space}]+\\.[^@{space}]+$")
    patterns = tuple(re.compile(p) for p in values["cdp_placeholder_email_patterns"])
    return placeholders, shape, patterns


def normalize_email(value: str | None) -> str | None:
    """Cleaned (clean_unicode) and lower-cased; None for empty values. Whether it is an
    address and not a placeholder: `identity_email`."""
    if value is None:
        return None
    cleaned = clean_unicode(value).lower()
    return cleaned or None


def identity_email(value: str | None) -> str | None:
    """The email as staging keeps it (cdp.normalize_email): the normal form, or None for
    a placeholder or a value not shaped like an address."""
    email = normalize_email(value)
    placeholders, shape, patterns = _email_rules()
    if email is None or email in placeholders or not shape.match(email):
        return None
    if any(pattern.search(email) for pattern in patterns):
        return None
    return email


def identity_phone(value: str | None, country: str | None) -> str | None:
    """The phone as staging keeps it (cdp.normalize_phone): E.164, or None for a
    placeholder or an invalid number. `country` is an ISO alpha-2 code (or None)."""
    if value is None:
        return None
    values = normalisation_vars()
    cleaned = clean_unicode(value)
    if cleaned.lower() in {str(v).lower() for v in values["cdp_placeholder_values"]}:
        return None
    digits = re.sub("[^0-9]", "", cleaned)
    if any(re.search(pattern, digits) for pattern in values["cdp_placeholder_phone_patterns"]):
        return None
    return normalize_phone(cleaned, country, str(values["cdp_default_country"]))


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
