"""The one DagsterDbtTranslator: asset keys, groups and owners come from dbt, not from
model names hard-coded here (folder layout and `meta` in the dbt YAML)."""

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# Source tables are named like the contract tables, whatever the dbt source groups them
# under (crm, shop, ...), so they key onto the ingestion assets `raw/<table>`.
RAW_SCHEMA = "raw"
DEFAULT_OWNER = "team:data-platform"


def _meta(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**props.get("meta", {}), **props.get("config", {}).get("meta", {})}


class CdpDbtTranslator(DagsterDbtTranslator):
    """Models are keyed `[schema, model]`; raw sources map onto the ingestion assets."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        explicit = _meta(dbt_resource_props).get("dagster", {}).get("asset_key")
        if explicit:
            # A table a Python asset writes (e.g. marts/customer_predictions).
            return dg.AssetKey(explicit)
        if dbt_resource_props["resource_type"] == "source":
            # `raw.<table>` is produced by the ingestion assets (same key), so the graph
            # is connected: files -> raw -> staging -> ...
            return dg.AssetKey([RAW_SCHEMA, dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """`meta.group`, else the layer folder (marts/intermediate use their domain)."""
        group = _meta(dbt_resource_props).get("group")
        if group:
            return str(group)
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "source":
            return "ingestion"
        if len(fqn) >= 4 and fqn[1] in {"marts", "intermediate"}:
            return str(fqn[2])
        return str(fqn[1]) if len(fqn) >= 2 else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        owner = _meta(dbt_resource_props).get("owner")
        if isinstance(owner, list):
            return owner
        return [owner] if owner else [DEFAULT_OWNER]
