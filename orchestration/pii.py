"""Masking of person identifiers (e-mails, phones) wherever the project shows data it
did not explicitly look up: the studio's pages, GX's sample values in Dagster metadata
and `quality.gx_validation_results`, ingestion's error messages and the run's log.

`cdp explain` and the marts are explicit lookups of the data and show it whole.
"""

from __future__ import annotations

import re
from typing import Any

PII_TYPES = frozenset({"email", "phone"})

# An e-mail address inside free text (a log line, an error message). The domain ends in
# letters, so a path or version with an `@` (`raw@2026.01`) is not taken for one.
_EMAIL = re.compile(r"[^\s@,;:'\"<>()\[\]{}/\\|=`]+@[^\s@,;:'\"<>()\[\]{}/\\|=`]+\.[A-Za-z]{2,}\b")
# A phone number as a whole value (a column name that is really a data value).
_PHONE_VALUE = re.compile(r"^\s*\+?[\d\s().\-/]{7,}\s*$")


def mask_email(value: str) -> str:
    """'ann.lee@example.com' -> 'a***@example.com': enough to tell people apart."""
    local, at, domain = value.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """'+14155550123' -> '+1*******23': the country code and the last two digits."""
    if len(value) <= 5:
        return "***"
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask(identifier_type: str, value: Any, show_pii: bool = False) -> Any:
    """An identifier value as a page or a log shows it."""
    if value is None or show_pii or identifier_type not in PII_TYPES:
        return value
    return mask_email(str(value)) if identifier_type == "email" else mask_phone(str(value))


def mask_emails_in(text: str) -> str:
    """Free text with every e-mail address in it masked (`mask_email`)."""
    if "@" not in text:
        return text
    return _EMAIL.sub(lambda found: mask_email(found.group()), text)


def mask_value(value: str) -> str:
    """A single value of unknown meaning (a column name taken from a data row): masked
    if it is an e-mail address or shaped like a phone number (7 digits or more)."""
    if _PHONE_VALUE.match(value) and sum(char.isdigit() for char in value) >= 7:
        return mask_phone(value.strip())
    return mask_emails_in(value)


def identifier_type_of(column: str | None) -> str | None:
    """'email' or 'phone' for a column holding them (`email`, `billing_phone`, ...)."""
    name = (column or "").lower()
    if "email" in name:
        return "email"
    if "phone" in name:
        return "phone"
    return None


def mask_column_value(column: str | None, value: Any) -> Any:
    """A sample value of `column` (GX's unexpected values) as a log may show it."""
    kind = identifier_type_of(column)
    if not isinstance(value, str):
        return value  # a count, a share, a date: no identifier
    return mask(kind, value) if kind is not None else mask_value(value)
