"""Segment definitions: one YAML file per segment in `segments/`, loaded and validated.

`load_segment_definitions()` parses every file, checks it against the marts' schema
(the dbt manifest, see columns.py) and against the other segments, and returns
`SegmentDefinition`s (model.py) whose `rule` is the typed rule tree (rule_ast.py). Any
problem raises `SegmentDefinitionError`, naming the file and the place in it:

    segments/lapsed_customers.yml: rule.all[1].trait: column 'last_order_att' is not a
    column of customer_profiles (did you mean 'last_order_at'?)

The Dagster definitions load segments at import, so a bad file stops `cdp run` and the
code location before anything runs. docs/segments.md is the reference.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestration.activation.columns import WarehouseSchema
from orchestration.activation.model import CONSENT_PURPOSES, Audience, Refresh, SegmentDefinition
from orchestration.activation.rule_ast import (
    SEGMENT_NAME,
    AllOf,
    Comparison,
    EnteredSegment,
    InSegment,
    Node,
    RuleError,
    leaves,
    referenced_segments,
)
from orchestration.activation.rule_parser import RuleParser, portable_text

SEGMENTS_DIR = Path(__file__).resolve().parent / "segments"

# Destination names a segment may list, and whether they are ad platforms. Ad platforms
# match people on hashed identifiers: they need consent `advertising` and can never
# receive anonymous persons (audience `all`).
AD_PLATFORMS = ("google_ads", "meta")
FIRST_PARTY_DESTINATIONS = ("file", "webhook")
DESTINATIONS = (*AD_PLATFORMS, *FIRST_PARTY_DESTINATIONS)
AD_PLATFORM_CONSENT = "advertising"

REQUIRED_KEYS = (
    "name",
    "description",
    "owner",
    "consent_purpose",
    "destinations",
    "refresh",
    "audience",
    "rule",
)
OPTIONAL_KEYS = ("attributes",)
_OWNER = re.compile(r"team:\S+|[^@\s]+@[^@\s]+\.[^@\s]+")
_ATTRIBUTE = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Problem:
    file: str  # e.g. segments/abandoned_cart.yml
    path: str  # e.g. rule.all[1].trait
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


class SegmentDefinitionError(ValueError):
    """One or more segment files cannot run; each problem names its file and rule path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def path(self) -> str:
        return self.problems[0].path


def load_segment_definitions(
    directory: Path = SEGMENTS_DIR, schema: WarehouseSchema | None = None
) -> list[SegmentDefinition]:
    """Every `*.yml` / `*.yaml` in `directory`, validated, sorted by name.

    `schema` defaults to the marts' documented columns in the dbt manifest.
    """
    if not directory.is_dir():
        raise SegmentDefinitionError(
            [Problem(str(directory), "-", "segment directory does not exist")]
        )
    if schema is None:
        try:
            schema = WarehouseSchema.from_manifest()
        except FileNotFoundError as error:
            raise SegmentDefinitionError([Problem(str(directory), "-", str(error))]) from None
    files = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])
    problems: list[Problem] = []
    definitions: list[SegmentDefinition] = []
    for path in files:
        try:
            definitions.append(parse_segment_file(path, schema))
        except SegmentDefinitionError as error:
            problems.extend(error.problems)
    problems.extend(_cross_file_problems(definitions))
    if problems:
        raise SegmentDefinitionError(problems)
    return sorted(definitions, key=lambda definition: definition.name)


def display_name(path: Path) -> str:
    """`segments/<file>`: the folder and the file, as messages name them."""
    return f"{path.parent.name}/{path.name}"


