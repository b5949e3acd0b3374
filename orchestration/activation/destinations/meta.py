"""Meta Custom Audiences: the multi-key customer list Meta's Marketing API takes.

Schema `EMAIL, PHONE, FN, LN, CT, ST, ZIP, COUNTRY`, every value normalised the way Meta's
"Hashing and Normalizing Data" rules say and then SHA-256 hashed (hex):

* EMAIL: whitespace and dots trimmed from the ends, lower-cased; an address with
  whitespace inside or not exactly one `@` is not sent. No gmail dot or `+suffix` removal
  (that is Google's rule; Meta hashes the address as written).
* PHONE: digits only, with the country code, no `+` and no leading zeros (libphonenumber
  E.164 without the `+`).
* FN, LN: lower-case letters only: no punctuation, digits or spaces (UTF-8 letters such as
  `é` are kept, as Meta asks).
* CT: the city the same way (lower case, no spaces or punctuation: `newyork`).
* ST: always empty: profiles carry no state/region trait, and a guessed one would only
  lower the match rate.
* ZIP: lower case without spaces; a US zip is its first 5 digits.
* COUNTRY: ISO 3166-1 alpha-2, lower case.

These are checked against Meta's own normaliser (`facebook-business`, a dev dependency:
CustomAudienceMixin) on the shared vectors, tests/activation/test_platform_vectors.py.
Where the SDK and Meta's docs disagree (a national phone number, accented letters, a zip
with a space), we follow the docs: docs/activation.md, "Platform hashing rules".

Meta takes at most 10,000 rows per request, so a segment's changes are cut into batches of
at most `batch_size` (default and maximum 10,000) rows, one file each, in the payload's
column order. A removal batch has the `EMAIL` and `PHONE` columns, one key per row. A
member without email and phone is not sent (removals work by those keys).
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

from pydantic import Field

from orchestration.activation.destinations.base import (
    Destination,
    DestinationKind,
    Member,
    Prepared,
    RunInfo,
    StrictOptions,
    email_parts,
    hashed,
    register,
)
from orchestration.activation.destinations.file import FileDelivery
from orchestration.identifiers import normalize_phone

SCHEMA = ("EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY")
MAX_BATCH_ROWS = 10_000
_WHITESPACE = re.compile(r"\s+")
# What Meta's SDK trims from every customer-list value (" \t\r\n\0\x0B."), with all
# Unicode whitespace: CustomAudienceMixin.format_params.
_EMAIL_ENDS = re.compile(r"^[\s.\x00]+|[\s.\x00]+$")


def normalise_email(value: str) -> str | None:
    """Whitespace (Unicode too) and dots trimmed from both ends, lower-cased, as Meta's SDK
    does; None for whitespace inside or not exactly one `@` (not an address)."""
    email = _EMAIL_ENDS.sub("", value).lower()
    return email if email_parts(email) else None


def normalise_phone(value: str, country: str | None, default_region: str) -> str | None:
    e164 = normalize_phone(value, country, default_region)
    return e164.lstrip("+") if e164 else None


def letters_only(value: str) -> str | None:
    """Lower-case letters only (names, city): punctuation, digits and spaces removed."""
    text = unicodedata.normalize("NFC", value).lower()
    kept = "".join(char for char in text if char.isalpha())
    return kept or None


def normalise_country(value: str | None) -> str | None:
    country = (value or "").strip().lower()
    return country if len(country) == 2 and country.isalpha() else None


def normalise_zip(value: str | None, country: str | None) -> str | None:
    postal = _WHITESPACE.sub("", value or "").lower()
    if normalise_country(country) == "us":
        postal = postal.split("-", 1)[0][:5]
    return postal or None


class MetaOptions(StrictOptions):
    default_region: str = "US"
    batch_size: int = Field(default=MAX_BATCH_ROWS)


@register
class MetaCustomAudiences(Destination):
    """Hashed customer-list batches for a Meta Custom Audience (one file per batch)."""

    type_name: ClassVar[str] = "meta_custom_audiences"
    kind: ClassVar[DestinationKind] = DestinationKind.AD_PLATFORM
    required_purposes: ClassVar[tuple[str, ...]] = ("advertising",)
    supports_updates: ClassVar[bool] = False
    removal_fields: ClassVar[tuple[str, ...]] = ("EMAIL", "PHONE")
    max_batch_size: ClassVar[int | None] = MAX_BATCH_ROWS
    Options = MetaOptions

    def prepare(self, member: Member) -> Prepared | None:
        email = hashed(member.email, normalise_email)
        phone = hashed(
            member.phone,
            lambda value: normalise_phone(value, member.country, self.options.default_region),
        )
        if email is None and phone is None:
            return None
        record = {
            "EMAIL": email,
            "PHONE": phone,
            "FN": hashed(member.first_name, letters_only),
            "LN": hashed(member.last_name, letters_only),
            "CT": hashed(member.city, letters_only),
            "ST": None,
            "ZIP": hashed(member.postal_code, lambda value: normalise_zip(value, member.country)),
            "COUNTRY": hashed(member.country, normalise_country),
        }
        keys = frozenset(
            (name, value) for name, value in (("EMAIL", email), ("PHONE", phone)) if value
        )
        return Prepared(record=record, keys=keys)

    def open(self, run: RunInfo) -> FileDelivery:
        return FileDelivery(
            self, run, file_format="csv", columns=SCHEMA, removal_columns=self.removal_fields
        )
