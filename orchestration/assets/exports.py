"""Activation in Dagster: one export asset per destination (docs/activation.md).

    dbt: segments/<name> -> activation/audience_payloads (+ blocking dbt test
         no_consent_or_erasure_violations: consent, erasure, anonymous)
        -> exports/<destination>          (one asset per destination: the diff sync)

The payloads and their check are dbt nodes (models/marts/activation/); the exports depend
on the payloads asset, so the blocking check stops every export when it fails.
`build_activation_definitions(segments, settings)` is what definitions.py merges in; it
brings the `exports_folder` resource and uses the project's `warehouse` resource.
"""

# No `from __future__ import annotations`: Dagster inspects the annotations.

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.activation.destinations import Destination, load_destinations
from orchestration.activation.destinations.base import RunInfo
from orchestration.activation.generated import audience_rule_rows
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.sync import DestinationSyncResult, sync_destination
from orchestration.activation.sync.plan import MassChangePolicy
from orchestration.assets.segments import PAYLOADS_KEY, segment_key
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

GROUP = "activation"
OWNERS = ["team:growth"]
# The check on every export asset that fails when a segment's sync was held as a mass
# change (activation/sync/plan.py: mass_change; docs/operations.md).
MASS_CHANGE_CHECK = "mass_change_guard"


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
    # Segments whose mass change (more removed or added than the guard allows) is
    # intended: synced as planned (`cdp run --confirm-mass-change SEGMENT`).
    confirm_mass_change: list[str] = []


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
    status = "failed batches" if result.errors else "delivered"
    if result.held:
        status += f"; {len(result.held)} segment(s) held as mass changes"
    metadata: dict[str, Any] = {
        "status": dg.MetadataValue.text(status),
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


def _mass_change_result(
    key: dg.AssetKey, result: DestinationSyncResult, policy: MassChangePolicy
) -> dg.AssetCheckResult:
    """Passes unless a segment was held; then fails with each held segment's numbers."""
    held = result.held
    metadata: dict[str, Any] = {
        "max_remove_share": dg.MetadataValue.float(float(policy.max_remove_share)),
        "max_add_factor": dg.MetadataValue.float(float(policy.max_add_factor)),
        "min_audience": dg.MetadataValue.int(policy.min_audience),
        "held_segments": dg.MetadataValue.int(len(held)),
    }
    for change in held:
        metadata[f"{change.segment}_current"] = dg.MetadataValue.int(change.current)
        metadata[f"{change.segment}_removes"] = dg.MetadataValue.int(change.removes)
        metadata[f"{change.segment}_adds"] = dg.MetadataValue.int(change.adds)
    if held:
        metadata[SUMMARY_KEY] = dg.MetadataValue.text(
            "\n".join(f"HELD {change.describe()}" for change in held)
        )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=MASS_CHANGE_CHECK,
        passed=not held,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description="\n".join(change.describe() for change in held) or None,
    )


def build_export_assets(
    segments: Sequence[SegmentDefinition],
    destinations: Mapping[str, Destination] | None = None,
    policy: MassChangePolicy | None = None,
) -> list[dg.AssetsDefinition]:
    """One export asset per destination that some segment uses.

    `policy`: when a segment's sync is held as a mass change (default MassChangePolicy()).

    Resources used: `warehouse` (WarehouseResource) and `exports_folder`
    (ExportsFolderResource). A segment naming an unknown destination raises
    ActivationConfigError naming the segment's file.
    """
    destinations = dict(load_destinations() if destinations is None else destinations)
    rows = audience_rule_rows(segments, destinations)
    by_name = {segment.name: segment for segment in segments}
    used = sorted({str(row["destination"]) for row in rows})
    return [
        _export_asset(
            destinations[name],
            sorted({str(row["segment_name"]) for row in rows if row["destination"] == name}),
            by_name,
            policy or MassChangePolicy(),
        )
        for name in used
    ]


def _export_asset(
    destination: Destination,
    names: list[str],
    segments: Mapping[str, SegmentDefinition],
    policy: MassChangePolicy,
) -> dg.AssetsDefinition:
    key = export_key(destination.name)

    @dg.asset(
        key=key,
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
        check_specs=[
            dg.AssetCheckSpec(
                MASS_CHANGE_CHECK,
                asset=key,
                description=(
                    "No segment's sync was held as a mass change (more removed or added "
                    "than the guard allows; docs/operations.md)."
                ),
            )
        ],
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
        with warehouse.open_sync() as (state, payloads):
            result = sync_destination(
                state,
                destination,
                [(name, segments[name].attributes) for name in names],
                run,
                full_resync=config.full_resync,
                payloads=payloads,
                guard=policy,
                confirmed=frozenset(config.confirm_mass_change),
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
        return dg.MaterializeResult(
            metadata=metadata, check_results=[_mass_change_result(key, result, policy)]
        )

    return export


def mass_change_policy(settings: Settings) -> MassChangePolicy:
    """The guard of the settings (CDP_MASS_CHANGE_*)."""
    return MassChangePolicy(
        max_remove_share=settings.mass_change_max_remove_share,
        max_add_factor=settings.mass_change_max_add_factor,
        min_audience=settings.mass_change_min_audience,
    )


def build_activation_definitions(
    segments: Sequence[SegmentDefinition],
    settings: Settings,
    destinations: Mapping[str, Destination] | None = None,
) -> dg.Definitions:
    """What definitions.py merges in: the export assets and the exports folder resource
    (the `warehouse` resource comes from the main definitions)."""
    return dg.Definitions(
        assets=build_export_assets(segments, destinations, mass_change_policy(settings)),
        resources={"exports_folder": ExportsFolderResource(path=str(settings.exports_dir))},
    )
