"""Destinations: where a segment's members go (docs/activation.md, "Destinations").

`load_destinations()` reads `orchestration/activation/destinations.yml` (destination name
-> type + options) into configured `Destination` objects. Each type is one module here,
registered with `@register`: google_ads.py, meta.py, file.py, webhook.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from orchestration.activation.destinations import file, google_ads, meta, webhook
from orchestration.activation.destinations.base import (
    DESTINATION_TYPES,
    Destination,
    DestinationConfigError,
    build_destination,
)

DESTINATIONS_FILE = Path(__file__).resolve().parents[1] / "destinations.yml"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")

__all__ = [
    "DESTINATIONS_FILE",
    "DESTINATION_TYPES",
    "Destination",
    "DestinationConfigError",
    "file",
    "google_ads",
    "load_destinations",
    "meta",
    "parse_destinations",
    "webhook",
]


def parse_destinations(
    document: Mapping[str, Any] | None, source: Path | None = None
) -> dict[str, Destination]:
    """Destinations from a parsed config document `{destinations: {name: entry}}`."""
    where = str(source or "<destinations config>")
    if not isinstance(document, Mapping) or not isinstance(document.get("destinations"), Mapping):
        raise DestinationConfigError(f"{where}: expected a mapping `destinations: {{name: ...}}`")
    extra = set(document) - {"destinations"}
    if extra:
        raise DestinationConfigError(f"{where}: unknown top-level key(s) {sorted(extra)}")
    destinations: dict[str, Destination] = {}
    for name, entry in document["destinations"].items():
        if not isinstance(name, str) or not name or set(name) - NAME_CHARS or name[0].isdigit():
            raise DestinationConfigError(
                f"{where}: destination name {name!r} must be snake_case (a-z, 0-9, _)"
            )
        if not isinstance(entry, Mapping):
            raise DestinationConfigError(f"{where}: destination '{name}' must be a mapping")
        destinations[name] = build_destination(name, entry, source)
    return destinations


def load_destinations(path: Path = DESTINATIONS_FILE) -> dict[str, Destination]:
    """The configured destinations by name; a bad file raises naming file and entry."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise DestinationConfigError(
            f"{path}: cannot read the destinations config: {error}"
        ) from None
    except yaml.YAMLError as error:
        raise DestinationConfigError(f"{path}: not valid YAML: {error}") from None
    return parse_destinations(document, path)
