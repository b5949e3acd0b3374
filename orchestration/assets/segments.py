"""One Dagster asset per segment (`segments/<name>`), built from the validated YAML files.

Each asset reads the profiles (and the events, accounts or other segments its rule
needs), evaluates the rule at the pipeline's "now" (`intermediate.int_as_of`) and
replaces its own rows in `marts.segment_membership`, appends to
`marts.segment_membership_history` and `marts.segment_sizes` (activation/membership.py).
Upstream blocking checks (identity, profiles) stop it like any downstream asset.
"""

# No `from __future__ import annotations`: Dagster inspects the `context` annotation.

from collections.abc import Sequence

import dagster as dg

from orchestration.activation.columns import ACCOUNTS, EVENTS
from orchestration.activation.membership import (
    SegmentEvaluation,
    check_schema,
    evaluate_segment,
    unseen_event_names,
)
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.rules import referenced_segments, tables_used
from orchestration.activation.segments import SegmentDefinitionError
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.settings import PROJECT_ROOT

SEGMENT_GROUP = "activation"
REFRESH_TAG = "cdp/refresh"
PROFILES_KEY = dg.AssetKey(["marts", "customer_profiles"])
AS_OF_KEY = dg.AssetKey(["intermediate", "int_as_of"])
TABLE_KEYS = {
    EVENTS: dg.AssetKey(["marts", "fct_events"]),
    ACCOUNTS: dg.AssetKey(["marts", "account_profiles"]),
}


def segment_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["segments", name])


def segment_deps(definition: SegmentDefinition) -> list[dg.AssetKey]:
    """What the rule reads: profiles and "now" always; events, accounts and other
    segments when it names them."""
    deps = [PROFILES_KEY, AS_OF_KEY]
    deps += [
        TABLE_KEYS[table] for table in sorted(tables_used(definition.rule)) if table in TABLE_KEYS
    ]
    deps += [segment_key(name) for name in sorted(referenced_segments(definition.rule))]
    return deps


def _display(path: object) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return str(path)


def _reasons_table(reasons: dict[str, int]) -> str:
    rows = "\n".join(
        f"| {count:,} | {reason.replace('|', '/')} |"
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:10]
    )
    return "| persons | because |\n|---|---|\n" + rows if rows else "none"


def _metadata(evaluation: SegmentEvaluation) -> dict[str, dg.MetadataValue]:
    return {
        "member_count": dg.MetadataValue.int(evaluation.member_count),
        "entered_count": dg.MetadataValue.int(evaluation.entered_count),
        "exited_count": dg.MetadataValue.int(evaluation.exited_count),
        "dagster/row_count": dg.MetadataValue.int(evaluation.member_count),
        "as_of": dg.MetadataValue.text(evaluation.as_of.isoformat()),
        "entered_because": dg.MetadataValue.md(_reasons_table(evaluation.entered_reasons)),
        "exited_because": dg.MetadataValue.md(_reasons_table(evaluation.exited_reasons)),
        SUMMARY_KEY: dg.MetadataValue.text(evaluation.summary),
    }


def build_segment_asset(definition: SegmentDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=segment_key(definition.name),
        deps=segment_deps(definition),
        group_name=SEGMENT_GROUP,
        kinds={"duckdb"},
        owners=[definition.owner],
        tags={REFRESH_TAG: definition.refresh.value},
        description=definition.description,
        metadata={
            "definition": dg.MetadataValue.path(_display(definition.source_file)),
            "consent_purpose": definition.consent_purpose,
            "audience": definition.audience.value,
            "destinations": ", ".join(definition.destinations),
            "refresh": definition.refresh.value,
        },
    )
    def segment(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            try:
                schema = check_schema(definition, con)
            except SegmentDefinitionError as error:
                raise dg.Failure(description=str(error)) from None
            evaluation = evaluate_segment(con, definition, run_id=context.run_id, schema=schema)
            unseen = unseen_event_names(con, definition, schema)
        metadata = _metadata(evaluation)
        if unseen:
            context.log.warning(
                f"segment {definition.name}: no event in marts.fct_events is named "
                f"{', '.join(map(repr, unseen))} (a typo in {_display(definition.source_file)}?)"
            )
            metadata["event_names_never_seen"] = dg.MetadataValue.text(", ".join(unseen))
        return dg.MaterializeResult(metadata=metadata)

    return segment


def build_segment_assets(definitions: Sequence[SegmentDefinition]) -> list[dg.AssetsDefinition]:
    return [build_segment_asset(definition) for definition in definitions]
