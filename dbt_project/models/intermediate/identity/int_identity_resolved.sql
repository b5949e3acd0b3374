{{ config(
    pre_hook="{% do cdp.resolve_identity_incremental(ref('int_identifiers'), ref('int_identity_edges'), 'int_identity_resolved__labels', this, this.schema ~ '.' ~ this.identifier ~ '__state', src_column='left_node_id', dst_column='right_node_id', full_refresh=flags.FULL_REFRESH) %}"
) }}
-- depends_on: {{ ref('int_identifiers') }}
-- depends_on: {{ ref('int_identity_edges') }}

-- Every identifier's person before erasure: the graph solved with the over-merge guards
-- (macro resolve_identity; docs/identity.md). Incremental by construction: the pre-hook
-- re-solves only the live components a change touched and keeps this table's previous
-- labels elsewhere (macro resolve_identity_incremental); `--full-refresh` solves all.
with

labels as (
    select * from int_identity_resolved__labels
)

select
    node_id,
    person_node_id,
    is_hub,
    component_id
from labels
