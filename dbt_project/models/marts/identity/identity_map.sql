-- depends_on: {{ ref('person_merges') }}
-- (person_merges compares this table's previous version with the new resolution, so it
-- must run before this table is replaced.)

-- One row per resolved identifier: the output contract's identity map.
with

persons as (
    select * from {{ ref('int_identity_persons') }}
)

select
    identifier_type,
    identifier_value,
    person_id,
    is_hub,
    first_seen_at,
    last_seen_at,
    sources
from persons
