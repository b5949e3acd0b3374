"""The dbt files the segment YAML becomes, written by `cdp segments compile`.

Per segment `<name>`, `models/marts/activation/segments/seg_<name>.sql` (compiler.py) and
`.yml` (description, owner, refresh tag, the Dagster asset key `segments/<name>`, column
docs, tests); for all segments together `models/intermediate/activation/
int_audience_rules.sql` (who may leave for which destination, as data) and
`macros/activation/segment_models.sql` (the list the union models loop over).

The files are committed, so dbt (on any engine, without this package) builds exactly what
was reviewed; `files_out_of_date()` compares them with what the YAML gives now, and a test
plus `cdp run` refuse to go on while they differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from orchestration.activation import segment_files
from orchestration.activation.columns import WarehouseSchema
from orchestration.activation.compiler import compile_segment, model_name, sql_literal
from orchestration.activation.destinations import Destination, load_destinations
from orchestration.activation.destinations.base import DestinationKind
from orchestration.activation.model import Audience, SegmentDefinition
from orchestration.activation.segment_files import (
    SEGMENTS_DIR,
    load_segment_definitions,
    membership_condition,
)
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

SEGMENT_MODELS_DIR = Path("models/marts/activation/segments")
RULES_MODEL = Path("models/intermediate/activation/int_audience_rules.sql")
MODELS_MACRO = Path("macros/activation/segment_models.sql")
COMMAND = "uv run cdp segments compile"


class ActivationConfigError(ValueError):
    """A segment that cannot be activated as declared (e.g. an unknown destination)."""


def _source(definition: SegmentDefinition) -> str:
    path = definition.source_file or SEGMENTS_DIR / f"{definition.name}.yml"
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _header(source: str, comment: str = "--") -> str:
    return (
        f"{comment} GENERATED from {source}\n"
        f"{comment} by `{COMMAND}`: do not edit. Change the YAML and run the command\n"
        f"{comment} (a test fails while the two differ).\n"
    )


def render_files(
    definitions: Sequence[SegmentDefinition],
    destinations: Mapping[str, Destination],
    schema: WarehouseSchema,
) -> dict[Path, str]:
    """Every generated file (path relative to dbt_project/) and its text."""
    files: dict[Path, str] = {}
    for definition in definitions:
        condition = membership_condition(definition, schema)
        stem = SEGMENT_MODELS_DIR / model_name(definition.name)
        files[stem.with_suffix(".sql")] = compile_segment(
            definition, condition, _header(_source(definition))
        )
        files[stem.with_suffix(".yml")] = _segment_yaml(definition)
    files[RULES_MODEL] = _rules_model(definitions, destinations)
    files[MODELS_MACRO] = _models_macro(definitions)
    return files


def _segment_yaml(definition: SegmentDefinition) -> str:
    name = definition.name
    column_docs = [
        ("segment_name", "string", f"Always `{name}`."),
        ("person_id", "string", "{{ doc('col_person_id') }}"),
        ("change_type", "string", "`entered` (a stay opened) or `exited` (it closed)."),
        (
            "changed_at",
            "timestamp",
            "When the evaluation that saw the change ran, on the pipeline's clock (int_as_of).",
        ),
        (
            "entered_at",
            "timestamp",
            "Start of the stay the row belongs to (on an `entered` row, changed_at).",
        ),
        (
            "reason",
            "string",
            "Entered: the rule's conditions that held, by rule path. Exited: what stopped "
            "holding (audience and consent included), or the merge / erasure that removed "
            "the person.",
        ),
        ("attributes", "string", "The segment's static attributes as JSON text (NULL: none)."),
        ("invocation_id", "string", "The dbt invocation that appended the row."),
    ]
    document = {
        "version": 2,
        "models": [
            {
                "name": model_name(name),
                "description": (
                    f"{definition.description} Change log of segment `{name}`: one row "
                    "per person entering or exiting (append-only incremental: each build "
                    "appends an `entered` row for each new member and an `exited` row for "
                    "the open stay of each person who no longer qualifies; "
                    "segment_membership_history pairs them into stays). Generated from "
                    f"`{_source(definition)}`."
                ),
                "config": {
                    "meta": {
                        "owner": definition.owner,
                        "group": "activation",
                        "dagster": {"asset_key": ["segments", name]},
                        "segment": {
                            "consent_purpose": definition.consent_purpose,
                            "audience": definition.audience.value,
                            "destinations": list(definition.destinations),
                            "refresh": definition.refresh.value,
                            "definition": _source(definition),
                        },
                    },
                },
                "data_tests": [
                    {
                        "unique_combination_of_columns": {
                            "arguments": {
                                "combination_of_columns": ["person_id", "entered_at", "change_type"]
                            }
                        }
                    },
                    {
                        "expression_is_true": {
                            "arguments": {"expression": "changed_at >= entered_at"}
                        }
                    },
                ],
                "columns": [
                    {
                        "name": column,
                        "data_type": data_type,
                        "description": text,
                        **_column_tests(column),
                    }
                    for column, data_type, text in column_docs
                ],
            }
        ],
    }
    body = yaml.safe_dump(document, sort_keys=False, width=88, allow_unicode=True)
    return _header(_source(definition), "#") + body


_NOT_NULL = ("segment_name", "person_id", "changed_at", "entered_at", "invocation_id")


def _column_tests(column: str) -> dict[str, list[object]]:
    if column == "change_type":
        return {
            "data_tests": [
                "not_null",
                {"accepted_values": {"arguments": {"values": ["entered", "exited"]}}},
            ]
        }
    return {"data_tests": ["not_null"]} if column in _NOT_NULL else {}


def audience_rule_rows(
    definitions: Sequence[SegmentDefinition], destinations: Mapping[str, Destination]
) -> list[dict[str, object]]:
    """One row per (segment, destination, required consent purpose): the segment's own
    purpose plus the destination's (advertising for an ad platform); `known_only` when the
    segment's audience is `known` or the destination cannot take anonymous persons."""
    rows: list[dict[str, object]] = []
    for definition in definitions:
        for name in definition.destinations:
            destination = destinations.get(name)
            if destination is None:
                raise ActivationConfigError(
                    f"{_source(definition)}: segment '{definition.name}': unknown destination "
                    f"'{name}' (configured: {', '.join(sorted(destinations)) or 'none'})"
                )
            purposes = sorted({definition.consent_purpose, *destination.required_purposes})
            for purpose in purposes:
                rows.append(
                    {
                        "segment_name": definition.name,
                        "destination": name,
                        "destination_type": destination.type_name,
                        "is_ad_platform": destination.kind == DestinationKind.AD_PLATFORM,
                        "is_known_only": definition.audience == Audience.KNOWN
                        or not destination.allows_anonymous,
                        "purpose": purpose,
                    }
                )
    return rows


