"""Activation in Dagster: the payloads that may leave, the blocking enforcement check on
them, and one export asset per destination (docs/activation.md).

    segments/<name>, marts/customer_profiles, marts/suppression_list
        -> activation/audience_payloads   (+ blocking check: consent, erasure, anonymous)
        -> exports/<destination>          (one asset per destination: the diff sync)

`build_activation_definitions(segments, settings)` is what definitions.py merges in, with
the segment definitions it already loads:

    definitions = dg.Definitions.merge(
        definitions, build_activation_definitions(segments, settings)
    )

(before `with_quality_checks`); it brings the `exports_folder` resource and uses the
project's `warehouse` resource.
"""

# No `from __future__ import annotations`: Dagster inspects the annotations.

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.activation.destinations import Destination, load_destinations
from orchestration.activation.destinations.base import RunInfo
from orchestration.activation.enforcement import (
    AudienceRule,
    PairCounts,
    ViolationReport,
    audience_rules,
    build_audience_payloads,
    find_violations,
)
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.sync import DestinationSyncResult, sync_destination
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

PAYLOADS_KEY = dg.AssetKey(["activation", "audience_payloads"])
ENFORCEMENT_CHECK = "no_consent_or_erasure_violations"
GROUP = "activation"
OWNERS = ["team:growth"]
# What the payload filter reads.
PROFILE_INPUTS = [
    dg.AssetKey(["marts", "customer_profiles"]),
    dg.AssetKey(["marts", "suppression_list"]),
]
# What the check reads instead (independent of the filter's inputs).
CHECK_INPUTS = [
    dg.AssetKey(["intermediate", "int_consent_latest"]),
    dg.AssetKey(["intermediate", "int_identity_erasures"]),
    dg.AssetKey(["marts", "identity_map"]),
    dg.AssetKey(["marts", "suppression_list"]),
]


def segment_key(name: str) -> dg.AssetKey:
    """The membership asset of a segment (built by the segment assets)."""
    return dg.AssetKey(["segments", name])


def export_key(destination: str) -> dg.AssetKey:
    return dg.AssetKey(["exports", destination])


class ExportsFolderResource(dg.ConfigurableResource):
    """Where export files go (CDP_EXPORTS_DIR, `cdp run --exports-dir`)."""

    path: str


class ExportConfig(dg.Config):
    """Run configuration of an export asset (the UI's launchpad or a job's run config)."""

    # Re-send every current member as an add (members the destination may have lost), and
    # still remove what is no longer wanted. The sync state is rebuilt from the result.
    full_resync: bool = False


def _pairs_table(counts: Sequence[PairCounts]) -> str:
    lines = [
        "| segment | destination | members | allowed | no profile | no consent | anonymous "
        "| suppressed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c.segment} | {c.destination} | {c.members:,} | {c.allowed:,} | {c.no_profile:,} "
        f"| {c.no_consent:,} | {c.anonymous:,} | {c.suppressed:,} |"
        for c in counts
    ]
    return "\n".join(lines)


def _payload_metadata(counts: Sequence[PairCounts]) -> dict[str, Any]:
    def total(name: str) -> int:
        return sum(getattr(c, name) for c in counts)

    summary = (
        f"activation payloads: {total('allowed'):,} rows for {len(counts)} (segment, "
        f"destination) pairs; held back: {total('no_consent'):,} without consent, "
        f"{total('anonymous'):,} anonymous, {total('suppressed'):,} suppressed, "
        f"{total('no_profile'):,} without a profile"
    )
    return {
        "rows": dg.MetadataValue.int(total("allowed")),
        "members": dg.MetadataValue.int(total("members")),
        "held_back_no_consent": dg.MetadataValue.int(total("no_consent")),
        "held_back_anonymous": dg.MetadataValue.int(total("anonymous")),
        "held_back_suppressed": dg.MetadataValue.int(total("suppressed")),
        "held_back_no_profile": dg.MetadataValue.int(total("no_profile")),
        "pairs": dg.MetadataValue.md(_pairs_table(counts)),
        SUMMARY_KEY: dg.MetadataValue.text(summary),
    }


