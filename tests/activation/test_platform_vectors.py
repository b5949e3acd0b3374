"""Our ad-platform normalisers against the platforms' own code, on shared vectors.

tests/activation/platform_vectors.yml holds each input and what our Google and Meta
destinations make of it. Google's Data Manager formatter (`google-ads-datamanager-util`)
and Meta's SDK (`facebook-business`, CustomAudienceMixin: the customer-list normaliser)
must give the same normal form and the same SHA-256, except where a vector lists the
platform under `differs`: there the library disagrees with its own platform's docs, we
follow the docs (docs/activation.md, "Platform hashing rules"), and the test checks the
disagreement is still there, so a library that changes is noticed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from facebook_business.adobjects.helpers.customaudiencemixin import CustomAudienceMixin
from google.ads.datamanager_util import Encoding, Formatter

from orchestration.activation.destinations import google_ads, meta
from orchestration.activation.destinations.base import sha256_hex

VECTORS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("platform_vectors.yml")).read_text(encoding="utf-8")
)
DEFAULT_REGION = "US"
# What CustomAudienceMixin.format_params trims from every value before normalize_key.
META_SDK_TRIM = " \t\r\n\0\x0b."
META_KEYS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "first_name": "FN",
    "last_name": "LN",
    "city": "CT",
    "zip": "ZIP",
    "country": "COUNTRY",
}
# Google sends Country and Zip in clear text; the rest is hashed.
GOOGLE_CLEAR = {"zip", "country"}


def ours(platform: str, vector: dict[str, Any]) -> str | None:
    field, value, country = vector["field"], vector["input"], vector.get("country")
    if platform == "google":
        return {
            "email": lambda: google_ads.normalise_email(value),
            "phone": lambda: google_ads.normalise_phone(value, country, DEFAULT_REGION),
            "first_name": lambda: google_ads.normalise_name(value),
            "last_name": lambda: google_ads.normalise_name(value),
            "zip": lambda: google_ads.normalise_zip(value),
            "country": lambda: google_ads.normalise_country(value),
        }[field]()
    return {
        "email": lambda: meta.normalise_email(value),
        "phone": lambda: meta.normalise_phone(value, country, DEFAULT_REGION),
        "first_name": lambda: meta.letters_only(value),
        "last_name": lambda: meta.letters_only(value),
        "city": lambda: meta.letters_only(value),
        "zip": lambda: meta.normalise_zip(value, country),
        "country": lambda: meta.normalise_country(value),
    }[field]()


def google_library(field: str, value: str) -> tuple[str | None, str | None]:
    """(normal form, hash or clear value as sent) from Google's formatter; None when it
    rejects the value."""
    formatter = Formatter()
    format_, process = {
        "email": (formatter.format_email_address, formatter.process_email_address),
        "phone": (formatter.format_phone_number, formatter.process_phone_number),
        "first_name": (formatter.format_given_name, formatter.process_given_name),
        "last_name": (formatter.format_family_name, formatter.process_family_name),
        "zip": (formatter.format_postal_code, None),
        "country": (formatter.format_region_code, None),
    }[field]
    try:
        normal = format_(value)
    except ValueError:
        return None, None
    sent = normal if process is None else process(value, Encoding.HEX)
    return normal, sent


def meta_library(field: str, value: str) -> tuple[str | None, str | None]:
    """(normal form, SHA-256 hex) from Meta's SDK, the way add_users builds a multi-key
    customer-list payload."""
    key = META_KEYS[field]
    normal = CustomAudienceMixin.normalize_key(key, str(value.strip(META_SDK_TRIM).lower()))
    params = CustomAudienceMixin.format_params([key], [[value]], is_raw=True)
    return normal, params["payload"]["data"][0][0]


CASES = [
    pytest.param(platform, vector, id=f"{platform}-{vector['field']}-{vector['input']!r}")
    for vector in VECTORS
    for platform in ("google", "meta")
    if platform in vector
]


def test_the_vectors_cover_what_the_brief_asks():
    inputs = [v["input"] for v in VECTORS]
    assert any("\t" in i or "\n" in i for i in inputs)
    assert any("\u00a0" in i for i in inputs)
    assert any("gmail.com" in i.lower() and "+" in i for i in inputs)
    assert any("googlemail.com" in i.lower() for i in inputs)
    assert {v["field"] for v in VECTORS} == set(META_KEYS)


@pytest.mark.parametrize(("platform", "vector"), CASES)
def test_our_normal_form_is_the_platforms(platform: str, vector: dict[str, Any]):
    expected = vector[platform]
    normal = ours(platform, vector)
    assert normal == expected
    library = google_library if platform == "google" else meta_library
    library_normal, library_sent = library(vector["field"], vector["input"])
    if platform in vector.get("differs", {}):
        # The documented disagreement: the library's value is not what the docs ask for.
        assert library_normal != normal, vector["differs"][platform]
        return
    assert library_normal == normal
    if normal is None:
        return
    if platform == "google" and vector["field"] in GOOGLE_CLEAR:
        assert library_sent == normal
    else:
        assert library_sent == sha256_hex(normal)


def test_the_platforms_disagree_with_each_other_and_each_destination_follows_its_own():
    gmail = "John.Smith+promo@Gmail.com"
    assert google_ads.normalise_email(gmail) == Formatter().format_email_address(gmail)
    assert meta.normalise_email(gmail) == meta_library("email", gmail)[0]
    assert google_ads.normalise_email(gmail) != meta.normalise_email(gmail)
    # Google keeps the `+` of E.164, Meta sends digits only.
    assert google_ads.normalise_phone("+1 415 555 0134", None, "US") == "+14155550134"
    assert meta.normalise_phone("+1 415 555 0134", None, "US") == "14155550134"


def test_metas_published_hashes():
    """developers.facebook.com/docs/marketing-api/conversions-api/parameters/
    customer-information-parameters (read 2026-12-03)."""
    assert sha256_hex(meta.normalise_email("John_Smith@gmail.com")) == (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
    )
    assert sha256_hex(meta.normalise_phone("(650)555-1212", "US", "US")) == (
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
    )
    assert sha256_hex(meta.letters_only("Mary")) == (
        "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
    )
    assert sha256_hex(meta.letters_only("Valéry")) == (
        "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"
    )
