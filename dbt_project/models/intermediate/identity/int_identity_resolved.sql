{{ config(
    pre_hook="{% do cdp.resolve_identity(ref('int_identifiers'), ref('int_identity_edges'), 'int_identity_resolved__labels', src_column='left_node_id', dst_column='right_node_id') %}"
) }}
-- depends_on: {{ ref('int_identifiers') }}
-- depends_on: {{ ref('int_identity_edges') }}

-- Every identifier's person before erasure: the graph solved with the over-merge guards
-- (macro resolve_identity; docs/identity.md). The pre-hook writes a temporary table of
-- labels on this connection; this model keeps it.
with

labels as (
    select * from int_identity_resolved__labels
)

select
    node_id,
    person_node_id,
    is_hub
from labels