_RULE_COLUMNS = (
    ("segment_name", "string"),
    ("destination", "string"),
    ("destination_type", "string"),
    ("is_ad_platform", "boolean"),
    ("is_known_only", "boolean"),
    ("purpose", "string"),
)


def _rules_model(
    definitions: Sequence[SegmentDefinition], destinations: Mapping[str, Destination]
) -> str:
    rows = audience_rule_rows(definitions, destinations)
    header = _header("orchestration/activation/segments/*.yml and destinations.yml")
    intro = (
        "-- One row per (segment, destination, consent purpose the pair requires): the rules\n"
        "-- audience_payloads applies and its violation test re-checks.\n"
    )
    if not rows:
        columns = ",\n        ".join(
            f"cast(null as {data_type}) as {name}" for name, data_type in _RULE_COLUMNS
        )
        body = (
            f"    select\n        {columns}\n    from {{{{ ref('int_as_of') }}}}\n    where false"
        )
    else:
        selects = [
            "    select\n"
            + ",\n".join(f"        {sql_literal(row[name])} as {name}" for name, _ in _RULE_COLUMNS)
            for row in rows
        ]
        body = "\n    union all\n".join(selects)
    return f"{header}{intro}with\n\nrules as (\n{body}\n)\n\nselect * from rules\n"


def _models_macro(definitions: Sequence[SegmentDefinition]) -> str:
    entries = "".join(
        f"\n        {{'segment_name': '{d.name}', 'model': '{model_name(d.name)}'}},"
        for d in definitions
    )
    return (
        "{# GENERATED from orchestration/activation/segments/*.yml by "
        f"`{COMMAND}`: the segment models the union models read. #}}\n"
        "{% macro segment_models() -%}\n"
        f"    {{{{ return([{entries}\n    ]) }}}}\n"
        "{%- endmacro %}\n"
    )


def current_files(root: Path = DBT_PROJECT_DIR) -> dict[Path, str]:
    """The generated files as they are on disk."""
    found = {path.relative_to(root): path for path in (root / SEGMENT_MODELS_DIR).glob("seg_*")}
    for extra in (RULES_MODEL, MODELS_MACRO):
        found[extra] = root / extra
    return {
        relative: path.read_text(encoding="utf-8")
        for relative, path in found.items()
        if path.exists()
    }


def expected_files() -> dict[Path, str]:
    """What the segment YAML, destinations.yml and the manifest's schema give now."""
    schema = WarehouseSchema.from_manifest()
    definitions = load_segment_definitions(segment_files.SEGMENTS_DIR, schema)
    return render_files(definitions, load_destinations(), schema)


def files_out_of_date(expected: Mapping[Path, str], root: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Generated files that differ from `expected`, are missing or are left over."""
    current = current_files(root)
    return sorted(
        path for path in set(current) | set(expected) if current.get(path) != expected.get(path)
    )


def write_files(expected: Mapping[Path, str], root: Path = DBT_PROJECT_DIR) -> list[Path]:
    """Write `expected`, delete generated segment models no YAML produces; the changed paths."""
    changed = files_out_of_date(expected, root)
    for relative in changed:
        path = root / relative
        if relative in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[relative], encoding="utf-8")
        else:
            path.unlink()
    return changed