def _check_metadata(report: ViolationReport) -> dict[str, Any]:
    rows = [
        f"| {v.kind} | {v.segment} | {v.destination} | {v.persons:,} | {', '.join(v.sample)} |"
        for v in report.violations
    ]
    kinds = ", ".join(f"{kind}: {count}" for kind, count in report.by_kind().items())
    verdict = (
        "0 violations"
        if report.total == 0
        else f"{report.total:,} VIOLATIONS ({kinds}): exports stopped"
    )
    metadata: dict[str, Any] = {
        "payload_rows": dg.MetadataValue.int(report.payload_rows),
        "violations": dg.MetadataValue.int(report.total),
        "violations_by_kind": dg.MetadataValue.json(report.by_kind()),
        SUMMARY_KEY: dg.MetadataValue.text(
            f"activation enforcement: {verdict} in {report.payload_rows:,} payload rows"
        ),
    }
    if rows:
        metadata["details"] = dg.MetadataValue.md(
            "| violation | segment | destination | persons | sample person ids |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows)
        )
    return metadata


def _export_metadata(result: DestinationSyncResult, full_resync: bool) -> dict[str, Any]:
    if result.skipped:
        return {
            "status": dg.MetadataValue.text("skipped"),
            "reason": dg.MetadataValue.text(result.skipped),
            SUMMARY_KEY: dg.MetadataValue.text(
                f"export {result.destination}: skipped ({result.skipped})"
            ),
        }
    names = (
        "members",
        "unmatchable",
        "adds",
        "updates",
        "removes",
        "failed",
        "batches_sent",
        "batches_resent",
        "batches_already_delivered",
        "batches_superseded",
    )
    metadata: dict[str, Any] = {
        "status": dg.MetadataValue.text("failed batches" if result.errors else "delivered"),
        "full_resync": dg.MetadataValue.bool(full_resync),
    }
    metadata.update({name: dg.MetadataValue.int(result.total(name)) for name in names})
    for name, value in result.delivery.items():
        if name == "folder":
            metadata["folder"] = dg.MetadataValue.path(value)
        elif isinstance(value, int):
            metadata[name] = dg.MetadataValue.int(value)
    table = [
        "| segment | members | adds | updates | removes | failed | unmatchable |",
        "|---|---|---|---|---|---|---|",
    ] + [
        f"| {s.segment} | {s.members:,} | {s.adds:,} | {s.updates:,} | {s.removes:,} "
        f"| {s.failed:,} | {s.unmatchable:,} |"
        for s in result.segments
    ]
    metadata["segments"] = dg.MetadataValue.md("\n".join(table))
    if "files" in result.delivery:
        where = f"{result.delivery['files']} file(s)" + (
            f" in {result.delivery['folder']}" if result.delivery.get("folder") else ""
        )
    else:
        where = f"{result.delivery.get('requests', 0)} request(s)"
    metadata[SUMMARY_KEY] = dg.MetadataValue.text(
        f"export {result.destination}: {len(result.segments)} segment(s), "
        f"+{result.total('adds'):,} added, ~{result.total('updates'):,} updated, "
        f"-{result.total('removes'):,} removed, {result.total('failed'):,} failed; {where}"
    )
    return metadata


def build_export_assets(
    segments: Sequence[SegmentDefinition],
    destinations: Mapping[str, Destination] | None = None,
) -> list[dg.AssetsDefinition]:
    """The payload asset, its blocking enforcement check and one export asset per
    destination that some segment uses; [] when no segment has a destination.

    Resources used: `warehouse` (WarehouseResource) and `exports_folder`
    (ExportsFolderResource). A segment naming an unknown destination raises
    ActivationConfigError naming the segment's file.
    """
    destinations = dict(load_destinations() if destinations is None else destinations)
    rules = audience_rules(segments, destinations)
    if not rules:
        return []
    by_name = {segment.name: segment for segment in segments}
    used = sorted({rule.destination for rule in rules})
    segment_keys = [segment_key(name) for name in sorted(by_name) if by_name[name].destinations]
    return [
        _payload_asset(rules, segment_keys),
        _enforcement_check(rules),
        *(_export_asset(destinations[name], rules, by_name) for name in used),
    ]


