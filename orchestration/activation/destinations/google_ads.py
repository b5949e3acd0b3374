"""Google Ads Customer Match: the customer data file Google Ads uploads into a user list.

Google's format (support.google.com/google-ads/answer/7659867 and 7476159, "hashed
data"): a UTF-8 CSV whose column headers are exactly `Email, Phone, First Name, Last Name,
Country, Zip`, values normalised and then SHA-256 hashed (hex), except Country and Zip,
which stay in clear text:

* Email: trimmed (Unicode whitespace), lower-cased; an address with whitespace inside or
  not exactly one `@` is not sent; for gmail.com and googlemail.com addresses the dots and
  any `+suffix` before the `@` are removed (Google's normalisation for those domains).
* Phone: E.164 with the leading `+` (libphonenumber; the member's country, else the
  configured default region, reads a national number).
* First Name, Last Name: lower-cased, trimmed, inner runs of spaces collapsed.
* Country: ISO 3166-1 alpha-2; Zip: the postal code as given (trimmed).

These are the rules of Google's own formatter (`google-ads-datamanager-util`, a dev
dependency): tests/activation/test_platform_vectors.py runs the shared vectors through
both. Where that formatter and Google's docs disagree (a national phone number, a run of
spaces inside a name), we follow
the docs: docs/activation.md, "Platform hashing rules".

Names, country and zip only match together (Google's "mailing address match"), so they
are sent only when all four are present: no name leaves when it cannot be used. A member
without an email and a phone is not sent at all: removals work by hashed email and phone,
and we only send what we can take back.

One file per segment, operation and run (`batch_size` splits larger lists); a removal
file has the `Email` and `Phone` columns, one key per row.
"""

from __future__ import annotations

import re
from typing import ClassVar

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

COLUMNS = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_WHITESPACE = re.compile(r"\s+")


def normalise_email(value: str) -> str | None:
    """Google's email normal form (see the module docstring); None for what Google's
    formatter rejects: inner whitespace, not exactly one `@`, an empty part."""
    parts = email_parts(value.strip().lower())
    if parts is None:
        return None
    local, domain = parts
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}" if local else None


def normalise_phone(value: str, country: str | None, default_region: str) -> str | None:
    """E.164 with `+`, or None when libphonenumber does not read a valid number."""
    return normalize_phone(value, country, default_region)


def normalise_name(value: str) -> str | None:
    """Trimmed, lower-cased, inner runs of whitespace made one space: Google's template
    says "remove all extra spaces before, after or in between" names; Google's formatter
    keeps inner runs as written (docs/activation.md, "Platform hashing rules")."""
    name = _WHITESPACE.sub(" ", value).strip().lower()
    return name or None


def normalise_country(value: str | None) -> str | None:
    country = (value or "").strip().upper()
    return country if len(country) == 2 and country.isalpha() else None


def normalise_zip(value: str | None) -> str | None:
    """Trimmed, otherwise as given (Google's formatter: no case change, inner spaces kept)."""
    postal = (value or "").strip()
    return postal or None


class GoogleAdsOptions(StrictOptions):
    # Region that reads a national phone number when the member has no country.
    default_region: str = "US"
    # Rows per file (None: one file per segment and operation).
    batch_size: int | None = None


@register
class GoogleAdsCustomerMatch(Destination):
    """Customer Match upload files (hashed), one per segment, operation and run."""

    type_name: ClassVar[str] = "google_ads_customer_match"
    kind: ClassVar[DestinationKind] = DestinationKind.AD_PLATFORM
    required_purposes: ClassVar[tuple[str, ...]] = ("advertising",)
    supports_updates: ClassVar[bool] = False
    removal_fields: ClassVar[tuple[str, ...]] = ("Email", "Phone")
    Options = GoogleAdsOptions

    def prepare(self, member: Member) -> Prepared | None:
        email = hashed(member.email, normalise_email)
        phone = hashed(
            member.phone,
            lambda value: normalise_phone(value, member.country, self.options.default_region),
        )
        if email is None and phone is None:
            return None
        first = hashed(member.first_name, normalise_name)
        last = hashed(member.last_name, normalise_name)
        country = normalise_country(member.country)
        postal = normalise_zip(member.postal_code)
        address = (first, last, country, postal) if all((first, last, country, postal)) else None
        record = {
            "Email": email,
            "Phone": phone,
            "First Name": address[0] if address else None,
            "Last Name": address[1] if address else None,
            "Country": address[2] if address else None,
            "Zip": address[3] if address else None,
        }
        keys = frozenset(
            (name, value) for name, value in (("Email", email), ("Phone", phone)) if value
        )
        return Prepared(record=record, keys=keys)

    def open(self, run: RunInfo) -> FileDelivery:
        return FileDelivery(
            self, run, file_format="csv", columns=COLUMNS, removal_columns=self.removal_fields
        )