def parse_segment_file(path: Path, schema: WarehouseSchema) -> SegmentDefinition:
    """One segment file, checked on its own (references to other segments are checked by
    `load_segment_definitions`)."""
    file = display_name(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}" if mark else "-"
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise SegmentDefinitionError([Problem(file, where, f"not valid YAML: {problem}")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SegmentDefinitionError([Problem(file, "-", f"not valid YAML: {error}")]) from None
    try:
        return parse_segment(raw, path, schema)
    except RuleError as error:
        raise SegmentDefinitionError([Problem(file, error.path, error.message)]) from None


def parse_segment(raw: Any, path: Path, schema: WarehouseSchema) -> SegmentDefinition:
    """The segment in `raw` (a parsed YAML document); raises RuleError."""
    if not isinstance(raw, Mapping):
        raise RuleError("-", "expected a mapping with " + ", ".join(REQUIRED_KEYS))
    for key in raw:
        if key not in (*REQUIRED_KEYS, *OPTIONAL_KEYS):
            close = difflib.get_close_matches(str(key), [*REQUIRED_KEYS, *OPTIONAL_KEYS], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise RuleError(str(key), f"unknown key{hint}")
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise RuleError(key, "required")

    name = raw["name"]
    if not isinstance(name, str) or not SEGMENT_NAME.fullmatch(name):
        raise RuleError("name", f"expected a snake_case name (a-z, 0-9, _), got {name!r}")
    if name != path.stem:
        raise RuleError("name", f"'{name}' must match the file name '{path.stem}'")
    for key in ("description", "owner"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise RuleError(key, "expected a non-empty string")
    owner = raw["owner"].strip()
    if not _OWNER.fullmatch(owner):
        raise RuleError("owner", f"expected an email address or 'team:<name>', got {owner!r}")

    purpose = raw["consent_purpose"]
    if purpose not in CONSENT_PURPOSES:
        raise RuleError(
            "consent_purpose",
            f"{purpose!r} is not a consent purpose: expected one of {', '.join(CONSENT_PURPOSES)}",
        )
    refresh = _choice(raw["refresh"], Refresh, "refresh")
    audience = _choice(raw["audience"], Audience, "audience")
    destinations = _destinations(raw["destinations"], purpose, audience)
    attributes = _attributes(raw.get("attributes", {}))

    parser = RuleParser(schema)
    rule = parser.parse(raw["rule"], "rule")
    definition = SegmentDefinition(
        name=name,
        description=" ".join(raw["description"].split()),
        owner=owner,
        consent_purpose=purpose,
        destinations=destinations,
        refresh=refresh,
        audience=audience,
        rule=rule,
        attributes=attributes,
        source_file=path,
    )
    membership_condition(definition, schema)  # the consent / audience columns exist
    return definition


def membership_condition(definition: SegmentDefinition, schema: WarehouseSchema) -> Node:
    """Who is a member: the audience (known persons only, unless `all`), consent to the
    segment's purpose `granted`, and the rule. An erased person has no profile row and
    so is never a member."""
    parser = RuleParser(schema)
    consent = parser.parse(
        {"trait": f"consent_{definition.consent_purpose}", "equals": "granted"}, "consent_purpose"
    )
    conditions: list[Node] = [consent]
    if definition.audience == Audience.KNOWN:
        conditions.insert(0, parser.parse({"trait": "is_known", "equals": True}, "audience"))
    return AllOf("segment", (*conditions, definition.rule))


def is_implicit(node: Node) -> bool:
    """The audience and consent conditions every segment carries (not from its rule)."""
    return isinstance(node, Comparison) and node.path in ("audience", "consent_purpose")


def _choice(raw: Any, enum: type[Refresh] | type[Audience], key: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        values = ", ".join(member.value for member in enum)
        raise RuleError(key, f"{raw!r} is not one of {values}") from None


def _destinations(raw: Any, purpose: str, audience: Audience) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise RuleError("destinations", "expected a non-empty list of destination names")
    for index, name in enumerate(raw):
        if name not in DESTINATIONS:
            close = difflib.get_close_matches(str(name), DESTINATIONS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise RuleError(
                f"destinations[{index}]",
                f"unknown destination {name!r}{hint}: expected one of {', '.join(DESTINATIONS)}",
            )
        if name in raw[:index]:
            raise RuleError(f"destinations[{index}]", f"{name!r} is listed twice")
    ads = [name for name in raw if name in AD_PLATFORMS]
    if ads and audience == Audience.ALL:
        raise RuleError(
            "destinations",
            f"audience 'all' lets anonymous persons in, and ad platforms ({', '.join(ads)}) "
            "must never receive them: use audience 'known', or only first-party "
            f"destinations ({', '.join(FIRST_PARTY_DESTINATIONS)})",
        )
    if ads and purpose != AD_PLATFORM_CONSENT:
        raise RuleError(
            "consent_purpose",
            f"ad platforms ({', '.join(ads)}) need consent '{AD_PLATFORM_CONSENT}', "
            f"not {purpose!r}",
        )
    return tuple(raw)


def _attributes(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise RuleError("attributes", "expected a mapping of names to values")
    for key, value in raw.items():
        if not isinstance(key, str) or not _ATTRIBUTE.fullmatch(key):
            raise RuleError(f"attributes.{key}", "expected a snake_case attribute name")
        if value is None or not isinstance(value, str | int | float | bool):
            raise RuleError(
                f"attributes.{key}", "expected a string, number or boolean (sent as is)"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise RuleError(f"attributes.{key}", "expected a finite number")
        if isinstance(value, str):
            portable_text(value, f"attributes.{key}")
    return dict(raw)


def _cross_file_problems(definitions: Sequence[SegmentDefinition]) -> list[Problem]:
    problems: list[Problem] = []
    by_name: dict[str, SegmentDefinition] = {}
    for definition in definitions:
        assert definition.source_file is not None
        file = display_name(definition.source_file)
        if definition.name in by_name:
            other = by_name[definition.name].source_file
            assert other is not None
            problems.append(
                Problem(file, "name", f"'{definition.name}' is also defined in {other.name}")
            )
            continue
        by_name[definition.name] = definition
    for definition in definitions:
        assert definition.source_file is not None
        for reference in sorted(referenced_segments(definition.rule)):
            if reference not in by_name:
                close = difflib.get_close_matches(reference, list(by_name), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(
                    Problem(
                        display_name(definition.source_file),
                        _reference_path(definition.rule, reference),
                        f"segment '{reference}' is not defined{hint}",
                    )
                )
    if not problems:
        problems.extend(_cycles(by_name))
    return problems


def _reference_path(rule: Node, segment: str) -> str:
    for leaf in leaves(rule):
        if isinstance(leaf, EnteredSegment | InSegment) and leaf.segment == segment:
            return leaf.path
    return "rule"


def _cycles(by_name: Mapping[str, SegmentDefinition]) -> list[Problem]:
    """Segments that depend on themselves (directly or through others) cannot be ordered.

    Depth first; `trail` is the path from the segment the search started at, so a
    reference back into it closes a cycle.
    """
    done: set[str] = set()
    problems: list[Problem] = []

    def visit(name: str, trail: list[str]) -> None:
        for reference in sorted(referenced_segments(by_name[name].rule)):
            if reference in trail:
                cycle = [*trail[trail.index(reference) :], reference]
                source = by_name[name].source_file
                assert source is not None
                problems.append(
                    Problem(
                        display_name(source),
                        _reference_path(by_name[name].rule, reference),
                        "segments reference each other in a cycle: " + " -> ".join(cycle),
                    )
                )
            elif reference not in done:
                visit(reference, [*trail, reference])
        done.add(name)

    for name in sorted(by_name):
        if name not in done:
            visit(name, [name])
    return problems


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (PyYAML silently keeps the last one)."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)