def _payload_asset(
    rules: list[AudienceRule], segment_keys: list[dg.AssetKey]
) -> dg.AssetsDefinition:
    @dg.asset(
        key=PAYLOADS_KEY,
        deps=[*segment_keys, *PROFILE_INPUTS],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"duckdb", "python"},
        description=(
            "Per (segment, destination), the members that may leave: a profile, every "
            "required consent purpose granted (advertising for ad platforms), known when "
            "the segment or the destination demands it, email and phone not suppressed. "
            "The only table the exports read; guarded by a blocking check."
        ),
    )
    def audience_payloads(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            counts = build_audience_payloads(con, rules, context.run.run_id)
        return dg.MaterializeResult(metadata=_payload_metadata(counts))

    return audience_payloads


def _enforcement_check(rules: list[AudienceRule]) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=PAYLOADS_KEY,
        name=ENFORCEMENT_CHECK,
        blocking=True,
        additional_deps=CHECK_INPUTS,
        description=(
            "Recounts, from the latest consent model, the erased identifiers, the "
            "suppression list and identity_map (not the profile columns the payload filter "
            "used), payload rows without the required consent, of erased or suppressed "
            "persons, or anonymous where not allowed. Must be 0: blocking, so no export "
            "runs otherwise."
        ),
    )
    def no_consent_or_erasure_violations(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            report = find_violations(con, rules)
        return dg.AssetCheckResult(
            passed=report.total == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_check_metadata(report),
            description=(
                "no violations"
                if report.total == 0
                else f"{report.total} payload row(s) must not leave: {report.by_kind()}"
            ),
        )

    return no_consent_or_erasure_violations


def _export_asset(
    destination: Destination,
    rules: list[AudienceRule],
    segments: Mapping[str, SegmentDefinition],
) -> dg.AssetsDefinition:
    names = sorted({rule.segment for rule in rules if rule.destination == destination.name})

    @dg.asset(
        key=export_key(destination.name),
        deps=[PAYLOADS_KEY, *(segment_key(name) for name in names)],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"python"},
        description=(
            f"Diff sync of {', '.join(names)} to {destination.describe()}: adds, updates and "
            "removes since the last acknowledged sync, failed batches re-sent "
            "(docs/activation.md)."
        ),
        metadata={"destination_type": destination.type_name, "segments": ", ".join(names)},
    )
    def export(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        exports_folder: ExportsFolderResource,
        config: ExportConfig,
    ) -> dg.MaterializeResult:
        run = RunInfo(
            run_id=context.run.run_id,
            started_at=datetime.now(UTC),
            exports_dir=Path(exports_folder.path),
            log=context.log,
        )
        with warehouse.connect() as con:
            result = sync_destination(
                con,
                destination,
                [(name, segments[name].attributes) for name in names],
                run,
                full_resync=config.full_resync,
            )
        metadata = _export_metadata(result, config.full_resync)
        if result.skipped:
            context.log.warning(f"export {destination.name} skipped: {result.skipped}")
        if result.errors:
            raise dg.Failure(
                description=(
                    f"{destination.name}: {len(result.errors)} batch(es) not delivered; they "
                    "stay pending and are re-sent by the next run:\n" + "\n".join(result.errors)
                ),
                metadata=metadata,
            )
        return dg.MaterializeResult(metadata=metadata)

    return export


def build_activation_definitions(
    segments: Sequence[SegmentDefinition],
    settings: Settings,
    destinations: Mapping[str, Destination] | None = None,
) -> dg.Definitions:
    """What definitions.py merges in: the assets and check above and the exports folder
    resource (the `warehouse` resource comes from the main definitions)."""
    items = build_export_assets(segments, destinations)
    assets = [item for item in items if not isinstance(item, dg.AssetChecksDefinition)]
    checks = [item for item in items if isinstance(item, dg.AssetChecksDefinition)]
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        resources={"exports_folder": ExportsFolderResource(path=str(settings.exports_dir))},
    )
